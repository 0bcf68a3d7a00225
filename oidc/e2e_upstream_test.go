package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/identity/identitytest"
	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

// startWithUpstream starts orgid with a fake upstream OpenID provider
// configured as "acme" (orgid may reach loopback for it).
func startWithUpstream(t *testing.T, dbURL string, opts ...servertest.Option) (*servertest.Server, *identitytest.FakeUpstream) {
	t.Helper()
	opts = append(opts, servertest.WithConfig(func(c *server.Config) { c.EgressAllowHosts = []string{"127.0.0.1"} }))
	srv := servertest.Start(t, dbURL, opts...)
	fake := identitytest.NewFakeUpstream(t)
	if _, err := srv.Identity.CreateIdentityProvider(context.Background(), identity.NewIdentityProvider{
		Kind: identity.ProviderOIDC, Slug: "acme", Name: "Acme SSO", Issuer: fake.Issuer,
		ClientID: fake.ClientID, ClientSecret: fake.ClientSecret,
	}); err != nil {
		t.Fatal(err)
	}
	return srv, fake
}

// viaUpstream presses the provider's button on a sign-in page and goes
// through the provider back to orgid; it returns orgid's answer after
// its redirects, and the provider's redirect back.
func viaUpstream(t *testing.T, b *servertest.Browser, srv *servertest.Server, page *servertest.Response) (*servertest.Response, *url.URL) {
	t.Helper()
	form, action, err := servertest.FindForm(page.Body, "provider")
	if err != nil {
		t.Fatalf("no provider button: %v", page)
	}
	form.Set("provider", "acme")
	toProvider := b.PostForm(srv.Issuer+action, form)
	if toProvider.Status != http.StatusSeeOther || toProvider.Location == nil || strings.HasPrefix(toProvider.Location.String(), srv.Issuer) {
		t.Fatalf("the button did not lead to the provider: %v", toProvider)
	}
	back := b.Get(toProvider.Location.String())
	if back.Location == nil || back.Location.Path != oidc.PathUpstreamCallback {
		t.Fatalf("the provider did not send the browser back: %v", back)
	}
	return b.Follow(b.Get(back.Location.String()), srv.Issuer), back.Location
}

func TestUpstreamSignInFlow(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv, fake := startWithUpstream(t, dbURL)
		ctx := context.Background()
		r := newRP(t, srv, false, true)

		// A newcomer: the account is created from the verified identity.
		fake.SignInAs(identitytest.FakeIdentity{Subject: "acme-1", Email: "grace@acme.example", EmailVerified: true, GivenName: "Grace"})
		b := servertest.NewBrowser(t)
		page, verifier := r.startAuthorization(b)
		if !strings.Contains(page.Body, "Continue with Acme SSO") {
			t.Fatalf("sign-in page without the provider's button: %v", page)
		}
		done, _ := viaUpstream(t, b, srv, page)
		claims := r.finish(done, verifier)
		grace, err := srv.Identity.UserByEmail(ctx, "grace@acme.example")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"sub": grace.ID, "amr": []any{"fed"}, "acr": "1", "email_verified": true, "given_name": "Grace"}
		got := map[string]any{}
		for k := range want {
			got[k] = claims[k]
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ID token after an upstream sign-up (-want +got):\n%s", diff)
		}

		// An unverified upstream address never reaches an existing account.
		ada := srv.CreateUser(t, "ada@example.com")
		fake.SignInAs(identitytest.FakeIdentity{Subject: "acme-2", Email: "ada@example.com"})
		b2 := servertest.NewBrowser(t)
		page, _ = r.startAuthorization(b2)
		refused, _ := viaUpstream(t, b2, srv, page)
		if refused.Status != http.StatusUnauthorized || !strings.Contains(refused.Body, "no verified email address") {
			t.Fatalf("unverified upstream address: %v", refused)
		}
		if ids, _ := srv.Identity.UserIdentities(ctx, ada.ID); len(ids) != 0 {
			t.Fatalf("an unverified address linked an identity to Ada: %+v", ids)
		}

		// A verified one links, and Ada's second factor is still asked for.
		b3 := signedInBrowser(t, srv, ada.Email)
		secret, _ := enrollOnSecurityPage(t, srv, new(servertest.Clock), b3)
		_ = secret
		fake.SignInAs(identitytest.FakeIdentity{Subject: "acme-3", Email: "ada@example.com", EmailVerified: true})
		b4 := servertest.NewBrowser(t)
		page, _ = r.startAuthorization(b4)
		second, _ := viaUpstream(t, b4, srv, page)
		wantTitle(t, "upstream sign-in of a user with a second factor", second, "Two-step verification")
		if ids, _ := srv.Identity.UserIdentities(ctx, ada.ID); len(ids) != 1 || ids[0].Subject != "acme-3" {
			t.Errorf("Ada's identities = %+v, want the linked one", ids)
		}
	})
}

func TestUpstreamCallbackRefusals(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv, fake := startWithUpstream(t, dbURL, servertest.WithConfig(func(c *server.Config) { c.DisableSignUp = true }))
		r := newRP(t, srv, false, true)
		fake.SignInAs(identitytest.FakeIdentity{Subject: "acme-9", Email: "new@example.com", EmailVerified: true})

		// Sign-up disabled: no account for a newcomer.
		b := servertest.NewBrowser(t)
		page, _ := r.startAuthorization(b)
		refused, back := viaUpstream(t, b, srv, page)
		if refused.Status != http.StatusUnauthorized || !strings.Contains(refused.Body, "No account is connected") {
			t.Fatalf("newcomer with sign-up disabled: %v", refused)
		}
		// The callback works once, and only in its browser.
		if again := b.Get(back.String()); again.Status != http.StatusBadRequest || !strings.Contains(again.Body, "expired") {
			t.Errorf("the callback a second time: %v", again)
		}

		page, _ = r.startAuthorization(b)
		form, action, _ := servertest.FindForm(page.Body, "provider")
		form.Set("provider", "acme")
		toProvider := b.PostForm(srv.Issuer+action, form)
		state := toProvider.Location.Query().Get("state")
		if other := servertest.NewBrowser(t).Get(srv.Issuer + oidc.PathUpstreamCallback + "?code=x&state=" + url.QueryEscape(state)); other.Status != http.StatusBadRequest {
			t.Errorf("the state in another browser: %v, want 400", other)
		}
		// The user cancels at the provider: back on the sign-in page.
		cancelled := b.Get(srv.Issuer + oidc.PathUpstreamCallback + "?error=access_denied&state=" + url.QueryEscape(state))
		if cancelled.Status != http.StatusUnauthorized || !strings.Contains(cancelled.Body, "was cancelled") || !strings.Contains(cancelled.Body, `name="identifier"`) {
			t.Errorf("cancelled at the provider: %v", cancelled)
		}
	})
}
