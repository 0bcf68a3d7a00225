package tenancy_test

import (
	"errors"
	"strings"
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

func TestInvitationAcceptedOnce(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ada, err := f.users.CreateUser(ctx, identity.NewUser{Email: "ada@example.com", FirstName: "Ada", LastName: "L", EmailVerified: true})
		if err != nil {
			t.Fatal(err)
		}
		org := f.org("Acme", ada)
		f.events.take(t)
		inv, err := f.svc.CreateInvitation(ctx, tenancy.UserActor(ada.ID), "acme", tenancy.NewInvitation{EmailAddress: "Bob@Example.com", Role: rbac.RoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		if inv.Token == "" || !strings.HasPrefix(inv.URL, issuer+"/invitations/accept?token=") || inv.InviterUserID != ada.ID {
			t.Errorf("created invitation = %+v", inv)
		}
		if want := f.clock.Now().Add(7 * 24 * time.Hour); !inv.ExpiresAt.Equal(want) {
			t.Errorf("expires_at = %v, want %v (7 days)", inv.ExpiresAt, want)
		}
		msgs := f.mails()
		if len(msgs) != 1 || msgs[0].To != "Bob@Example.com" || !strings.Contains(msgs[0].Subject, "Acme") || !strings.Contains(msgs[0].Text, inv.URL) ||
			!strings.HasPrefix(msgs[0].Text, "Ada L invited you to join Acme as Admin.") || !strings.Contains(msgs[0].HTML, "Ada L invited you") {
			t.Fatalf("mail = %+v, want one invitation to Bob@Example.com with the link", msgs)
		}
		if f.lastToken("Bob@Example.com") != inv.Token {
			t.Error("mailed token differs from the returned one")
		}
		evs := f.events.take(t)
		if len(evs) != 1 || evs[0].Type != "organizationInvitation.created" || evs[0].Data["url"] != nil || evs[0].Data["status"] != "pending" {
			t.Errorf("events = %+v; want created without the url", evs)
		}
		if strings.Contains(evsString(evs), inv.Token) {
			t.Error("the token leaked into an event")
		}
		// The stored form is a hash.
		var stored string
		if err := db.NewSelect().Table("organization_invitations").Column("token_hash").Where("id = ?", inv.ID).Scan(ctx, &stored); err != nil {
			t.Fatal(err)
		}
		if stored == inv.Token || strings.Contains(stored, inv.Token) {
			t.Error("token stored in clear")
		}

		got, err := f.svc.InvitationByToken(ctx, inv.Token)
		if err != nil || got.ID != inv.ID || got.Organization == nil || got.Organization.Name != "Acme" || got.URL != "" {
			t.Fatalf("InvitationByToken = %+v, %v", got, err)
		}
		if _, err := f.svc.InvitationByToken(ctx, inv.Token+"x"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("InvitationByToken(wrong) = %v, want ErrNotFound", err)
		}
		_, err = f.svc.CreateInvitation(ctx, tenancy.Operator(), org.ID, tenancy.NewInvitation{EmailAddress: "bob@example.com"})
		wantErr(t, "second pending invitation", err, tenancy.ErrAlreadyInvited)

		wrong := f.user("mallory@example.com")
		_, err = f.svc.AcceptInvitation(ctx, inv.Token, wrong.ID)
		wantErr(t, "accept with another address", err, tenancy.ErrEmailMismatch)
		unverified := f.unverifiedUser("bob@example.com")
		_, err = f.svc.AcceptInvitation(ctx, inv.Token, unverified.ID)
		wantErr(t, "accept with an unverified address", err, tenancy.ErrEmailNotVerified)
		if _, err := f.users.UpdateUser(ctx, unverified.ID, identity.UserUpdate{EmailVerified: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		f.events.take(t)
		m, err := f.svc.AcceptInvitation(ctx, inv.Token, unverified.ID)
		if err != nil {
			t.Fatalf("accept: %v", err)
		}
		if m.Role != rbac.RoleAdmin || m.OrganizationID != org.ID || m.UserID != unverified.ID {
			t.Errorf("membership from invitation = %+v", m)
		}
		if diff := cmp.Diff([]string{"organizationInvitation.accepted", "organizationMembership.created"}, f.events.types(t)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		_, err = f.svc.AcceptInvitation(ctx, inv.Token, unverified.ID)
		wantErr(t, "accept twice", err, tenancy.ErrInvitationAccepted)
		_, err = f.svc.InvitationByToken(ctx, inv.Token)
		wantErr(t, "read used invitation", err, tenancy.ErrInvitationAccepted)
		_, err = f.svc.CreateInvitation(ctx, tenancy.Operator(), org.ID, tenancy.NewInvitation{EmailAddress: "BOB@example.com"})
		wantErr(t, "invite a member", err, tenancy.ErrAlreadyMember)
		list, _, err := f.svc.ListInvitations(ctx, tenancy.Operator(), org.ID, tenancy.ListInvitationsParams{Status: tenancy.InvitationAccepted})
		if err != nil || len(list) != 1 || list[0].AcceptedUserID != unverified.ID {
			t.Errorf("accepted invitations = %+v, %v", list, err)
		}
	})
}

func evsString(evs []event) string {
	var b strings.Builder
	for _, e := range evs {
		for k, v := range e.Data {
			b.WriteString(k)
			if s, ok := v.(string); ok {
				b.WriteString(s)
			}
		}
	}
	return b.String()
}

func ptr[T any](v T) *T { return &v }

func TestInvitationExpiryAndRevocation(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ada, bob := f.user("ada@example.com"), f.user("bob@example.com")
		org := f.org("Acme", ada)
		inv, err := f.svc.CreateInvitation(ctx, tenancy.Operator(), org.ID, tenancy.NewInvitation{EmailAddress: bob.Email, ExpiresIn: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Hour)
		_, err = f.svc.AcceptInvitation(ctx, inv.Token, bob.ID)
		wantErr(t, "accept at expiry", err, tenancy.ErrInvitationExpired)
		_, err = f.svc.InvitationByToken(ctx, inv.Token)
		wantErr(t, "read at expiry", err, tenancy.ErrInvitationExpired)
		got, err := f.svc.GetInvitation(ctx, tenancy.Operator(), org.ID, inv.ID)
		if err != nil || got.Status != tenancy.InvitationExpired {
			t.Errorf("expired invitation status = %v, %v", got, err)
		}
		if pending, _ := f.svc.PendingInvitationsFor(ctx, bob.Email); len(pending) != 0 {
			t.Errorf("expired invitation still pending: %v", pending)
		}
		_, err = f.svc.RevokeInvitation(ctx, tenancy.Operator(), org.ID, inv.ID)
		wantErr(t, "revoke expired", err, tenancy.ErrInvitationExpired)

		// An expired invitation does not block a new one; revoking that one
		// makes its link useless.
		inv2, err := f.svc.CreateInvitation(ctx, tenancy.Operator(), org.ID, tenancy.NewInvitation{EmailAddress: bob.Email})
		if err != nil {
			t.Fatalf("re-invite after expiry: %v", err)
		}
		f.events.take(t)
		rev, err := f.svc.RevokeInvitation(ctx, tenancy.UserActor(ada.ID), org.ID, inv2.ID)
		if err != nil || rev.Status != tenancy.InvitationRevoked {
			t.Fatalf("revoke = %+v, %v", rev, err)
		}
		if diff := cmp.Diff([]string{"organizationInvitation.revoked"}, f.events.types(t)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		_, err = f.svc.AcceptInvitation(ctx, inv2.Token, bob.ID)
		wantErr(t, "accept revoked", err, tenancy.ErrInvitationRevoked)
		_, err = f.svc.RevokeInvitation(ctx, tenancy.Operator(), org.ID, inv2.ID)
		wantErr(t, "revoke twice", err, tenancy.ErrInvitationRevoked)

		for status, want := range map[string]int{"": 2, tenancy.InvitationExpired: 1, tenancy.InvitationRevoked: 1, tenancy.InvitationPending: 0} {
			list, total, err := f.svc.ListInvitations(ctx, tenancy.Operator(), org.ID, tenancy.ListInvitationsParams{Status: status})
			if err != nil || total != want || len(list) != want {
				t.Errorf("ListInvitations(%q) = %d (%d), %v; want %d", status, len(list), total, err, want)
			}
		}
		_, _, err = f.svc.ListInvitations(ctx, tenancy.Operator(), org.ID, tenancy.ListInvitationsParams{Status: "bogus"})
		wantErr(t, "bad status filter", err, tenancy.ErrInvalid)

		for name, in := range map[string]tenancy.NewInvitation{
			"not an address": {EmailAddress: "bob"},
			"display name":   {EmailAddress: "Bob <bob@example.com>"},
			"too long":       {EmailAddress: "bob@example.com", ExpiresIn: 31 * 24 * time.Hour},
			"unknown role":   {EmailAddress: "x@example.com", Role: "org:nope"},
		} {
			_, err := f.svc.CreateInvitation(ctx, tenancy.Operator(), org.ID, in)
			wantErr(t, name, err, tenancy.ErrInvalid)
		}
	})
}

// Many requests accept one invitation at once: exactly one membership.
func TestConcurrentAcceptsMakeOneMembership(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ada, bob := f.user("ada@example.com"), f.user("bob@example.com")
		org := f.org("Acme", ada)
		inv, err := f.svc.CreateInvitation(ctx, tenancy.Operator(), org.ID, tenancy.NewInvitation{EmailAddress: bob.Email})
		if err != nil {
			t.Fatal(err)
		}
		f.events.take(t)
		const n = 12
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if i%2 == 0 {
					_, errs[i] = f.svc.AcceptInvitation(ctx, inv.Token, bob.ID)
				} else {
					_, errs[i] = f.svc.AcceptInvitationByID(ctx, inv.ID, bob.ID)
				}
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, tenancy.ErrInvitationAccepted), errors.Is(err, tenancy.ErrAlreadyMember):
			default:
				t.Errorf("accept %d: %v", i, err)
			}
		}
		if ok != 1 {
			t.Errorf("%d accepts succeeded, want exactly 1", ok)
		}
		n2, err := db.NewSelect().Table("organization_memberships").Where("user_id = ?", bob.ID).Count(ctx)
		if err != nil || n2 != 1 {
			t.Errorf("bob has %d memberships (%v), want 1", n2, err)
		}
		if diff := cmp.Diff([]string{"organizationInvitation.accepted", "organizationMembership.created"}, f.events.types(t)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
}

// The hosted page's path for someone without an account.
func TestAcceptWithNewAccount(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ada := f.user("ada@example.com")
		org := f.org("Acme", ada)
		if _, err := f.svc.CreateInvitation(ctx, tenancy.Operator(), org.ID, tenancy.NewInvitation{EmailAddress: "new@example.com"}); err != nil {
			t.Fatal(err)
		}
		token := f.lastToken("new@example.com")
		inv, err := f.svc.InvitationByToken(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.users.UserByEmail(ctx, inv.EmailAddress); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("an account exists already: %v", err)
		}
		u, err := f.users.CreateUser(ctx, identity.NewUser{Email: inv.EmailAddress, Password: "a fine long passphrase", EmailVerified: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AcceptInvitation(ctx, token, u.ID); err != nil {
			t.Fatalf("accept with the new account: %v", err)
		}
		if _, err := f.svc.MembershipOf(ctx, u.ID, "acme"); err != nil {
			t.Errorf("new account is not a member: %v", err)
		}
	})
}

func TestPendingInvitationsForAndAcceptByID(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ada, bob, cy := f.user("ada@example.com"), f.user("bob@example.com"), f.user("cy@example.com")
		a := f.org("Alpha", ada)
		b := f.org("Beta", ada)
		for _, o := range []*tenancy.Organization{a, b} {
			if _, err := f.svc.CreateInvitation(ctx, tenancy.Operator(), o.ID, tenancy.NewInvitation{EmailAddress: "BOB@example.com"}); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(time.Second)
		}
		pending, err := f.svc.PendingInvitationsFor(ctx, " bob@EXAMPLE.com ")
		if err != nil || len(pending) != 2 {
			t.Fatalf("PendingInvitationsFor = %v, %v", pending, err)
		}
		if pending[0].Organization.Name != "Beta" || pending[0].JSON().PublicOrganizationData.Slug != "beta" {
			t.Errorf("newest pending invitation = %+v", pending[0])
		}
		_, err = f.svc.AcceptInvitationByID(ctx, pending[0].ID, cy.ID)
		wantErr(t, "accept someone else's invitation by id", err, storage.ErrNotFound)
		if _, err := f.svc.AcceptInvitationByID(ctx, pending[0].ID, bob.ID); err != nil {
			t.Fatalf("accept by id: %v", err)
		}
		if rest, _ := f.svc.PendingInvitationsFor(ctx, bob.Email); len(rest) != 1 || rest[0].OrganizationID != a.ID {
			t.Errorf("pending after accepting one = %v", rest)
		}
		_, err = f.svc.AcceptInvitationByID(ctx, "orginv_nope", bob.ID)
		wantErr(t, "unknown invitation", err, storage.ErrNotFound)
	})
}
