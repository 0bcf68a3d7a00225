package middleware_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgid/orgid/middleware"
	"github.com/orgid/orgid/storage/storagetest"
)

// api is a resource server protected by v: /me echoes the caller,
// /projects needs org:projects:manage, /reports the projects:read scope.
func api(t *testing.T, v *middleware.Verifier) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
		c := middleware.FromContext(r.Context())
		_ = json.NewEncoder(w).Encode(map[string]any{"sub": c.Subject, "org_id": c.OrgID, "machine": c.IsMachine()})
	})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.Handle("/projects", middleware.Require("org:projects:manage")(ok))
	mux.Handle("/reports", middleware.RequireScope(scopeRead)(ok))
	srv := httptest.NewServer(v.Handler(mux))
	t.Cleanup(srv.Close)
	return srv
}

func TestHandler(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		f := newFixture(t, dbURL)
		user := f.userTokens(t).AccessToken
		machine := f.machineToken(t, apiAudience)
		clk := new(clock)
		srv := api(t, f.verifier(t, func(o *middleware.Options) { o.Now = clk.Now }))
		broken := api(t, f.verifier(t, func(o *middleware.Options) {
			o.Introspection = &middleware.IntrospectionConfig{ClientID: f.api.ID, ClientSecret: "wrong"}
		}))

		type response struct {
			Status    int
			Challenge string
			Body      string
		}
		const (
			invalid = `Bearer error="invalid_token", error_description="The access token is invalid."`
			expired = `Bearer error="invalid_token", error_description="The access token has expired."`
		)
		jsonErr := func(code, desc string) string {
			b, _ := json.Marshal(map[string]string{"error": code, "error_description": desc})
			return string(b) + "\n"
		}
		for _, tc := range []struct {
			name    string
			srv     *httptest.Server
			path    string
			headers []string
			offset  time.Duration
			want    response
		}{
			{name: "user", path: "/me", headers: []string{"Bearer " + user},
				want: response{200, "", `{"machine":false,"org_id":"` + f.acme.ID + `","sub":"` + f.user.ID + `"}` + "\n"}},
			{name: "machine", path: "/me", headers: []string{"Bearer " + machine},
				want: response{200, "", `{"machine":true,"org_id":"","sub":"` + f.app.ID + `"}` + "\n"}},
			{name: "scheme is case-insensitive", path: "/me", headers: []string{"bearer " + machine},
				want: response{200, "", `{"machine":true,"org_id":"","sub":"` + f.app.ID + `"}` + "\n"}},
			{name: "no credentials", path: "/me", want: response{401, "Bearer", ""}},
			{name: "another scheme", path: "/me", headers: []string{"Basic dXNlcjpwYXNz"}, want: response{401, "Bearer", ""}},
			{name: "empty bearer", path: "/me", headers: []string{"Bearer "},
				want: response{400, `Bearer error="invalid_request", error_description="The Authorization header must carry one Bearer token."`,
					jsonErr("invalid_request", "The Authorization header must carry one Bearer token.")}},
			{name: "two Authorization headers", path: "/me", headers: []string{"Bearer " + user, "Bearer " + machine},
				want: response{400, `Bearer error="invalid_request", error_description="The Authorization header must carry one Bearer token."`,
					jsonErr("invalid_request", "The Authorization header must carry one Bearer token.")}},
			{name: "forged token: no detail leaks", path: "/me", headers: []string{"Bearer " + tamper(user)},
				want: response{401, invalid, jsonErr("invalid_token", "The access token is invalid.")}},
			{name: "expired token", path: "/me", headers: []string{"Bearer " + user}, offset: 2 * time.Hour,
				want: response{401, expired, jsonErr("invalid_token", "The access token has expired.")}},
			{name: "permission held", path: "/projects", headers: []string{"Bearer " + user}, want: response{200, "", "ok"}},
			{name: "permission missing", path: "/projects", headers: []string{"Bearer " + machine},
				want: response{403, `Bearer error="insufficient_scope", error_description="The token's organization role lacks a required permission."`,
					jsonErr("insufficient_scope", "The token's organization role lacks a required permission.")}},
			{name: "scope granted", path: "/reports", headers: []string{"Bearer " + machine}, want: response{200, "", "ok"}},
			{name: "scope missing", path: "/reports", headers: []string{"Bearer " + user},
				want: response{403, `Bearer error="insufficient_scope", error_description="The access token lacks a required scope.", scope="projects:read"`,
					jsonErr("insufficient_scope", "The access token lacks a required scope.")}},
			{name: "no token before the permission check", path: "/projects", want: response{401, "Bearer", ""}},
			{name: "introspection unavailable", srv: broken, path: "/me", headers: []string{"Bearer " + user},
				want: response{503, "", jsonErr("temporarily_unavailable", "The access token cannot be checked right now.")}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				clk.Set(tc.offset)
				defer clk.Set(0)
				s := srv
				if tc.srv != nil {
					s = tc.srv
				}
				req, _ := http.NewRequest(http.MethodGet, s.URL+tc.path, nil)
				for _, h := range tc.headers {
					req.Header.Add("Authorization", h)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				got := response{resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(body)}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("response (-want +got):\n%s", diff)
				}
				if resp.StatusCode != 200 && !strings.Contains(resp.Header.Get("Cache-Control"), "no-store") {
					t.Errorf("Cache-Control = %q, want no-store on an error", resp.Header.Get("Cache-Control"))
				}
			})
		}
	})
}
