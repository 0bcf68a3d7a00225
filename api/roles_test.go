package api_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage/storagetest"
)

func TestRolesAndPermissions(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		e := start(t, dbURL)
		c := e.c
		events := recordEvents(t, e)

		var perm rbac.PermissionJSON
		c.ok(http.MethodPost, "/organization_permissions", obj{"key": "org:projects:manage", "description": "Manage projects"}, &perm)
		if perm.Object != "permission" || perm.Key != "org:projects:manage" || perm.Name != "org:projects:manage" {
			t.Fatalf("permission %+v", perm)
		}
		events.want(t, "permission.created")
		wantError(t, c.do(http.MethodPost, "/organization_permissions", obj{"key": "org:projects:manage"}), 409, "duplicate_record", "")
		wantError(t, c.do(http.MethodPost, "/organization_permissions", obj{"key": "org:sys_x:y"}), 422, "form_param_format_invalid", "")
		wantError(t, c.do(http.MethodPost, "/organization_permissions", obj{"key": "projects"}), 422, "form_param_format_invalid", "")
		events.want(t)

		var role rbac.RoleJSON
		c.ok(http.MethodPost, "/organization_roles", obj{"key": "org:viewer", "name": "Viewer", "permissions": []string{perm.ID}}, &role)
		if role.Object != "role" || role.Key != "org:viewer" || len(role.Permissions) != 1 || role.Permissions[0].Key != perm.Key {
			t.Fatalf("role %+v", role)
		}
		events.want(t, "role.created")
		wantError(t, c.do(http.MethodPost, "/organization_roles", obj{"key": "org:other", "name": "Other", "permissions": []string{"org:nope:x"}}), 422, "form_param_format_invalid", "permissions")
		wantError(t, c.do(http.MethodPost, "/organization_roles", obj{"key": "org:viewer", "name": "Again"}), 409, "duplicate_record", "")
		wantError(t, c.do(http.MethodPost, "/organization_roles", obj{"key": "viewer", "name": "Bad"}), 422, "form_param_format_invalid", "")
		events.want(t)

		t.Run("get list update", func(t *testing.T) {
			var byKey rbac.RoleJSON
			c.ok(http.MethodGet, "/organization_roles/org:viewer", nil, &byKey)
			if diff := cmp.Diff(role, byKey); diff != "" {
				t.Errorf("by key (-created +got):\n%s", diff)
			}
			var list struct {
				Data       []rbac.RoleJSON `json:"data"`
				TotalCount int             `json:"total_count"`
			}
			c.ok(http.MethodGet, "/organization_roles?limit=3", nil, &list)
			keys := []string{}
			for _, r := range list.Data {
				keys = append(keys, r.Key)
			}
			if list.TotalCount != 4 || !slices.Equal(keys, []string{"org:owner", "org:admin", "org:member"}) {
				t.Errorf("roles page: total %d keys %v", list.TotalCount, keys)
			}
			var renamed rbac.RoleJSON
			c.ok(http.MethodPatch, "/organization_roles/"+role.ID, obj{"name": "Read-only"}, &renamed)
			if renamed.Name != "Read-only" || renamed.Key != "org:viewer" {
				t.Errorf("renamed %+v", renamed)
			}
			wantError(t, c.do(http.MethodPatch, "/organization_roles/"+role.ID, obj{"key": "org:changed"}), 400, "form_param_unknown", "key")
			var p rbac.PermissionJSON
			c.ok(http.MethodPatch, "/organization_permissions/org:projects:manage", obj{"name": "Projects"}, &p)
			if p.Name != "Projects" {
				t.Errorf("permission name %q", p.Name)
			}
			events.want(t, "role.updated", "permission.updated")
		})

		t.Run("grant revoke", func(t *testing.T) {
			c.ok(http.MethodPost, "/organization_permissions", obj{"key": "org:billing:read"}, nil)
			var granted rbac.RoleJSON
			c.ok(http.MethodPost, "/organization_roles/org:viewer/permissions/org:billing:read", nil, &granted)
			if len(granted.Permissions) != 2 {
				t.Errorf("after grant: %d permissions, want 2", len(granted.Permissions))
			}
			var revoked rbac.RoleJSON
			c.ok(http.MethodDelete, "/organization_roles/org:viewer/permissions/org:billing:read", nil, &revoked)
			if len(revoked.Permissions) != 1 {
				t.Errorf("after revoke: %d permissions, want 1", len(revoked.Permissions))
			}
			events.want(t, "permission.created", "role.updated", "role.updated")
			wantError(t, c.do(http.MethodPost, "/organization_roles/org:owner/permissions/org:sys_profile:delete", nil), 403, "resource_forbidden", "")
			wantError(t, c.do(http.MethodPost, "/organization_roles/org:nope/permissions/org:billing:read", nil), 404, "resource_not_found", "")
			events.want(t)
		})

		t.Run("delete", func(t *testing.T) {
			wantError(t, c.do(http.MethodDelete, "/organization_roles/org:admin", nil), 403, "resource_forbidden", "")
			wantError(t, c.do(http.MethodDelete, "/organization_permissions/org:sys_profile:manage", nil), 403, "resource_forbidden", "")

			// A role in use cannot go.
			owner := e.srv.CreateUser(t, "owner@example.com")
			viewer := e.srv.CreateUser(t, "viewer@example.com")
			var org obj
			c.ok(http.MethodPost, "/organizations", obj{"name": "Org", "created_by": owner.ID}, &org)
			c.ok(http.MethodPost, "/organizations/"+org["id"].(string)+"/memberships", obj{"user_id": viewer.ID, "role": "org:viewer"}, nil)
			events.want(t, "user.created", "user.created", "organization.created", "organizationMembership.created", "organizationMembership.created")
			wantError(t, c.do(http.MethodDelete, "/organization_roles/org:viewer", nil), 409, "role_in_use", "")
			c.ok(http.MethodDelete, "/organizations/"+org["id"].(string)+"/memberships/"+viewer.ID, nil, nil)
			events.want(t, "organizationMembership.deleted")

			var del obj
			c.ok(http.MethodDelete, "/organization_roles/org:viewer", nil, &del)
			if diff := cmp.Diff(obj{"object": "role", "id": role.ID, "deleted": true}, del); diff != "" {
				t.Errorf("delete role (-want +got):\n%s", diff)
			}
			c.ok(http.MethodDelete, "/organization_permissions/org:projects:manage", nil, &del)
			if del["id"] != perm.ID || del["object"] != "permission" {
				t.Errorf("delete permission answer %v", del)
			}
			events.want(t, "role.deleted", "permission.deleted")
			wantError(t, c.do(http.MethodGet, "/organization_roles/"+role.ID, nil), 404, "resource_not_found", "")
		})
	})
}
