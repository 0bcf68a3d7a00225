package oidc_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/mail"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/tenancy"
)

// A user whose verified email is at an organization's verified domain with
// automatic invitation is invited at sign-in and can join on the chooser.
func TestVerifiedDomainInvitesAtSignIn(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		ctx := context.Background()
		owner := srv.CreateUser(t, "owner@acme-robotics.example")
		org, err := srv.Tenancy.CreateOrganization(ctx, tenancy.Operator(), tenancy.NewOrganization{Name: "Acme Robotics", CreatedBy: owner.ID})
		if err != nil {
			t.Fatal(err)
		}
		d, err := srv.Tenancy.AddDomain(ctx, tenancy.Operator(), org.ID, tenancy.NewDomain{Name: "acme-robotics.example", EnrollmentMode: tenancy.EnrollAutomaticInvitation})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := srv.Tenancy.PrepareDomainVerification(ctx, tenancy.Operator(), org.ID, d.ID, "admin@acme-robotics.example"); err != nil {
			t.Fatal(err)
		}
		msgs, err := mail.ReadOutbox(filepath.Join(srv.Base.Config.DataDir, mail.OutboxFile))
		if err != nil || len(msgs) == 0 {
			t.Fatalf("no verification mail: %v", err)
		}
		code := regexp.MustCompile(`\b\d{6}\b`).FindString(msgs[len(msgs)-1].Text)
		if _, err := srv.Tenancy.AttemptDomainVerification(ctx, tenancy.Operator(), org.ID, d.ID, code); err != nil {
			t.Fatalf("verify domain with code %q: %v", code, err)
		}

		newcomer := srv.CreateUser(t, "grace@acme-robotics.example")
		r := newRP(t, srv, false, true)
		r.config.Scopes = append(r.config.Scopes, oidc.ScopeOrganization)
		b := servertest.NewBrowser(t)
		page := b.Follow(b.Get(r.config.AuthCodeURL("state-1234567890", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))), srv.Issuer)
		chooser := b.SignIn(page, srv.Issuer, newcomer.Email, servertest.Password)
		if !strings.Contains(chooser.Body, `name="invitation_id"`) || !strings.Contains(chooser.Body, "Acme Robotics") {
			t.Fatalf("want the chooser offering to join Acme Robotics, got %v", chooser)
		}
		form, action, err := servertest.FindForm(chooser.Body, "flow")
		if err != nil {
			t.Fatal(err)
		}
		form.Set("invitation_id", regexp.MustCompile(`name="invitation_id" value="([^"]+)"`).FindStringSubmatch(chooser.Body)[1])
		done := b.Follow(b.PostForm(srv.Issuer+action, form), srv.Issuer)
		if done.Location == nil || done.Location.Query().Get("code") == "" {
			t.Fatalf("joining: %v", done)
		}
		if _, err := srv.Tenancy.MembershipOf(ctx, newcomer.ID, org.ID); err != nil {
			t.Errorf("not a member after joining: %v", err)
		}
	})
}
