package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/tenancy"
)

func TestOrganizations(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		e := start(t, dbURL)
		c := e.c
		owner := e.srv.CreateUser(t, "owner@example.com")
		member := e.srv.CreateUser(t, "member@example.com")
		third := e.srv.CreateUser(t, "third@example.com")
		events := recordEvents(t, e)

		var org tenancy.OrganizationJSON
		c.ok(http.MethodPost, "/organizations", obj{
			"name": "Acme Inc", "created_by": owner.ID, "max_allowed_memberships": 3,
			"public_metadata": obj{"tier": "gold", "features": obj{"sso": true}},
		}, &org)
		if org.Object != "organization" || org.Slug != "acme-inc" || *org.MembersCount != 1 || org.MaxAllowedMemberships != 3 {
			t.Fatalf("created %+v", org)
		}
		events.want(t, "organization.created", "organizationMembership.created")

		t.Run("create errors change nothing", func(t *testing.T) {
			for _, tc := range []struct {
				name   string
				body   obj
				status int
				code   string
				param  string
			}{
				{"no name", obj{"created_by": owner.ID}, 400, "form_param_missing", "name"},
				{"no creator", obj{"name": "X"}, 400, "form_param_missing", "created_by"},
				{"unknown creator", obj{"name": "X", "created_by": "user_nobody"}, 422, "form_param_format_invalid", "created_by"},
				{"taken slug", obj{"name": "X", "slug": "acme-inc", "created_by": owner.ID}, 409, "form_identifier_exists", "slug"},
				{"bad slug", obj{"name": "X", "slug": "Not A Slug", "created_by": owner.ID}, 422, "form_param_format_invalid", ""},
				{"negative limit", obj{"name": "X", "created_by": owner.ID, "max_allowed_memberships": -1}, 422, "form_param_format_invalid", "max_allowed_memberships"},
				{"unknown field", obj{"name": "X", "created_by": owner.ID, "logo": "x"}, 400, "form_param_unknown", "logo"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					wantError(t, c.do(http.MethodPost, "/organizations", tc.body), tc.status, tc.code, tc.param)
				})
			}
			var list struct {
				Data       []tenancy.OrganizationJSON `json:"data"`
				TotalCount int                        `json:"total_count"`
			}
			c.ok(http.MethodGet, "/organizations", nil, &list)
			if list.TotalCount != 1 || len(list.Data) != 1 {
				t.Errorf("after refused creates: %d organizations, want 1", list.TotalCount)
			}
			events.want(t)
		})

		t.Run("get update metadata", func(t *testing.T) {
			var bySlug, byID tenancy.OrganizationJSON
			c.ok(http.MethodGet, "/organizations/acme-inc", nil, &bySlug)
			c.ok(http.MethodGet, "/organizations/"+org.ID+"?include_members_count=true", nil, &byID)
			if diff := cmp.Diff(bySlug, byID); diff != "" {
				t.Errorf("by slug and by id differ (-slug +id):\n%s", diff)
			}
			var up tenancy.OrganizationJSON
			c.ok(http.MethodPatch, "/organizations/"+org.ID, obj{"name": "Acme Corp", "slug": "acme", "admin_delete_enabled": false}, &up)
			if up.Name != "Acme Corp" || up.Slug != "acme" || up.AdminDeleteEnabled {
				t.Errorf("updated %+v", up)
			}
			events.want(t, "organization.updated")
			wantError(t, c.do(http.MethodPatch, "/organizations/"+org.ID, obj{"name": "Changed", "slug": "Bad Slug"}), 422, "form_param_format_invalid", "")
			wantError(t, c.do(http.MethodGet, "/organizations/acme-inc", nil), 404, "resource_not_found", "")

			var merged tenancy.OrganizationJSON
			c.ok(http.MethodPatch, "/organizations/acme/metadata", obj{"public_metadata": obj{"features": obj{"audit": true}}, "private_metadata": obj{"crm": 7}}, &merged)
			wantPublic := map[string]any{"tier": "gold", "features": map[string]any{"sso": true, "audit": true}}
			if diff := cmp.Diff(wantPublic, merged.PublicMetadata); diff != "" {
				t.Errorf("merged public_metadata (-want +got):\n%s", diff)
			}
			if merged.Name != "Acme Corp" {
				t.Errorf("merge changed the name: %q", merged.Name)
			}
			var replaced tenancy.OrganizationJSON
			c.ok(http.MethodPut, "/organizations/acme/metadata", obj{"public_metadata": obj{}}, &replaced)
			if len(replaced.PublicMetadata) != 0 || replaced.PrivateMetadata["crm"] != float64(7) {
				t.Errorf("replace: public %v private %v", replaced.PublicMetadata, replaced.PrivateMetadata)
			}
			events.want(t, "organization.updated", "organization.updated")
		})

		t.Run("memberships", func(t *testing.T) {
			var m tenancy.MembershipJSON
			c.ok(http.MethodPost, "/organizations/"+org.ID+"/memberships", obj{"user_id": member.ID, "role": "org:member"}, &m)
			if m.Object != "organization_membership" || m.Role != "org:member" || m.PublicUserData.UserID != member.ID || m.Organization.ID != org.ID {
				t.Fatalf("membership %+v", m)
			}
			events.want(t, "organizationMembership.created")
			for _, tc := range []struct {
				name   string
				body   obj
				status int
				code   string
				param  string
			}{
				{"again", obj{"user_id": member.ID, "role": "org:member"}, 409, "already_a_member_in_organization", "user_id"},
				{"unknown user", obj{"user_id": "user_nobody", "role": "org:member"}, 422, "form_param_format_invalid", "user_id"},
				{"unknown role", obj{"user_id": third.ID, "role": "org:nope"}, 422, "form_param_format_invalid", "role"},
				{"no role", obj{"user_id": member.ID}, 400, "form_param_missing", "role"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					wantError(t, c.do(http.MethodPost, "/organizations/"+org.ID+"/memberships", tc.body), tc.status, tc.code, tc.param)
				})
			}
			wantError(t, c.do(http.MethodPost, "/organizations/org_nothing/memberships", obj{"user_id": member.ID, "role": "org:member"}), 404, "resource_not_found", "")

			var list struct {
				Data       []tenancy.MembershipJSON `json:"data"`
				TotalCount int                      `json:"total_count"`
			}
			c.ok(http.MethodGet, "/organizations/"+org.ID+"/memberships?limit=1&offset=1", nil, &list)
			if list.TotalCount != 2 || len(list.Data) != 1 || list.Data[0].PublicUserData.UserID != member.ID {
				t.Errorf("second page of members: %+v", list)
			}

			var changed tenancy.MembershipJSON
			c.ok(http.MethodPatch, "/organizations/"+org.ID+"/memberships/"+member.ID, obj{"role": "org:admin"}, &changed)
			if changed.Role != "org:admin" {
				t.Errorf("role %q, want org:admin", changed.Role)
			}
			events.want(t, "organizationMembership.updated")
			wantError(t, c.do(http.MethodPatch, "/organizations/"+org.ID+"/memberships/"+owner.ID, obj{"role": "org:member"}), 409, "organization_minimum_owners", "")
			wantError(t, c.do(http.MethodDelete, "/organizations/"+org.ID+"/memberships/"+owner.ID, nil), 409, "organization_minimum_owners", "")
			events.want(t)

			var meta tenancy.MembershipJSON
			c.ok(http.MethodPatch, "/organizations/"+org.ID+"/memberships/"+member.ID+"/metadata", obj{"public_metadata": obj{"team": "red"}}, &meta)
			if meta.PublicMetadata["team"] != "red" {
				t.Errorf("membership metadata %v", meta.PublicMetadata)
			}
			events.want(t, "organizationMembership.updated")

			var gone tenancy.MembershipJSON
			c.ok(http.MethodDelete, "/organizations/"+org.ID+"/memberships/"+member.ID, nil, &gone)
			if gone.ID != m.ID {
				t.Errorf("delete answered membership %s, want %s", gone.ID, m.ID)
			}
			events.want(t, "organizationMembership.deleted")
			wantError(t, c.do(http.MethodDelete, "/organizations/"+org.ID+"/memberships/"+member.ID, nil), 404, "resource_not_found", "")
		})

		t.Run("invitations", func(t *testing.T) {
			var inv tenancy.InvitationJSON
			c.ok(http.MethodPost, "/organizations/"+org.ID+"/invitations", obj{
				"email_address": "invitee@example.com", "role": "org:member", "inviter_user_id": owner.ID, "expires_in_days": 3,
			}, &inv)
			if inv.Object != "organization_invitation" || inv.Status != "pending" || inv.URL == nil || !strings.Contains(*inv.URL, "token=") {
				t.Fatalf("invitation %+v", inv)
			}
			if days := (inv.ExpiresAt - inv.CreatedAt) / 86400000; days != 3 {
				t.Errorf("expires after %d days, want 3", days)
			}
			events.want(t, "organizationInvitation.created")
			wantError(t, c.do(http.MethodPost, "/organizations/"+org.ID+"/invitations", obj{"email_address": "invitee@example.com"}), 409, "duplicate_record", "email_address")
			wantError(t, c.do(http.MethodPost, "/organizations/"+org.ID+"/invitations", obj{"email_address": "x@example.com", "expires_in_days": 31}), 422, "form_param_format_invalid", "expires_in_days")
			wantError(t, c.do(http.MethodPost, "/organizations/"+org.ID+"/invitations", obj{"email_address": "x@example.com", "inviter_user_id": "user_nobody"}), 422, "form_param_format_invalid", "inviter_user_id")
			wantError(t, c.do(http.MethodPost, "/organizations/"+org.ID+"/invitations", obj{"email_address": "nope"}), 422, "form_param_format_invalid", "")
			events.want(t)

			var got tenancy.InvitationJSON
			c.ok(http.MethodGet, "/organizations/"+org.ID+"/invitations/"+inv.ID, nil, &got)
			if got.ID != inv.ID || got.URL != nil {
				t.Errorf("GET invitation %+v: want the same id and no url", got)
			}
			var pending struct {
				Data       []tenancy.InvitationJSON `json:"data"`
				TotalCount int                      `json:"total_count"`
			}
			c.ok(http.MethodGet, "/organizations/"+org.ID+"/invitations?status=pending", nil, &pending)
			if pending.TotalCount != 1 {
				t.Errorf("pending invitations: %d, want 1", pending.TotalCount)
			}
			wantError(t, c.do(http.MethodGet, "/organizations/"+org.ID+"/invitations?status=bogus", nil), 400, "form_param_format_invalid", "status")

			var revoked tenancy.InvitationJSON
			c.ok(http.MethodPost, "/organizations/"+org.ID+"/invitations/"+inv.ID+"/revoke", obj{"requesting_user_id": owner.ID}, &revoked)
			if revoked.Status != "revoked" {
				t.Errorf("status %q, want revoked", revoked.Status)
			}
			events.want(t, "organizationInvitation.revoked")
			wantError(t, c.do(http.MethodPost, "/organizations/"+org.ID+"/invitations/"+inv.ID+"/revoke", nil), 409, "organization_invitation_not_pending", "")
			wantError(t, c.do(http.MethodGet, "/organizations/"+org.ID+"/invitations/orginv_nothing", nil), 404, "resource_not_found", "")
		})

		t.Run("delete", func(t *testing.T) {
			var del obj
			c.ok(http.MethodDelete, "/organizations/acme", nil, &del)
			if diff := cmp.Diff(obj{"object": "organization", "id": org.ID, "deleted": true}, del); diff != "" {
				t.Errorf("delete answer (-want +got):\n%s", diff)
			}
			events.want(t, "organization.deleted")
			wantError(t, c.do(http.MethodGet, "/organizations/"+org.ID, nil), 404, "resource_not_found", "")
			wantError(t, c.do(http.MethodDelete, "/organizations/"+org.ID, nil), 404, "resource_not_found", "")
		})
	})
}
