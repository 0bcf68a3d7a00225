package account_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/tenancy"
)

// invite invites email to org as its owner would, through the profile
// page, and returns the path and query of the mailed accept link.
func invite(t *testing.T, srv *servertest.Server, owner *servertest.Browser, org *tenancy.Organization, email, role string) string {
	t.Helper()
	r := owner.PostForm(srv.Issuer+"/organizations/"+org.Slug+"/invitations", url.Values{"email_address": {email}, "role": {role}})
	wantRedirect(t, "invite "+email, r, "/organizations/"+org.Slug+"?notice=invited")
	return acceptPath(t, acceptURL(t, srv, email))
}

func TestAcceptInvitationSignedIn(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		ctx := context.Background()
		owner := srv.CreateUser(t, "owner@acme.test")
		bob := srv.CreateUser(t, "bob@acme.test")
		eve := srv.CreateUser(t, "eve@acme.test")
		org := createOrg(t, srv, owner.ID, "Acme")
		link := invite(t, srv, signIn(t, srv, owner.Email), org, "Bob@Acme.test", rbac.RoleAdmin)
		token := strings.TrimPrefix(link, "/invitations/accept?token=")
		token, _ = url.QueryUnescape(token)

		t.Run("wrong user", func(t *testing.T) {
			e := signIn(t, srv, eve.Email)
			page := e.Get(srv.Issuer + link)
			wantStatus(t, "open as Eve", page, http.StatusForbidden)
			txt := text(t, page.Body)
			if !strings.Contains(txt, "sent to Bob@Acme.test") || !strings.Contains(txt, "signed in as eve@acme.test") || !hasForm(t, page.Body, "/sign-out") {
				t.Errorf("mismatch page does not explain or offer to sign out:\n%s", txt)
			}
			r := e.PostForm(srv.Issuer+"/invitations/accept", url.Values{"token": {token}})
			wantStatus(t, "accept as Eve", r, http.StatusForbidden)
			if _, err := srv.Tenancy.MembershipOf(ctx, eve.ID, org.ID); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Eve's membership: %v, want none", err)
			}
		})

		t.Run("signed out with an account", func(t *testing.T) {
			r := servertest.NewBrowser(t).Get(srv.Issuer + link)
			wantRedirect(t, "open signed out", r, oidc.SignInURL(link))
		})

		t.Run("the invitee", func(t *testing.T) {
			b := signIn(t, srv, bob.Email)
			page := b.Get(srv.Issuer + link)
			wantStatus(t, "open as Bob", page, http.StatusOK)
			form, action, err := servertest.FindForm(page.Body, "token")
			if err != nil || action != "/invitations/accept" {
				t.Fatalf("no accept form: %v\n%s", err, page.Body)
			}
			if _, err := srv.Tenancy.MembershipOf(ctx, bob.ID, org.ID); err == nil {
				t.Fatal("opening the link (GET) accepted the invitation")
			}
			r := b.PostForm(srv.Issuer+action, form)
			wantRedirect(t, "accept", r, "/organizations/acme?notice=joined")
			m, err := srv.Tenancy.MembershipOf(ctx, bob.ID, org.ID)
			if err != nil || m.Role != rbac.RoleAdmin {
				t.Fatalf("Bob's membership = %+v, %v; want admin", m, err)
			}
			again := b.PostForm(srv.Issuer+action, form)
			wantStatus(t, "accept twice", again, http.StatusGone)
			if !strings.Contains(text(t, again.Body), "already accepted") {
				t.Errorf("second accept does not explain:\n%s", text(t, again.Body))
			}
		})

		t.Run("unknown token", func(t *testing.T) {
			r := servertest.NewBrowser(t).Get(srv.Issuer + "/invitations/accept?token=nope")
			wantStatus(t, "unknown token", r, http.StatusNotFound)
		})
	})
}

func TestAcceptInvitationExpired(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		clock := new(servertest.Clock)
		srv := servertest.Start(t, dbURL, servertest.WithClock(clock))
		owner := srv.CreateUser(t, "owner@acme.test")
		org := createOrg(t, srv, owner.ID, "Acme")
		link := invite(t, srv, signIn(t, srv, owner.Email), org, "late@acme.test", rbac.RoleMember)
		clock.Advance(tenancy.DefaultInvitationLifetime + time.Minute)
		r := servertest.NewBrowser(t).Get(srv.Issuer + link)
		wantStatus(t, "expired link", r, http.StatusGone)
		if !strings.Contains(text(t, r.Body), "expired") {
			t.Errorf("page does not say the invitation expired:\n%s", text(t, r.Body))
		}
	})
}

// newPassword is what the invitee chooses for the new account.
const newPassword = "nina's own passphrase 4711"

func TestAcceptInvitationWithNewAccount(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		ctx := context.Background()
		owner := srv.CreateUser(t, "owner@acme.test")
		org := createOrg(t, srv, owner.ID, "Acme")
		ownerBrowser := signIn(t, srv, owner.Email)
		link := invite(t, srv, ownerBrowser, org, "new@acme.test", rbac.RoleMember)

		b := servertest.NewBrowser(t)
		page := b.Get(srv.Issuer + link)
		wantStatus(t, "sign-up form", page, http.StatusOK)
		form, action, err := servertest.FindForm(page.Body, "password")
		if err != nil || action != "/invitations/accept" {
			t.Fatalf("no sign-up form: %v\n%s", err, page.Body)
		}
		if form.Has("email") || form.Has("email_address") {
			t.Errorf("the sign-up form lets the address be changed: %v", form)
		}
		if !strings.Contains(page.Body, `value="new@acme.test"`) {
			t.Error("the sign-up form does not show the invited address")
		}

		for _, tc := range []struct{ name, password, says string }{
			{"no password", "", "Choose a password"},
			{"common password", "password123", "commonly used"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f := url.Values{"token": form["token"], "first_name": {"Nina"}, "password": {tc.password}}
				r := b.PostForm(srv.Issuer+action, f)
				wantStatus(t, tc.name, r, http.StatusBadRequest)
				if !strings.Contains(strings.ToLower(text(t, r.Body)), strings.ToLower(tc.says)) || !strings.Contains(r.Body, `value="Nina"`) {
					t.Errorf("refusal does not explain or refill the form:\n%s", text(t, r.Body))
				}
				if _, err := srv.Identity.UserByEmail(ctx, "new@acme.test"); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("an account was created: %v", err)
				}
			})
		}

		t.Run("rolled back when the acceptance fails", func(t *testing.T) {
			// The organization fills up between the link and the form:
			// the acceptance fails after the account is created.
			one := 1
			if _, err := srv.Tenancy.UpdateOrganization(ctx, tenancy.Operator(), org.ID, tenancy.OrganizationUpdate{MaxAllowedMemberships: &one}); err != nil {
				t.Fatal(err)
			}
			f := url.Values{"token": form["token"], "first_name": {"Nina"}, "password": {newPassword}}
			r := b.PostForm(srv.Issuer+action, f)
			wantStatus(t, "full organization", r, http.StatusConflict)
			if _, err := srv.Identity.UserByEmail(ctx, "new@acme.test"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("the account survived the failed acceptance: %v", err)
			}
			zero := 0
			if _, err := srv.Tenancy.UpdateOrganization(ctx, tenancy.Operator(), org.ID, tenancy.OrganizationUpdate{MaxAllowedMemberships: &zero}); err != nil {
				t.Fatal(err)
			}
		})

		f := url.Values{"token": form["token"], "first_name": {"Nina"}, "last_name": {"Newton"}, "password": {newPassword}}
		r := b.PostForm(srv.Issuer+action, f)
		wantRedirect(t, "sign up and accept", r, "/organizations/acme?notice=joined")
		user, err := srv.Identity.UserByEmail(ctx, "new@acme.test")
		if err != nil || !user.EmailVerified || user.FirstName != "Nina" || user.LastName != "Newton" || !user.HasPassword {
			t.Fatalf("new user = %+v, %v; want verified with names and a password", user, err)
		}
		if m, err := srv.Tenancy.MembershipOf(ctx, user.ID, org.ID); err != nil || m.Role != rbac.RoleMember {
			t.Fatalf("membership = %+v, %v", m, err)
		}
		// Signed in, with the organization active.
		if got := activeSession(t, srv, user.ID).ActiveOrganizationID; got != org.ID {
			t.Errorf("active organization = %q, want %q", got, org.ID)
		}
		profile := b.Get(srv.Issuer + r.Location.RequestURI())
		wantStatus(t, "profile after joining", profile, http.StatusOK)
		if !strings.Contains(text(t, profile.Body), "You joined the organization") {
			t.Errorf("profile lacks the notice:\n%s", text(t, profile.Body))
		}
		// The link is used up; the new account signs in with its password.
		wantStatus(t, "link again", servertest.NewBrowser(t).Get(srv.Issuer+link), http.StatusGone)
		again := servertest.NewBrowser(t).PostForm(srv.Issuer+"/sign-in", url.Values{"identifier": {"new@acme.test"}, "password": {newPassword}})
		wantRedirect(t, "sign in with the new password", again, "/")
	})
}
