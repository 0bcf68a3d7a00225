package oidc_test

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

// In a real browser with Chrome's virtual authenticator: Ada adds a
// passkey on /account/security, signs out, and signs in to an application
// with the passkey alone; the ID token says a hardware key unlocked by the
// user (two factors). Passkeys need a host name, so orgid serves on
// localhost here.
func TestBrowserPasskeys(t *testing.T) {
	browser := chromium(t)
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL, servertest.WithConfig(func(c *server.Config) {
			c.Issuer = strings.Replace(c.Issuer, "127.0.0.1", "localhost", 1)
		}))
		issuer := srv.Base.Config.Issuer
		user := srv.CreateUser(t, "ada@example.com")

		p := newPage(t, browser)
		ctx, cancel := contextWithTimeout(p)
		defer cancel()
		if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			t.Fatalf("WebAuthn.enable: %v", err)
		}
		if _, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
				Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
				IsUserVerified: true, AutomaticPresenceSimulation: true,
			},
		}); err != nil {
			t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
		}

		p.wantAt("signed out", p.open(issuer+oidc.PathAccountSecurity), oidc.PathSignIn)
		p.fill("identifier", user.Email, "password", servertest.Password)
		p.wantAt("signed in", p.click(`form[action="/sign-in"] button[type=submit]`), oidc.PathAccountSecurity)
		p.fill("passkey-name", "Test laptop")
		added := p.click(`#passkey-add button[type=submit]`)
		if added.Path != oidc.PathAccountSecurity || added.Query().Get("notice") != "passkey-added" {
			t.Fatalf("after adding: at %s\npage: %s", added, p.text())
		}
		if txt := p.text(); !strings.Contains(txt, "Test laptop") {
			t.Fatalf("the passkey is not listed:\n%s", txt)
		}

		p.open(issuer + "/")
		p.click(`form[action="/sign-out"] button[type=submit]`)

		rp := newBrowserRP(t, srv)
		verifier, at := rp.start(p)
		p.wantAt("authorization", at, oidc.PathSignIn)
		// The script submits the form once the authenticator answered; the
		// callback tells when the browser got back to the application.
		p.do("sign in with the passkey", chromedp.Click(chromedp.CSS(`#passkey-sign-in button[type=submit]`), chromedp.NodeVisible))
		claims := rp.claims(verifier)
		got := map[string]any{"sub": claims["sub"], "amr": claims["amr"], "acr": claims["acr"]}
		if diff := cmp.Diff(map[string]any{"sub": user.ID, "amr": []any{"hwk", "user"}, "acr": "2"}, got); diff != "" {
			t.Errorf("ID token after a passkey sign-in (-want +got):\n%s", diff)
		}
	})
}
