package oidc_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/storage/storagetest"
)

// essentialACR2 asks for acr 2 as an essential claim of the ID token.
const essentialACR2 = `{"id_token":{"acr":{"essential":true,"values":["2"]}}}`

func amrOf(claims map[string]any) []string {
	var out []string
	list, _ := claims["amr"].([]any)
	for _, v := range list {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

func TestStepUpWithACR(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		clock := new(servertest.Clock)
		// In the past, so that the second factor's later time step never
		// puts auth_time in fosite's future.
		clock.Advance(-2 * time.Minute)
		srv := servertest.Start(t, dbURL, servertest.WithClock(clock))
		r := newRP(t, srv, false, true)
		param := oauth2.SetAuthURLParam

		// Ada signed in with her password, then turned on an authenticator:
		// her session is single-factor (acr 1).
		ada := srv.CreateUser(t, "ada@example.com")
		b := signedInBrowser(t, srv, ada.Email)
		secret, _ := enrollOnSecurityPage(t, srv, clock, b)
		clock.Advance(time.Minute) // the enrolment's code is spent

		t.Run("prompt=none cannot step up", func(t *testing.T) {
			resp, _ := r.startAuthorization(b, param("acr_values", "2"), param("prompt", "none"))
			if got := callbackError(t, resp); got != "interaction_required" {
				t.Errorf("error %q, want interaction_required", got)
			}
		})

		t.Run("a class the session has needs nothing", func(t *testing.T) {
			resp, verifier := r.startAuthorization(b, param("acr_values", "1 2"))
			if c := r.finish(resp, verifier); c["acr"] != "1" {
				t.Errorf("acr = %v, want 1", c["acr"])
			}
		})

		t.Run("acr 2 asks for the second factor", func(t *testing.T) {
			page, verifier := r.startAuthorization(b, param("acr_values", "2"), param("claims", essentialACR2))
			if !strings.Contains(page.Body, `name="code"`) || !strings.Contains(page.Body, `name="attempt"`) {
				t.Fatalf("want the second-factor page, got %v", page)
			}
			code, err := totp.GenerateCode(secret, clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			resp := submit(t, b, srv, page, "code", map[string]string{"code": code})
			c := r.finish(resp, verifier)
			if c["acr"] != "2" || !slices.Contains(amrOf(c), "otp") || !slices.Contains(amrOf(c), "pwd") {
				t.Errorf("after the step-up: acr %v, amr %v; want 2 with pwd and otp", c["acr"], c["amr"])
			}
			// The session is two-factor now: no second step.
			resp, verifier = r.startAuthorization(b, param("acr_values", "2"))
			if c := r.finish(resp, verifier); c["acr"] != "2" {
				t.Errorf("next request: acr %v, want 2", c["acr"])
			}
		})

		// Grace has no second factor.
		grace := srv.CreateUser(t, "grace@example.com")
		gb := signedInBrowser(t, srv, grace.Email)

		t.Run("essential acr without a second factor", func(t *testing.T) {
			resp, _ := r.startAuthorization(gb, param("claims", essentialACR2))
			if got := callbackError(t, resp); got != "unmet_authentication_requirements" {
				t.Errorf("error %q, want unmet_authentication_requirements", got)
			}
			if d := resp.Location.Query().Get("error_description"); !strings.Contains(d, "second factor") {
				t.Errorf("error_description %q does not say why", d)
			}
		})

		t.Run("voluntary acr without a second factor", func(t *testing.T) {
			resp, verifier := r.startAuthorization(gb, param("acr_values", "2"))
			if c := r.finish(resp, verifier); c["acr"] != "1" {
				t.Errorf("acr = %v, want 1 (acr_values is a wish)", c["acr"])
			}
		})

		t.Run("unknown classes ask nothing", func(t *testing.T) {
			resp, verifier := r.startAuthorization(gb, param("acr_values", "urn:example:gold"))
			if c := r.finish(resp, verifier); c["acr"] != "1" {
				t.Errorf("acr = %v, want 1", c["acr"])
			}
		})
	})
}
