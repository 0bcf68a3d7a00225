package rbac_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/storagetest"
)

func TestSystemRolesAreSeeded(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		roles, err := f.svc.ListRoles(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		var order []string
		for _, r := range roles {
			got[r.Key] = r.PermissionKeys()
			order = append(order, r.Key)
			if !r.System {
				t.Errorf("role %s: System = false, want true", r.Key)
			}
		}
		want := map[string][]string{
			rbac.RoleOwner:  {"org:sys_domains:manage", "org:sys_domains:read", "org:sys_memberships:manage", "org:sys_memberships:read", "org:sys_profile:delete", "org:sys_profile:manage"},
			rbac.RoleAdmin:  {"org:sys_domains:manage", "org:sys_domains:read", "org:sys_memberships:manage", "org:sys_memberships:read", "org:sys_profile:manage"},
			rbac.RoleMember: {"org:sys_memberships:read"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("system role permissions (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{rbac.RoleOwner, rbac.RoleAdmin, rbac.RoleMember}, order); diff != "" {
			t.Errorf("role order (-want +got):\n%s", diff)
		}

		perms, err := f.svc.ListPermissions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, p := range perms {
			keys = append(keys, p.Key)
			if j := p.JSON(); j.Type != "system" || j.Object != "permission" {
				t.Errorf("permission %s JSON type/object = %q/%q, want system/permission", p.Key, j.Type, j.Object)
			}
		}
		wantKeys := rbac.SystemPermissions()
		if diff := cmp.Diff(wantKeys, keys, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
			t.Errorf("seeded permissions (-want +got):\n%s", diff)
		}
		owner, _ := f.svc.GetRole(ctx, rbac.RoleOwner)
		admin, _ := f.svc.GetRole(ctx, rbac.RoleAdmin)
		if !owner.JSON().IsCreatorEligible || admin.JSON().IsCreatorEligible {
			t.Errorf("is_creator_eligible owner=%v admin=%v, want true/false", owner.JSON().IsCreatorEligible, admin.JSON().IsCreatorEligible)
		}
	})
}

func TestKeyValidation(t *testing.T) {
	for _, tc := range []struct {
		key        string
		role, perm bool // valid as a custom role / permission key
	}{
		{"org:viewer", true, false},
		{"org:billing_team", true, false},
		{"org:invoices:create", false, true},
		{"org:projects2:read_all", false, true},
		{"org:sys_profile:manage", false, false}, // reserved namespace
		{"org:sys_custom:read", false, false},
		{"org:system:read", false, true}, // only the sys_ prefix is reserved
		{"viewer", false, false},
		{"org:", false, false},
		{"org:Viewer", false, false},
		{"org:a-b", false, false},
		{"org:a:b:c", false, false},
		{"org:1abc:read", false, false},
		{"org:x:", false, false},
		{"org:x:read\n", false, false},
		{"org:" + strings.Repeat("a", 120), false, false},
	} {
		if got := rbac.ValidateRoleKey(tc.key) == nil; got != tc.role {
			t.Errorf("ValidateRoleKey(%q) valid = %v, want %v", tc.key, got, tc.role)
		}
		err := rbac.ValidatePermissionKey(tc.key)
		if got := err == nil; got != tc.perm {
			t.Errorf("ValidatePermissionKey(%q) valid = %v, want %v", tc.key, got, tc.perm)
		}
		if err != nil && !errors.Is(err, rbac.ErrInvalid) {
			t.Errorf("ValidatePermissionKey(%q) = %v, want ErrInvalid", tc.key, err)
		}
	}
}

func TestGrantsHas(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		if _, err := f.svc.CreatePermission(ctx, rbac.NewPermission{Key: "org:invoices:read", Name: "Read invoices"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreatePermission(ctx, rbac.NewPermission{Key: "org:invoices:pay"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateRole(ctx, rbac.NewRole{Key: "org:billing", Name: "Billing",
			Permissions: []string{"org:invoices:read", "org:invoices:pay", rbac.PermMembershipsRead}}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Grant(ctx, rbac.RoleAdmin, "org:invoices:read"); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			role, perm string
			want       bool
		}{
			{rbac.RoleOwner, rbac.PermProfileDelete, true},
			{rbac.RoleAdmin, rbac.PermProfileDelete, false},
			{rbac.RoleAdmin, rbac.PermMembershipsManage, true},
			{rbac.RoleAdmin, "org:invoices:read", true},
			{rbac.RoleAdmin, "org:invoices:pay", false},
			{rbac.RoleMember, rbac.PermMembershipsRead, true},
			{rbac.RoleMember, rbac.PermMembershipsManage, false},
			{rbac.RoleMember, "org:invoices:read", false},
			{"org:billing", "org:invoices:pay", true},
			{"org:billing", rbac.PermMembershipsRead, true},
			{"org:billing", rbac.PermProfileManage, false},
			{"org:billing", "org:invoices", false},
			{"org:billing", "", false},
		} {
			g, err := f.svc.Grants(ctx, tc.role)
			if err != nil {
				t.Fatalf("Grants(%s): %v", tc.role, err)
			}
			if got := g.Has(tc.perm); got != tc.want {
				t.Errorf("Grants(%s).Has(%q) = %v, want %v", tc.role, tc.perm, got, tc.want)
			}
		}
		g, _ := f.svc.Grants(ctx, "org:billing")
		if diff := cmp.Diff([]string{"org:invoices:pay", "org:invoices:read"}, g.CustomPermissions()); diff != "" {
			t.Errorf("CustomPermissions (-want +got):\n%s", diff)
		}
		owner, _ := f.svc.Grants(ctx, rbac.RoleOwner)
		if got := owner.CustomPermissions(); got == nil || len(got) != 0 {
			t.Errorf("owner CustomPermissions = %#v, want empty non-nil", got)
		}
		if _, err := f.svc.Grants(ctx, "org:nope"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Grants(unknown) err = %v, want ErrNotFound", err)
		}
		var zero rbac.Grants
		if zero.Has(rbac.PermMembershipsRead) {
			t.Error("zero Grants has a permission")
		}
	})
}

func TestGrantChangesApplyOnNextCheck(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		if _, err := f.svc.CreatePermission(ctx, rbac.NewPermission{Key: "org:reports:export"}); err != nil {
			t.Fatal(err)
		}
		f.events.events(t)
		has := func() bool {
			g, err := f.svc.Grants(ctx, rbac.RoleMember)
			if err != nil {
				t.Fatal(err)
			}
			return g.Has("org:reports:export")
		}
		if has() {
			t.Fatal("member has org:reports:export before the grant")
		}
		if err := f.svc.Grant(ctx, rbac.RoleMember, "org:reports:export"); err != nil {
			t.Fatal(err)
		}
		if !has() {
			t.Error("member lacks org:reports:export after the grant")
		}
		// Granting twice changes nothing and emits nothing.
		if err := f.svc.Grant(ctx, rbac.RoleMember, "org:reports:export"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Revoke(ctx, rbac.RoleMember, "org:reports:export"); err != nil {
			t.Fatal(err)
		}
		if has() {
			t.Error("member has org:reports:export after the revoke")
		}
		if diff := cmp.Diff([]string{"role.updated", "role.updated"}, f.events.types(t)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		// Deleting a permission takes it from its roles at once.
		if err := f.svc.Grant(ctx, rbac.RoleMember, "org:reports:export"); err != nil {
			t.Fatal(err)
		}
		f.events.events(t)
		if err := f.svc.DeletePermission(ctx, "org:reports:export"); err != nil {
			t.Fatal(err)
		}
		if has() {
			t.Error("member has org:reports:export after the permission was deleted")
		}
		if diff := cmp.Diff([]string{"permission.deleted", "role.updated"}, f.events.types(t)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
}

func TestRoleAndPermissionLifecycle(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		p, err := f.svc.CreatePermission(ctx, rbac.NewPermission{Key: "org:projects:manage", Name: "Manage projects", Description: "Create and delete projects"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.CreatePermission(ctx, rbac.NewPermission{Key: "org:projects:manage"})
		wantErr(t, "duplicate permission", err, storage.ErrConflict)
		_, err = f.svc.CreatePermission(ctx, rbac.NewPermission{Key: "org:sys_projects:manage"})
		wantErr(t, "sys_ permission", err, rbac.ErrInvalid)

		r, err := f.svc.CreateRole(ctx, rbac.NewRole{Key: "org:viewer", Name: "Viewer", Description: "Reads", Permissions: []string{p.ID}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.CreateRole(ctx, rbac.NewRole{Key: "org:viewer", Name: "Again"})
		wantErr(t, "duplicate role", err, storage.ErrConflict)
		_, err = f.svc.CreateRole(ctx, rbac.NewRole{Key: "org:x", Name: "X", Permissions: []string{"org:missing:perm"}})
		wantErr(t, "role with unknown permission", err, storage.ErrNotFound)
		if _, err := f.svc.GetRole(ctx, "org:x"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("role with unknown permission was created (GetRole err = %v)", err)
		}
		_, err = f.svc.CreateRole(ctx, rbac.NewRole{Key: "org:y", Name: " "})
		wantErr(t, "role without name", err, rbac.ErrInvalid)

		want := rbac.RoleJSON{Object: "role", ID: r.ID, Key: "org:viewer", Name: "Viewer", Description: "Reads",
			Permissions: []rbac.PermissionJSON{{Object: "permission", ID: p.ID, Key: "org:projects:manage", Name: "Manage projects",
				Description: "Create and delete projects", Type: "user", CreatedAt: p.CreatedAt.UnixMilli(), UpdatedAt: p.UpdatedAt.UnixMilli()}},
			CreatedAt: r.CreatedAt.UnixMilli(), UpdatedAt: r.UpdatedAt.UnixMilli()}
		got, err := f.svc.GetRole(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got.JSON()); diff != "" {
			t.Errorf("role JSON (-want +got):\n%s", diff)
		}
		evs := f.events.events(t)
		if len(evs) != 2 || evs[0].Type != "permission.created" || evs[1].Type != "role.created" || evs[1].Data["key"] != "org:viewer" {
			t.Errorf("events = %+v, want permission.created, role.created(org:viewer)", evs)
		}

		name := "Project viewer"
		if u, err := f.svc.UpdateRole(ctx, "org:viewer", rbac.RoleUpdate{Name: &name}); err != nil || u.Name != name {
			t.Errorf("UpdateRole = %+v, %v", u, err)
		}
		if u, err := f.svc.UpdatePermission(ctx, "org:projects:manage", rbac.PermissionUpdate{Name: &name}); err != nil || u.Name != name {
			t.Errorf("UpdatePermission = %+v, %v", u, err)
		}
		_, err = f.svc.UpdatePermission(ctx, rbac.PermProfileManage, rbac.PermissionUpdate{Name: &name})
		wantErr(t, "update system permission", err, rbac.ErrSystem)
		if diff := cmp.Diff([]string{"role.updated", "permission.updated"}, f.events.types(t)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}

		f.usage["org:viewer"] = true
		wantErr(t, "delete role in use", f.svc.DeleteRole(ctx, "org:viewer"), rbac.ErrRoleInUse)
		wantErr(t, "delete role in use is a conflict", f.svc.DeleteRole(ctx, "org:viewer"), storage.ErrConflict)
		f.usage["org:viewer"] = false
		if err := f.svc.DeleteRole(ctx, "org:viewer"); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "delete deleted role", f.svc.DeleteRole(ctx, "org:viewer"), storage.ErrNotFound)
		evs = f.events.events(t)
		if diff := cmp.Diff([]event{{Type: "role.deleted", Data: map[string]any{"object": "role", "id": r.ID, "deleted": true}}}, evs); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
}

func TestSystemDefinitionsAreProtected(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		for _, role := range []string{rbac.RoleOwner, rbac.RoleAdmin, rbac.RoleMember} {
			wantErr(t, "delete "+role, f.svc.DeleteRole(ctx, role), rbac.ErrSystem)
			wantErr(t, "revoke system permission from "+role, f.svc.Revoke(ctx, role, rbac.PermMembershipsRead), rbac.ErrSystem)
			wantErr(t, "grant system permission to "+role, f.svc.Grant(ctx, role, rbac.PermProfileDelete), rbac.ErrSystem)
		}
		wantErr(t, "delete system permission", f.svc.DeletePermission(ctx, rbac.PermProfileDelete), rbac.ErrSystem)
		// Custom roles may hold system permissions.
		if _, err := f.svc.CreateRole(ctx, rbac.NewRole{Key: "org:support", Name: "Support"}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Grant(ctx, "org:support", rbac.PermMembershipsManage); err != nil {
			t.Fatalf("grant system permission to a custom role: %v", err)
		}
		g, _ := f.svc.Grants(ctx, "org:support")
		if !g.Has(rbac.PermMembershipsManage) || len(g.CustomPermissions()) != 0 {
			t.Errorf("support grants = %v, want only the system permission", g.Permissions())
		}
		owner, _ := f.svc.Grants(ctx, rbac.RoleOwner)
		if len(owner.Permissions()) != 6 {
			t.Errorf("owner permissions changed: %v", owner.Permissions())
		}
	})
}

func TestEventsCommitWithTheChange(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		boom := errors.New("boom")
		// The caller's transaction rolls back: no role, no event.
		err := storage.InTx(ctx, db, func(ctx context.Context) error {
			if _, err := f.svc.CreateRole(ctx, rbac.NewRole{Key: "org:temp", Name: "Temp"}); err != nil {
				return err
			}
			return boom
		})
		wantErr(t, "outer rollback", err, boom)
		if _, err := f.svc.GetRole(ctx, "org:temp"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("role survived the rollback: %v", err)
		}
		if evs := f.events.events(t); len(evs) != 0 {
			t.Errorf("events after rollback = %+v, want none", evs)
		}
		// The event cannot be recorded: the change does not happen.
		f.events.fail = boom
		_, err = f.svc.CreatePermission(ctx, rbac.NewPermission{Key: "org:temp:read"})
		wantErr(t, "failing Emit", err, boom)
		f.events.fail = nil
		if _, err := f.svc.GetPermission(ctx, "org:temp:read"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("permission created although its event failed: %v", err)
		}
		// And a committed change carries its event.
		if _, err := f.svc.CreatePermission(ctx, rbac.NewPermission{Key: "org:temp:read"}); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"permission.created"}, f.events.types(t)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
}

func TestGrantsValue(t *testing.T) {
	g := rbac.NewGrants("org:x", []string{"org:b:read", "org:a:read", "org:b:read", rbac.PermDomainsRead})
	if diff := cmp.Diff([]string{"org:a:read", "org:b:read", rbac.PermDomainsRead}, g.Permissions()); diff != "" {
		t.Errorf("Permissions (-want +got):\n%s", diff)
	}
	small := rbac.NewGrants("org:y", []string{"org:a:read"})
	if !g.Includes(small) || small.Includes(g) || !g.Includes(rbac.Grants{}) {
		t.Error("Includes is wrong")
	}
	if g.Role() != "org:x" {
		t.Errorf("Role = %q", g.Role())
	}
}
