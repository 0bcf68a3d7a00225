package oidc_test

import (
	"testing"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

// In a real browser: an application sends a new user to sign in, the user
// follows "Sign up", fills the form, types the mailed code, and arrives
// back at the application signed in with a verified address.
func TestBrowserSignUpAndVerification(t *testing.T) {
	browser := chromium(t)
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		rp := newBrowserRP(t, srv)
		p := newPage(t, browser)

		verifier, at := rp.start(p)
		p.wantAt("authorization", at, oidc.PathSignIn)
		p.wantAt("sign-up link", p.click(`a[href^="/sign-up"]`), oidc.PathSignUp)
		p.fill("first_name", "Grace", "last_name", "Hopper", "email", "grace@example.com", "password", servertest.Password)
		p.wantAt("sign-up", p.click(`#sign-up button[type=submit]`), oidc.PathVerifyEmail)

		p.fill("code", "12") // a wrong code first
		p.wantAt("wrong code", p.click(`#verify-code button[type=submit]`), oidc.PathVerifyEmail)
		p.fill("code", mailedCode(t, srv, "grace@example.com"))
		p.click(`#verify-code button[type=submit]`)

		claims := rp.claims(verifier)
		if claims["email"] != "grace@example.com" || claims["email_verified"] != true || claims["given_name"] != "Grace" {
			t.Errorf("ID token claims = %v, want the new user with a verified address", claims)
		}
	})
}
