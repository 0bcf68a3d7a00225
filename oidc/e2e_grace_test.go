package oidc_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

// A client with a refresh grace period may use a rotated refresh token
// again for that long (its own concurrent refreshes); after it, reuse
// revokes the grant as usual.
func TestRefreshGracePeriod(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		clock := new(servertest.Clock)
		srv := servertest.Start(t, dbURL, servertest.WithClock(clock))
		user := srv.CreateUser(t, "grace@example.com")
		c, secret := srv.CreateClient(t, oidc.NewClient{Name: "tolerant", FirstParty: true, Metadata: oidc.ClientMetadata{
			RedirectURIs: []string{redirectURI}, GrantTypes: []string{oidc.GrantAuthorizationCode, oidc.GrantRefreshToken},
			RefreshGracePeriodSeconds: 30,
		}})
		ctx := context.Background()
		provider, err := gooidc.NewProvider(ctx, srv.Issuer)
		if err != nil {
			t.Fatal(err)
		}
		endpoint := provider.Endpoint()
		endpoint.AuthStyle = oauth2.AuthStyleInHeader
		r := &rp{t: t, srv: srv, client: c, provider: provider, config: oauth2.Config{ClientID: c.ID, ClientSecret: secret,
			Endpoint: endpoint, RedirectURL: redirectURI, Scopes: []string{"openid", "offline_access"}}}
		q, verifier := r.authorize(servertest.NewBrowser(t), user.Email)
		tok, err := r.config.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		refresh := func(rt string) (int, map[string]any) {
			status, body, _ := postToken(t, srv.Issuer, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, c.ID, secret)
			return status, body
		}
		first, b1 := refresh(tok.RefreshToken)
		clock.Advance(20 * time.Second)
		second, b2 := refresh(tok.RefreshToken)
		if first != 200 || second != 200 {
			t.Fatalf("within the grace period: %d %v then %d %v, want both 200", first, b1, second, b2)
		}
		clock.Advance(20 * time.Second) // 40 s after the first use
		if status, body := refresh(tok.RefreshToken); status != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("after the grace period: %d %v, want invalid_grant", status, body)
		}
		// That was reuse: the tokens minted during the grace period are revoked.
		if status, _ := refresh(b2["refresh_token"].(string)); status != 400 {
			t.Errorf("a refresh token of the revoked grant still works")
		}
		clock.Advance(-40 * time.Second)
	})
}
