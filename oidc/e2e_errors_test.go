package oidc_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

// postToken sends a raw token request and decodes the JSON answer.
func postToken(t *testing.T, issuer string, form url.Values, user, pass string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, issuer+oidc.PathToken, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("token response is not JSON (%d): %s", resp.StatusCode, b)
	}
	return resp.StatusCode, body, resp.Header
}

func TestAuthorizationErrors(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		user := srv.CreateUser(t, "grace@example.com")
		r := newRP(t, srv, false, true)
		ctx := context.Background()
		authURL := func(mut func(url.Values)) string {
			q := url.Values{"client_id": {r.client.ID}, "response_type": {"code"}, "scope": {"openid"},
				"redirect_uri": {redirectURI}, "state": {"state-1234567890"}}
			mut(q)
			return srv.Issuer + oidc.PathAuthorize + "?" + q.Encode()
		}

		t.Run("unregistered redirect URI shows a page and never redirects", func(t *testing.T) {
			for name, mut := range map[string]func(url.Values){
				"other host":                      func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") },
				"other path":                      func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:9/callback/x") },
				"case differs":                    func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:9/CALLBACK") },
				"unknown client":                  func(q url.Values) { q.Set("client_id", "client_nope") },
				"missing redirect_uri for openid": func(q url.Values) { q.Del("redirect_uri") },
			} {
				resp := servertest.NewBrowser(t).Get(authURL(mut))
				if resp.Location != nil || resp.Status < 400 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
					t.Errorf("%s: got %v, want an HTML error page without redirect", name, resp)
				}
			}
		})

		t.Run("errors redirect with iss when the redirect URI is trusted", func(t *testing.T) {
			for name, tc := range map[string]struct {
				mut  func(url.Values)
				want string
			}{
				"unsupported response type": {func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type"},
				"unknown scope":             {func(q url.Values) { q.Set("scope", "openid admin") }, "invalid_scope"},
				"plain PKCE": {func(q url.Values) {
					q.Set("code_challenge", strings.Repeat("a", 43))
					q.Set("code_challenge_method", "plain")
				}, "invalid_request"},
				"prompt none signed out": {func(q url.Values) { q.Set("prompt", "none") }, "login_required"},
			} {
				resp := servertest.NewBrowser(t).Get(authURL(tc.mut))
				if resp.Location == nil || !strings.HasPrefix(resp.Location.String(), redirectURI) {
					t.Errorf("%s: got %v, want a redirect to the client", name, resp)
					continue
				}
				q := resp.Location.Query()
				if q.Get("error") != tc.want || q.Get("iss") != srv.Issuer || q.Get("state") != "state-1234567890" {
					t.Errorf("%s: redirect query = %v, want error %s with iss and state", name, q, tc.want)
				}
			}
		})

		t.Run("public client without PKCE", func(t *testing.T) {
			pub := newRP(t, srv, true, true)
			resp := servertest.NewBrowser(t).Get(pub.config.AuthCodeURL("state-1234567890"))
			if resp.Location == nil || resp.Location.Query().Get("error") != "invalid_request" {
				t.Errorf("got %v, want invalid_request (PKCE required for public clients)", resp)
			}
		})

		t.Run("code reuse revokes what the first redemption issued", func(t *testing.T) {
			q, verifier := r.authorize(servertest.NewBrowser(t), user.Email)
			tok, err := r.config.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.config.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			assertOAuthError(t, err, "invalid_grant")
			if _, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
				t.Error("the access token from the first redemption still works after reuse")
			}
			_, err = r.config.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			assertOAuthError(t, err, "invalid_grant")
		})

		t.Run("token endpoint refusals", func(t *testing.T) {
			q, verifier := r.authorize(servertest.NewBrowser(t), user.Email)
			code := q.Get("code")
			// No refusal below consumes the code: all of a redemption's
			// changes happen in the one transaction that issues tokens.
			base := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
			with := func(k, v string) url.Values {
				f := url.Values{}
				for key, vs := range base {
					f[key] = vs
				}
				if v == "" {
					f.Del(k)
				} else {
					f.Set(k, v)
				}
				return f
			}
			status, body, hdr := postToken(t, srv.Issuer, base, r.client.ID, "wrong-secret-wrong-secret")
			if status != 401 || body["error"] != "invalid_client" || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("wrong secret: %d %v %q", status, body, hdr.Get("WWW-Authenticate"))
			}
			for name, tc := range map[string]struct {
				form url.Values
				want string
			}{
				"redirect_uri mismatch":  {with("redirect_uri", "http://127.0.0.1:9/other"), "invalid_grant"},
				"missing verifier":       {with("code_verifier", ""), "invalid_grant"},
				"wrong verifier":         {with("code_verifier", oauth2.GenerateVerifier()), "invalid_grant"},
				"unknown code":           {with("code", "ory_ac_nope.nope"), "invalid_grant"},
				"unsupported grant type": {url.Values{"grant_type": {"password"}}, "unsupported_grant_type"},
				"missing grant type":     {url.Values{}, "invalid_request"},
			} {
				status, body, hdr := postToken(t, srv.Issuer, tc.form, r.client.ID, r.config.ClientSecret)
				if body["error"] != tc.want || status != 400 {
					t.Errorf("%s: %d %v, want 400 %s", name, status, body, tc.want)
				}
				if hdr.Get("Cache-Control") != "no-store" {
					t.Errorf("%s: Cache-Control = %q", name, hdr.Get("Cache-Control"))
				}
			}
			// The failures did not consume the code.
			status, body, hdr = postToken(t, srv.Issuer, base, r.client.ID, r.config.ClientSecret)
			if status != 200 || body["access_token"] == nil || hdr.Get("Cache-Control") != "no-store" {
				t.Errorf("valid redemption after refusals: %d %v %q", status, body, hdr.Get("Cache-Control"))
			}
		})
	})
}

func TestPromptAndMaxAge(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		user := srv.CreateUser(t, "lin@example.com")
		r := newRP(t, srv, false, true)
		b := servertest.NewBrowser(t)
		r.authorize(b, user.Email) // signs in

		withPrompt := func(opts ...oauth2.AuthCodeOption) *servertest.Response {
			opts = append(opts, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
			return b.Follow(b.Get(r.config.AuthCodeURL("state-1234567890", opts...)), srv.Issuer)
		}
		if resp := withPrompt(oauth2.SetAuthURLParam("prompt", "none")); resp.Location == nil || resp.Location.Query().Get("code") == "" {
			t.Errorf("prompt=none with a session: %v, want a code", resp)
		}
		for name, opt := range map[string]oauth2.AuthCodeOption{
			"prompt=login": oauth2.SetAuthURLParam("prompt", "login"),
			"max_age=0":    oauth2.SetAuthURLParam("max_age", "0"),
		} {
			resp := withPrompt(opt)
			if !strings.Contains(resp.Body, `name="identifier"`) {
				t.Errorf("%s: got %v, want the sign-in page", name, resp)
				continue
			}
			done := b.SignIn(resp, srv.Issuer, user.Email, servertest.Password)
			if done.Location == nil || done.Location.Query().Get("code") == "" {
				t.Errorf("%s: after signing in again got %v, want a code", name, done)
			}
		}
		other := srv.CreateUser(t, "other@example.com")
		// id_token_hint for another user with prompt=none: login_required.
		q, verifier := r.authorize(servertest.NewBrowser(t), other.Email)
		tok, err := r.config.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		resp := withPrompt(oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("id_token_hint", tok.Extra("id_token").(string)))
		if resp.Location == nil || resp.Location.Query().Get("error") != "login_required" {
			t.Errorf("prompt=none with another user's id_token_hint: %v, want login_required", resp)
		}
	})
}

func TestConsentForThirdPartyClients(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		user := srv.CreateUser(t, "kim@example.com")
		r := newRP(t, srv, false, false)
		b := servertest.NewBrowser(t)
		start := func() *servertest.Response {
			return b.Follow(b.Get(r.config.AuthCodeURL("state-1234567890", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))), srv.Issuer)
		}
		page := b.SignIn(start(), srv.Issuer, user.Email, servertest.Password)
		if !strings.Contains(page.Body, `value="allow"`) || !strings.Contains(page.Body, `value="deny"`) {
			t.Fatalf("want the consent page, got %v", page)
		}
		form, action, err := servertest.FindForm(page.Body, "flow")
		if err != nil {
			t.Fatal(err)
		}
		form.Set("action", "deny")
		denied := b.Follow(b.PostForm(srv.Issuer+action, form), srv.Issuer)
		if denied.Location == nil || denied.Location.Query().Get("error") != "access_denied" {
			t.Fatalf("deny: %v, want access_denied", denied)
		}
		page = start()
		form, action, _ = servertest.FindForm(page.Body, "flow")
		form.Set("action", "allow")
		allowed := b.Follow(b.PostForm(srv.Issuer+action, form), srv.Issuer)
		if allowed.Location == nil || allowed.Location.Query().Get("code") == "" {
			t.Fatalf("allow: %v, want a code", allowed)
		}
		// Remembered: no consent page the second time.
		if again := start(); again.Location == nil || again.Location.Query().Get("code") == "" {
			t.Errorf("second authorization asked again: %v", again)
		}
		// prompt=consent asks anyway.
		forced := b.Follow(b.Get(r.config.AuthCodeURL("state-1234567890", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
			oauth2.SetAuthURLParam("prompt", "consent"))), srv.Issuer)
		if !strings.Contains(forced.Body, `value="allow"`) {
			t.Errorf("prompt=consent: %v, want the consent page", forced)
		}
		// A cross-site POST of the consent form is refused.
		form.Set("action", "allow")
		req, _ := http.NewRequest(http.MethodPost, srv.Issuer+action, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := b.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site consent POST: status %d, want 403", resp.StatusCode)
		}
	})
}

func TestClientCredentialsIntrospectionRevocation(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		svc, svcSecret := srv.CreateClient(t, oidc.NewClient{Name: "service",
			Metadata: oidc.ClientMetadata{GrantTypes: []string{oidc.GrantClientCredentials}, Scopes: []string{"reports:read"}}})
		api, apiSecret := srv.CreateClient(t, oidc.NewClient{Name: "resource server",
			Metadata: oidc.ClientMetadata{GrantTypes: []string{oidc.GrantClientCredentials}}})

		status, body, _ := postToken(t, srv.Issuer, url.Values{"grant_type": {"client_credentials"}, "scope": {"reports:read"}}, svc.ID, svcSecret)
		if status != 200 {
			t.Fatalf("client credentials: %d %v", status, body)
		}
		at := body["access_token"].(string)
		checkAccessToken(t, srv.Issuer, at, svc.ID, svc.ID)
		status, body, _ = postToken(t, srv.Issuer, url.Values{"grant_type": {"client_credentials"}, "scope": {"admin"}}, svc.ID, svcSecret)
		if status != 400 || body["error"] != "invalid_scope" {
			t.Errorf("unregistered scope: %d %v", status, body)
		}

		introspect := func(token string, user, pass string) (int, map[string]any) {
			req, _ := http.NewRequest(http.MethodPost, srv.Issuer+oidc.PathIntrospect, strings.NewReader(url.Values{"token": {token}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if user != "" {
				req.SetBasicAuth(user, pass)
			} else {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&out)
			return resp.StatusCode, out
		}
		status, info := introspect(at, api.ID, apiSecret)
		if status != 200 || info["active"] != true || info["client_id"] != svc.ID || info["scope"] != "reports:read" || info["iss"] != srv.Issuer || info["token_type"] != "Bearer" {
			t.Errorf("introspection = %d %v", status, info)
		}
		if status, _ := introspect(at, "", ""); status != 401 {
			t.Errorf("introspection with a bearer token instead of client credentials: %d, want 401", status)
		}
		if status, _ := introspect(at, api.ID, "wrong"); status != 401 {
			t.Errorf("introspection with a wrong secret: %d, want 401", status)
		}

		form := url.Values{"token": {at}}
		req, _ := http.NewRequest(http.MethodPost, srv.Issuer+oidc.PathRevoke, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(svc.ID, svcSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("revocation: %d", resp.StatusCode)
		}
		if _, info := introspect(at, api.ID, apiSecret); info["active"] != false {
			t.Errorf("revoked token introspects as %v", info)
		}
	})
}

func TestConcurrentCodeRedemption(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		user := srv.CreateUser(t, "race@example.com")
		r := newRP(t, srv, false, true)
		q, verifier := r.authorize(servertest.NewBrowser(t), user.Email)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}

		const n = 20
		var wg sync.WaitGroup
		statuses := make([]int, n)
		bodies := make([]map[string]any, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i], bodies[i], _ = postToken(t, srv.Issuer, form, r.client.ID, r.config.ClientSecret)
			}()
		}
		wg.Wait()
		ok := 0
		for i := range n {
			switch {
			case statuses[i] == 200:
				ok++
			case bodies[i]["error"] != "invalid_grant":
				t.Errorf("redemption %d: %d %v, want 200 or invalid_grant", i, statuses[i], bodies[i])
			}
		}
		if ok != 1 {
			t.Fatalf("%d of %d concurrent redemptions succeeded, want exactly 1", ok, n)
		}
	})
}

func TestConcurrentRefreshLeavesOneLiveToken(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		user := srv.CreateUser(t, "refresh@example.com")
		r := newRP(t, srv, false, true)
		q, verifier := r.authorize(servertest.NewBrowser(t), user.Email)
		tok, err := r.config.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
		const n = 20
		var wg sync.WaitGroup
		results := make([]map[string]any, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, results[i], _ = postToken(t, srv.Issuer, form, r.client.ID, r.config.ClientSecret)
			}()
		}
		wg.Wait()
		var live []string
		for i, res := range results {
			if rt, ok := res["refresh_token"].(string); ok {
				live = append(live, rt)
			} else if res["error"] != "invalid_grant" && res["error"] != "invalid_request" {
				t.Errorf("refresh %d: %v", i, res)
			}
		}
		if len(live) != 1 {
			t.Fatalf("%d concurrent refreshes succeeded, want exactly 1", len(live))
		}
		status, body, _ := postToken(t, srv.Issuer, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {live[0]}}, r.client.ID, r.config.ClientSecret)
		if status != 200 {
			t.Errorf("the one new refresh token is not live: %d %v", status, body)
		}
	})
}

var _ = gooidc.ScopeOpenID
