package oidc_test

import (
	"context"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/storage/storagetest"
)

// With personal accounts disabled, a user without an organization creates
// one on the chooser before any token is issued, and silent requests fail
// with interaction_required instead of issuing a personal token.
func TestRequireOrganization(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL, servertest.WithConfig(func(c *server.Config) { c.RequireOrganization = true }))
		user := srv.CreateUser(t, "solo@example.com")
		r := newRP(t, srv, false, true)
		b := servertest.NewBrowser(t)
		ctx := context.Background()

		verifier := oauth2.GenerateVerifier()
		page := b.Follow(b.Get(r.config.AuthCodeURL("state-1234567890", oauth2.S256ChallengeOption(verifier))), srv.Issuer)
		chooser := b.SignIn(page, srv.Issuer, user.Email, servertest.Password)
		if !strings.Contains(chooser.Body, `name="name"`) || strings.Contains(chooser.Body, "Personal account") {
			t.Fatalf("want the chooser with a create form and no personal account, got %v", chooser)
		}
		// Choosing "no organization" is refused.
		form, action, err := servertest.FindForm(chooser.Body, "name")
		if err != nil {
			t.Fatal(err)
		}
		form.Set("name", "")
		refused := b.PostForm(srv.Issuer+action, map[string][]string{"flow": form["flow"], "org_id": {""}})
		if refused.Status != 400 {
			t.Errorf("posting no organization: %v, want 400", refused)
		}
		form.Set("name", "Solo Works")
		done := b.Follow(b.PostForm(srv.Issuer+action, form), srv.Issuer)
		if done.Location == nil || done.Location.Query().Get("code") == "" {
			t.Fatalf("after creating: %v", done)
		}
		tok, err := r.config.Exchange(ctx, done.Location.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		c := idClaims(t, r, tok)
		if c["org_slug"] != "solo-works" || c["org_role"] != "org:owner" {
			t.Errorf("ID token after creating an organization: %v", c)
		}

		other := srv.CreateUser(t, "lonely@example.com")
		b2 := servertest.NewBrowser(t)
		b2.SignIn(b2.Get(srv.Issuer+"/sign-in"), srv.Issuer, other.Email, servertest.Password)
		silent := b2.Follow(b2.Get(r.config.AuthCodeURL("state-1234567890", oauth2.S256ChallengeOption(verifier),
			oauth2.SetAuthURLParam("prompt", "none"))), srv.Issuer)
		if silent.Location == nil || silent.Location.Query().Get("error") != "interaction_required" {
			t.Errorf("prompt=none without an organization: %v, want interaction_required", silent)
		}
	})
}
