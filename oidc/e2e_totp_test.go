package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pquerna/otp/totp"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

var (
	totpSecretOnPage = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)
	recoveryOnPage   = regexp.MustCompile(`<code>([a-z0-9]{5}-[a-z0-9]{5})</code>`)
)

// enrollOnSecurityPage turns on TOTP through /account/security in a
// signed-in browser and returns the secret and the recovery codes shown.
func enrollOnSecurityPage(t *testing.T, srv *servertest.Server, clock *servertest.Clock, b *servertest.Browser) (string, []string) {
	t.Helper()
	page := b.Get(srv.Issuer + oidc.PathAccountSecurity)
	wantTitle(t, "security page", page, "Security")
	enroll := submit(t, b, srv, page, "action", map[string]string{"action": "totp-begin"})
	m := totpSecretOnPage.FindStringSubmatch(enroll.Body)
	if m == nil || !strings.Contains(enroll.Body, `src="data:image/png;base64,`) {
		t.Fatalf("enrolment page without secret or QR code: %v", enroll)
	}
	secret := m[1]
	wrong := submit(t, b, srv, enroll, "code", map[string]string{"code": "12345"})
	if wrong.Status != http.StatusBadRequest || !strings.Contains(wrong.Body, "That code is incorrect") || !totpSecretOnPage.MatchString(wrong.Body) {
		t.Fatalf("wrong confirmation code: %v", wrong)
	}
	code, err := totp.GenerateCode(secret, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	done := submit(t, b, srv, enroll, "code", map[string]string{"code": code})
	var codes []string
	for _, m := range recoveryOnPage.FindAllStringSubmatch(done.Body, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != 10 {
		t.Fatalf("confirmation shows %d recovery codes, want 10: %v", len(codes), done)
	}
	return secret, codes
}

// signedInBrowser signs a new browser in with the password only.
func signedInBrowser(t *testing.T, srv *servertest.Server, email string) *servertest.Browser {
	t.Helper()
	b := servertest.NewBrowser(t)
	if resp := b.PostForm(srv.Issuer+oidc.PathSignIn, url.Values{"identifier": {email}, "password": {servertest.Password}}); resp.Status != http.StatusSeeOther {
		t.Fatalf("sign in: %v", resp)
	}
	return b
}

func TestTOTPSecondFactor(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		clock := new(servertest.Clock)
		srv := servertest.Start(t, dbURL, servertest.WithClock(clock))
		ctx := context.Background()
		user := srv.CreateUser(t, "ada@example.com")
		secret, recovery := enrollOnSecurityPage(t, srv, clock, signedInBrowser(t, srv, user.Email))
		if u, _ := srv.Identity.GetUser(ctx, user.ID); !u.TwoFactorEnabled {
			t.Fatal("two-step verification is not on after the enrolment")
		}
		r := newRP(t, srv, false, true)
		sessionsBefore, _ := srv.Identity.ListSessions(ctx, user.ID, true)

		b := servertest.NewBrowser(t)
		page, verifier := r.startAuthorization(b)
		form, action, _ := servertest.FindForm(page.Body, "identifier")
		form.Set("identifier", user.Email)
		form.Set("password", servertest.Password)
		afterPassword := b.PostForm(srv.Issuer+action, form)
		if afterPassword.Status != http.StatusSeeOther || afterPassword.Location.Path != oidc.PathSecondFactor {
			t.Fatalf("after the password: %v, want the second-factor page", afterPassword)
		}
		if sessions, _ := srv.Identity.ListSessions(ctx, user.ID, true); len(sessions) != len(sessionsBefore) {
			t.Fatalf("a session exists before the second factor: %d, was %d", len(sessions), len(sessionsBefore))
		}
		factorPage := b.Get(afterPassword.Location.String())
		wantTitle(t, "second factor", factorPage, "Two-step verification")

		// The half-finished sign-in is this browser's only.
		if stolen := servertest.NewBrowser(t).Get(afterPassword.Location.String()); stolen.Status != http.StatusBadRequest || strings.Contains(stolen.Body, `name="code"`) {
			t.Errorf("the second-factor page in another browser: %v", stolen)
		}

		wrong := submit(t, b, srv, factorPage, "code", map[string]string{"code": "000000"})
		if wrong.Status != http.StatusUnauthorized || !strings.Contains(wrong.Body, "4 attempts left") {
			t.Fatalf("wrong code: %v", wrong)
		}
		// The confirmation's code was used; the next step's is accepted
		// (one step of skew).
		code, _ := totp.GenerateCode(secret, clock.Now().Add(30*time.Second))
		claims := r.finish(submit(t, b, srv, factorPage, "code", map[string]string{"code": code}), verifier)
		got := map[string]any{"amr": claims["amr"], "acr": claims["acr"], "sub": claims["sub"]}
		if diff := cmp.Diff(map[string]any{"amr": []any{"pwd", "otp"}, "acr": "2", "sub": user.ID}, got); diff != "" {
			t.Errorf("ID token after two factors (-want +got):\n%s", diff)
		}

		// A recovery code works once, with a magic link as first factor.
		b2 := servertest.NewBrowser(t)
		page, verifier = r.startAuthorization(b2)
		submit(t, b2, srv, b2.Get(srv.Issuer+pageLink(t, page, oidc.PathMagicLink)), "email", map[string]string{"email": user.Email})
		viaLink := submit(t, b2, srv, b2.Get(mailedLink(t, srv, user.Email, oidc.PathMagicLinkVerify)), "token", nil)
		wantTitle(t, "after the magic link", viaLink, "Two-step verification")
		claims = r.finish(submit(t, b2, srv, viaLink, "code", map[string]string{"code": strings.ToUpper(recovery[0])}), verifier)
		if diff := cmp.Diff([]any{"email", "otp"}, claims["amr"]); diff != "" {
			t.Errorf("amr after magic link and recovery code (-want +got):\n%s", diff)
		}
		b3 := servertest.NewBrowser(t)
		page, _ = r.startAuthorization(b3)
		again := submit(t, b3, srv, b3.SignIn(page, srv.Issuer, user.Email, servertest.Password), "code", map[string]string{"code": recovery[0]})
		if again.Status != http.StatusUnauthorized {
			t.Errorf("a used recovery code: %v, want 401", again)
		}
	})
}

// Changing the second factor needs a recent sign-in.
func TestSecurityPageNeedsARecentSignIn(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		clock := new(servertest.Clock)
		srv := servertest.Start(t, dbURL, servertest.WithClock(clock))
		user := srv.CreateUser(t, "ada@example.com")
		b := signedInBrowser(t, srv, user.Email)
		enrollOnSecurityPage(t, srv, clock, b)

		clock.Advance(11 * time.Minute)
		page := b.Get(srv.Issuer + oidc.PathAccountSecurity)
		form, action, err := servertest.FindForm(page.Body, "action")
		if err != nil {
			t.Fatal(err)
		}
		form.Set("action", "totp-disable")
		resp := b.PostForm(srv.Issuer+action, form)
		if resp.Status != http.StatusSeeOther || resp.Location.Path != oidc.PathSignIn || resp.Location.Query().Get("notice") != "reauthenticate" {
			t.Fatalf("disabling with an old sign-in: %v, want a redirect to sign in again", resp)
		}
		if u, _ := srv.Identity.GetUser(context.Background(), user.ID); !u.TwoFactorEnabled {
			t.Fatal("disabled without signing in again")
		}
		if out := servertest.NewBrowser(t).Get(srv.Issuer + oidc.PathAccountSecurity); out.Status != http.StatusSeeOther || out.Location.Path != oidc.PathSignIn {
			t.Errorf("signed out: %v, want a redirect to sign in", out)
		}
	})
}
