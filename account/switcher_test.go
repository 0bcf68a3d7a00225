package account_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/tenancy"
)

func TestSwitcher(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		ctx := context.Background()
		bob := srv.CreateUser(t, "bob@acme.test")
		other := srv.CreateUser(t, "other@acme.test")
		acme := createOrg(t, srv, other.ID, "Acme")
		beta := createOrg(t, srv, bob.ID, "Beta")
		hidden := createOrg(t, srv, other.ID, "Hidden")
		gamma := createOrg(t, srv, other.ID, "Gamma")
		addMember(t, srv, acme, bob.ID, rbac.RoleMember)
		inv, err := srv.Tenancy.CreateInvitation(ctx, tenancy.Operator(), gamma.ID, tenancy.NewInvitation{EmailAddress: bob.Email})
		if err != nil {
			t.Fatal(err)
		}
		b := signIn(t, srv, bob.Email)
		active := func() string { return activeSession(t, srv, bob.ID).ActiveOrganizationID }

		page := b.Get(srv.Issuer + "/organizations/switch?return_to=%2Fapp%3Fx%3D1")
		wantStatus(t, "switcher", page, http.StatusOK)
		for _, want := range []string{`value="` + acme.ID + `"`, `value="` + beta.ID + `"`, `name="org_id" value=""`, `value="` + inv.ID + `"`, `value="/app?x=1"`} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("switcher lacks %s", want)
			}
		}
		if strings.Contains(page.Body, hidden.ID) {
			t.Error("switcher shows an organization Bob is not a member of")
		}

		for _, tc := range []struct {
			name       string
			form       url.Values
			status     int
			redirect   string
			wantActive string
		}{
			{"to Acme, back to the app", url.Values{"org_id": {acme.ID}, "return_to": {"/app?x=1"}}, http.StatusSeeOther, "/app?x=1", acme.ID},
			{"by slug", url.Values{"org_id": {"beta"}}, http.StatusSeeOther, "/organizations", beta.ID},
			{"not a member", url.Values{"org_id": {hidden.ID}}, http.StatusNotFound, "", beta.ID},
			{"unknown", url.Values{"org_id": {"org_nope"}}, http.StatusNotFound, "", beta.ID},
			{"another site as return_to", url.Values{"org_id": {acme.ID}, "return_to": {"https://evil.example/"}}, http.StatusSeeOther, "/organizations", acme.ID},
			{"scheme-relative return_to", url.Values{"org_id": {acme.ID}, "return_to": {"//evil.example/"}}, http.StatusSeeOther, "/organizations", acme.ID},
			{"personal account", url.Values{"org_id": {""}}, http.StatusSeeOther, "/organizations", ""},
			{"accept an invitation", url.Values{"invitation_id": {inv.ID}}, http.StatusSeeOther, "/organizations", gamma.ID},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := b.PostForm(srv.Issuer+"/organizations/switch", tc.form)
				if tc.status == http.StatusSeeOther {
					wantRedirect(t, tc.name, r, tc.redirect)
				} else {
					wantStatus(t, tc.name, r, tc.status)
				}
				if got := active(); got != tc.wantActive {
					t.Errorf("active organization = %q, want %q", got, tc.wantActive)
				}
			})
		}
		if _, err := srv.Tenancy.MembershipOf(ctx, bob.ID, gamma.ID); err != nil {
			t.Errorf("accepting from the switcher made no membership: %v", err)
		}
		list := b.Get(srv.Issuer + "/organizations")
		if !strings.Contains(text(t, list.Body), "Gamma") || !strings.Contains(list.Body, `class="badge">Active`) {
			t.Errorf("list does not mark the active organization:\n%s", text(t, list.Body))
		}
	})
}

func TestSwitcherWithoutPersonalAccounts(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL, servertest.WithConfig(func(c *server.Config) { c.RequireOrganization = true }))
		bob := srv.CreateUser(t, "bob@acme.test")
		acme := createOrg(t, srv, bob.ID, "Acme")
		b := signIn(t, srv, bob.Email)
		page := b.Get(srv.Issuer + "/organizations/switch")
		wantStatus(t, "switcher", page, http.StatusOK)
		if strings.Contains(page.Body, `name="org_id" value=""`) {
			t.Error("switcher offers the personal account although the server requires an organization")
		}
		wantRedirect(t, "switch", b.PostForm(srv.Issuer+"/organizations/switch", url.Values{"org_id": {acme.ID}}), "/organizations")
		r := b.PostForm(srv.Issuer+"/organizations/switch", url.Values{"org_id": {""}})
		wantStatus(t, "personal account", r, http.StatusBadRequest)
		if got := activeSession(t, srv, bob.ID).ActiveOrganizationID; got != acme.ID {
			t.Errorf("active organization = %q, want %q still", got, acme.ID)
		}
	})
}

func TestCrossSiteFormsAreRefused(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		ctx := context.Background()
		owner := srv.CreateUser(t, "owner@acme.test")
		acme := createOrg(t, srv, owner.ID, "Acme")
		beta := createOrg(t, srv, owner.ID, "Beta")
		b := signIn(t, srv, owner.Email)
		wantRedirect(t, "switch to Acme", b.PostForm(srv.Issuer+"/organizations/switch", url.Values{"org_id": {acme.ID}}), "/organizations")

		for _, h := range []struct {
			name    string
			headers map[string]string
		}{
			{"Sec-Fetch-Site cross-site", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}},
			{"Sec-Fetch-Site same-site", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://sub.127.0.0.1"}},
			{"Origin only", map[string]string{"Origin": "https://evil.example"}},
		} {
			for _, f := range []struct {
				path string
				form url.Values
			}{
				{"/organizations", url.Values{"name": {"Forged"}}},
				{"/organizations/switch", url.Values{"org_id": {beta.ID}}},
				{"/organizations/acme/invitations", url.Values{"email_address": {"attacker@evil.example"}, "role": {rbac.RoleAdmin}}},
				{"/organizations/acme/delete", url.Values{"confirm": {"acme"}}},
			} {
				t.Run(h.name+" "+f.path, func(t *testing.T) {
					r := crossSitePost(t, b, srv.Issuer+f.path, f.form, h.headers)
					wantStatus(t, f.path, r, http.StatusForbidden)
				})
			}
		}
		orgs, _ := srv.Tenancy.Memberships(ctx, owner.ID)
		pending, _, _ := srv.Tenancy.ListInvitations(ctx, tenancy.Operator(), acme.ID, tenancy.ListInvitationsParams{})
		if len(orgs) != 2 || len(pending) != 0 {
			t.Errorf("after forged posts: %d organizations (want 2), %d invitations (want 0)", len(orgs), len(pending))
		}
		if got := activeSession(t, srv, owner.ID).ActiveOrganizationID; got != acme.ID {
			t.Errorf("active organization = %q, want %q", got, acme.ID)
		}
		// The same form from the site itself goes through.
		wantRedirect(t, "same-origin switch", b.PostForm(srv.Issuer+"/organizations/switch", url.Values{"org_id": {beta.ID}}), "/organizations")
	})
}
