package oidc_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

// The passkey script is the only script of the hosted pages: served from
// /assets, allowed by a policy naming only this origin, and present only
// where passkeys are offered.
func TestPasskeyPagesRunOnlyTheirOwnScript(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		named := servertest.Start(t, dbURL, servertest.WithConfig(func(c *server.Config) {
			c.Issuer = strings.Replace(c.Issuer, "127.0.0.1", "localhost", 1)
		}))
		b := servertest.NewBrowser(t)
		page := b.Get(named.Base.Config.Issuer + oidc.PathSignIn)
		csp := page.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("sign-in page CSP = %q, want scripts from this origin only", csp)
		}
		if !strings.Contains(page.Body, `<script src="/assets/passkeys.js" defer></script>`) || strings.Count(page.Body, "<script") != 1 {
			t.Errorf("sign-in page scripts: want exactly the passkey script\n%s", page.Body)
		}
		js := b.Get(named.Base.Config.Issuer + "/assets/passkeys.js")
		if js.Status != http.StatusOK || !strings.Contains(js.Header.Get("Content-Type"), "javascript") || !strings.Contains(js.Body, "navigator.credentials") {
			t.Errorf("GET /assets/passkeys.js = %d %s", js.Status, js.Header.Get("Content-Type"))
		}
		options := b.PostForm(named.Base.Config.Issuer+oidc.PathPasskeySignInOptions, nil)
		if options.Status != http.StatusOK || !strings.Contains(options.Body, `"challenge"`) || !strings.Contains(options.Body, `"userVerification":"required"`) {
			t.Errorf("passkey sign-in options = %v", options)
		}

		// On an IP address (no relying party id) there are no passkeys
		// and no script.
		ip := servertest.Start(t, dbURL)
		page = servertest.NewBrowser(t).Get(ip.Issuer + oidc.PathSignIn)
		if strings.Contains(page.Body, "<script") || strings.Contains(page.Header.Get("Content-Security-Policy"), "script-src") {
			t.Errorf("passkeys offered on an IP-address issuer: %v", page)
		}
	})
}
