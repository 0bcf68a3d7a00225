package oidc_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

// introspect asks the introspection endpoint about token, authenticated
// as clientID.
func introspect(t *testing.T, srv *servertest.Server, clientID, secret, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.Issuer+oidc.PathIntrospect, strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("introspection = %d %s", resp.StatusCode, b)
	}
	return jsonObject(t, b)
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestOpaqueAccessTokens(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		fx := newOrgFixture(t, dbURL)
		srv, ctx := fx.srv, context.Background()
		jwtClient := fx.r
		// The same application, but with opaque access tokens.
		m := jwtClient.client.Metadata
		m.AccessTokenFormat = oidc.AccessTokenOpaque
		oc, secret := srv.CreateClient(t, oidc.NewClient{Name: "Opaque app", FirstParty: true, Metadata: m})
		opaque := *jwtClient
		opaque.client, opaque.config.ClientID, opaque.config.ClientSecret = oc, oc.ID, secret
		opaque.verifier = opaque.provider.Verifier(&gooidc.Config{ClientID: oc.ID})

		b := servertest.NewBrowser(t)
		tokens := map[string]*oauth2.Token{}
		for name, r := range map[string]*rp{"jwt": jwtClient, "opaque": &opaque} {
			page, verifier := r.startAuthorization(b, oauth2.SetAuthURLParam("organization", fx.acme.Slug))
			if strings.Contains(page.Body, `name="identifier"`) {
				page = b.SignIn(page, srv.Issuer, fx.user.Email, servertest.Password)
			}
			q := page.Location.Query()
			tok, err := r.config.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("%s: exchange: %v", name, err)
			}
			tokens[name] = tok
		}
		at := tokens["opaque"].AccessToken
		if strings.Count(at, ".") == 2 || !strings.HasPrefix(at, "ory_at_") {
			t.Fatalf("opaque client got %q, want an opaque token", at)
		}
		if idt := idClaims(t, &opaque, tokens["opaque"]); idt["at_hash"] == nil || idt["org_id"] != fx.acme.ID {
			t.Errorf("ID token beside an opaque access token = %v", idt)
		}

		// Introspecting the opaque token gives exactly the claims the JWT
		// carries (beside introspection's own active and token_type; a JWT
		// also has its jti), with the same values except the client's id
		// and the times.
		jwtClaims := claimsOf(t, tokens["jwt"].AccessToken)
		info := introspect(t, srv, oc.ID, secret, at)
		if info["active"] != true || info["token_type"] != "Bearer" || info["client_id"] != oc.ID {
			t.Fatalf("introspection of the opaque token = %v", info)
		}
		delete(info, "active")
		delete(info, "token_type")
		delete(jwtClaims, "jti")
		if diff := cmp.Diff(keysOf(jwtClaims), keysOf(info)); diff != "" {
			t.Errorf("claims of the JWT (-) and of the opaque token's introspection (+):\n%s", diff)
		}
		for _, k := range []string{"client_id", "iat", "exp"} {
			delete(info, k)
			delete(jwtClaims, k)
		}
		if diff := cmp.Diff(jwtClaims, info); diff != "" {
			t.Errorf("claim values of the JWT (-) and of the opaque token's introspection (+):\n%s", diff)
		}
		for _, k := range []string{"org_id", "tier", "perms", "sid", "auth_time", "scope", "sub", "aud", "iss"} {
			if info[k] == nil {
				t.Errorf("introspection lacks %s: %v", k, info)
			}
		}

		// Userinfo accepts it.
		ui, err := opaque.provider.UserInfo(ctx, oauth2.StaticTokenSource(tokens["opaque"]))
		if err != nil || ui.Subject != fx.user.ID || ui.Email != fx.user.Email {
			t.Errorf("userinfo with the opaque token = %+v, %v", ui, err)
		}

		// Token exchange takes it as the subject token.
		status, body, _ := postToken(t, srv.Issuer, url.Values{
			"grant_type": {oidc.GrantTokenExchange}, "subject_token": {at},
			"subject_token_type": {oidc.TokenTypeAccess}, "audience": {"backend"},
		}, oc.ID, secret)
		if status != http.StatusOK {
			t.Fatalf("token exchange with an opaque subject token = %d %v", status, body)
		}
		if minted := claimsOf(t, body["access_token"].(string)); minted["sub"] != fx.user.ID || minted["org"] != fx.acme.Slug {
			t.Errorf("exchanged token claims = %v", minted)
		}

		// A refresh gives a new opaque token; the rotated one is dead.
		status, refreshed, _ := postToken(t, srv.Issuer, url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {tokens["opaque"].RefreshToken},
		}, oc.ID, secret)
		fresh, _ := refreshed["access_token"].(string)
		if status != http.StatusOK || strings.Count(fresh, ".") == 2 || fresh == at {
			t.Fatalf("refresh = %d %v, want a new opaque token", status, refreshed)
		}
		if got := introspect(t, srv, oc.ID, secret, at); got["active"] != false {
			t.Errorf("the rotated opaque token is still active: %v", got)
		}

		// Revocation: the token stops working everywhere.
		req, _ := http.NewRequest(http.MethodPost, srv.Issuer+oidc.PathRevoke, strings.NewReader(url.Values{"token": {fresh}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(oc.ID, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("revocation = %d", resp.StatusCode)
		}
		if got := introspect(t, srv, oc.ID, secret, fresh); got["active"] != false {
			t.Errorf("a revoked opaque token is still active: %v", got)
		}
		ureq, _ := http.NewRequest(http.MethodGet, srv.Issuer+oidc.PathUserinfo, nil)
		ureq.Header.Set("Authorization", "Bearer "+fresh)
		uresp, err := http.DefaultClient.Do(ureq)
		if err != nil {
			t.Fatal(err)
		}
		uresp.Body.Close()
		if uresp.StatusCode != http.StatusUnauthorized {
			t.Errorf("userinfo with a revoked opaque token = %d, want 401", uresp.StatusCode)
		}

		// A forged token of the right shape is not active.
		if got := introspect(t, srv, oc.ID, secret, "ory_at_"+strings.Repeat("A", 43)+"."+strings.Repeat("B", 43)); got["active"] != false {
			t.Errorf("a forged opaque token is active: %v", got)
		}
	})
}

func TestAccessTokenFormatValidation(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		_, _, err := srv.Clients.Create(context.Background(), oidc.NewClient{Name: "x", Metadata: oidc.ClientMetadata{
			GrantTypes: []string{oidc.GrantClientCredentials}, AccessTokenFormat: "paseto",
		}})
		var ve *oidc.ValidationError
		if !errors.As(err, &ve) || ve.Field != "access_token_format" {
			t.Errorf("create with access_token_format paseto: %v, want a validation error", err)
		}
		c, secret := srv.CreateClient(t, oidc.NewClient{Name: "machine", Metadata: oidc.ClientMetadata{
			GrantTypes: []string{oidc.GrantClientCredentials}, AccessTokenFormat: oidc.AccessTokenOpaque,
		}})
		status, body, _ := postToken(t, srv.Issuer, url.Values{"grant_type": {"client_credentials"}}, c.ID, secret)
		at, _ := body["access_token"].(string)
		if status != http.StatusOK || strings.Count(at, ".") == 2 {
			t.Fatalf("client credentials = %d %v, want an opaque token", status, body)
		}
		if info := introspect(t, srv, c.ID, secret, at); info["active"] != true || info["sub"] != c.ID {
			t.Errorf("introspection = %v", info)
		}
		b, _ := json.Marshal(c.JSON())
		if !strings.Contains(string(b), `"access_token_format":"opaque"`) {
			t.Errorf("client JSON lacks the format: %s", b)
		}
	})
}
