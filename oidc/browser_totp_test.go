package oidc_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

// In a real browser: Ada turns on two-step verification on
// /account/security (scanning is typing the shown key into an
// authenticator, here pquerna/otp), then signs in to an application with
// her password and a code, and the ID token says two factors.
func TestBrowserTOTPEnrolmentAndSignIn(t *testing.T) {
	browser := chromium(t)
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		user := srv.CreateUser(t, "ada@example.com")

		p := newPage(t, browser)
		p.wantAt("signed out", p.open(srv.Issuer+oidc.PathAccountSecurity), oidc.PathSignIn)
		p.fill("identifier", user.Email, "password", servertest.Password)
		p.wantAt("signed in", p.click(`form[action="/sign-in"] button[type=submit]`), oidc.PathAccountSecurity)
		p.click(`#totp-begin button[type=submit]`)
		ctx, cancel := contextWithTimeout(p)
		defer cancel()
		secret, err := chromedp.Run(ctx, chromedp.Text(`#totp-secret`, chromedp.NodeVisible))
		if err != nil || secret == "" {
			t.Fatalf("read the key: %q, %v\npage: %s", secret, err, p.text())
		}
		code, _ := totp.GenerateCode(strings.TrimSpace(secret), time.Now())
		p.fill("code", code)
		p.click(`#totp-confirm button[type=submit]`)
		if txt := p.text(); !strings.Contains(txt, "Your recovery codes") {
			t.Fatalf("after confirming:\n%s", txt)
		}

		rp := newBrowserRP(t, srv)
		q := newPage(t, browser)
		verifier, at := rp.start(q)
		q.wantAt("authorization", at, oidc.PathSignIn)
		q.fill("identifier", user.Email, "password", servertest.Password)
		q.wantAt("after the password", q.click(`form[action="/sign-in"] button[type=submit]`), oidc.PathSecondFactor)
		next, _ := totp.GenerateCode(strings.TrimSpace(secret), time.Now().Add(30*time.Second))
		q.fill("code", next)
		q.click(`#second-factor button[type=submit]`)
		claims := rp.claims(verifier)
		if claims["acr"] != "2" || claims["sub"] != user.ID {
			t.Errorf("ID token claims = %v, want acr 2 for Ada", claims)
		}
	})
}
