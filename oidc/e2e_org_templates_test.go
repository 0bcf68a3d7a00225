package oidc_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/templates"
	"github.com/orgid/orgid/tenancy"
)

// orgFixture: a user who owns one organization and is a member of another,
// a client that asks for organization context with templates, and a
// custom permission on the owner role.
type orgFixture struct {
	srv        *servertest.Server
	user       *identity.User
	acme, beta *tenancy.Organization
	r          *rp
}

func newOrgFixture(t *testing.T, dbURL string) *orgFixture {
	t.Helper()
	ctx := context.Background()
	srv := servertest.Start(t, dbURL)
	user := srv.CreateUser(t, "owner@example.com", func(nu *identity.NewUser) {
		nu.PublicMetadata = map[string]any{"plan": "pro"}
	})
	other := srv.CreateUser(t, "other@example.com")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := srv.RBAC.CreatePermission(ctx, rbac.NewPermission{Key: "org:projects:manage", Name: "Manage projects"})
	must(err)
	must(srv.RBAC.Grant(ctx, rbac.RoleOwner, "org:projects:manage"))
	acme, err := srv.Tenancy.CreateOrganization(ctx, tenancy.Operator(), tenancy.NewOrganization{Name: "Acme", CreatedBy: user.ID})
	must(err)
	beta, err := srv.Tenancy.CreateOrganization(ctx, tenancy.Operator(), tenancy.NewOrganization{Name: "Beta", CreatedBy: other.ID})
	must(err)
	_, err = srv.Tenancy.AddMembership(ctx, tenancy.Operator(), beta.ID, user.ID, rbac.RoleMember)
	must(err)
	for name, claims := range map[string]string{
		"id-extras": `{"plan": "{{user.public_metadata.plan || 'free'}}", "greeting": "Hello {{user.first_name}}"}`,
		"at-extras": `{"tier": "{{org.slug}}:{{org.role}}", "perms": "{{org.permissions}}"}`,
		"backend":   `{"email": "{{user.email}}", "org": "{{org.slug}}", "aud": "api.example.com", "orgs": "{{user.organizations}}"}`,
		"other":     `{"x": 1}`,
	} {
		_, err := srv.Templates.Create(ctx, templates.NewTemplate{Name: name, Claims: json.RawMessage(claims)})
		must(err)
	}
	c, secret := srv.CreateClient(t, oidc.NewClient{
		Name: "Org app", FirstParty: true,
		Metadata: oidc.ClientMetadata{
			RedirectURIs:        []string{redirectURI},
			GrantTypes:          []string{oidc.GrantAuthorizationCode, oidc.GrantRefreshToken, oidc.GrantTokenExchange},
			IDTokenTemplate:     "id-extras",
			AccessTokenTemplate: "at-extras",
			AllowedTemplates:    []string{"backend"},
		},
	})
	provider, err := gooidc.NewProvider(ctx, srv.Issuer)
	must(err)
	endpoint := provider.Endpoint()
	endpoint.AuthStyle = oauth2.AuthStyleInHeader
	r := &rp{t: t, srv: srv, client: c, provider: provider, verifier: provider.Verifier(&gooidc.Config{ClientID: c.ID}),
		config: oauth2.Config{ClientID: c.ID, ClientSecret: secret, Endpoint: endpoint, RedirectURL: redirectURI,
			Scopes: []string{gooidc.ScopeOpenID, "profile", "email", oidc.ScopeOrganization, gooidc.ScopeOfflineAccess}}}
	return &orgFixture{srv: srv, user: user, acme: acme, beta: beta, r: r}
}

func idClaims(t *testing.T, r *rp, tok *oauth2.Token) map[string]any {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	idt, err := r.verifier.Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	var c map[string]any
	_ = idt.Claims(&c)
	return c
}

func TestOrganizationClaimsAndSwitching(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		fx := newOrgFixture(t, dbURL)
		r, ctx := fx.r, context.Background()
		b := servertest.NewBrowser(t)

		// Naming an organization the user is not in: access_denied.
		outsider, err := fx.srv.Tenancy.CreateOrganization(ctx, tenancy.Operator(), tenancy.NewOrganization{Name: "Outsiders", CreatedBy: fx.srv.CreateUser(t, "x@example.com").ID})
		if err != nil {
			t.Fatal(err)
		}
		page := b.Follow(b.Get(r.config.AuthCodeURL("state-1234567890", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
			oauth2.SetAuthURLParam("organization", outsider.Slug))), fx.srv.Issuer)
		if page.Location == nil {
			page = b.SignIn(page, fx.srv.Issuer, fx.user.Email, servertest.Password)
		}
		if page.Location == nil || page.Location.Query().Get("error") != "access_denied" || page.Location.Query().Get("code") != "" {
			t.Fatalf("foreign organization: %v, want access_denied and no code", page)
		}

		// Sign-in with the chooser: pick Acme.
		verifier := oauth2.GenerateVerifier()
		chooser := b.Follow(b.Get(r.config.AuthCodeURL("state-1234567890", oauth2.S256ChallengeOption(verifier))), fx.srv.Issuer)
		if !strings.Contains(chooser.Body, `name="org_id"`) {
			t.Fatalf("want the organization chooser, got %v", chooser)
		}
		form, action, err := servertest.FindForm(chooser.Body, "flow")
		if err != nil {
			t.Fatal(err)
		}
		form.Set("org_id", fx.acme.ID)
		done := b.Follow(b.PostForm(fx.srv.Issuer+action, form), fx.srv.Issuer)
		if done.Location == nil || done.Location.Query().Get("code") == "" {
			t.Fatalf("after choosing: %v", done)
		}
		tok, err := r.config.Exchange(ctx, done.Location.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		id := idClaims(t, r, tok)
		logClaims(t, "before the switch: ID token", id)
		logClaims(t, "before the switch: access token", decodeJWT(t, tok.AccessToken))
		if id["org_id"] != fx.acme.ID || id["org_slug"] != fx.acme.Slug || id["org_role"] != "org:owner" ||
			!sameList(id["org_permissions"], "org:projects:manage") || id["plan"] != "pro" || id["greeting"] != "Hello Ada" {
			t.Errorf("ID token claims = %v", id)
		}
		at := decodeJWT(t, tok.AccessToken)
		if at["org_id"] != fx.acme.ID || at["tier"] != fx.acme.Slug+":org:owner" || !sameList(at["perms"], "org:projects:manage") || at["plan"] != nil {
			t.Errorf("access token claims = %v", at)
		}
		var info map[string]any
		ui, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatal(err)
		}
		_ = ui.Claims(&info)
		if info["org_id"] != fx.acme.ID || info["plan"] != "pro" || info["tier"] != nil {
			t.Errorf("userinfo = %v, want organization and ID-token template claims only", info)
		}

		// Silent switch: organization=<slug>&prompt=none.
		silent := b.Follow(b.Get(r.config.AuthCodeURL("state-1234567890", oauth2.S256ChallengeOption(verifier),
			oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("organization", fx.beta.Slug))), fx.srv.Issuer)
		if silent.Location == nil || silent.Location.Query().Get("code") == "" {
			t.Fatalf("silent switch: %v", silent)
		}
		tok2, err := r.config.Exchange(ctx, silent.Location.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		c2 := idClaims(t, r, tok2)
		logClaims(t, "after the silent switch: ID token", c2)
		logClaims(t, "after the silent switch: access token", decodeJWT(t, tok2.AccessToken))
		if c2["org_id"] != fx.beta.ID || c2["org_role"] != "org:member" || !sameList(c2["org_permissions"]) {
			t.Errorf("after silent switch: %v", c2)
		}
		// The session remembers Beta: a plain prompt=none picks it.
		again := b.Follow(b.Get(r.config.AuthCodeURL("state-1234567890", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "none"))), fx.srv.Issuer)
		tok3, err := r.config.Exchange(ctx, again.Location.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		if c := idClaims(t, r, tok3); c["org_id"] != fx.beta.ID {
			t.Errorf("remembered organization: %v", c)
		}

		// Switch with a refresh; a role change shows on the next refresh.
		refresh := func(rt string, params url.Values) (int, map[string]any) {
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
			for k, v := range params {
				form[k] = v
			}
			status, body, _ := postToken(t, fx.srv.Issuer, form, r.client.ID, r.config.ClientSecret)
			return status, body
		}
		status, body := refresh(tok.RefreshToken, url.Values{"organization": {fx.beta.ID}})
		if status != 200 {
			t.Fatalf("refresh switch: %d %v", status, body)
		}
		if c := decodeJWT(t, body["access_token"].(string)); c["org_id"] != fx.beta.ID || c["org_role"] != "org:member" {
			t.Errorf("access token after refresh switch: %v", c)
		}
		if _, err := fx.srv.Tenancy.SetMembershipRole(ctx, tenancy.Operator(), fx.beta.ID, fx.user.ID, rbac.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		status, body = refresh(body["refresh_token"].(string), nil)
		if c := decodeJWT(t, body["access_token"].(string)); status != 200 || c["org_role"] != "org:admin" {
			t.Errorf("after role change: %d %v", status, c)
		}
		if status, body2 := refresh(body["refresh_token"].(string), url.Values{"organization": {outsider.ID}}); status != 400 || body2["error"] != "invalid_grant" {
			t.Errorf("refresh into a foreign organization: %d %v, want invalid_grant", status, body2)
		}
		// Removed from the organization: the next refresh fails.
		if err := fx.srv.Tenancy.RemoveMembership(ctx, tenancy.Operator(), fx.beta.ID, fx.user.ID); err != nil {
			t.Fatal(err)
		}
		if status, body2 := refresh(body["refresh_token"].(string), nil); status != 400 || body2["error"] != "invalid_grant" {
			t.Errorf("refresh after removal: %d %v, want invalid_grant", status, body2)
		}
	})
}

func TestTokenExchangeMintsTemplateTokens(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		fx := newOrgFixture(t, dbURL)
		r, ctx := fx.r, context.Background()
		q, verifier := r.authorize(servertest.NewBrowser(t), fx.user.Email, oauth2.SetAuthURLParam("organization", fx.acme.Slug))
		tok, err := r.config.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		exchange := func(mut func(url.Values), user, pass string) (int, map[string]any) {
			form := url.Values{
				"grant_type": {oidc.GrantTokenExchange}, "subject_token": {tok.AccessToken},
				"subject_token_type": {oidc.TokenTypeAccess}, "requested_token_type": {oidc.TokenTypeJWT}, "audience": {"backend"},
			}
			if mut != nil {
				mut(form)
			}
			status, body, _ := postToken(t, fx.srv.Issuer, form, user, pass)
			return status, body
		}
		status, body := exchange(nil, r.client.ID, r.config.ClientSecret)
		if status != 200 || body["issued_token_type"] != oidc.TokenTypeJWT || body["token_type"] != "N_A" {
			t.Fatalf("exchange: %d %v", status, body)
		}
		minted := body["access_token"].(string)
		payload, err := gooidc.NewRemoteKeySet(ctx, fx.srv.Issuer+oidc.PathJWKS).VerifySignature(ctx, minted)
		if err != nil {
			t.Fatalf("minted token does not verify through JWKS: %v", err)
		}
		var c map[string]any
		_ = json.Unmarshal(payload, &c)
		logClaims(t, "minted by token exchange (template backend)", c)
		if c["sub"] != fx.user.ID || c["azp"] != r.client.ID || c["sid"] == nil || c["email"] != fx.user.Email ||
			c["org"] != fx.acme.Slug || c["aud"] != "api.example.com" || c["iss"] != fx.srv.Issuer {
			t.Errorf("minted claims = %v", c)
		}
		if orgs, _ := c["orgs"].(map[string]any); orgs[fx.acme.ID] != "org:owner" || orgs[fx.beta.ID] != "org:member" {
			t.Errorf("user.organizations = %v", c["orgs"])
		}
		iat, nbf, exp := c["iat"].(float64), c["nbf"].(float64), c["exp"].(float64)
		if exp-iat != 60 || iat-nbf != 5 || time.Unix(int64(exp), 0).Before(time.Now()) {
			t.Errorf("iat %v nbf %v exp %v: want a 60 s lifetime and 5 s skew", iat, nbf, exp)
		}

		for name, tc := range map[string]struct {
			mut  func(url.Values)
			want string
		}{
			"unknown template":      {func(f url.Values) { f.Set("audience", "nope") }, "invalid_target"},
			"template not allowed":  {func(f url.Values) { f.Set("audience", "other") }, "invalid_target"},
			"two audiences":         {func(f url.Values) { f["audience"] = []string{"backend", "other"} }, "invalid_request"},
			"wrong subject type":    {func(f url.Values) { f.Set("subject_token_type", "urn:ietf:params:oauth:token-type:id_token") }, "invalid_request"},
			"wrong requested type":  {func(f url.Values) { f.Set("requested_token_type", oidc.TokenTypeAccess) }, "invalid_request"},
			"forged subject token":  {func(f url.Values) { f.Set("subject_token", tok.AccessToken[:len(tok.AccessToken)-3]+"AAA") }, "invalid_grant"},
			"missing subject token": {func(f url.Values) { f.Del("subject_token") }, "invalid_request"},
		} {
			if status, body := exchange(tc.mut, r.client.ID, r.config.ClientSecret); status != 400 || body["error"] != tc.want {
				t.Errorf("%s: %d %v, want %s", name, status, body, tc.want)
			}
		}
		// Another client may not exchange this client's token.
		other, otherSecret := fx.srv.CreateClient(t, oidc.NewClient{Name: "other", Metadata: oidc.ClientMetadata{
			GrantTypes: []string{oidc.GrantClientCredentials, oidc.GrantTokenExchange}, AllowedTemplates: []string{"backend"}}})
		if status, body := exchange(nil, other.ID, otherSecret); status != 400 || body["error"] != "invalid_grant" {
			t.Errorf("foreign client: %d %v, want invalid_grant", status, body)
		}
		noGrant, noGrantSecret := fx.srv.CreateClient(t, oidc.NewClient{Name: "no grant", Metadata: oidc.ClientMetadata{
			GrantTypes: []string{oidc.GrantClientCredentials}}})
		if status, body := exchange(nil, noGrant.ID, noGrantSecret); status != 400 || body["error"] != "unauthorized_client" {
			t.Errorf("client without the grant: %d %v, want unauthorized_client", status, body)
		}
		// A revoked subject token is refused.
		req, _ := http.NewRequest(http.MethodPost, fx.srv.Issuer+oidc.PathRevoke, strings.NewReader(url.Values{"token": {tok.AccessToken}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(r.client.ID, r.config.ClientSecret)
		if resp, err := http.DefaultClient.Do(req); err != nil {
			t.Fatal(err)
		} else {
			resp.Body.Close()
		}
		if status, body := exchange(nil, r.client.ID, r.config.ClientSecret); status != 400 || body["error"] != "invalid_grant" {
			t.Errorf("revoked subject token: %d %v, want invalid_grant", status, body)
		}
	})
}

func decodeJWT(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	var c map[string]any
	b, err := base64URLDecode(parts[1])
	if err != nil || json.Unmarshal(b, &c) != nil {
		t.Fatalf("decode JWT: %v", err)
	}
	return c
}

// logClaims shows decoded claims with go test -v, for the record.
func logClaims(t *testing.T, what string, claims map[string]any) {
	t.Helper()
	b, _ := json.MarshalIndent(claims, "", "  ")
	t.Logf("%s:\n%s", what, b)
}

// sameList reports whether v is a JSON list of exactly want.
func sameList(v any, want ...string) bool {
	list, ok := v.([]any)
	if !ok || len(list) != len(want) {
		return false
	}
	for i := range want {
		if list[i] != want[i] {
			return false
		}
	}
	return true
}
