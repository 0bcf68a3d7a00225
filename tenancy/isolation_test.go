package tenancy_test

import (
	"errors"
	"testing"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/tenancy"
)

// The owner of organization A can neither read nor change anything of
// organization B, and learns nothing about it: every answer is "not found",
// exactly as for an organization that does not exist.
func TestMemberOfAGetsNotFoundForB(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		alice, bob, carol := f.user("alice@a.example"), f.user("bob@b.example"), f.user("carol@b.example")
		f.org("A", alice)
		b := f.org("B", bob)
		f.member(b, carol, rbac.RoleMember)
		inv, err := f.svc.CreateInvitation(ctx, tenancy.Operator(), b.ID, tenancy.NewInvitation{EmailAddress: "dan@b.example"})
		if err != nil {
			t.Fatal(err)
		}
		dom, err := f.svc.AddDomain(ctx, tenancy.Operator(), b.ID, tenancy.NewDomain{Name: "b.example"})
		if err != nil {
			t.Fatal(err)
		}
		session, _, err := f.users.CreateSession(ctx, alice.ID, []string{"pwd"}, identitySessionMeta)
		if err != nil {
			t.Fatal(err)
		}
		f.events.take(t)
		name, limit := "Hijacked", 0
		alicer := tenancy.UserActor(alice.ID)
		for _, ref := range []string{b.ID, b.Slug, "no-such-org", "org_0000000000000000000000"} {
			for _, tc := range []struct {
				op  string
				err error
			}{
				{"GetOrganization", second(f.svc.GetOrganization(ctx, alicer, ref))},
				{"UpdateOrganization", second(f.svc.UpdateOrganization(ctx, alicer, ref, tenancy.OrganizationUpdate{Name: &name}))},
				{"UpdateOrganization limit", second(f.svc.UpdateOrganization(ctx, alicer, ref, tenancy.OrganizationUpdate{MaxAllowedMemberships: &limit}))},
				{"DeleteOrganization", f.svc.DeleteOrganization(ctx, alicer, ref)},
				{"AddMembership self", second(f.svc.AddMembership(ctx, alicer, ref, alice.ID, rbac.RoleOwner))},
				{"SetMembershipRole", second(f.svc.SetMembershipRole(ctx, alicer, ref, carol.ID, rbac.RoleAdmin))},
				{"UpdateMembershipMetadata", second(f.svc.UpdateMembershipMetadata(ctx, alicer, ref, carol.ID, map[string]any{"x": 1}, nil))},
				{"RemoveMembership", f.svc.RemoveMembership(ctx, alicer, ref, carol.ID)},
				{"RemoveMembership self", f.svc.RemoveMembership(ctx, alicer, ref, alice.ID)},
				{"ListMemberships", third(f.svc.ListMemberships(ctx, alicer, ref, tenancy.ListParams{}))},
				{"CreateInvitation", second(f.svc.CreateInvitation(ctx, alicer, ref, tenancy.NewInvitation{EmailAddress: "x@a.example"}))},
				{"RevokeInvitation", second(f.svc.RevokeInvitation(ctx, alicer, ref, inv.ID))},
				{"GetInvitation", second(f.svc.GetInvitation(ctx, alicer, ref, inv.ID))},
				{"ListInvitations", third(f.svc.ListInvitations(ctx, alicer, ref, tenancy.ListInvitationsParams{}))},
				{"AddDomain", second(f.svc.AddDomain(ctx, alicer, ref, tenancy.NewDomain{Name: "a.example"}))},
				{"ListDomains", second(f.svc.ListDomains(ctx, alicer, ref))},
				{"GetDomain", second(f.svc.GetDomain(ctx, alicer, ref, dom.ID))},
				{"SetDomainEnrollmentMode", second(f.svc.SetDomainEnrollmentMode(ctx, alicer, ref, dom.ID, tenancy.EnrollAutomaticInvitation))},
				{"PrepareDomainVerification", second(f.svc.PrepareDomainVerification(ctx, alicer, ref, dom.ID, "x@b.example"))},
				{"AttemptDomainVerification", second(f.svc.AttemptDomainVerification(ctx, alicer, ref, dom.ID, "123456"))},
				{"DeleteDomain", f.svc.DeleteDomain(ctx, alicer, ref, dom.ID)},
				{"MembershipOf", second(f.svc.MembershipOf(ctx, alice.ID, ref))},
				{"Claims", second(f.svc.Claims(ctx, alice.ID, ref))},
				{"SetActiveOrganization", second(f.svc.SetActiveOrganization(ctx, session.ID, alice.ID, ref))},
				{"nobody reads", second(f.svc.GetOrganization(ctx, tenancy.Actor{}, ref))},
			} {
				if !errors.Is(tc.err, storage.ErrNotFound) || errors.Is(tc.err, tenancy.ErrForbidden) {
					t.Errorf("%s(%s) by the owner of A: err = %v, want only ErrNotFound", tc.op, ref, tc.err)
				}
			}
		}
		// Nothing of B changed, nothing was emitted, nothing was mailed.
		got, err := f.svc.GetOrganization(ctx, tenancy.Operator(), b.ID)
		if err != nil || got.Name != "B" || got.Counts.Members != 2 || got.Counts.PendingInvitations != 1 {
			t.Errorf("B after the attempts = %+v, %v", got, err)
		}
		if evs := f.events.take(t); len(evs) != 0 {
			t.Errorf("events = %v", evs)
		}
		if s, err := f.users.GetSession(ctx, session.ID); err != nil || s.ActiveOrganizationID != "" {
			t.Errorf("session active organization = %q, %v", s.ActiveOrganizationID, err)
		}
		// Alice's own organizations list does not include B.
		orgs, _, err := f.svc.ListOrganizations(ctx, alicer, tenancy.ListOrganizationsParams{Query: "B"})
		if err != nil || len(orgs) != 0 {
			t.Errorf("ListOrganizations for alice found %v, %v", orgs, err)
		}
		// A member of B without permissions is forbidden, not hidden: she
		// may know the organization exists.
		_, err = f.svc.UpdateOrganization(ctx, tenancy.UserActor(carol.ID), b.ID, tenancy.OrganizationUpdate{Name: &name})
		wantErr(t, "member of B without permission", err, tenancy.ErrForbidden)
	})
}

func third[A, B any](_ A, _ B, err error) error { return err }
