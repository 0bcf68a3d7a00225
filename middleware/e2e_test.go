package middleware_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/middleware"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/tenancy"
)

const (
	apiAudience = "https://api.example.com"
	redirectURI = "http://127.0.0.1:9/callback"
	scopeRead   = "projects:read"
)

// fixture is a real orgid with a user who owns Acme (whose owner role
// holds org:projects:manage), an app client allowed to request tokens
// for apiAudience, and an API client the resource server introspects with.
type fixture struct {
	srv       *servertest.Server
	user      *identity.User
	acme      *tenancy.Organization
	app       *oidc.Client
	appSecret string
	api       *oidc.Client
	apiSecret string
}

func newFixture(t *testing.T, dbURL string) *fixture {
	t.Helper()
	ctx := context.Background()
	srv := servertest.Start(t, dbURL)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	user := srv.CreateUser(t, "owner@example.com")
	_, err := srv.RBAC.CreatePermission(ctx, rbac.NewPermission{Key: "org:projects:manage", Name: "Manage projects"})
	must(err)
	must(srv.RBAC.Grant(ctx, rbac.RoleOwner, "org:projects:manage"))
	acme, err := srv.Tenancy.CreateOrganization(ctx, tenancy.Operator(), tenancy.NewOrganization{Name: "Acme", CreatedBy: user.ID})
	must(err)
	app, appSecret := srv.CreateClient(t, oidc.NewClient{Name: "App", FirstParty: true, Metadata: oidc.ClientMetadata{
		RedirectURIs: []string{redirectURI},
		GrantTypes:   []string{oidc.GrantAuthorizationCode, oidc.GrantRefreshToken, oidc.GrantClientCredentials},
		Scopes:       []string{"openid", "profile", "offline_access", oidc.ScopeOrganization, scopeRead},
		Audience:     []string{apiAudience},
	}})
	api, apiSecret := srv.CreateClient(t, oidc.NewClient{Name: "API", Metadata: oidc.ClientMetadata{
		GrantTypes: []string{oidc.GrantClientCredentials},
	}})
	return &fixture{srv: srv, user: user, acme: acme, app: app, appSecret: appSecret, api: api, apiSecret: apiSecret}
}

// userTokens signs the user in with a browser and runs the code flow with
// x/oauth2, asking for the organization scope, Acme and apiAudience.
func (f *fixture) userTokens(t *testing.T) *oauth2.Token {
	t.Helper()
	cfg := oauth2.Config{
		ClientID: f.app.ID, ClientSecret: f.appSecret, RedirectURL: redirectURI,
		Endpoint: oauth2.Endpoint{AuthURL: f.srv.Issuer + oidc.PathAuthorize, TokenURL: f.srv.Issuer + oidc.PathToken, AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{"openid", oidc.ScopeOrganization, "offline_access"},
	}
	verifier := oauth2.GenerateVerifier()
	b := servertest.NewBrowser(t)
	page := b.Follow(b.Get(cfg.AuthCodeURL("state-1234567890", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("organization", f.acme.Slug), oauth2.SetAuthURLParam("audience", apiAudience))), f.srv.Issuer)
	if strings.Contains(page.Body, `name="identifier"`) {
		page = b.SignIn(page, f.srv.Issuer, f.user.Email, servertest.Password)
	}
	if page.Location == nil || !strings.HasPrefix(page.Location.String(), redirectURI) || page.Location.Query().Get("code") == "" {
		t.Fatalf("authorization did not return a code: %v", page)
	}
	tok, err := cfg.Exchange(context.Background(), page.Location.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

// machineToken runs client credentials over HTTP; audience "" asks for
// none (the token is then for the issuer).
func (f *fixture) machineToken(t *testing.T, audience string) string {
	t.Helper()
	cc := clientcredentials.Config{ClientID: f.app.ID, ClientSecret: f.appSecret, TokenURL: f.srv.Issuer + oidc.PathToken,
		Scopes: []string{scopeRead}, AuthStyle: oauth2.AuthStyleInHeader}
	if audience != "" {
		cc.EndpointParams = url.Values{"audience": {audience}}
	}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatalf("client credentials: %v", err)
	}
	return tok.AccessToken
}

// revoke revokes token at orgid's revocation endpoint as the app.
func (f *fixture) revoke(t *testing.T, token string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.Issuer+oidc.PathRevoke, strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(f.app.ID, f.appSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: status %d", resp.StatusCode)
	}
}

// sign signs arbitrary claims and header with orgid's active RS256 key,
// header fields included (alg and kid default to the key's).
func (f *fixture) sign(t *testing.T, header, claims map[string]any) string {
	t.Helper()
	key, err := f.srv.Keys.Signer("RS256")
	if err != nil {
		t.Fatal(err)
	}
	h := with(map[string]any{"alg": "RS256", "kid": key.KID, "typ": "at+jwt"}, header)
	return compact(t, h, claims, signRS256(key.CryptoSigner()))
}

func (f *fixture) verifier(t *testing.T, mutate func(*middleware.Options)) *middleware.Verifier {
	t.Helper()
	opts := middleware.Options{Issuer: f.srv.Issuer, Audience: apiAudience, Logger: testLogger(t)}
	if mutate != nil {
		mutate(&opts)
	}
	v, err := middleware.New(context.Background(), opts)
	if err != nil {
		t.Fatalf("middleware.New: %v", err)
	}
	return v
}

func TestVerifyOrgidTokens(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		f := newFixture(t, dbURL)
		tok := f.userTokens(t)
		idToken, _ := tok.Extra("id_token").(string)
		machine := f.machineToken(t, apiAudience)
		forIssuer := f.machineToken(t, "")
		clk := new(clock)
		v := f.verifier(t, func(o *middleware.Options) { o.Now = clk.Now })
		// A verifier whose audience is the app's client id, the ID token's
		// aud: only the typ check can tell the ID token apart.
		asClient := f.verifier(t, func(o *middleware.Options) { o.Audience = f.app.ID })

		_, access := parts(t, tok.AccessToken)
		key, err := f.srv.Keys.Signer("RS256")
		if err != nil {
			t.Fatal(err)
		}
		pub, err := key.PublicJWK().MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().Unix()

		type want struct {
			subject, clientID, orgID, orgRole string
			machine                           bool
		}
		user := &want{subject: f.user.ID, clientID: f.app.ID, orgID: f.acme.ID, orgRole: rbac.RoleOwner}
		for _, tc := range []struct {
			name     string
			v        *middleware.Verifier
			token    string
			offset   time.Duration
			want     *want // nil: must be refused
			expired  bool
			mentions string // the refusal's reason, for the log
		}{
			{name: "user token with organization", v: v, token: tok.AccessToken, want: user},
			{name: "machine token", v: v, token: machine, want: &want{subject: f.app.ID, clientID: f.app.ID, machine: true}},
			{name: "user token within leeway of exp", v: v, token: tok.AccessToken, offset: time.Hour + 10*time.Second, want: user},
			{name: "expired", v: v, token: tok.AccessToken, offset: time.Hour + time.Minute, expired: true, mentions: "expired"},
			{name: "wrong audience: a token for the issuer", v: v, token: forIssuer, mentions: "aud"},
			{name: "wrong audience: another API", v: asClient, token: machine, mentions: "aud"},
			{name: "wrong issuer", v: v, token: f.sign(t, nil, with(access, map[string]any{"iss": "https://evil.example"})), mentions: "iss"},
			{name: "tampered signature", v: v, token: tamper(tok.AccessToken), mentions: "signature"},
			{name: "tampered claims", v: v, token: swapPayload(t, tok.AccessToken, with(access, map[string]any{"org_role": "org:admin"})), mentions: "signature"},
			{name: "alg none", v: v, token: compact(t, map[string]any{"alg": "none", "typ": "at+jwt", "kid": key.KID}, access, unsigned), mentions: "alg"},
			{name: "HS256 keyed with the public key", v: v, token: compact(t, map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": key.KID}, access, signHS256(pub)), mentions: "alg"},
			{name: "ID token as access token", v: asClient, token: idToken, mentions: "typ"},
			{name: "JWT typ instead of at+jwt", v: v, token: f.sign(t, map[string]any{"typ": "JWT"}, access), mentions: "typ"},
			{name: "no typ", v: v, token: f.sign(t, map[string]any{"typ": nil}, access), mentions: "typ"},
			{name: "application/at+jwt", v: v, token: f.sign(t, map[string]any{"typ": "application/at+jwt"}, access), want: user},
			{name: "embedded jwk", v: v, token: f.sign(t, map[string]any{"jwk": key.PublicJWK()}, access), mentions: "jwk"},
			{name: "jku", v: v, token: f.sign(t, map[string]any{"jku": "https://evil.example/jwks"}, access), mentions: "jku"},
			{name: "no kid", v: v, token: f.sign(t, map[string]any{"kid": nil}, access), mentions: "kid"},
			{name: "no exp", v: v, token: f.sign(t, nil, with(access, map[string]any{"exp": nil})), mentions: "exp"},
			{name: "no sub", v: v, token: f.sign(t, nil, with(access, map[string]any{"sub": nil})), mentions: "sub"},
			{name: "no client_id", v: v, token: f.sign(t, nil, with(access, map[string]any{"client_id": nil})), mentions: "client_id"},
			{name: "exp as a string", v: v, token: f.sign(t, nil, with(access, map[string]any{"exp": "9999999999"})), mentions: "number"},
			{name: "not yet valid", v: v, token: f.sign(t, nil, with(access, map[string]any{"nbf": now + 120})), mentions: "before"},
			{name: "nbf within leeway", v: v, token: f.sign(t, nil, with(access, map[string]any{"nbf": now + 10})), want: user},
			{name: "issued in the future", v: v, token: f.sign(t, nil, with(access, map[string]any{"iat": now + 120})), mentions: "future"},
			{name: "refresh token without introspection", v: v, token: tok.RefreshToken, mentions: "introspection"},
			{name: "garbage", v: v, token: "a.b.c", mentions: "header"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				clk.Set(tc.offset)
				defer clk.Set(0)
				c, err := tc.v.Verify(context.Background(), tc.token)
				if tc.want == nil {
					if err == nil || !errors.Is(err, middleware.ErrInvalidToken) {
						t.Fatalf("Verify = %+v, %v; want ErrInvalidToken", c, err)
					}
					if got := errors.Is(err, middleware.ErrTokenExpired); got != tc.expired {
						t.Errorf("errors.Is(%v, ErrTokenExpired) = %v, want %v", err, got, tc.expired)
					}
					t.Logf("refused: %v", err)
					if !strings.Contains(err.Error(), tc.mentions) {
						t.Errorf("error %q does not mention %q", err, tc.mentions)
					}
					return
				}
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				got := want{subject: c.Subject, clientID: c.ClientID, orgID: c.OrgID, orgRole: c.OrgRole, machine: c.IsMachine()}
				if diff := cmp.Diff(*tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
					t.Errorf("claims (-want +got):\n%s", diff)
				}
			})
		}

		t.Run("claims of the user token", func(t *testing.T) {
			c, err := v.Verify(context.Background(), tok.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if c.SessionID == "" || c.OrgSlug != f.acme.Slug || c.Issuer != f.srv.Issuer || c.ExpiresAt.IsZero() {
				t.Errorf("claims = %+v", c)
			}
			if diff := cmp.Diff([]string{apiAudience}, c.Audience); diff != "" {
				t.Errorf("Audience (-want +got):\n%s", diff)
			}
			for perm, want := range map[string]bool{
				"org:projects:manage":      true,
				"org:projects:read":        false,
				"org:sys_memberships:read": false, // system permissions are never in tokens
				"":                         false,
			} {
				if got := c.Has(perm); got != want {
					t.Errorf("Has(%q) = %v, want %v", perm, got, want)
				}
			}
			if !c.HasScope(oidc.ScopeOrganization) || c.HasScope(scopeRead) {
				t.Errorf("scopes = %v, want organization and not %s", c.Scopes, scopeRead)
			}
			if c.Raw["org_id"] != f.acme.ID {
				t.Errorf("Raw[org_id] = %v", c.Raw["org_id"])
			}
		})
		t.Run("claims of the machine token", func(t *testing.T) {
			c, err := v.Verify(context.Background(), machine)
			if err != nil {
				t.Fatal(err)
			}
			if !c.HasScope(scopeRead) || c.SessionID != "" || c.OrgID != "" || c.Has("org:projects:manage") {
				t.Errorf("machine claims = %+v", c)
			}
		})
	})
}

// swapPayload replaces a token's claims and keeps its header and signature.
func swapPayload(t *testing.T, token string, claims map[string]any) string {
	t.Helper()
	seg := strings.Split(token, ".")
	forged := compact(t, map[string]any{}, claims, unsigned)
	return seg[0] + "." + strings.Split(forged, ".")[1] + "." + seg[2]
}
