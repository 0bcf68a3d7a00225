package tenancy_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/tenancy"
)

func TestCreateOrganizationSlugsAndOwner(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ada := f.user("ada@example.com")
		var slugs []string
		for _, name := range []string{"Acme Inc", "ACME inc.", "Acme, Inc"} {
			slugs = append(slugs, f.org(name, ada).Slug)
		}
		if diff := cmp.Diff([]string{"acme-inc", "acme-inc-2", "acme-inc-3"}, slugs); diff != "" {
			t.Errorf("generated slugs (-want +got):\n%s", diff)
		}
		given, err := f.svc.CreateOrganization(ctx, tenancy.Operator(), tenancy.NewOrganization{Name: "Whatever", Slug: "my-team", CreatedBy: ada.ID})
		if err != nil || given.Slug != "my-team" {
			t.Fatalf("given slug: %+v, %v", given, err)
		}
		_, err = f.svc.CreateOrganization(ctx, tenancy.Operator(), tenancy.NewOrganization{Name: "Other", Slug: "my-team", CreatedBy: ada.ID})
		wantErr(t, "taken slug", err, tenancy.ErrSlugTaken)
		wantErr(t, "taken slug is a conflict", err, storage.ErrConflict)
		for _, bad := range []string{"My Team", "my_team", "-x", strings.Repeat("a", 65)} {
			_, err = f.svc.CreateOrganization(ctx, tenancy.Operator(), tenancy.NewOrganization{Name: "X", Slug: bad, CreatedBy: ada.ID})
			wantErr(t, "slug "+bad, err, tenancy.ErrInvalid)
		}

		f.events.take(t)
		org, err := f.svc.CreateOrganization(ctx, tenancy.Operator(), tenancy.NewOrganization{Name: "  Globex  ", CreatedBy: ada.ID,
			ImageURL: "https://cdn.example.com/g.png", MaxAllowedMemberships: 5,
			PublicMetadata: map[string]any{"plan": "pro"}, PrivateMetadata: map[string]any{"crm": "42"}})
		if err != nil {
			t.Fatal(err)
		}
		five, one, zero, by := 5, 1, 0, ada.ID
		want := tenancy.OrganizationJSON{Object: "organization", ID: org.ID, Name: "Globex", Slug: "globex",
			ImageURL: "https://cdn.example.com/g.png", HasImage: true, MembersCount: &one, PendingInvitationsCount: &zero,
			MaxAllowedMemberships: five, AdminDeleteEnabled: true, PublicMetadata: map[string]any{"plan": "pro"},
			PrivateMetadata: map[string]any{"crm": "42"}, CreatedBy: &by,
			CreatedAt: f.clock.Now().UnixMilli(), UpdatedAt: f.clock.Now().UnixMilli()}
		if diff := cmp.Diff(want, org.JSON()); diff != "" {
			t.Errorf("created organization JSON (-want +got):\n%s", diff)
		}
		got, err := f.svc.GetOrganization(ctx, tenancy.Operator(), "globex")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got.JSON()); diff != "" {
			t.Errorf("read organization JSON (-want +got):\n%s", diff)
		}
		m, err := f.svc.MembershipOf(ctx, ada.ID, org.ID)
		if err != nil || m.Role != rbac.RoleOwner {
			t.Fatalf("creator membership = %+v, %v; want org:owner", m, err)
		}
		evs := f.events.take(t)
		if len(evs) != 2 || evs[0].Type != "organization.created" || evs[1].Type != "organizationMembership.created" {
			t.Fatalf("events = %+v", evs)
		}
		mj := evs[1].Data
		if mj["object"] != "organization_membership" || mj["role"] != rbac.RoleOwner || mj["role_name"] != "Owner" {
			t.Errorf("membership event data = %v", mj)
		}
		if pud, _ := mj["public_user_data"].(map[string]any); pud["user_id"] != ada.ID || pud["identifier"] != "ada@example.com" {
			t.Errorf("public_user_data = %v", mj["public_user_data"])
		}
		if perms, _ := mj["permissions"].([]any); len(perms) != 6 {
			t.Errorf("owner permissions in event = %v, want the six system permissions", mj["permissions"])
		}
	})
}

func TestCreateOrganizationRules(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ada := f.user("ada@example.com")
		bob := f.user("bob@example.com")
		for _, tc := range []struct {
			name  string
			actor tenancy.Actor
			in    tenancy.NewOrganization
			want  error
		}{
			{"operator without owner", tenancy.Operator(), tenancy.NewOrganization{Name: "A"}, tenancy.ErrInvalid},
			{"unknown owner", tenancy.Operator(), tenancy.NewOrganization{Name: "A", CreatedBy: "user_nope"}, storage.ErrNotFound},
			{"empty name", tenancy.Operator(), tenancy.NewOrganization{Name: "  ", CreatedBy: ada.ID}, tenancy.ErrInvalid},
			{"bad image", tenancy.Operator(), tenancy.NewOrganization{Name: "A", CreatedBy: ada.ID, ImageURL: "javascript:alert(1)"}, tenancy.ErrInvalid},
			{"negative limit", tenancy.Operator(), tenancy.NewOrganization{Name: "A", CreatedBy: ada.ID, MaxAllowedMemberships: -1}, tenancy.ErrInvalid},
			{"huge metadata", tenancy.Operator(), tenancy.NewOrganization{Name: "A", CreatedBy: ada.ID, PublicMetadata: map[string]any{"x": strings.Repeat("y", 9000)}}, tenancy.ErrInvalid},
			{"user for another user", tenancy.UserActor(ada.ID), tenancy.NewOrganization{Name: "A", CreatedBy: bob.ID}, tenancy.ErrForbidden},
			{"user sets metadata", tenancy.UserActor(ada.ID), tenancy.NewOrganization{Name: "A", PrivateMetadata: map[string]any{"a": 1}}, tenancy.ErrForbidden},
			{"user sets limit", tenancy.UserActor(ada.ID), tenancy.NewOrganization{Name: "A", MaxAllowedMemberships: 3}, tenancy.ErrForbidden},
			{"nobody", tenancy.Actor{}, tenancy.NewOrganization{Name: "A", CreatedBy: ada.ID}, tenancy.ErrForbidden},
		} {
			_, err := f.svc.CreateOrganization(ctx, tc.actor, tc.in)
			wantErr(t, tc.name, err, tc.want)
		}
		if _, total, _ := f.svc.ListOrganizations(ctx, tenancy.Operator(), tenancy.ListOrganizationsParams{}); total != 0 {
			t.Errorf("refused creations left %d organizations", total)
		}
		if evs := f.events.take(t); len(evs) != 0 {
			t.Errorf("refused creations emitted %v", evs)
		}
		// A user creates an organization for themselves and owns it.
		org, err := f.svc.CreateOrganization(ctx, tenancy.UserActor(bob.ID), tenancy.NewOrganization{Name: "Bob's"})
		if err != nil || org.CreatedBy != bob.ID || org.Slug != "bob-s" {
			t.Fatalf("user-created organization = %+v, %v", org, err)
		}
		if m, err := f.svc.MembershipOf(ctx, bob.ID, "bob-s"); err != nil || m.Role != rbac.RoleOwner {
			t.Errorf("user creator membership = %+v, %v", m, err)
		}
	})
}

func TestConcurrentCreatesWithOneName(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ada := f.user("ada@example.com")
		const n = 6
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = f.svc.CreateOrganization(ctx, tenancy.Operator(), tenancy.NewOrganization{Name: "Same Name", CreatedBy: ada.ID})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("create %d: %v", i, err)
			}
		}
		orgs, _, err := f.svc.ListOrganizations(ctx, tenancy.Operator(), tenancy.ListOrganizationsParams{})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, o := range orgs {
			if seen[o.Slug] {
				t.Errorf("slug %q given twice", o.Slug)
			}
			seen[o.Slug] = true
		}
		if len(orgs) != n {
			t.Errorf("%d organizations, want %d", len(orgs), n)
		}
	})
}

func TestUpdateOrganization(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ada, bob, cy := f.user("ada@example.com"), f.user("bob@example.com"), f.user("cy@example.com")
		org := f.org("Acme", ada)
		f.org("Taken", ada)
		f.member(org, bob, rbac.RoleAdmin)
		f.member(org, cy, rbac.RoleMember)
		f.events.take(t)

		name, slug := "Acme Corp", "acme-corp"
		f.clock.Advance(1000)
		got, err := f.svc.UpdateOrganization(ctx, tenancy.UserActor(bob.ID), org.ID, tenancy.OrganizationUpdate{Name: &name, Slug: &slug})
		if err != nil || got.Name != name || got.Slug != slug || got.Counts == nil || got.Counts.Members != 3 {
			t.Fatalf("admin update = %+v, %v", got, err)
		}
		if diff := cmp.Diff([]string{"organization.updated"}, f.events.types(t)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		if _, err := f.svc.GetOrganization(ctx, tenancy.Operator(), "acme"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("old slug still resolves: %v", err)
		}
		taken := "taken"
		_, err = f.svc.UpdateOrganization(ctx, tenancy.Operator(), org.ID, tenancy.OrganizationUpdate{Slug: &taken})
		wantErr(t, "slug taken", err, tenancy.ErrSlugTaken)
		_, err = f.svc.UpdateOrganization(ctx, tenancy.UserActor(cy.ID), org.ID, tenancy.OrganizationUpdate{Name: &name})
		wantErr(t, "member without org:sys_profile:manage", err, tenancy.ErrForbidden)
		limit := 10
		_, err = f.svc.UpdateOrganization(ctx, tenancy.UserActor(ada.ID), org.ID, tenancy.OrganizationUpdate{MaxAllowedMemberships: &limit})
		wantErr(t, "owner sets the member limit", err, tenancy.ErrForbidden)
		_, err = f.svc.UpdateOrganization(ctx, tenancy.UserActor(ada.ID), org.ID, tenancy.OrganizationUpdate{PublicMetadata: map[string]any{"a": 1}})
		wantErr(t, "owner sets metadata", err, tenancy.ErrForbidden)
		off := false
		got, err = f.svc.UpdateOrganization(ctx, tenancy.Operator(), slug, tenancy.OrganizationUpdate{MaxAllowedMemberships: &limit,
			AdminDeleteEnabled: &off, PublicMetadata: map[string]any{"tier": "gold"}})
		if err != nil || got.MaxAllowedMemberships != 10 || got.AdminDeleteEnabled || got.PublicMetadata["tier"] != "gold" {
			t.Errorf("operator update = %+v, %v", got, err)
		}
		if evs := f.events.types(t); len(evs) != 1 {
			t.Errorf("refused updates emitted events: %v", evs)
		}
	})
}

func TestListOrganizations(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ada, bob := f.user("ada@example.com"), f.user("bob@example.com")
		a := f.org("Alpha", ada)
		f.clock.Advance(1e9)
		b := f.org("Beta", bob)
		f.clock.Advance(1e9)
		c := f.org("Gamma 100%", bob)
		f.member(a, bob, rbac.RoleMember)
		names := func(actor tenancy.Actor, p tenancy.ListOrganizationsParams) ([]string, int) {
			t.Helper()
			orgs, total, err := f.svc.ListOrganizations(ctx, actor, p)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, o := range orgs {
				out = append(out, o.Name)
				if o.Counts == nil {
					t.Errorf("%s listed without counts", o.Name)
				}
			}
			return out, total
		}
		for _, tc := range []struct {
			name  string
			actor tenancy.Actor
			p     tenancy.ListOrganizationsParams
			want  []string
			total int
		}{
			{"operator sees all, newest first", tenancy.Operator(), tenancy.ListOrganizationsParams{}, []string{"Gamma 100%", "Beta", "Alpha"}, 3},
			{"ada sees hers", tenancy.UserActor(ada.ID), tenancy.ListOrganizationsParams{}, []string{"Alpha"}, 1},
			{"bob sees his", tenancy.UserActor(bob.ID), tenancy.ListOrganizationsParams{}, []string{"Gamma 100%", "Beta", "Alpha"}, 3},
			{"paged", tenancy.Operator(), tenancy.ListOrganizationsParams{ListParams: tenancy.ListParams{Limit: 1, Offset: 1}}, []string{"Beta"}, 3},
			{"query by name", tenancy.Operator(), tenancy.ListOrganizationsParams{Query: "ET"}, []string{"Beta"}, 1},
			{"query escapes LIKE", tenancy.Operator(), tenancy.ListOrganizationsParams{Query: "100%"}, []string{"Gamma 100%"}, 1},
			{"query by id", tenancy.Operator(), tenancy.ListOrganizationsParams{Query: b.ID}, []string{"Beta"}, 1},
		} {
			got, total := names(tc.actor, tc.p)
			if diff := cmp.Diff(tc.want, got); diff != "" || total != tc.total {
				t.Errorf("%s: total %d (want %d), names (-want +got):\n%s", tc.name, total, tc.total, diff)
			}
		}
		_ = c
	})
}

func TestDeleteOrganization(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ada, bob := f.user("ada@example.com"), f.user("bob@example.com")
		org := f.org("Acme", ada)
		keep := f.org("Keep", ada)
		f.member(org, bob, rbac.RoleAdmin)
		if _, err := f.svc.CreateInvitation(ctx, tenancy.Operator(), org.ID, tenancy.NewInvitation{EmailAddress: "cy@example.com"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AddDomain(ctx, tenancy.Operator(), org.ID, tenancy.NewDomain{Name: "acme.com"}); err != nil {
			t.Fatal(err)
		}
		sessA, _, err := f.users.CreateSession(ctx, ada.ID, []string{"pwd"}, identitySessionMeta)
		if err != nil {
			t.Fatal(err)
		}
		sessB, _, err := f.users.CreateSession(ctx, bob.ID, []string{"pwd"}, identitySessionMeta)
		if err != nil {
			t.Fatal(err)
		}
		sessKeep, _, err := f.users.CreateSession(ctx, ada.ID, []string{"pwd"}, identitySessionMeta)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []struct{ sid, uid, org string }{{sessA.ID, ada.ID, org.ID}, {sessB.ID, bob.ID, "acme"}, {sessKeep.ID, ada.ID, keep.ID}} {
			if _, err := f.svc.SetActiveOrganization(ctx, s.sid, s.uid, s.org); err != nil {
				t.Fatal(err)
			}
		}
		f.events.take(t)

		wantErr(t, "admin deletes", f.svc.DeleteOrganization(ctx, tenancy.UserActor(bob.ID), org.ID), tenancy.ErrForbidden)
		off := false
		if _, err := f.svc.UpdateOrganization(ctx, tenancy.Operator(), org.ID, tenancy.OrganizationUpdate{AdminDeleteEnabled: &off}); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "owner deletes with admin_delete_enabled off", f.svc.DeleteOrganization(ctx, tenancy.UserActor(ada.ID), org.ID), tenancy.ErrForbidden)
		on := true
		if _, err := f.svc.UpdateOrganization(ctx, tenancy.Operator(), org.ID, tenancy.OrganizationUpdate{AdminDeleteEnabled: &on}); err != nil {
			t.Fatal(err)
		}
		f.events.take(t)
		if err := f.svc.DeleteOrganization(ctx, tenancy.UserActor(ada.ID), "acme"); err != nil {
			t.Fatalf("owner deletes: %v", err)
		}
		evs := f.events.take(t)
		if diff := cmp.Diff([]event{{Type: "organization.deleted", Data: map[string]any{"object": "organization", "id": org.ID, "deleted": true}}}, evs); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		if _, err := f.svc.GetOrganization(ctx, tenancy.Operator(), org.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("deleted organization still readable: %v", err)
		}
		if ms, _ := f.svc.Memberships(ctx, bob.ID); len(ms) != 0 {
			t.Errorf("bob still has memberships: %v", ms)
		}
		if invs, _ := f.svc.PendingInvitationsFor(ctx, "cy@example.com"); len(invs) != 0 {
			t.Errorf("invitations survived: %v", invs)
		}
		for table, want := range map[string]int{"organization_memberships": 1, "organization_invitations": 0, "organization_domains": 0} {
			n, err := db.NewSelect().Table(table).Count(ctx)
			if err != nil || int(n) != want {
				t.Errorf("%s rows = %d, %v; want %d", table, n, err, want)
			}
		}
		for _, s := range []struct{ sid, want string }{{sessA.ID, ""}, {sessB.ID, ""}, {sessKeep.ID, keep.ID}} {
			got, err := f.users.GetSession(ctx, s.sid)
			if err != nil {
				t.Fatal(err)
			}
			if got.ActiveOrganizationID != s.want {
				t.Errorf("session %s active organization = %q, want %q", s.sid, got.ActiveOrganizationID, s.want)
			}
		}
	})
}

func TestEventsCommitWithTheChange(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ada := f.user("ada@example.com")
		boom := errors.New("boom")
		err := storage.InTx(ctx, db, func(ctx context.Context) error {
			if _, err := f.svc.CreateOrganization(ctx, tenancy.Operator(), tenancy.NewOrganization{Name: "Temp", CreatedBy: ada.ID}); err != nil {
				return err
			}
			return boom
		})
		wantErr(t, "outer rollback", err, boom)
		if _, err := f.svc.GetOrganization(ctx, tenancy.Operator(), "temp"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("organization survived the rollback: %v", err)
		}
		if evs := f.events.take(t); len(evs) != 0 {
			t.Errorf("events after rollback: %v", evs)
		}
		f.events.fail.Store(&boom)
		_, err = f.svc.CreateOrganization(ctx, tenancy.Operator(), tenancy.NewOrganization{Name: "Temp", CreatedBy: ada.ID})
		wantErr(t, "failing Emit", err, boom)
		f.events.fail.Store(nil)
		if _, err := f.svc.GetOrganization(ctx, tenancy.Operator(), "temp"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("organization created although its event failed: %v", err)
		}
		if ms, _ := f.svc.Memberships(ctx, ada.ID); len(ms) != 0 {
			t.Errorf("owner membership created although the event failed: %v", ms)
		}
		org := f.org("Kept", ada)
		bob := f.user("bob@example.com")
		f.events.take(t)
		f.events.fail.Store(&boom)
		_, err = f.svc.AddMembership(ctx, tenancy.Operator(), org.ID, bob.ID, rbac.RoleMember)
		wantErr(t, "failing Emit on add", err, boom)
		err = f.svc.DeleteOrganization(ctx, tenancy.Operator(), org.ID)
		wantErr(t, "failing Emit on delete", err, boom)
		f.events.fail.Store(nil)
		if _, err := f.svc.MembershipOf(ctx, bob.ID, org.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("membership added although its event failed: %v", err)
		}
		if _, err := f.svc.GetOrganization(ctx, tenancy.Operator(), org.ID); err != nil {
			t.Errorf("organization deleted although its event failed: %v", err)
		}
	})
}
