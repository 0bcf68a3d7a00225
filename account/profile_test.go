package account_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/tenancy"
)

// Every form of the profile page, as a non-member or a member lacking the
// permission would post it.
var profileForms = []struct {
	path string
	form url.Values
}{
	{"/profile", url.Values{"name": {"Renamed"}, "slug": {"renamed"}}},
	{"/delete", url.Values{"confirm": {"acme"}}},
	{"/members/role", url.Values{"user_id": {"{owner}"}, "role": {rbac.RoleMember}}},
	{"/members/remove", url.Values{"user_id": {"{owner}"}}},
	{"/invitations", url.Values{"email_address": {"new@acme.test"}, "role": {rbac.RoleMember}}},
	{"/invitations/revoke", url.Values{"invitation_id": {"{invitation}"}}},
	{"/domains", url.Values{"domain": {"acme.test"}}},
	{"/domains/code", url.Values{"domain_id": {"{domain}"}, "affiliation_email": {"it@acme.test"}}},
	{"/domains/verify", url.Values{"domain_id": {"{domain}"}, "code": {"123456"}}},
	{"/domains/enrollment", url.Values{"domain_id": {"{domain}"}, "enrollment_mode": {tenancy.EnrollAutomaticInvitation}}},
	{"/domains/delete", url.Values{"domain_id": {"{domain}"}}},
}

// acme is an organization with an owner, a pending invitation and a domain.
type acme struct {
	org                  *tenancy.Organization
	ownerID              string
	invitationID, domain string
}

func setUpAcme(t *testing.T, srv *servertest.Server) acme {
	t.Helper()
	ctx := context.Background()
	owner := srv.CreateUser(t, "owner@acme.test")
	org := createOrg(t, srv, owner.ID, "Acme")
	inv, err := srv.Tenancy.CreateInvitation(ctx, tenancy.Operator(), org.ID, tenancy.NewInvitation{EmailAddress: "pending@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := srv.Tenancy.AddDomain(ctx, tenancy.Operator(), org.ID, tenancy.NewDomain{Name: "acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	return acme{org: org, ownerID: owner.ID, invitationID: inv.ID, domain: d.ID}
}

func (a acme) fill(form url.Values) url.Values {
	out := url.Values{}
	r := strings.NewReplacer("{owner}", a.ownerID, "{invitation}", a.invitationID, "{domain}", a.domain)
	for k, vs := range form {
		for _, v := range vs {
			out.Add(k, r.Replace(v))
		}
	}
	return out
}

// unchanged fails when anything of Acme changed.
func (a acme) unchanged(t *testing.T, srv *servertest.Server) {
	t.Helper()
	ctx := context.Background()
	op := tenancy.Operator()
	org, err := srv.Tenancy.GetOrganization(ctx, op, a.org.ID)
	if err != nil || org.Name != "Acme" || org.Slug != "acme" {
		t.Fatalf("Acme now %+v, %v", org, err)
	}
	members, _, _ := srv.Tenancy.ListMemberships(ctx, op, a.org.ID, tenancy.ListParams{})
	invitations, _, _ := srv.Tenancy.ListInvitations(ctx, op, a.org.ID, tenancy.ListInvitationsParams{Status: tenancy.InvitationPending})
	domains, _ := srv.Tenancy.ListDomains(ctx, op, a.org.ID)
	owner, _ := srv.Tenancy.MembershipOf(ctx, a.ownerID, a.org.ID)
	if len(invitations) != 1 || len(domains) != 1 || domains[0].EnrollmentMode != tenancy.EnrollManual ||
		domains[0].AffiliationEmailAddress != "" || owner == nil || owner.Role != rbac.RoleOwner {
		t.Fatalf("Acme changed: %d members, %d pending invitations, domains %+v, owner %+v", len(members), len(invitations), domains, owner)
	}
}

func TestNonMemberGets404Everywhere(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		a := setUpAcme(t, srv)
		mallory := srv.CreateUser(t, "mallory@evil.test")
		createOrg(t, srv, mallory.ID, "Evil")
		b := signIn(t, srv, mallory.Email)

		missing := b.Get(srv.Issuer + "/organizations/no-such-org")
		wantStatus(t, "profile of a missing organization", missing, http.StatusNotFound)
		for _, ref := range []string{"acme", a.org.ID} {
			page := b.Get(srv.Issuer + "/organizations/" + ref)
			wantStatus(t, "profile of "+ref, page, http.StatusNotFound)
			if text(t, page.Body) != text(t, missing.Body) {
				t.Errorf("a non-member's page of %s differs from a missing organization's:\n%s\n%s", ref, text(t, page.Body), text(t, missing.Body))
			}
			for _, f := range profileForms {
				t.Run(ref+f.path, func(t *testing.T) {
					r := b.PostForm(srv.Issuer+"/organizations/"+ref+f.path, a.fill(f.form))
					wantStatus(t, "POST "+f.path, r, http.StatusNotFound)
				})
			}
		}
		a.unchanged(t, srv)
		// The forms of the non-member's own organization cannot reach
		// Acme's members, invitations or domains by their ids either.
		for _, f := range profileForms {
			if f.form.Get("user_id") == "" && f.form.Get("invitation_id") == "" && f.form.Get("domain_id") == "" {
				continue
			}
			r := b.PostForm(srv.Issuer+"/organizations/evil"+f.path, a.fill(f.form))
			if r.Status == http.StatusSeeOther {
				t.Errorf("POST evil%s with Acme's ids: %v, want a refusal", f.path, r)
			}
		}
		a.unchanged(t, srv)
	})
}

func TestControlsFollowPermissions(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		a := setUpAcme(t, srv)
		member := srv.CreateUser(t, "member@acme.test")
		admin := srv.CreateUser(t, "admin@acme.test")
		addMember(t, srv, a.org, member.ID, rbac.RoleMember)
		addMember(t, srv, a.org, admin.ID, rbac.RoleAdmin)
		p := "/organizations/acme"

		for _, tc := range []struct {
			email        string
			shown, notIn []string
		}{
			{member.Email, []string{p + "/leave"}, []string{p + "/profile", p + "/invitations", p + "/members/role", p + "/members/remove", p + "/invitations/revoke", p + "/domains", p + "/delete"}},
			{admin.Email, []string{p + "/profile", p + "/invitations", p + "/members/role", p + "/members/remove", p + "/invitations/revoke", p + "/domains", p + "/domains/code", p + "/leave"}, []string{p + "/delete"}},
			{"owner@acme.test", []string{p + "/profile", p + "/invitations", p + "/members/role", p + "/domains", p + "/delete", p + "/leave"}, nil},
		} {
			t.Run(tc.email, func(t *testing.T) {
				page := signIn(t, srv, tc.email).Get(srv.Issuer + p)
				wantStatus(t, "profile", page, http.StatusOK)
				for _, action := range tc.shown {
					if !hasForm(t, page.Body, action) {
						t.Errorf("no form posting to %s", action)
					}
				}
				for _, action := range tc.notIn {
					if hasForm(t, page.Body, action) {
						t.Errorf("a form posts to %s, which the user may not do", action)
					}
				}
			})
		}

		// An admin may not hand out or take away the owner role.
		page := signIn(t, srv, admin.Email).Get(srv.Issuer + p)
		if strings.Contains(page.Body, `value="`+rbac.RoleOwner+`"`) {
			t.Error("the admin is offered the owner role")
		}
		if regexp.MustCompile(`name="user_id" value="` + a.ownerID + `"`).MatchString(page.Body) {
			t.Error("the admin is offered controls over the owner's membership")
		}

		// A member posting the forms anyway is refused with 403, and
		// nothing changes.
		b := signIn(t, srv, member.Email)
		for _, f := range profileForms {
			t.Run("member posts "+f.path, func(t *testing.T) {
				r := b.PostForm(srv.Issuer+p+f.path, a.fill(f.form))
				wantStatus(t, "POST "+f.path, r, http.StatusForbidden)
				if !strings.Contains(text(t, r.Body), "do not have permission") {
					t.Errorf("refusal does not explain itself:\n%s", text(t, r.Body))
				}
			})
		}
		a.unchanged(t, srv)
	})
}

func TestProfileActions(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		ctx := context.Background()
		owner := srv.CreateUser(t, "owner@acme.test")
		bob := srv.CreateUser(t, "bob@acme.test")
		org := createOrg(t, srv, owner.ID, "Acme")
		addMember(t, srv, org, bob.ID, rbac.RoleMember)
		b := signIn(t, srv, owner.Email)
		post := func(path string, form url.Values) *servertest.Response {
			t.Helper()
			return b.PostForm(srv.Issuer+"/organizations/acme"+path, form)
		}

		t.Run("invite and revoke", func(t *testing.T) {
			r := post("/invitations", url.Values{"email_address": {"carol@acme.test"}, "role": {rbac.RoleAdmin}})
			wantRedirect(t, "invite", r, "/organizations/acme?notice=invited")
			if link := acceptURL(t, srv, "carol@acme.test"); !strings.HasPrefix(link, srv.Issuer+"/invitations/accept?token=") {
				t.Errorf("accept link = %q", link)
			}
			page := b.Get(srv.Issuer + "/organizations/acme")
			if !strings.Contains(page.Body, "carol@acme.test") {
				t.Fatal("pending invitation not listed")
			}
			r = post("/invitations", url.Values{"email_address": {"carol@acme.test"}, "role": {rbac.RoleAdmin}})
			wantStatus(t, "invite twice", r, http.StatusConflict)
			if !strings.Contains(r.Body, `value="carol@acme.test"`) {
				t.Error("the refused invitation form was not refilled")
			}
			r = post("/invitations", url.Values{"email_address": {"not-an-address"}})
			wantStatus(t, "invalid address", r, http.StatusBadRequest)

			pending, _, _ := srv.Tenancy.ListInvitations(ctx, tenancy.Operator(), org.ID, tenancy.ListInvitationsParams{Status: tenancy.InvitationPending})
			if len(pending) != 1 {
				t.Fatalf("pending invitations = %d, want 1", len(pending))
			}
			r = post("/invitations/revoke", url.Values{"invitation_id": {pending[0].ID}})
			wantRedirect(t, "revoke", r, "/organizations/acme?notice=revoked")
			if got := b.Get(srv.Issuer + acceptPath(t, acceptURL(t, srv, "carol@acme.test"))); got.Status != http.StatusGone {
				t.Errorf("revoked invitation's link: %v, want 410", got)
			}
		})

		t.Run("change role and remove", func(t *testing.T) {
			r := post("/members/role", url.Values{"user_id": {bob.ID}, "role": {rbac.RoleAdmin}})
			wantRedirect(t, "role", r, "/organizations/acme?notice=role_changed")
			if m, _ := srv.Tenancy.MembershipOf(ctx, bob.ID, org.ID); m == nil || m.Role != rbac.RoleAdmin {
				t.Errorf("Bob's membership = %+v, want admin", m)
			}
			r = post("/members/role", url.Values{"user_id": {bob.ID}, "role": {"org:nonexistent"}})
			wantStatus(t, "unknown role", r, http.StatusBadRequest)
			r = post("/members/remove", url.Values{"user_id": {bob.ID}})
			wantRedirect(t, "remove", r, "/organizations/acme?notice=removed")
			if _, err := srv.Tenancy.MembershipOf(ctx, bob.ID, org.ID); err == nil {
				t.Error("Bob is still a member")
			}
			r = post("/members/remove", url.Values{"user_id": {bob.ID}})
			wantStatus(t, "remove a non-member", r, http.StatusNotFound)
		})

		t.Run("last owner cannot leave", func(t *testing.T) {
			r := post("/leave", nil)
			wantStatus(t, "leave", r, http.StatusConflict)
			if !strings.Contains(text(t, r.Body), "at least one owner") {
				t.Errorf("refusal does not explain itself:\n%s", text(t, r.Body))
			}
		})

		t.Run("domains", func(t *testing.T) {
			r := post("/domains", url.Values{"domain": {"gmail.com"}})
			wantStatus(t, "public domain", r, http.StatusBadRequest)
			r = post("/domains", url.Values{"domain": {"acme.test"}, "enrollment_mode": {tenancy.EnrollManual}})
			wantRedirect(t, "add domain", r, "/organizations/acme?notice=domain_added")
			domains, _ := srv.Tenancy.ListDomains(ctx, tenancy.Operator(), org.ID)
			if len(domains) != 1 {
				t.Fatalf("domains = %d", len(domains))
			}
			id := domains[0].ID
			r = post("/domains/code", url.Values{"domain_id": {id}, "affiliation_email": {"it@elsewhere.test"}})
			wantStatus(t, "code to another domain", r, http.StatusBadRequest)
			r = post("/domains/code", url.Values{"domain_id": {id}, "affiliation_email": {"it@acme.test"}})
			wantRedirect(t, "send code", r, "/organizations/acme?notice=code_sent")
			page := b.Get(srv.Issuer + "/organizations/acme")
			if !hasForm(t, page.Body, "/organizations/acme/domains/verify") {
				t.Fatal("no verify form after a code was sent")
			}
			code := lastCode(t, srv, "it@acme.test")
			wrong := "000000"
			if code == wrong {
				wrong = "111111"
			}
			r = post("/domains/verify", url.Values{"domain_id": {id}, "code": {wrong}})
			wantStatus(t, "wrong code", r, http.StatusBadRequest)
			r = post("/domains/verify", url.Values{"domain_id": {id}, "code": {code}})
			wantRedirect(t, "verify", r, "/organizations/acme?notice=domain_verified")
			r = post("/domains/enrollment", url.Values{"domain_id": {id}, "enrollment_mode": {tenancy.EnrollAutomaticSuggestion}})
			wantRedirect(t, "enrollment", r, "/organizations/acme?notice=enrollment_changed")
			d, err := srv.Tenancy.GetDomain(ctx, tenancy.Operator(), org.ID, id)
			if err != nil || !d.Verified || d.EnrollmentMode != tenancy.EnrollAutomaticSuggestion {
				t.Errorf("domain = %+v, %v; want verified, automatic_suggestion", d, err)
			}
			dan := srv.CreateUser(t, "dan@acme.test")
			list := signIn(t, srv, dan.Email).Get(srv.Issuer + "/organizations")
			if txt := text(t, list.Body); !strings.Contains(txt, "administrators for an invitation. Acme") {
				t.Errorf("a user at the verified domain is not shown the suggestion:\n%s", txt)
			}
			r = post("/domains/delete", url.Values{"domain_id": {id}})
			wantRedirect(t, "delete domain", r, "/organizations/acme?notice=domain_deleted")
		})

		t.Run("rename", func(t *testing.T) {
			r := post("/profile", url.Values{"name": {"Acme Corp"}, "slug": {"Bad Slug"}, "image_url": {""}})
			wantStatus(t, "bad slug", r, http.StatusBadRequest)
			if !strings.Contains(r.Body, `value="Bad Slug"`) {
				t.Error("the refused form was not refilled")
			}
			r = post("/profile", url.Values{"name": {"Acme Corp"}, "slug": {"acme-corp"}, "image_url": {"https://img.example/logo.png"}})
			wantRedirect(t, "rename", r, "/organizations/acme-corp?notice=updated")
			got, err := srv.Tenancy.GetOrganization(ctx, tenancy.Operator(), org.ID)
			if err != nil || got.Name != "Acme Corp" || got.Slug != "acme-corp" || got.ImageURL != "https://img.example/logo.png" {
				t.Errorf("organization = %+v, %v", got, err)
			}
		})

		t.Run("delete", func(t *testing.T) {
			r := b.PostForm(srv.Issuer+"/organizations/acme-corp/delete", url.Values{"confirm": {"acme"}})
			wantStatus(t, "wrong confirmation", r, http.StatusBadRequest)
			if _, err := srv.Tenancy.GetOrganization(ctx, tenancy.Operator(), org.ID); err != nil {
				t.Fatalf("deleted despite a wrong confirmation: %v", err)
			}
			r = b.PostForm(srv.Issuer+"/organizations/acme-corp/delete", url.Values{"confirm": {"acme-corp"}})
			wantRedirect(t, "delete", r, "/organizations?notice=deleted")
			if _, err := srv.Tenancy.GetOrganization(ctx, tenancy.Operator(), org.ID); err == nil {
				t.Error("organization still exists")
			}
			wantStatus(t, "profile after delete", b.Get(srv.Issuer+"/organizations/acme-corp"), http.StatusNotFound)
		})
	})
}

func TestLeaveClearsActiveOrganization(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		owner := srv.CreateUser(t, "owner@acme.test")
		bob := srv.CreateUser(t, "bob@acme.test")
		org := createOrg(t, srv, owner.ID, "Acme")
		addMember(t, srv, org, bob.ID, rbac.RoleMember)
		b := signIn(t, srv, bob.Email)
		wantRedirect(t, "switch", b.PostForm(srv.Issuer+"/organizations/switch", url.Values{"org_id": {org.ID}}), "/organizations")
		if got := activeSession(t, srv, bob.ID).ActiveOrganizationID; got != org.ID {
			t.Fatalf("active organization = %q, want %q", got, org.ID)
		}
		wantRedirect(t, "leave", b.PostForm(srv.Issuer+"/organizations/acme/leave", nil), "/organizations?notice=left")
		if _, err := srv.Tenancy.MembershipOf(context.Background(), bob.ID, org.ID); err == nil {
			t.Error("Bob is still a member")
		}
		if got := activeSession(t, srv, bob.ID).ActiveOrganizationID; got != "" {
			t.Errorf("active organization after leaving = %q, want none", got)
		}
	})
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// lastCode is the verification code in the last mail to email.
func lastCode(t *testing.T, srv *servertest.Server, email string) string {
	t.Helper()
	msgs := outbox(t, srv)
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].To == email {
			if code := sixDigits.FindString(msgs[i].Text); code != "" {
				return code
			}
		}
	}
	t.Fatalf("no code mailed to %s", email)
	return ""
}

// acceptPath is the path and query of an accept link.
func acceptPath(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}
