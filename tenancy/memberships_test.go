package tenancy_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/tenancy"
)

func TestMembershipLifecycle(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ada, bob := f.user("ada@example.com"), f.user("bob@example.com")
		org := f.org("Acme", ada)
		f.events.take(t)
		f.clock.Advance(time.Second) // members list oldest first
		m, err := f.svc.AddMembership(ctx, tenancy.Operator(), "acme", bob.ID, rbac.RoleMember)
		if err != nil {
			t.Fatal(err)
		}
		if m.Role != rbac.RoleMember || m.Organization.ID != org.ID || m.PublicUserData.Identifier != "bob@example.com" {
			t.Errorf("added membership = %+v", m)
		}
		_, err = f.svc.AddMembership(ctx, tenancy.Operator(), org.ID, bob.ID, rbac.RoleAdmin)
		wantErr(t, "add twice", err, tenancy.ErrAlreadyMember)
		_, err = f.svc.AddMembership(ctx, tenancy.Operator(), org.ID, f.user("cy@example.com").ID, "org:nope")
		wantErr(t, "unknown role", err, tenancy.ErrInvalid)
		_, err = f.svc.AddMembership(ctx, tenancy.Operator(), org.ID, "user_nope", rbac.RoleMember)
		wantErr(t, "unknown user", err, storage.ErrNotFound)

		m, err = f.svc.SetMembershipRole(ctx, tenancy.Operator(), org.ID, bob.ID, rbac.RoleAdmin)
		if err != nil || m.Role != rbac.RoleAdmin || m.RoleName != "Admin" {
			t.Fatalf("set role = %+v, %v", m, err)
		}
		m, err = f.svc.UpdateMembershipMetadata(ctx, tenancy.Operator(), org.ID, bob.ID, map[string]any{"team": "red"}, nil)
		if err != nil || m.PublicMetadata["team"] != "red" {
			t.Fatalf("update metadata = %+v, %v", m, err)
		}
		_, err = f.svc.UpdateMembershipMetadata(ctx, tenancy.UserActor(ada.ID), org.ID, bob.ID, map[string]any{"team": "blue"}, nil)
		wantErr(t, "owner sets membership metadata", err, tenancy.ErrForbidden)

		list, total, err := f.svc.ListMemberships(ctx, tenancy.UserActor(bob.ID), org.ID, tenancy.ListParams{})
		if err != nil || total != 2 || len(list) != 2 {
			t.Fatalf("list = %v, %d, %v", list, total, err)
		}
		j := list[1].JSON()
		if j.Object != "organization_membership" || j.Role != rbac.RoleAdmin || j.PublicUserData.UserID != bob.ID ||
			j.Organization == nil || j.Organization.ID != org.ID || j.PublicMetadata["team"] != "red" || len(j.Permissions) != 5 {
			t.Errorf("membership JSON = %+v", j)
		}
		if err := f.svc.RemoveMembership(ctx, tenancy.Operator(), org.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "remove twice", f.svc.RemoveMembership(ctx, tenancy.Operator(), org.ID, bob.ID), storage.ErrNotFound)
		if diff := cmp.Diff([]string{"organizationMembership.created", "organizationMembership.updated", "organizationMembership.updated", "organizationMembership.deleted"}, f.events.types(t)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
}

func TestLastOwnerStays(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ada, bob := f.user("ada@example.com"), f.user("bob@example.com")
		org := f.org("Acme", ada)
		f.member(org, bob, rbac.RoleAdmin)
		for _, tc := range []struct {
			name string
			do   func() error
		}{
			{"operator removes", func() error { return f.svc.RemoveMembership(ctx, tenancy.Operator(), org.ID, ada.ID) }},
			{"owner leaves", func() error { return f.svc.RemoveMembership(ctx, tenancy.UserActor(ada.ID), org.ID, ada.ID) }},
			{"operator demotes", func() error {
				_, err := f.svc.SetMembershipRole(ctx, tenancy.Operator(), org.ID, ada.ID, rbac.RoleAdmin)
				return err
			}},
			{"owner demotes self", func() error {
				_, err := f.svc.SetMembershipRole(ctx, tenancy.UserActor(ada.ID), org.ID, ada.ID, rbac.RoleMember)
				return err
			}},
		} {
			wantErr(t, tc.name, tc.do(), tenancy.ErrLastOwner)
		}
		if n := f.owners(org); n != 1 {
			t.Fatalf("owners = %d, want 1", n)
		}
		// With a second owner, one may go; then the other is the last.
		if _, err := f.svc.SetMembershipRole(ctx, tenancy.Operator(), org.ID, bob.ID, rbac.RoleOwner); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RemoveMembership(ctx, tenancy.UserActor(ada.ID), org.ID, ada.ID); err != nil {
			t.Fatalf("an owner leaves while another stays: %v", err)
		}
		wantErr(t, "new last owner leaves", f.svc.RemoveMembership(ctx, tenancy.UserActor(bob.ID), org.ID, bob.ID), tenancy.ErrLastOwner)
		// Any member may leave.
		cy := f.user("cy@example.com")
		f.member(org, cy, rbac.RoleMember)
		if err := f.svc.RemoveMembership(ctx, tenancy.UserActor(cy.ID), org.ID, cy.ID); err != nil {
			t.Errorf("member leaves: %v", err)
		}
	})
}

// Two owners demote (or remove) each other at the same moment: without the
// organization lock both would see two owners and both would succeed.
func TestConcurrentOwnerChangesKeepAnOwner(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ada, bob := f.user("ada@example.com"), f.user("bob@example.com")
		for round := range 4 {
			org := f.org(fmt.Sprintf("Round %d", round), ada)
			f.member(org, bob, rbac.RoleOwner)
			start := make(chan struct{})
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i, u := range []*identity.User{ada, bob} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					if round%2 == 0 {
						_, errs[i] = f.svc.SetMembershipRole(ctx, tenancy.UserActor(u.ID), org.ID, u.ID, rbac.RoleAdmin)
					} else {
						errs[i] = f.svc.RemoveMembership(ctx, tenancy.UserActor(u.ID), org.ID, u.ID)
					}
				}()
			}
			close(start)
			wg.Wait()
			ok, last := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, tenancy.ErrLastOwner):
					last++
				default:
					t.Errorf("round %d: unexpected error %v", round, err)
				}
			}
			if ok != 1 || last != 1 {
				t.Errorf("round %d: %d succeeded, %d refused as last owner; want 1 and 1", round, ok, last)
			}
			if n := f.owners(org); n != 1 {
				t.Errorf("round %d: %d owners left, want 1", round, n)
			}
		}
	})
}

func TestMaxAllowedMemberships(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ada, bob, cy, dee := f.user("ada@example.com"), f.user("bob@example.com"), f.user("cy@example.com"), f.user("dee@example.com")
		org, err := f.svc.CreateOrganization(ctx, tenancy.Operator(), tenancy.NewOrganization{Name: "Small", CreatedBy: ada.ID, MaxAllowedMemberships: 3})
		if err != nil {
			t.Fatal(err)
		}
		f.member(org, bob, rbac.RoleMember)
		// 2 members + 1 pending invitation fill 3 seats.
		if _, err := f.svc.CreateInvitation(ctx, tenancy.Operator(), org.ID, tenancy.NewInvitation{EmailAddress: "cy@example.com"}); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.CreateInvitation(ctx, tenancy.Operator(), org.ID, tenancy.NewInvitation{EmailAddress: "dee@example.com"})
		wantErr(t, "invite beyond the limit", err, tenancy.ErrMembershipLimit)
		// Adding directly counts members only: the third seat is free.
		f.member(org, dee, rbac.RoleMember)
		_, err = f.svc.AddMembership(ctx, tenancy.Operator(), org.ID, f.user("eve@example.com").ID, rbac.RoleMember)
		wantErr(t, "add beyond the limit", err, tenancy.ErrMembershipLimit)
		// The invitation was issued while a seat was free; now none is.
		_, err = f.svc.AcceptInvitation(ctx, f.lastToken("cy@example.com"), cy.ID)
		wantErr(t, "accept beyond the limit", err, tenancy.ErrMembershipLimit)
		if _, err := f.svc.MembershipOf(ctx, cy.ID, org.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("cy joined a full organization: %v", err)
		}
		// Raising the limit lets the same invitation through.
		limit := 4
		if _, err := f.svc.UpdateOrganization(ctx, tenancy.Operator(), org.ID, tenancy.OrganizationUpdate{MaxAllowedMemberships: &limit}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AcceptInvitation(ctx, f.lastToken("cy@example.com"), cy.ID); err != nil {
			t.Errorf("accept after raising the limit: %v", err)
		}
		// 0 means unlimited.
		unlimited := 0
		if _, err := f.svc.UpdateOrganization(ctx, tenancy.Operator(), org.ID, tenancy.OrganizationUpdate{MaxAllowedMemberships: &unlimited}); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			f.member(org, f.user(fmt.Sprintf("u%d@example.com", i)), rbac.RoleMember)
		}
	})
}

// A member cannot hand out or take away more than they hold.
func TestNoPrivilegeEscalation(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ada, bob, cy, dee := f.user("ada@example.com"), f.user("bob@example.com"), f.user("cy@example.com"), f.user("dee@example.com")
		org := f.org("Acme", ada)
		f.member(org, bob, rbac.RoleAdmin)
		f.member(org, cy, rbac.RoleMember)
		if _, err := f.roles.CreatePermission(ctx, rbac.NewPermission{Key: "org:billing:manage"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.roles.CreateRole(ctx, rbac.NewRole{Key: "org:billing", Name: "Billing", Permissions: []string{"org:billing:manage"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.roles.CreateRole(ctx, rbac.NewRole{Key: "org:recruiter", Name: "Recruiter",
			Permissions: []string{rbac.PermMembershipsManage, rbac.PermMembershipsRead}}); err != nil {
			t.Fatal(err)
		}
		f.member(org, dee, "org:recruiter")
		admin, member, recruiter := tenancy.UserActor(bob.ID), tenancy.UserActor(cy.ID), tenancy.UserActor(dee.ID)
		for _, tc := range []struct {
			name string
			err  error
			want error
		}{
			{"admin promotes self to owner", second(f.svc.SetMembershipRole(ctx, admin, org.ID, bob.ID, rbac.RoleOwner)), tenancy.ErrForbidden},
			{"admin promotes member to owner", second(f.svc.SetMembershipRole(ctx, admin, org.ID, cy.ID, rbac.RoleOwner)), tenancy.ErrForbidden},
			{"admin demotes owner", second(f.svc.SetMembershipRole(ctx, admin, org.ID, ada.ID, rbac.RoleMember)), tenancy.ErrForbidden},
			{"admin removes owner", f.svc.RemoveMembership(ctx, admin, org.ID, ada.ID), tenancy.ErrForbidden},
			{"admin invites an owner", second(f.svc.CreateInvitation(ctx, admin, org.ID, tenancy.NewInvitation{EmailAddress: "x@example.com", Role: rbac.RoleOwner})), tenancy.ErrForbidden},
			{"member adds", second(f.svc.AddMembership(ctx, member, org.ID, f.user("y@example.com").ID, rbac.RoleMember)), tenancy.ErrForbidden},
			{"member removes", f.svc.RemoveMembership(ctx, member, org.ID, dee.ID), tenancy.ErrForbidden},
			{"member invites", second(f.svc.CreateInvitation(ctx, member, org.ID, tenancy.NewInvitation{EmailAddress: "x@example.com"})), tenancy.ErrForbidden},
			{"recruiter assigns admin", second(f.svc.SetMembershipRole(ctx, recruiter, org.ID, cy.ID, rbac.RoleAdmin)), tenancy.ErrForbidden},
			{"recruiter assigns billing", second(f.svc.SetMembershipRole(ctx, recruiter, org.ID, cy.ID, "org:billing")), tenancy.ErrForbidden},
			{"admin assigns billing (lacks org:billing:manage)", second(f.svc.SetMembershipRole(ctx, admin, org.ID, cy.ID, "org:billing")), tenancy.ErrForbidden},
		} {
			wantErr(t, tc.name, tc.err, tc.want)
		}
		// What they hold, they may hand out.
		if _, err := f.svc.SetMembershipRole(ctx, admin, org.ID, cy.ID, rbac.RoleAdmin); err != nil {
			t.Errorf("admin makes a member admin: %v", err)
		}
		if _, err := f.svc.SetMembershipRole(ctx, admin, org.ID, cy.ID, rbac.RoleMember); err != nil {
			t.Errorf("admin makes an admin member: %v", err)
		}
		if _, err := f.svc.AddMembership(ctx, recruiter, org.ID, f.user("z@example.com").ID, rbac.RoleMember); err != nil {
			t.Errorf("recruiter adds a member: %v", err)
		}
		if _, err := f.svc.SetMembershipRole(ctx, tenancy.UserActor(ada.ID), org.ID, bob.ID, rbac.RoleOwner); err != nil {
			t.Errorf("owner makes an admin owner: %v", err)
		}
	})
}

func second[T any](_ T, err error) error { return err }

func TestClaimsFollowRoleChanges(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ada, bob := f.user("ada@example.com"), f.user("bob@example.com")
		org := f.org("Acme", ada)
		f.member(org, bob, rbac.RoleMember)
		for _, k := range []string{"org:projects:read", "org:projects:write"} {
			if _, err := f.roles.CreatePermission(ctx, rbac.NewPermission{Key: k}); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.roles.Grant(ctx, rbac.RoleMember, "org:projects:read"); err != nil {
			t.Fatal(err)
		}
		claims := func() *tenancy.Claims {
			t.Helper()
			c, err := f.svc.Claims(ctx, bob.ID, "acme")
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		c := claims()
		want := map[string]any{"org_id": org.ID, "org_slug": "acme", "org_role": rbac.RoleMember, "org_permissions": []string{"org:projects:read"}}
		if diff := cmp.Diff(want, c.Map()); diff != "" {
			t.Errorf("claims (-want +got):\n%s", diff)
		}
		if !c.Grants.Has(rbac.PermMembershipsRead) || c.Grants.Has(rbac.PermMembershipsManage) || !c.Grants.Has("org:projects:read") {
			t.Errorf("member grants = %v", c.Grants.Permissions())
		}
		// A grant to the role shows at the next check.
		if err := f.roles.Grant(ctx, rbac.RoleMember, "org:projects:write"); err != nil {
			t.Fatal(err)
		}
		if got := claims().OrgPermissions; !cmp.Equal(got, []string{"org:projects:read", "org:projects:write"}) {
			t.Errorf("after grant, org_permissions = %v", got)
		}
		// So does a role change.
		if _, err := f.svc.SetMembershipRole(ctx, tenancy.Operator(), org.ID, bob.ID, rbac.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		c = claims()
		if c.OrgRole != rbac.RoleAdmin || len(c.OrgPermissions) != 0 || !c.Grants.Has(rbac.PermMembershipsManage) {
			t.Errorf("after promotion, claims = %+v grants %v", c, c.Grants.Permissions())
		}
		// And removal: no claims at all.
		if err := f.svc.RemoveMembership(ctx, tenancy.Operator(), org.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Claims(ctx, bob.ID, org.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("claims after removal: %v, want ErrNotFound", err)
		}
	})
}

func TestMembershipQueries(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ada, bob := f.user("ada@example.com"), f.user("bob@example.com")
		zeta := f.org("Zeta", ada)
		alpha := f.org("alpha", bob)
		f.member(alpha, ada, rbac.RoleMember)
		f.org("Bob only", bob)
		ms, err := f.svc.Memberships(ctx, ada.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range ms {
			got = append(got, m.Organization.Slug+"="+m.Role)
		}
		if diff := cmp.Diff([]string{"alpha=org:member", "zeta=org:owner"}, got); diff != "" {
			t.Errorf("Memberships (-want +got):\n%s", diff)
		}
		for _, ref := range []string{zeta.ID, "zeta"} {
			m, err := f.svc.MembershipOf(ctx, ada.ID, ref)
			if err != nil || m.OrganizationID != zeta.ID || m.Organization.Name != "Zeta" {
				t.Errorf("MembershipOf(%q) = %+v, %v", ref, m, err)
			}
		}
		for _, ref := range []string{"bob-only", "", "nope", "org_0000000000000000000000"} {
			if _, err := f.svc.MembershipOf(ctx, ada.ID, ref); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("MembershipOf(%q) err = %v, want ErrNotFound", ref, err)
			}
		}
		if _, err := f.svc.MembershipOf(ctx, "", "zeta"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("MembershipOf without a user: %v", err)
		}
	})
}

func TestRoleInUseCannotBeDeleted(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ada, bob := f.user("ada@example.com"), f.user("bob@example.com")
		org := f.org("Acme", ada)
		for _, k := range []string{"org:viewer", "org:auditor"} {
			if _, err := f.roles.CreateRole(ctx, rbac.NewRole{Key: k, Name: k}); err != nil {
				t.Fatal(err)
			}
		}
		f.member(org, bob, "org:viewer")
		if _, err := f.svc.CreateInvitation(ctx, tenancy.Operator(), org.ID, tenancy.NewInvitation{EmailAddress: "cy@example.com", Role: "org:auditor"}); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "delete role held by a member", f.roles.DeleteRole(ctx, "org:viewer"), rbac.ErrRoleInUse)
		wantErr(t, "delete role held by a pending invitation", f.roles.DeleteRole(ctx, "org:auditor"), rbac.ErrRoleInUse)
		if _, err := f.svc.SetMembershipRole(ctx, tenancy.Operator(), org.ID, bob.ID, rbac.RoleMember); err != nil {
			t.Fatal(err)
		}
		if err := f.roles.DeleteRole(ctx, "org:viewer"); err != nil {
			t.Errorf("delete role no longer held: %v", err)
		}

		// Assigning a role and deleting it race: either the assignment
		// wins and the role stays, or the deletion wins and the
		// assignment fails — never a member with a deleted role.
		for round := range 4 {
			key := fmt.Sprintf("org:temp%d", round)
			if _, err := f.roles.CreateRole(ctx, rbac.NewRole{Key: key, Name: key}); err != nil {
				t.Fatal(err)
			}
			u := f.user(fmt.Sprintf("r%d@example.com", round))
			var addErr, delErr error
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); _, addErr = f.svc.AddMembership(ctx, tenancy.Operator(), org.ID, u.ID, key) }()
			go func() { defer wg.Done(); delErr = f.roles.DeleteRole(ctx, key) }()
			wg.Wait()
			_, roleErr := f.roles.GetRole(ctx, key)
			m, memErr := f.svc.MembershipOf(ctx, u.ID, org.ID)
			switch {
			case addErr == nil && errors.Is(delErr, rbac.ErrRoleInUse):
				if roleErr != nil || memErr != nil || m.Role != key {
					t.Errorf("round %d: add won but role=%v membership=%v", round, roleErr, memErr)
				}
			case delErr == nil && errors.Is(addErr, tenancy.ErrInvalid):
				if !errors.Is(roleErr, storage.ErrNotFound) || !errors.Is(memErr, storage.ErrNotFound) {
					t.Errorf("round %d: delete won but role=%v membership=%v", round, roleErr, memErr)
				}
			default:
				t.Errorf("round %d: add err %v, delete err %v; want exactly one to win", round, addErr, delErr)
			}
		}
	})
}
