package identity_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/identity/identitytest"
	"github.com/orgid/orgid/internal/egress"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/storagetest"
)

const callbackURL = "https://id.example.com/sign-in/idp/callback"

func newUpstreamEnv(t *testing.T, db *bun.DB) *env {
	return newEnv(t, db, func(o *identity.Options) {
		o.HTTPClient = egress.NewClient(egress.Options{AllowHosts: []string{"127.0.0.1"}})
	})
}

func createFakeProvider(t *testing.T, e *env, fake *identitytest.FakeUpstream, kind, slug string) *identity.IdentityProvider {
	t.Helper()
	n := identity.NewIdentityProvider{Kind: kind, Slug: slug, ClientID: fake.ClientID, ClientSecret: fake.ClientSecret}
	switch kind {
	case identity.ProviderOIDC:
		n.Issuer, n.Name = fake.Issuer, "Acme SSO"
	case identity.ProviderGitHub:
		n.AuthURL, n.TokenURL, n.APIURL = fake.Issuer+"/login/oauth/authorize", fake.Issuer+"/login/oauth/access_token", fake.Issuer+"/api"
	}
	p, err := e.svc.CreateIdentityProvider(context.Background(), n)
	if err != nil {
		t.Fatalf("CreateIdentityProvider: %v", err)
	}
	return p
}

// upstreamSignIn runs the browser's part: to the provider and back.
func upstreamSignIn(t *testing.T, e *env, slug, linkUserID string, allowSignUp bool) (*identity.UpstreamResult, error) {
	t.Helper()
	ctx := context.Background()
	authURL, err := e.svc.BeginUpstreamSignIn(ctx, slug, browserA, callbackURL, linkUserID, []byte("flow=abc"))
	if err != nil {
		t.Fatalf("BeginUpstreamSignIn: %v", err)
	}
	state, code := followProvider(t, authURL)
	return e.svc.FinishUpstreamSignIn(ctx, state, code, browserA, callbackURL, allowSignUp)
}

func followProvider(t *testing.T, authURL string) (state, code string) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("provider did not redirect back (status %d)", resp.StatusCode)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != callbackURL {
		t.Fatalf("provider redirected to %s, want %s", got, callbackURL)
	}
	return loc.Query().Get("state"), loc.Query().Get("code")
}

func TestUpstreamSignIn(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newUpstreamEnv(t, db)
		fake := identitytest.NewFakeUpstream(t)
		createFakeProvider(t, e, fake, identity.ProviderOIDC, "acme")

		// A new person: an account is created, verified, named.
		fake.SignInAs(identitytest.FakeIdentity{Subject: "u-1", Email: "Grace@Acme.example", EmailVerified: true, GivenName: "Grace", FamilyName: "Hopper"})
		res, err := upstreamSignIn(t, e, "acme", "", true)
		if err != nil || !res.Created || res.Linked || string(res.ReturnData) != "flow=abc" {
			t.Fatalf("first sign-in = %+v, %v; want a created account and the return data", res, err)
		}
		grace := res.User
		if !grace.EmailVerified || grace.FirstName != "Grace" || grace.HasPassword {
			t.Errorf("created user = %+v", grace)
		}
		req := fake.Requests[len(fake.Requests)-1]
		for _, k := range []string{"state", "nonce", "code_challenge"} {
			if len(req.Get(k)) < 43 {
				t.Errorf("authorization request %s = %q, want ≥ 256 bits", k, req.Get(k))
			}
		}

		// The identity is (provider, subject): a changed address still
		// signs in the same account.
		fake.SignInAs(identitytest.FakeIdentity{Subject: "u-1", Email: "someone-else@acme.example", EmailVerified: true})
		res, err = upstreamSignIn(t, e, "acme", "", false)
		if err != nil || res.User.ID != grace.ID || res.Created || res.Linked {
			t.Fatalf("second sign-in = %+v, %v; want Grace again", res, err)
		}

		// A verified address of a verified account links.
		ada := e.createUser(t, "ada@example.com")
		fake.SignInAs(identitytest.FakeIdentity{Subject: "u-2", Email: "ADA@example.com", EmailVerified: true})
		res, err = upstreamSignIn(t, e, "acme", "", false)
		if err != nil || res.User.ID != ada.ID || !res.Linked {
			t.Fatalf("sign-in with Ada's verified address = %+v, %v; want Ada, linked", res, err)
		}
		ids, err := e.svc.UserIdentities(ctx, ada.ID)
		if err != nil || len(ids) != 1 || ids[0].Subject != "u-2" || ids[0].ProviderSlug != "acme" {
			t.Errorf("Ada's identities = %+v, %v", ids, err)
		}

		for _, tc := range []struct {
			name    string
			id      identitytest.FakeIdentity
			signUp  bool
			wantErr error
		}{
			{"unverified address of an account", identitytest.FakeIdentity{Subject: "u-3", Email: "ada@example.com"}, true, identity.ErrUpstreamEmailUnverified},
			{"unverified address, no account", identitytest.FakeIdentity{Subject: "u-4", Email: "new@example.com"}, true, identity.ErrUpstreamEmailUnverified},
			{"no address", identitytest.FakeIdentity{Subject: "u-5", EmailVerified: true}, true, identity.ErrUpstreamEmailUnverified},
			{"sign-up disabled", identitytest.FakeIdentity{Subject: "u-6", Email: "other@example.com", EmailVerified: true}, false, identity.ErrSignUpDisabled},
		} {
			fake.SignInAs(tc.id)
			if _, err := upstreamSignIn(t, e, "acme", "", tc.signUp); !errors.Is(err, tc.wantErr) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, tc.wantErr)
			}
		}
		if ids, _ := e.svc.UserIdentities(ctx, ada.ID); len(ids) != 1 {
			t.Errorf("Ada has %d identities after refused sign-ins, want 1", len(ids))
		}

		// An operator-made account with an unverified address is not
		// linked: nothing proves it belongs to the same person.
		if _, err := e.svc.CreateUser(ctx, identity.NewUser{Email: "kim@example.com", Password: goodPassword}); err != nil {
			t.Fatal(err)
		}
		fake.SignInAs(identitytest.FakeIdentity{Subject: "u-7", Email: "kim@example.com", EmailVerified: true})
		if _, err := upstreamSignIn(t, e, "acme", "", true); !errors.Is(err, identity.ErrUpstreamAccountExists) {
			t.Errorf("unverified local account: err = %v, want ErrUpstreamAccountExists", err)
		}

		// Connecting from a signed-in account.
		fake.SignInAs(identitytest.FakeIdentity{Subject: "u-8", Email: "whatever@elsewhere.example"})
		res, err = upstreamSignIn(t, e, "acme", ada.ID, false)
		if err != nil || res.User.ID != ada.ID || !res.Linked || res.LinkUserID != ada.ID {
			t.Fatalf("connect = %+v, %v", res, err)
		}
		fake.SignInAs(identitytest.FakeIdentity{Subject: "u-1"})
		if _, err := upstreamSignIn(t, e, "acme", ada.ID, false); !errors.Is(err, identity.ErrIdentityTaken) {
			t.Errorf("connecting Grace's identity to Ada: err = %v, want ErrIdentityTaken", err)
		}
		if err := e.svc.DisconnectIdentity(ctx, grace.ID, ids[0].ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Grace disconnecting Ada's identity: err = %v, want ErrNotFound", err)
		}
		if err := e.svc.DisconnectIdentity(ctx, ada.ID, ids[0].ID); err != nil {
			t.Fatal(err)
		}

		// Banned users do not get in.
		if _, err := e.svc.BanUser(ctx, grace.ID); err != nil {
			t.Fatal(err)
		}
		fake.SignInAs(identitytest.FakeIdentity{Subject: "u-1", Email: "grace@acme.example", EmailVerified: true})
		if _, err := upstreamSignIn(t, e, "acme", "", true); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Errorf("banned user: err = %v, want ErrInvalidCredentials", err)
		}
	})
}

func TestUpstreamSignInProtections(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newUpstreamEnv(t, db)
		fake := identitytest.NewFakeUpstream(t)
		createFakeProvider(t, e, fake, identity.ProviderOIDC, "acme")
		fake.SignInAs(identitytest.FakeIdentity{Subject: "u-1", Email: "a@example.com", EmailVerified: true})

		begin := func() (string, string) {
			authURL, err := e.svc.BeginUpstreamSignIn(ctx, "acme", browserA, callbackURL, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			return followProvider(t, authURL)
		}
		state, code := begin()
		if _, err := e.svc.FinishUpstreamSignIn(ctx, state, code, browserB, callbackURL, true); !errors.Is(err, identity.ErrUpstreamLogin) {
			t.Errorf("another browser: err = %v, want ErrUpstreamLogin", err)
		}
		// The other browser's try neither used nor spent it.
		if _, err := e.svc.FinishUpstreamSignIn(ctx, state, code, browserA, callbackURL, true); err != nil {
			t.Errorf("the state in its own browser after another's try: %v", err)
		}
		if _, err := e.svc.FinishUpstreamSignIn(ctx, state, code, browserA, callbackURL, true); !errors.Is(err, identity.ErrUpstreamLogin) {
			t.Errorf("a used state: err = %v, want ErrUpstreamLogin", err)
		}
		if _, err := e.svc.FinishUpstreamSignIn(ctx, "forged-state", code, browserA, callbackURL, true); !errors.Is(err, identity.ErrUpstreamLogin) {
			t.Errorf("forged state: err = %v, want ErrUpstreamLogin", err)
		}

		fake.TamperNonce = true
		state, code = begin()
		if _, err := e.svc.FinishUpstreamSignIn(ctx, state, code, browserA, callbackURL, true); !errors.Is(err, identity.ErrUpstreamFailed) {
			t.Errorf("ID token with another nonce: err = %v, want ErrUpstreamFailed", err)
		}
		fake.TamperNonce = false

		// A code stolen from the callback is worthless without the
		// verifier that stayed in orgid.
		state, code = begin()
		authURL, _ := e.svc.BeginUpstreamSignIn(ctx, "acme", browserA, callbackURL, "", nil)
		otherState, _ := followProvider(t, authURL)
		if _, err := e.svc.FinishUpstreamSignIn(ctx, otherState, code, browserA, callbackURL, true); !errors.Is(err, identity.ErrUpstreamFailed) {
			t.Errorf("a code injected into another sign-in: err = %v, want ErrUpstreamFailed (PKCE)", err)
		}
		_ = state

		e.clock.Advance(identity.UpstreamLoginLifetime)
		if _, err := e.svc.FinishUpstreamSignIn(ctx, state, code, browserA, callbackURL, true); !errors.Is(err, identity.ErrUpstreamLogin) {
			t.Errorf("expired: err = %v, want ErrUpstreamLogin", err)
		}

		if _, err := e.svc.SetIdentityProviderEnabled(ctx, "acme", false); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.BeginUpstreamSignIn(ctx, "acme", browserA, callbackURL, "", nil); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("disabled provider: err = %v, want ErrNotFound", err)
		}
	})
}

func TestGitHubSignIn(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newUpstreamEnv(t, db)
		fake := identitytest.NewFakeUpstream(t)
		createFakeProvider(t, e, fake, identity.ProviderGitHub, "github")

		fake.SignInAs(identitytest.FakeIdentity{Subject: "583231", Email: "octo@github.example", EmailVerified: true, GivenName: "Mona", FamilyName: "Lisa Octocat"})
		res, err := upstreamSignIn(t, e, "github", "", true)
		if err != nil || !res.Created || res.User.Email != "octo@github.example" || res.User.FirstName != "Mona" || res.User.LastName != "Lisa Octocat" {
			t.Fatalf("GitHub sign-in = %+v, %v", res, err)
		}
		if req := fake.Requests[len(fake.Requests)-1]; req.Get("nonce") != "" || req.Get("scope") != "read:user user:email" {
			t.Errorf("GitHub authorization request = %v, want no nonce and the user scopes", req)
		}
		fake.SignInAs(identitytest.FakeIdentity{Subject: "99", Email: "unverified@github.example"})
		if _, err := upstreamSignIn(t, e, "github", "", true); !errors.Is(err, identity.ErrUpstreamEmailUnverified) {
			t.Errorf("unverified primary address: err = %v, want ErrUpstreamEmailUnverified", err)
		}
	})
}

func TestCreateIdentityProvider(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newUpstreamEnv(t, db)
		for _, tc := range []struct {
			name      string
			in        identity.NewIdentityProvider
			wantField string
			check     func(p *identity.IdentityProvider) bool
		}{
			{"google preset", identity.NewIdentityProvider{Kind: "google", ClientID: "c", ClientSecret: "s"}, "",
				func(p *identity.IdentityProvider) bool {
					return p.Slug == "google" && p.Issuer == "https://accounts.google.com" && p.Name == "Google"
				}},
			{"microsoft tenant", identity.NewIdentityProvider{Kind: "microsoft", Tenant: "contoso.onmicrosoft.com", ClientID: "c", ClientSecret: "s"}, "",
				func(p *identity.IdentityProvider) bool {
					return p.Issuer == "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0"
				}},
			{"github preset", identity.NewIdentityProvider{Kind: "github", ClientID: "c", ClientSecret: "s"}, "",
				func(p *identity.IdentityProvider) bool { return p.APIURL == "https://api.github.com" }},
			{"taken slug", identity.NewIdentityProvider{Kind: "google", ClientID: "c", ClientSecret: "s"}, "conflict", nil},
			{"oidc needs an https issuer", identity.NewIdentityProvider{Kind: "oidc", Slug: "x", Issuer: "http://sso.example.com", ClientID: "c", ClientSecret: "s"}, "issuer", nil},
			{"unknown kind", identity.NewIdentityProvider{Kind: "saml", ClientID: "c", ClientSecret: "s"}, "kind", nil},
			{"bad slug", identity.NewIdentityProvider{Kind: "oidc", Slug: "Acme SSO", Issuer: "https://sso.example.com", ClientID: "c", ClientSecret: "s"}, "slug", nil},
			{"no secret", identity.NewIdentityProvider{Kind: "oidc", Slug: "acme", Issuer: "https://sso.example.com", ClientID: "c"}, "client_secret", nil},
		} {
			p, err := e.svc.CreateIdentityProvider(ctx, tc.in)
			var invalid *identity.ValidationError
			switch {
			case tc.wantField == "conflict":
				if !errors.Is(err, storage.ErrConflict) {
					t.Errorf("%s: err = %v, want ErrConflict", tc.name, err)
				}
			case tc.wantField != "":
				if !errors.As(err, &invalid) || invalid.Field != tc.wantField {
					t.Errorf("%s: err = %v, want a ValidationError on %s", tc.name, err, tc.wantField)
				}
			case err != nil || !tc.check(p):
				t.Errorf("%s: = %+v, %v", tc.name, p, err)
			}
		}
		list, err := e.svc.ListIdentityProviders(ctx, true)
		if err != nil || len(list) != 3 {
			t.Errorf("ListIdentityProviders = %d, %v; want 3", len(list), err)
		}
		if err := e.svc.DeleteIdentityProvider(ctx, "google"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.GetIdentityProvider(ctx, "google"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("after delete: err = %v, want ErrNotFound", err)
		}
		var secretColumn []byte
		if err := db.NewSelect().Table("identity_providers").Column("client_secret").Where("slug = ?", "github").Scan(ctx, &secretColumn); err != nil {
			t.Fatal(err)
		}
		if string(secretColumn) == "s" || len(secretColumn) < 20 {
			t.Errorf("client secret stored as %q, want it sealed", secretColumn)
		}
	})
}
