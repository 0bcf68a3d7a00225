package account_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/tenancy"
)

func TestSignedOutGoesToSignIn(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		owner := srv.CreateUser(t, "owner@acme.test")
		createOrg(t, srv, owner.ID, "Acme")
		b := servertest.NewBrowser(t)

		for _, tc := range []struct{ method, path, returnTo string }{
			{http.MethodGet, "/organizations", "/organizations"},
			{http.MethodGet, "/organizations/acme", "/organizations/acme"},
			{http.MethodGet, "/organizations/switch?return_to=%2Fapp", "/organizations/switch?return_to=%2Fapp"},
			{http.MethodPost, "/organizations", "/organizations"},
			{http.MethodPost, "/organizations/acme/invitations", "/organizations/acme"},
			{http.MethodPost, "/organizations/switch", "/organizations/switch?return_to=%2Forganizations"},
		} {
			t.Run(tc.method+" "+tc.path, func(t *testing.T) {
				var r *servertest.Response
				if tc.method == http.MethodGet {
					r = b.Get(srv.Issuer + tc.path)
				} else {
					r = b.PostForm(srv.Issuer+tc.path, url.Values{"name": {"Sneaky"}, "email_address": {"x@acme.test"}})
				}
				wantRedirect(t, tc.path, r, oidc.SignInURL(tc.returnTo))
			})
		}
		orgs, total, err := srv.Tenancy.ListOrganizations(context.Background(), tenancy.Operator(), tenancy.ListOrganizationsParams{})
		if err != nil || total != 1 {
			t.Errorf("organizations after signed-out posts: %d (%v), want only Acme: %v", total, orgs, err)
		}
	})
}

func TestCreateAndListOrganizations(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		ada := srv.CreateUser(t, "ada@acme.test")
		other := srv.CreateUser(t, "other@acme.test")
		createOrg(t, srv, other.ID, "Taken")
		b := signIn(t, srv, ada.Email)
		ctx := context.Background()

		page := b.Get(srv.Issuer + "/organizations")
		wantStatus(t, "empty list", page, http.StatusOK)
		if !strings.Contains(text(t, page.Body), "not a member of any organization") || !hasForm(t, page.Body, "/organizations") {
			t.Fatalf("empty list page lacks the message or the create form:\n%s", text(t, page.Body))
		}

		r := b.PostForm(srv.Issuer+"/organizations", url.Values{"name": {"Acme Inc"}})
		wantRedirect(t, "create", r, "/organizations/acme-inc?notice=created")
		m, err := srv.Tenancy.MembershipOf(ctx, ada.ID, "acme-inc")
		if err != nil || m.Role != rbac.RoleOwner {
			t.Fatalf("creator's membership = %+v, %v; want org:owner", m, err)
		}
		profile := b.Get(srv.Issuer + r.Location.RequestURI())
		wantStatus(t, "profile", profile, http.StatusOK)
		if txt := text(t, profile.Body); !strings.Contains(txt, "Organization created") || !strings.Contains(txt, "your role: Owner") {
			t.Errorf("profile after create lacks the notice or the role:\n%s", txt)
		}

		r = b.PostForm(srv.Issuer+"/organizations", url.Values{"name": {"Second"}, "slug": {"second-one"}})
		wantRedirect(t, "create with slug", r, "/organizations/second-one?notice=created")

		list := b.Get(srv.Issuer + "/organizations")
		for _, want := range []string{`href="/organizations/acme-inc"`, `href="/organizations/second-one"`} {
			if !strings.Contains(list.Body, want) {
				t.Errorf("list lacks link %s", want)
			}
		}
		if strings.Contains(list.Body, "Taken") {
			t.Error("list shows an organization the user is not a member of")
		}

		for _, tc := range []struct {
			name   string
			form   url.Values
			status int
			says   string
		}{
			{"empty name", url.Values{"name": {"  "}}, http.StatusBadRequest, "Organization name must not be empty"},
			{"bad slug", url.Values{"name": {"X"}, "slug": {"Not A Slug"}}, http.StatusBadRequest, "must be lowercase letters and digits"},
			{"slug taken", url.Values{"name": {"X"}, "slug": {"taken"}}, http.StatusConflict, "That slug is taken"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := b.PostForm(srv.Issuer+"/organizations", tc.form)
				wantStatus(t, tc.name, r, tc.status)
				if txt := text(t, r.Body); !strings.Contains(txt, tc.says) {
					t.Errorf("page does not say %q:\n%s", tc.says, txt)
				}
			})
		}
		memberships, _ := srv.Tenancy.Memberships(ctx, ada.ID)
		if len(memberships) != 2 {
			t.Errorf("memberships after refused creates = %d, want 2", len(memberships))
		}
	})
}

func TestJoinFromList(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		owner := srv.CreateUser(t, "owner@acme.test")
		bob := srv.CreateUser(t, "bob@acme.test")
		eve := srv.CreateUser(t, "eve@acme.test")
		org := createOrg(t, srv, owner.ID, "Acme")
		ctx := context.Background()
		inv, err := srv.Tenancy.CreateInvitation(ctx, tenancy.Operator(), org.ID, tenancy.NewInvitation{EmailAddress: bob.Email})
		if err != nil {
			t.Fatal(err)
		}

		// Someone else cannot accept Bob's invitation by its id.
		e := signIn(t, srv, eve.Email)
		if list := e.Get(srv.Issuer + "/organizations"); strings.Contains(list.Body, inv.ID) {
			t.Error("Eve's list shows Bob's invitation")
		}
		r := e.PostForm(srv.Issuer+"/organizations/join", url.Values{"invitation_id": {inv.ID}})
		wantStatus(t, "join someone else's invitation", r, http.StatusNotFound)

		b := signIn(t, srv, bob.Email)
		list := b.Get(srv.Issuer + "/organizations")
		if !strings.Contains(list.Body, inv.ID) || !hasForm(t, list.Body, "/organizations/join") {
			t.Fatalf("Bob's list lacks his invitation:\n%s", text(t, list.Body))
		}
		r = b.PostForm(srv.Issuer+"/organizations/join", url.Values{"invitation_id": {inv.ID}})
		wantRedirect(t, "join", r, "/organizations/acme?notice=joined")
		if _, err := srv.Tenancy.MembershipOf(ctx, bob.ID, org.ID); err != nil {
			t.Errorf("Bob is not a member after joining: %v", err)
		}
		if _, err := srv.Tenancy.MembershipOf(ctx, eve.ID, org.ID); err == nil {
			t.Error("Eve became a member")
		}
	})
}
