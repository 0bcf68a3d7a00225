package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/storagetest"
)

func TestRPInitiatedLogout(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		user := srv.CreateUser(t, "logout@example.com")
		r := newRP(t, srv, false, true)
		ctx := context.Background()
		b := servertest.NewBrowser(t)
		q, verifier := r.authorize(b, user.Email)
		tok, err := r.config.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		idToken := tok.Extra("id_token").(string)
		endSession := func(params url.Values) *servertest.Response {
			return b.Get(srv.Issuer + oidc.PathEndSession + "?" + params.Encode())
		}

		for name, params := range map[string]url.Values{
			"unregistered post_logout_redirect_uri": {"id_token_hint": {idToken}, "post_logout_redirect_uri": {"https://evil.example/"}},
			"redirect with an added query":          {"id_token_hint": {idToken}, "post_logout_redirect_uri": {"http://127.0.0.1:9/bye?x=1"}},
			"forged id_token_hint":                  {"id_token_hint": {idToken[:len(idToken)-4] + "AAAA"}, "post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}},
			"redirect without a client":             {"post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}},
		} {
			if resp := endSession(params); resp.Location != nil || resp.Status != http.StatusBadRequest {
				t.Errorf("%s: %v, want an error page without redirect", name, resp)
			}
		}
		// Without a hint the user confirms first; nothing ends yet.
		if resp := endSession(url.Values{}); !strings.Contains(resp.Body, `value="logout"`) {
			t.Errorf("no parameters: %v, want the confirmation page", resp)
		}
		if _, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil {
			t.Fatalf("session ended before confirmation: %v", err)
		}

		resp := endSession(url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}, "state": {"bye-state"}})
		if resp.Location == nil || resp.Location.String() != "http://127.0.0.1:9/bye?state=bye-state" {
			t.Fatalf("logout with hint: %v, want redirect to the registered URI with state", resp)
		}
		// The session's tokens were revoked with it.
		if _, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
			t.Error("access token still works after logout")
		}
		_, err = r.config.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		assertOAuthError(t, err, "invalid_grant")
		// And the browser is signed out.
		silent := b.Follow(b.Get(r.config.AuthCodeURL("state-1234567890", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
			oauth2.SetAuthURLParam("prompt", "none"))), srv.Issuer)
		if silent.Location == nil || silent.Location.Query().Get("error") != "login_required" {
			t.Errorf("prompt=none after logout: %v, want login_required", silent)
		}
	})
}

func TestCORS(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		srv.CreateClient(t, oidc.NewClient{Name: "spa", Public: true,
			Metadata: oidc.ClientMetadata{RedirectURIs: []string{"https://app.example.com/cb"}}})
		preflight := func(path, origin string) http.Header {
			req, _ := http.NewRequest(http.MethodOptions, srv.Issuer+path, nil)
			req.Header.Set("Origin", origin)
			req.Header.Set("Access-Control-Request-Method", "POST")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.Header
		}
		for _, tc := range []struct {
			path, origin, want string
		}{
			{oidc.PathToken, "https://app.example.com", "https://app.example.com"},
			{oidc.PathUserinfo, "https://app.example.com", "https://app.example.com"},
			{oidc.PathRevoke, "https://app.example.com", "https://app.example.com"},
			{oidc.PathToken, "https://evil.example", ""},
			{oidc.PathDiscovery, "https://anyone.example", "*"},
			{oidc.PathJWKS, "https://anyone.example", "*"},
			{oidc.PathAuthorize, "https://app.example.com", ""},
		} {
			if got := preflight(tc.path, tc.origin).Get("Access-Control-Allow-Origin"); got != tc.want {
				t.Errorf("preflight %s from %s: Access-Control-Allow-Origin %q, want %q", tc.path, tc.origin, got, tc.want)
			}
		}
	})
}

// A token step is one transaction: when a write inside it fails, nothing
// of it stays — the code is still unused and no token exists.
func TestTokenStepRollsBackOnFailedWrite(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		user := srv.CreateUser(t, "rollback@example.com")
		r := newRP(t, srv, false, true)
		ctx := context.Background()
		db := srv.Base.DB
		exec := func(query string) {
			t.Helper()
			if _, err := db.ExecContext(ctx, query); err != nil {
				t.Fatal(err)
			}
		}
		q, verifier := r.authorize(servertest.NewBrowser(t), user.Email)

		// Make the refresh-token insert, the last write of the step, fail.
		if storage.IsPostgres(db) {
			exec(`CREATE FUNCTION refuse_insert() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused for test'; END $$ LANGUAGE plpgsql`)
			exec(`CREATE TRIGGER refuse BEFORE INSERT ON oauth2_refresh_tokens FOR EACH ROW EXECUTE FUNCTION refuse_insert()`)
		} else {
			exec(`CREATE TRIGGER refuse BEFORE INSERT ON oauth2_refresh_tokens BEGIN SELECT RAISE(ABORT, 'refused for test'); END`)
		}
		_, err := r.config.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		assertOAuthError(t, err, "server_error")
		for _, table := range []string{"oauth2_access_tokens", "oauth2_refresh_tokens"} {
			if n, err := db.NewSelect().TableExpr(table).Count(ctx); err != nil || n != 0 {
				t.Errorf("%s has %d rows (%v) after the failed step, want 0", table, n, err)
			}
		}
		exec(`DROP TRIGGER refuse` + map[bool]string{true: " ON oauth2_refresh_tokens", false: ""}[storage.IsPostgres(db)])
		// Everything was rolled back, so the code still redeems once.
		if _, err := r.config.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); err != nil {
			t.Fatalf("redeem after the rolled-back attempt: %v", err)
		}
	})
}
