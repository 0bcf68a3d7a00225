package oidc_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

// rp is a relying party: a real OAuth 2.0 / OIDC client library pointed at
// orgid through discovery.
type rp struct {
	t        *testing.T
	srv      *servertest.Server
	client   *oidc.Client
	config   oauth2.Config
	provider *gooidc.Provider
	verifier *gooidc.IDTokenVerifier
}

const redirectURI = "http://127.0.0.1:9/callback"

func newRP(t *testing.T, srv *servertest.Server, public, firstParty bool) *rp {
	t.Helper()
	c, secret := srv.CreateClient(t, oidc.NewClient{
		Name: "Test app", Public: public, FirstParty: firstParty,
		Metadata: oidc.ClientMetadata{
			RedirectURIs:           []string{redirectURI},
			PostLogoutRedirectURIs: []string{"http://127.0.0.1:9/bye"},
			GrantTypes:             []string{oidc.GrantAuthorizationCode, oidc.GrantRefreshToken},
		},
	})
	ctx := context.Background()
	provider, err := gooidc.NewProvider(ctx, srv.Issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	endpoint := provider.Endpoint()
	// Fixed, so that a failed exchange is not retried with another method.
	endpoint.AuthStyle = oauth2.AuthStyleInHeader
	if public {
		endpoint.AuthStyle = oauth2.AuthStyleInParams
	}
	return &rp{
		t: t, srv: srv, client: c, provider: provider,
		verifier: provider.Verifier(&gooidc.Config{ClientID: c.ID}),
		config: oauth2.Config{
			ClientID: c.ID, ClientSecret: secret, Endpoint: endpoint, RedirectURL: redirectURI,
			Scopes: []string{gooidc.ScopeOpenID, "profile", "email", gooidc.ScopeOfflineAccess},
		},
	}
}

// authorize runs the browser part of the code flow and returns the
// callback's query.
func (r *rp) authorize(b *servertest.Browser, email string, opts ...oauth2.AuthCodeOption) (url.Values, string) {
	r.t.Helper()
	verifier := oauth2.GenerateVerifier()
	opts = append(opts, oauth2.S256ChallengeOption(verifier), gooidc.Nonce("nonce-1234567890"))
	start := b.Get(r.config.AuthCodeURL("state-1234567890", opts...))
	page := b.Follow(start, r.srv.Issuer)
	if strings.Contains(page.Body, `name="identifier"`) {
		page = b.SignIn(page, r.srv.Issuer, email, servertest.Password)
	}
	if page.Location == nil || !strings.HasPrefix(page.Location.String(), redirectURI) {
		r.t.Fatalf("authorization did not return to the client: %v", page)
	}
	return page.Location.Query(), verifier
}

func TestCodeFlowWithClientLibraries(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		clock := new(servertest.Clock)
		srv := servertest.Start(t, dbURL, servertest.WithClock(clock))
		user := srv.CreateUser(t, "ada@example.com")
		ctx := context.Background()

		for _, public := range []bool{false, true} {
			name := map[bool]string{false: "confidential", true: "public"}[public]
			t.Run(name, func(t *testing.T) {
				r := newRP(t, srv, public, true)
				q, verifier := r.authorize(servertest.NewBrowser(t), user.Email)
				if got := q.Get("iss"); got != srv.Issuer {
					t.Errorf("iss in authorization response = %q, want %q (RFC 9207)", got, srv.Issuer)
				}
				if got := q.Get("state"); got != "state-1234567890" {
					t.Errorf("state = %q", got)
				}
				tok, err := r.config.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
				if err != nil {
					t.Fatalf("exchange: %v", err)
				}
				rawID, _ := tok.Extra("id_token").(string)
				idt, err := r.verifier.Verify(ctx, rawID)
				if err != nil {
					t.Fatalf("verify ID token through discovery: %v", err)
				}
				if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
					t.Errorf("at_hash: %v", err)
				}
				var claims map[string]any
				_ = idt.Claims(&claims)
				if claims["nonce"] != "nonce-1234567890" || claims["sub"] != user.ID || claims["azp"] != r.client.ID ||
					claims["sid"] == nil || claims["auth_time"] == nil || claims["email"] != user.Email {
					t.Errorf("ID token claims = %v", claims)
				}
				checkAccessToken(t, srv.Issuer, tok.AccessToken, r.client.ID, user.ID)

				info, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
				if err != nil {
					t.Fatalf("userinfo: %v", err)
				}
				if info.Subject != user.ID || info.Email != user.Email {
					t.Errorf("userinfo = %+v", info)
				}

				// Refresh rotates; the old refresh token is then reuse.
				old := tok.RefreshToken
				if old == "" {
					t.Fatal("no refresh token for offline_access")
				}
				expired := *tok
				expired.Expiry = time.Now().Add(-time.Minute)
				fresh, err := r.config.TokenSource(ctx, &expired).Token()
				if err != nil {
					t.Fatalf("refresh: %v", err)
				}
				if fresh.RefreshToken == "" || fresh.RefreshToken == old {
					t.Fatalf("refresh did not rotate the refresh token")
				}
				if id2, _ := fresh.Extra("id_token").(string); id2 == "" {
					t.Error("refresh returned no ID token")
				} else if _, err := r.verifier.Verify(ctx, id2); err != nil {
					t.Errorf("refreshed ID token: %v", err)
				}
				// Presented again at once, the old token is refused but looks
				// like the client's own concurrent retry: nothing is revoked.
				_, err = r.config.TokenSource(ctx, &oauth2.Token{RefreshToken: old}).Token()
				assertOAuthError(t, err, "invalid_grant")
				// Later it is a replay: the whole grant is revoked, so the
				// rotated token is dead too.
				clock.Advance(time.Minute)
				defer clock.Advance(-time.Minute) // fosite checks auth_time against the real clock
				_, err = r.config.TokenSource(ctx, &oauth2.Token{RefreshToken: old}).Token()
				assertOAuthError(t, err, "invalid_grant")
				_, err = r.config.TokenSource(ctx, &oauth2.Token{RefreshToken: fresh.RefreshToken}).Token()
				assertOAuthError(t, err, "invalid_grant")
			})
		}
	})
}

// checkAccessToken decodes a JWT access token (RFC 9068) without
// verifying: the signature is verified by the resource-server tests.
func checkAccessToken(t *testing.T, issuer, at, clientID, sub string) {
	t.Helper()
	parts := strings.Split(at, ".")
	if len(parts) != 3 {
		t.Fatalf("access token is not a JWT: %q", at)
	}
	var header, claims map[string]any
	decode := func(seg string, v any) {
		b, err := base64.RawURLEncoding.DecodeString(seg)
		if err != nil || json.Unmarshal(b, v) != nil {
			t.Fatalf("decode access token segment: %v", err)
		}
	}
	decode(parts[0], &header)
	decode(parts[1], &claims)
	if header["typ"] != "at+jwt" || header["kid"] == nil {
		t.Errorf("access token header = %v, want typ at+jwt and a kid", header)
	}
	for k, want := range map[string]any{"iss": issuer, "client_id": clientID, "sub": sub} {
		if claims[k] != want {
			t.Errorf("access token %s = %v, want %v", k, claims[k], want)
		}
	}
	for _, k := range []string{"exp", "iat", "jti", "aud", "scope"} {
		if claims[k] == nil {
			t.Errorf("access token has no %s: %v", k, claims)
		}
	}
}

func assertOAuthError(t *testing.T, err error, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	if !asRetrieveError(err, &re) || re.ErrorCode != code {
		t.Fatalf("error = %v, want OAuth error %s", err, code)
	}
}

func asRetrieveError(err error, target **oauth2.RetrieveError) bool {
	for err != nil {
		if re, ok := err.(*oauth2.RetrieveError); ok {
			*target = re
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

var _ = http.StatusOK
