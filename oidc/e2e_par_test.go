package oidc_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

// push sends a pushed authorization request (RFC 9126) with HTTP Basic
// client authentication when secret is set, and decodes the answer.
func push(t *testing.T, srv *servertest.Server, clientID, secret string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.Issuer+oidc.PathPAR, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	} else if !form.Has("client_id") {
		form.Set("client_id", clientID)
		req, _ = http.NewRequest(http.MethodPost, srv.Issuer+oidc.PathPAR, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("PAR response is not JSON (%d): %s", resp.StatusCode, b)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("PAR response Cache-Control = %q, want no-store", cc)
	}
	return resp.StatusCode, body
}

// pushedRequest is an authorization request of r's client, with PKCE.
func pushedRequest(r *rp, verifier string) url.Values {
	return url.Values{
		"response_type": {"code"}, "redirect_uri": {redirectURI}, "scope": {"openid email offline_access"},
		"state": {"state-1234567890"}, "nonce": {"nonce-1234567890"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"},
	}
}

// mustPush pushes form for r's client and returns the request_uri.
func mustPush(t *testing.T, r *rp, form url.Values) string {
	t.Helper()
	status, body := push(t, r.srv, r.client.ID, r.config.ClientSecret, form)
	uri, _ := body["request_uri"].(string)
	if status != http.StatusCreated || !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") || body["expires_in"] != float64(90) {
		t.Fatalf("push = %d %v, want 201 with a request_uri expiring in 90 s", status, body)
	}
	return uri
}

// authorizeURL is the authorization request that names a pushed request.
func authorizeURL(srv *servertest.Server, clientID, requestURI string, extra ...string) string {
	q := url.Values{"client_id": {clientID}, "request_uri": {requestURI}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return srv.Issuer + oidc.PathAuthorize + "?" + q.Encode()
}

// callbackError is the error a response carries to the client, or the
// error code shown on orgid's error page; "" when it issued a code.
func callbackError(t *testing.T, resp *servertest.Response) string {
	t.Helper()
	if resp.Location != nil && strings.HasPrefix(resp.Location.String(), redirectURI) {
		q := resp.Location.Query()
		if q.Get("code") != "" {
			return ""
		}
		return q.Get("error")
	}
	if resp.Location == nil && resp.Status >= 400 {
		if i := strings.Index(resp.Body, "<code>"); i >= 0 {
			rest := resp.Body[i+len("<code>"):]
			return rest[:strings.Index(rest, "<")]
		}
	}
	t.Fatalf("neither a callback nor an error page: %v", resp)
	return ""
}

func TestPushedAuthorizationRequests(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		clock := new(servertest.Clock)
		srv := servertest.Start(t, dbURL, servertest.WithClock(clock))
		user := srv.CreateUser(t, "ada@example.com")
		ctx := context.Background()
		r := newRP(t, srv, false, true)

		t.Run("survives sign-in and is used once", func(t *testing.T) {
			verifier := oauth2.GenerateVerifier()
			uri := mustPush(t, r, pushedRequest(r, verifier))
			b := servertest.NewBrowser(t)
			// Parameters beside request_uri are ignored (RFC 9126 §4).
			page := b.Follow(b.Get(authorizeURL(srv, r.client.ID, uri, "scope", "openid phone", "state", "other-state-123")), srv.Issuer)
			if !strings.Contains(page.Body, `name="identifier"`) {
				t.Fatalf("want the sign-in page, got %v", page)
			}
			resp := b.SignIn(page, srv.Issuer, user.Email, servertest.Password)
			if got := callbackError(t, resp); got != "" {
				t.Fatalf("authorization error %q", got)
			}
			q := resp.Location.Query()
			if q.Get("state") != "state-1234567890" || q.Get("iss") != srv.Issuer {
				t.Errorf("callback = %v, want the pushed state and iss", q)
			}
			tok, err := r.config.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			if scope, _ := tok.Extra("scope").(string); scope != "openid email offline_access" {
				t.Errorf("granted scope = %q, want the pushed one", scope)
			}
			// Used up: the same request_uri starts nothing again, even in
			// the signed-in browser.
			again := b.Follow(b.Get(authorizeURL(srv, r.client.ID, uri)), srv.Issuer)
			if got := callbackError(t, again); got != "invalid_request_uri" {
				t.Errorf("second use: error %q, want invalid_request_uri", got)
			}
		})

		t.Run("a signed-in browser gets the code at once", func(t *testing.T) {
			b := signedInBrowser(t, srv, user.Email)
			verifier := oauth2.GenerateVerifier()
			resp := b.Follow(b.Get(authorizeURL(srv, r.client.ID, mustPush(t, r, pushedRequest(r, verifier)))), srv.Issuer)
			if got := callbackError(t, resp); got != "" {
				t.Fatalf("authorization error %q", got)
			}
			if _, err := r.config.Exchange(ctx, resp.Location.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
				t.Fatalf("exchange: %v", err)
			}
		})

		t.Run("expires for new authorizations but not for one under way", func(t *testing.T) {
			// Pushed two minutes ago (past its 90 s): the flow started then
			// finishes now; a new authorization cannot start.
			clock.Advance(-2 * time.Minute)
			shifted := true
			defer func() {
				if shifted { // a failure stopped the test in the past
					clock.Advance(2 * time.Minute)
				}
			}()
			expired := mustPush(t, r, pushedRequest(r, oauth2.GenerateVerifier()))
			verifier := oauth2.GenerateVerifier()
			underWay := mustPush(t, r, pushedRequest(r, verifier))
			b := servertest.NewBrowser(t)
			page := b.Follow(b.Get(authorizeURL(srv, r.client.ID, underWay)), srv.Issuer)
			clock.Advance(2 * time.Minute)
			shifted = false
			resp := b.SignIn(page, srv.Issuer, user.Email, servertest.Password)
			if got := callbackError(t, resp); got != "" {
				t.Fatalf("authorization under way: error %q", got)
			}
			if _, err := r.config.Exchange(ctx, resp.Location.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
				t.Fatalf("exchange: %v", err)
			}
			fresh := servertest.NewBrowser(t)
			if got := callbackError(t, fresh.Follow(fresh.Get(authorizeURL(srv, r.client.ID, expired)), srv.Issuer)); got != "invalid_request_uri" {
				t.Errorf("expired request_uri: error %q, want invalid_request_uri", got)
			}
		})

		t.Run("two browsers racing on one request_uri: one code", func(t *testing.T) {
			verifier := oauth2.GenerateVerifier()
			uri := mustPush(t, r, pushedRequest(r, verifier))
			first, second := servertest.NewBrowser(t), servertest.NewBrowser(t)
			page1 := first.Follow(first.Get(authorizeURL(srv, r.client.ID, uri)), srv.Issuer)
			page2 := second.Follow(second.Get(authorizeURL(srv, r.client.ID, uri)), srv.Issuer)
			if got := callbackError(t, first.SignIn(page1, srv.Issuer, user.Email, servertest.Password)); got != "" {
				t.Fatalf("first browser: error %q", got)
			}
			if got := callbackError(t, second.SignIn(page2, srv.Issuer, user.Email, servertest.Password)); got != "invalid_request_uri" {
				t.Errorf("second browser: error %q, want invalid_request_uri", got)
			}
		})

		t.Run("another client's request_uri", func(t *testing.T) {
			other := newRP(t, srv, false, true)
			uri := mustPush(t, r, pushedRequest(r, oauth2.GenerateVerifier()))
			b := signedInBrowser(t, srv, user.Email)
			got := callbackError(t, b.Follow(b.Get(authorizeURL(srv, other.client.ID, uri)), srv.Issuer))
			if got != "invalid_request_uri" {
				t.Errorf("error %q, want invalid_request_uri", got)
			}
		})

		t.Run("public client with a request object", func(t *testing.T) {
			pub := newRP(t, srv, true, true)
			verifier := oauth2.GenerateVerifier()
			params := pushedRequest(pub, verifier)
			claims := map[string]any{"client_id": pub.client.ID, "max_age": 3600}
			for k := range params {
				claims[k] = params.Get(k)
			}
			body, _ := json.Marshal(claims)
			object := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + base64.RawURLEncoding.EncodeToString(body) + "."
			status, resp := push(t, srv, pub.client.ID, "", url.Values{
				"client_id": {pub.client.ID}, "response_type": {"code"}, "scope": {"openid"}, "request": {object},
			})
			uri, _ := resp["request_uri"].(string)
			if status != http.StatusCreated || uri == "" {
				t.Fatalf("push with a request object = %d %v", status, resp)
			}
			b := signedInBrowser(t, srv, user.Email)
			cb := b.Follow(b.Get(authorizeURL(srv, pub.client.ID, uri)), srv.Issuer)
			if got := callbackError(t, cb); got != "" {
				t.Fatalf("authorization error %q", got)
			}
			tok, err := pub.config.Exchange(ctx, cb.Location.Query().Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			if scope, _ := tok.Extra("scope").(string); scope != "openid email offline_access" {
				t.Errorf("granted scope = %q, want the request object's", scope)
			}
		})

		t.Run("refusals at the PAR endpoint", func(t *testing.T) {
			pub := newRP(t, srv, true, true)
			good := func() url.Values { return pushedRequest(r, oauth2.GenerateVerifier()) }
			cases := []struct {
				name           string
				clientID, pass string
				form           url.Values
				status         int
				code           string
			}{
				{"wrong secret", r.client.ID, "wrong-secret", good(), http.StatusUnauthorized, "invalid_client"},
				{"no client authentication", r.client.ID, "", good(), http.StatusUnauthorized, "invalid_client"},
				{"request_uri inside", r.client.ID, r.config.ClientSecret, func() url.Values {
					f := good()
					f.Set("request_uri", "urn:ietf:params:oauth:request_uri:x")
					return f
				}(), http.StatusBadRequest, "invalid_request"},
				{"unregistered redirect_uri", r.client.ID, r.config.ClientSecret, func() url.Values {
					f := good()
					f.Set("redirect_uri", "https://evil.example/cb")
					return f
				}(), http.StatusBadRequest, "invalid_request"},
				{"another client_id", r.client.ID, r.config.ClientSecret, func() url.Values {
					f := good()
					f.Set("client_id", pub.client.ID)
					return f
				}(), http.StatusBadRequest, "invalid_request"},
				{"public client without PKCE", pub.client.ID, "", url.Values{
					"client_id": {pub.client.ID}, "response_type": {"code"}, "redirect_uri": {redirectURI},
					"scope": {"openid"}, "state": {"state-1234567890"},
				}, http.StatusBadRequest, "invalid_request"},
				{"unknown scope", r.client.ID, r.config.ClientSecret, func() url.Values {
					f := good()
					f.Set("scope", "openid admin")
					return f
				}(), http.StatusBadRequest, "invalid_scope"},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					status, body := push(t, srv, c.clientID, c.pass, c.form)
					if status != c.status || body["error"] != c.code {
						t.Errorf("push = %d %v, want %d %s", status, body, c.status, c.code)
					}
				})
			}
		})

		t.Run("a client that requires it", func(t *testing.T) {
			strict := newRP(t, srv, false, true)
			c := *strict.client
			m := c.Metadata
			m.RequirePushedAuthorizationRequests = true
			strictClient, secret := srv.CreateClient(t, oidc.NewClient{Name: "Strict", FirstParty: true, Metadata: oidc.ClientMetadata{
				RedirectURIs: m.RedirectURIs, GrantTypes: m.GrantTypes, RequirePushedAuthorizationRequests: true,
			}})
			strict.client, strict.config.ClientID, strict.config.ClientSecret = strictClient, strictClient.ID, secret
			b := signedInBrowser(t, srv, user.Email)
			plain, _ := strict.startAuthorization(b)
			if got := callbackError(t, plain); got != "invalid_request" {
				t.Errorf("plain authorization request: error %q, want invalid_request", got)
			}
			resp := b.Follow(b.Get(authorizeURL(srv, strictClient.ID, mustPush(t, strict, pushedRequest(strict, oauth2.GenerateVerifier())))), srv.Issuer)
			if got := callbackError(t, resp); got != "" {
				t.Errorf("pushed authorization request: error %q", got)
			}
			// Other clients are not concerned.
			if got := callbackError(t, func() *servertest.Response { p, _ := r.startAuthorization(b); return p }()); got != "" {
				t.Errorf("other client: error %q", got)
			}
		})
	})
}

func TestRequirePAR(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL, servertest.WithConfig(func(c *server.Config) { c.RequirePAR = true }))
		user := srv.CreateUser(t, "ada@example.com")
		r := newRP(t, srv, false, true)
		var doc map[string]any
		resp, err := http.Get(srv.Issuer + oidc.PathDiscovery)
		if err != nil {
			t.Fatal(err)
		}
		_ = json.NewDecoder(resp.Body).Decode(&doc)
		resp.Body.Close()
		if doc["require_pushed_authorization_requests"] != true || doc["pushed_authorization_request_endpoint"] != srv.Issuer+oidc.PathPAR {
			t.Errorf("discovery: require_pushed_authorization_requests = %v, pushed_authorization_request_endpoint = %v",
				doc["require_pushed_authorization_requests"], doc["pushed_authorization_request_endpoint"])
		}
		b := signedInBrowser(t, srv, user.Email)
		plain, _ := r.startAuthorization(b)
		if got := callbackError(t, plain); got != "invalid_request" {
			t.Errorf("plain authorization request: error %q, want invalid_request", got)
		}
		pushed := b.Follow(b.Get(authorizeURL(srv, r.client.ID, mustPush(t, r, pushedRequest(r, oauth2.GenerateVerifier())))), srv.Issuer)
		if got := callbackError(t, pushed); got != "" {
			t.Errorf("pushed authorization request: error %q", got)
		}
	})
}
