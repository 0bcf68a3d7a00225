package tenancy_test

import (
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/tenancy"
)

var codeRE = regexp.MustCompile(`\b\d{6}\b`)

// lastCode is the code in the newest mail to address.
func (f *fixture) lastCode(address string) string {
	f.t.Helper()
	ms := f.mails()
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].To == address {
			if c := codeRE.FindString(ms[i].Text); c != "" {
				return c
			}
		}
	}
	f.t.Fatalf("no code mailed to %s", address)
	return ""
}

func TestIsPublicEmailDomain(t *testing.T) {
	for d, want := range map[string]bool{
		"gmail.com": true, "mail.yahoo.com": true, "proton.me": true, "outlook.com": true, "icloud.com": true,
		"acme.com": false, "gmail.com.acme.com": false, "notgmail.com": false, "com": false,
	} {
		if got := tenancy.IsPublicEmailDomain(d); got != want {
			t.Errorf("IsPublicEmailDomain(%q) = %v, want %v", d, got, want)
		}
	}
}

func TestAddDomainRules(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ada := f.user("ada@example.com")
		org := f.org("Acme", ada)
		for _, tc := range []struct {
			name string
			want error
		}{
			{"gmail.com", tenancy.ErrPublicDomain},
			{"GMail.com.", tenancy.ErrPublicDomain},
			{"mail.yahoo.com", tenancy.ErrPublicDomain},
			{"proton.me", tenancy.ErrPublicDomain},
			{"hotmail.com", tenancy.ErrPublicDomain},
			{"localhost", tenancy.ErrInvalid},
			{"exa mple.com", tenancy.ErrInvalid},
			{"-acme.com", tenancy.ErrInvalid},
			{"acme..com", tenancy.ErrInvalid},
			{"10.0.0.1", tenancy.ErrInvalid},
			{"acme_corp.com", tenancy.ErrInvalid},
			{"", tenancy.ErrInvalid},
		} {
			_, err := f.svc.AddDomain(ctx, tenancy.Operator(), org.ID, tenancy.NewDomain{Name: tc.name})
			wantErr(t, "add "+tc.name, err, tc.want)
		}
		_, err := f.svc.AddDomain(ctx, tenancy.Operator(), org.ID, tenancy.NewDomain{Name: "acme.com", EnrollmentMode: "sometimes"})
		wantErr(t, "bad enrollment mode", err, tenancy.ErrInvalid)
		f.events.take(t)
		d, err := f.svc.AddDomain(ctx, tenancy.UserActor(ada.ID), org.ID, tenancy.NewDomain{Name: " Acme.COM. "})
		if err != nil || d.Name != "acme.com" || d.EnrollmentMode != tenancy.EnrollManual || d.Verified {
			t.Fatalf("added domain = %+v, %v", d, err)
		}
		if j := d.JSON(); j.Object != "organization_domain" || j.Verification != nil || j.AffiliationEmailAddress != nil {
			t.Errorf("new domain JSON = %+v", j)
		}
		if diff := cmp.Diff([]string{"organizationDomain.created"}, f.events.types(t)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		_, err = f.svc.AddDomain(ctx, tenancy.Operator(), org.ID, tenancy.NewDomain{Name: "acme.com"})
		wantErr(t, "add twice", err, storage.ErrConflict)
		for i := range 9 {
			if _, err := f.svc.AddDomain(ctx, tenancy.Operator(), org.ID, tenancy.NewDomain{Name: string(rune('a'+i)) + "-acme.com"}); err != nil {
				t.Fatal(err)
			}
		}
		_, err = f.svc.AddDomain(ctx, tenancy.Operator(), org.ID, tenancy.NewDomain{Name: "eleventh.com"})
		wantErr(t, "eleventh domain", err, tenancy.ErrDomainLimit)
	})
}

func TestDomainVerification(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ada, bob := f.user("ada@example.com"), f.user("bob@example.com")
		org := f.org("Acme", ada)
		other := f.org("Rival", bob)
		d, err := f.svc.AddDomain(ctx, tenancy.Operator(), org.ID, tenancy.NewDomain{Name: "acme.com"})
		if err != nil {
			t.Fatal(err)
		}
		rivalDomain, err := f.svc.AddDomain(ctx, tenancy.Operator(), other.ID, tenancy.NewDomain{Name: "acme.com"})
		if err != nil {
			t.Fatal(err)
		}
		owner := tenancy.UserActor(ada.ID)
		_, err = f.svc.AttemptDomainVerification(ctx, owner, org.ID, d.ID, "123456")
		wantErr(t, "attempt before any code", err, tenancy.ErrNoVerificationPending)
		_, err = f.svc.PrepareDomainVerification(ctx, owner, org.ID, d.ID, "it@evil.com")
		wantErr(t, "code to another domain", err, tenancy.ErrInvalid)
		_, err = f.svc.PrepareDomainVerification(ctx, owner, org.ID, d.ID, "it@sub.acme.com")
		wantErr(t, "code to a subdomain", err, tenancy.ErrInvalid)
		f.events.take(t)
		d, err = f.svc.PrepareDomainVerification(ctx, owner, org.ID, d.ID, "IT@acme.com")
		if err != nil {
			t.Fatal(err)
		}
		code := f.lastCode("IT@acme.com")
		if j := d.JSON(); j.Verification == nil || j.Verification.Status != "unverified" || j.Verification.ExpireAt == nil || *j.AffiliationEmailAddress != "IT@acme.com" {
			t.Errorf("domain JSON while verifying = %+v", j)
		}
		var stored string
		if err := db.NewSelect().Table("organization_domains").Column("code_hash").Where("id = ?", d.ID).Scan(ctx, &stored); err != nil || stored == code {
			t.Errorf("code stored in clear (%q, %v)", stored, err)
		}
		_, err = f.svc.PrepareDomainVerification(ctx, owner, org.ID, d.ID, "it@acme.com")
		wantErr(t, "second code right away", err, tenancy.ErrCodeCooldown)

		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for i := range tenancy.DefaultDomainCodeAttempts {
			got, err := f.svc.AttemptDomainVerification(ctx, owner, org.ID, d.ID, wrong)
			wantErr(t, "wrong code", err, tenancy.ErrCodeInvalid)
			if got == nil || got.VerificationAttempts != i+1 {
				t.Errorf("after %d wrong codes attempts = %+v", i+1, got)
			}
		}
		_, err = f.svc.AttemptDomainVerification(ctx, owner, org.ID, d.ID, code)
		wantErr(t, "right code after too many wrong ones", err, tenancy.ErrTooManyAttempts)

		// A new code resets the attempts; it expires on the fake clock.
		f.clock.Advance(tenancy.DomainCodeCooldown)
		if _, err := f.svc.PrepareDomainVerification(ctx, owner, org.ID, d.ID, "it@acme.com"); err != nil {
			t.Fatal(err)
		}
		code = f.lastCode("it@acme.com")
		f.clock.Advance(tenancy.DefaultDomainCodeLifetime)
		_, err = f.svc.AttemptDomainVerification(ctx, owner, org.ID, d.ID, code)
		wantErr(t, "expired code", err, tenancy.ErrCodeExpired)

		if _, err := f.svc.PrepareDomainVerification(ctx, owner, org.ID, d.ID, "it@acme.com"); err != nil {
			t.Fatal(err)
		}
		f.events.take(t)
		d, err = f.svc.AttemptDomainVerification(ctx, owner, org.ID, d.ID, " "+f.lastCode("it@acme.com")+" ")
		if err != nil || !d.Verified || d.JSON().Verification.Status != "verified" {
			t.Fatalf("verify = %+v, %v", d, err)
		}
		if diff := cmp.Diff([]string{"organizationDomain.updated"}, f.events.types(t)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		_, err = f.svc.PrepareDomainVerification(ctx, owner, org.ID, d.ID, "it@acme.com")
		wantErr(t, "verify a verified domain", err, tenancy.ErrInvalid)

		// The rival organization cannot verify the same domain.
		rival := tenancy.UserActor(bob.ID)
		if _, err := f.svc.PrepareDomainVerification(ctx, rival, other.ID, rivalDomain.ID, "it@acme.com"); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.AttemptDomainVerification(ctx, rival, other.ID, rivalDomain.ID, f.lastCode("it@acme.com"))
		wantErr(t, "second organization verifies", err, storage.ErrConflict)

		domains, err := f.svc.ListDomains(ctx, owner, org.ID)
		if err != nil || len(domains) != 1 || !domains[0].Verified {
			t.Errorf("ListDomains = %+v, %v", domains, err)
		}
		if err := f.svc.DeleteDomain(ctx, owner, org.ID, d.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.GetDomain(ctx, owner, org.ID, d.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("deleted domain: %v", err)
		}
	})
}

// verifiedDomain adds and verifies a domain for org as the operator.
func (f *fixture) verifiedDomain(org *tenancy.Organization, name, mode string) *tenancy.Domain {
	f.t.Helper()
	d, err := f.svc.AddDomain(ctx, tenancy.Operator(), org.ID, tenancy.NewDomain{Name: name, EnrollmentMode: mode})
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.svc.PrepareDomainVerification(ctx, tenancy.Operator(), org.ID, d.ID, "admin@"+name); err != nil {
		f.t.Fatal(err)
	}
	if d, err = f.svc.AttemptDomainVerification(ctx, tenancy.Operator(), org.ID, d.ID, f.lastCode("admin@"+name)); err != nil {
		f.t.Fatal(err)
	}
	return d
}

func TestDomainEnrollment(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ada := f.user("ada@owner.example")
		inviting := f.org("Inviting", ada)
		suggesting := f.org("Suggesting", ada)
		manual := f.org("Manual", ada)
		f.verifiedDomain(inviting, "acme.com", tenancy.EnrollAutomaticInvitation)
		f.verifiedDomain(manual, "globex.com", tenancy.EnrollManual)
		// Unverified automatic domains do nothing.
		if _, err := f.svc.AddDomain(ctx, tenancy.Operator(), suggesting.ID, tenancy.NewDomain{Name: "initech.com", EnrollmentMode: tenancy.EnrollAutomaticInvitation}); err != nil {
			t.Fatal(err)
		}
		sugg := f.verifiedDomain(suggesting, "acme.org", tenancy.EnrollAutomaticSuggestion)

		bob := f.user("bob@ACME.com")
		f.events.take(t)
		invs, err := f.svc.EnrollByDomain(ctx, bob.ID)
		if err != nil || len(invs) != 1 || invs[0].OrganizationID != inviting.ID || invs[0].Role != rbac.RoleMember {
			t.Fatalf("EnrollByDomain = %+v, %v; want one invitation to Inviting", invs, err)
		}
		if diff := cmp.Diff([]string{"organizationInvitation.created"}, f.events.types(t)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		if again, err := f.svc.EnrollByDomain(ctx, bob.ID); err != nil || len(again) != 0 {
			t.Errorf("second EnrollByDomain = %v, %v; want nothing new", again, err)
		}
		pending, _ := f.svc.PendingInvitationsFor(ctx, bob.Email)
		if len(pending) != 1 {
			t.Fatalf("pending = %v", pending)
		}
		if _, err := f.svc.AcceptInvitationByID(ctx, pending[0].ID, bob.ID); err != nil {
			t.Fatalf("accept domain invitation: %v", err)
		}
		if again, _ := f.svc.EnrollByDomain(ctx, bob.ID); len(again) != 0 {
			t.Errorf("a member was invited again: %v", again)
		}
		// Unverified addresses get nothing.
		unverified := f.unverifiedUser("cy@acme.com")
		if invs, err := f.svc.EnrollByDomain(ctx, unverified.ID); err != nil || len(invs) != 0 {
			t.Errorf("unverified EnrollByDomain = %v, %v", invs, err)
		}
		// Suggestions.
		dee := f.user("dee@acme.org")
		orgs, err := f.svc.DomainSuggestions(ctx, dee.ID)
		if err != nil || len(orgs) != 1 || orgs[0].ID != suggesting.ID {
			t.Errorf("DomainSuggestions = %v, %v", orgs, err)
		}
		if _, err := f.svc.SetDomainEnrollmentMode(ctx, tenancy.UserActor(ada.ID), suggesting.ID, sugg.ID, tenancy.EnrollManual); err != nil {
			t.Fatal(err)
		}
		if orgs, _ := f.svc.DomainSuggestions(ctx, dee.ID); len(orgs) != 0 {
			t.Errorf("suggestions after switching to manual = %v", orgs)
		}
		_, err = f.svc.SetDomainEnrollmentMode(ctx, tenancy.Operator(), suggesting.ID, sugg.ID, "nope")
		wantErr(t, "bad mode", err, tenancy.ErrInvalid)
		f.clock.Advance(time.Minute)
	})
}
