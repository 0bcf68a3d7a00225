package tenancy

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/internal/mail"
	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage"
)

// DomainCodeCooldown is how long after sending a verification code no new
// one is sent: each code resets the attempt counter, so codes must not be
// requested as fast as they can be guessed.
const DomainCodeCooldown = 30 * time.Second

// ErrCodeCooldown: a code was sent less than DomainCodeCooldown ago.
var ErrCodeCooldown = errors.New("a verification code was sent moments ago; wait before requesting another")

// NewDomain is the input of AddDomain.
type NewDomain struct {
	Name string // "example.com"
	// EnrollmentMode defaults to manual_invitation. Automatic modes take
	// effect once the domain is verified.
	EnrollmentMode string
}

// normalizeDomain checks a domain name and returns it lowercase, without a
// trailing dot. Internationalised names must be given in their ASCII
// (xn--) form.
func normalizeDomain(name string) (string, error) {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
	bad := func(why string) error { return fmt.Errorf("%w: domain %q: %s", ErrInvalid, name, why) }
	if d == "" || len(d) > 253 {
		return "", bad("must be a domain name such as example.com")
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return "", bad("needs at least two labels, such as example.com")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", bad("has an empty, too long, or dash-edged label")
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return "", bad("may contain only letters, digits, dashes and dots")
			}
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "", bad("has a numeric top-level label")
	}
	return d, nil
}

func validateEnrollmentMode(mode string) error {
	switch mode {
	case EnrollManual, EnrollAutomaticInvitation, EnrollAutomaticSuggestion:
		return nil
	}
	return fmt.Errorf("%w: enrollment_mode %q: want %s, %s or %s", ErrInvalid, mode, EnrollManual, EnrollAutomaticInvitation, EnrollAutomaticSuggestion)
}

// AddDomain adds an unverified domain to an organization and emits
// organizationDomain.created. Public email domains are refused
// (ErrPublicDomain), as is more than MaxDomains per organization. A user
// needs org:sys_domains:manage.
func (s *Service) AddDomain(ctx context.Context, actor Actor, orgRef string, in NewDomain) (*Domain, error) {
	name, err := normalizeDomain(in.Name)
	if err != nil {
		return nil, err
	}
	if IsPublicEmailDomain(name) {
		return nil, fmt.Errorf("add domain %q: %w", name, ErrPublicDomain)
	}
	if in.EnrollmentMode == "" {
		in.EnrollmentMode = EnrollManual
	}
	if err := validateEnrollmentMode(in.EnrollmentMode); err != nil {
		return nil, err
	}
	var out *Domain
	err = storage.InTx(ctx, s.db, func(ctx context.Context) error {
		a, err := s.authorize(ctx, actor, orgRef, rbac.PermDomainsManage)
		if err != nil {
			return err
		}
		n, err := s.conn(ctx).NewSelect().Model((*domainRow)(nil)).Where("organization_id = ?", a.org.ID).Count(ctx)
		if err != nil {
			return fmt.Errorf("add domain %q: %w", name, err)
		}
		if int(n) >= s.maxDomains {
			return fmt.Errorf("add domain %q: %w (%d)", name, ErrDomainLimit, s.maxDomains)
		}
		now := s.clock()
		row := &domainRow{ID: id.NewAt("orgdmn", now), OrganizationID: a.org.ID, Name: name,
			EnrollmentMode: in.EnrollmentMode, CreatedAt: now, UpdatedAt: now}
		if _, err := s.conn(ctx).NewInsert().Model(row).Exec(ctx); err != nil {
			if storage.IsUniqueViolation(err) {
				return fmt.Errorf("add domain %q: already added: %w", name, storage.ErrConflict)
			}
			return fmt.Errorf("add domain %q: %w", name, err)
		}
		out = row.domain()
		return s.emit(ctx, "organizationDomain.created", out.JSON())
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) loadDomain(ctx context.Context, orgID, domainID string) (*domainRow, error) {
	row := new(domainRow)
	err := s.conn(ctx).NewSelect().Model(row).Where("d.id = ?", domainID).Where("d.organization_id = ?", orgID).Scan(ctx)
	if err != nil {
		return nil, storage.NotFound(err, fmt.Sprintf("domain %q", domainID))
	}
	return row, nil
}

// ListDomains returns an organization's domains by name. A user needs
// org:sys_domains:read.
func (s *Service) ListDomains(ctx context.Context, actor Actor, orgRef string) ([]*Domain, error) {
	a, err := s.authorizeRead(ctx, actor, orgRef, rbac.PermDomainsRead)
	if err != nil {
		return nil, err
	}
	var rows []domainRow
	err = s.conn(ctx).NewSelect().Model(&rows).ColumnExpr("d.*").
		ColumnExpr("(SELECT COUNT(*) FROM organization_invitations AS ci WHERE ci.organization_id = d.organization_id AND ci.status = 'pending' AND ci.expires_at > ? AND ci.email_normalized LIKE '%@' || d.name) AS total_pending_invitations", s.clock()).
		Where("d.organization_id = ?", a.org.ID).Order("d.name").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list domains of %q: %w", a.org.ID, err)
	}
	out := make([]*Domain, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

// GetDomain returns one domain of an organization. A user needs
// org:sys_domains:read.
func (s *Service) GetDomain(ctx context.Context, actor Actor, orgRef, domainID string) (*Domain, error) {
	a, err := s.authorizeRead(ctx, actor, orgRef, rbac.PermDomainsRead)
	if err != nil {
		return nil, err
	}
	row, err := s.loadDomain(ctx, a.org.ID, domainID)
	if err != nil {
		return nil, err
	}
	return row.domain(), nil
}

// SetDomainEnrollmentMode changes how users at the domain join and emits
// organizationDomain.updated. A user needs org:sys_domains:manage.
func (s *Service) SetDomainEnrollmentMode(ctx context.Context, actor Actor, orgRef, domainID, mode string) (*Domain, error) {
	if err := validateEnrollmentMode(mode); err != nil {
		return nil, err
	}
	return s.changeDomain(ctx, actor, orgRef, domainID, func(ctx context.Context, row *domainRow) (bool, error) {
		if row.EnrollmentMode == mode {
			return false, nil
		}
		row.EnrollmentMode = mode
		return true, nil
	})
}

// changeDomain runs change on a locked domain row and, when it reports a
// change, saves the row and emits organizationDomain.updated.
func (s *Service) changeDomain(ctx context.Context, actor Actor, orgRef, domainID string, change func(ctx context.Context, row *domainRow) (bool, error)) (*Domain, error) {
	var out *Domain
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		a, err := s.authorize(ctx, actor, orgRef, rbac.PermDomainsManage)
		if err != nil {
			return err
		}
		row, err := s.loadDomain(ctx, a.org.ID, domainID)
		if err != nil {
			return err
		}
		changed, err := change(ctx, row)
		if err != nil || !changed {
			out = row.domain()
			return err
		}
		row.UpdatedAt = s.clock()
		if _, err := s.conn(ctx).NewUpdate().Model(row).
			Column("enrollment_mode", "verified_at", "affiliation_email_address", "code_hash", "code_expires_at", "code_attempts", "updated_at").
			WherePK().Exec(ctx); err != nil {
			if storage.IsUniqueViolation(err) {
				return fmt.Errorf("domain %q is verified by another organization: %w", row.Name, storage.ErrConflict)
			}
			return fmt.Errorf("update domain %q: %w", row.Name, err)
		}
		out = row.domain()
		return s.emit(ctx, "organizationDomain.updated", out.JSON())
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteDomain removes a domain from an organization and emits
// organizationDomain.deleted. A user needs org:sys_domains:manage.
func (s *Service) DeleteDomain(ctx context.Context, actor Actor, orgRef, domainID string) error {
	return storage.InTx(ctx, s.db, func(ctx context.Context) error {
		a, err := s.authorize(ctx, actor, orgRef, rbac.PermDomainsManage)
		if err != nil {
			return err
		}
		row, err := s.loadDomain(ctx, a.org.ID, domainID)
		if err != nil {
			return err
		}
		if _, err := s.conn(ctx).NewDelete().Model(row).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("delete domain %q: %w", row.Name, err)
		}
		return s.emit(ctx, "organizationDomain.deleted", deletedJSON{Object: "organization_domain", ID: row.ID, Deleted: true})
	})
}

func (s *Service) codeHash(domainID, code string) string {
	return s.keys.Hash("organization-domain-code:" + domainID + ":" + code)
}

func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic("tenancy: crypto/rand failed: " + err.Error())
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// PrepareDomainVerification mails a 6-digit code to an address at the
// domain, proving whoever enters it reads that domain's mail. The code is
// stored as a keyed hash, expires after DomainCodeLifetime and allows
// DomainCodeAttempts wrong tries. A user needs org:sys_domains:manage.
// It needs a Mailer.
func (s *Service) PrepareDomainVerification(ctx context.Context, actor Actor, orgRef, domainID, affiliationEmail string) (*Domain, error) {
	if s.mailer == nil {
		return nil, fmt.Errorf("verify domain: %w: no mailer is configured", ErrMailNotSent)
	}
	address, normalized, err := normalizeEmail(affiliationEmail)
	if err != nil {
		return nil, err
	}
	code := newCode()
	var orgName string
	out, err := s.changeDomain(ctx, actor, orgRef, domainID, func(ctx context.Context, row *domainRow) (bool, error) {
		if !row.VerifiedAt.IsZero() {
			return false, fmt.Errorf("%w: domain %q is already verified", ErrInvalid, row.Name)
		}
		if !strings.HasSuffix(normalized, "@"+row.Name) {
			return false, fmt.Errorf("%w: %s is not an address at %s", ErrInvalid, address, row.Name)
		}
		now := s.clock()
		if row.CodeHash != "" && now.Before(row.CodeExpiresAt.Add(-s.codeLifetime+DomainCodeCooldown)) {
			return false, fmt.Errorf("verify domain %q: %w", row.Name, ErrCodeCooldown)
		}
		org, err := s.loadOrg(ctx, row.OrganizationID, false)
		if err != nil {
			return false, err
		}
		orgName = org.Name
		row.AffiliationEmailAddress, row.CodeHash = address, s.codeHash(row.ID, code)
		row.CodeExpiresAt, row.CodeAttempts = now.Add(s.codeLifetime), 0
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	msg := mail.Message{
		To:      address,
		Subject: "Your verification code for " + out.Name,
		Text: fmt.Sprintf("Enter this code to verify %s for %s:\n\n%s\n\nIt expires in %d minutes. If you did not expect this email, ignore it.\n",
			out.Name, sanitizeHeader(orgName), code, int(s.codeLifetime.Minutes())),
	}
	if err := s.send(ctx, msg); err != nil {
		return out, err
	}
	return out, nil
}

// AttemptDomainVerification checks a code sent by PrepareDomainVerification
// and, when it matches, marks the domain verified and emits
// organizationDomain.updated. A wrong code counts against the attempts
// (ErrCodeInvalid); past the limit every try fails with ErrTooManyAttempts
// until a new code is sent. A domain can be verified by one organization
// only (storage.ErrConflict). A user needs org:sys_domains:manage.
func (s *Service) AttemptDomainVerification(ctx context.Context, actor Actor, orgRef, domainID, code string) (*Domain, error) {
	// A wrong code must still count, so the attempt commits and the
	// refusal is returned afterwards.
	var refusal error
	out, err := s.changeDomain(ctx, actor, orgRef, domainID, func(ctx context.Context, row *domainRow) (bool, error) {
		now := s.clock()
		switch {
		case !row.VerifiedAt.IsZero():
			return false, nil
		case row.CodeHash == "":
			return false, fmt.Errorf("verify domain %q: %w", row.Name, ErrNoVerificationPending)
		case !now.Before(row.CodeExpiresAt):
			return false, fmt.Errorf("verify domain %q: %w", row.Name, ErrCodeExpired)
		case row.CodeAttempts >= s.codeAttempts:
			return false, fmt.Errorf("verify domain %q: %w", row.Name, ErrTooManyAttempts)
		}
		if !secret.Equal(s.codeHash(row.ID, strings.TrimSpace(code)), row.CodeHash) {
			row.CodeAttempts++
			refusal = fmt.Errorf("verify domain %q: %w (%d of %d attempts used)", row.Name, ErrCodeInvalid, row.CodeAttempts, s.codeAttempts)
			return true, nil
		}
		taken, err := s.conn(ctx).NewSelect().Model((*domainRow)(nil)).Where("name = ?", row.Name).
			Where("verified_at IS NOT NULL").Where("id <> ?", row.ID).Count(ctx)
		if err != nil {
			return false, err
		}
		if taken > 0 {
			return false, fmt.Errorf("domain %q is verified by another organization: %w", row.Name, storage.ErrConflict)
		}
		row.VerifiedAt, row.CodeHash, row.CodeExpiresAt, row.CodeAttempts = now, "", time.Time{}, 0
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return out, refusal
	}
	return out, nil
}

// emailDomain returns the lowercase domain of an address.
func emailDomain(email string) string {
	e := strings.ToLower(strings.TrimSpace(email))
	if i := strings.LastIndexByte(e, '@'); i >= 0 {
		return e[i+1:]
	}
	return ""
}

// verifiedDomainOrgs returns the organizations with a verified domain in
// the given mode that matches the user's verified email address and that
// the user does not belong to.
func (s *Service) verifiedDomainOrgs(ctx context.Context, userID, mode string) ([]orgRow, error) {
	u, err := s.users.GetUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	domain := emailDomain(u.Email)
	if !u.EmailVerified || domain == "" {
		return nil, nil
	}
	var rows []orgRow
	err = s.conn(ctx).NewSelect().Model(&rows).
		Where("o.id IN (SELECT organization_id FROM organization_domains WHERE name = ? AND verified_at IS NOT NULL AND enrollment_mode = ?)", domain, mode).
		Where("o.id NOT IN (SELECT organization_id FROM organization_memberships WHERE user_id = ?)", userID).
		OrderExpr("LOWER(o.name), o.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("organizations for domain %q: %w", domain, err)
	}
	return rows, nil
}

// DomainSuggestions returns the organizations that suggest themselves to a
// user: those with a verified automatic_suggestion domain matching the
// user's verified email address, which the user has not joined.
func (s *Service) DomainSuggestions(ctx context.Context, userID string) ([]*Organization, error) {
	rows, err := s.verifiedDomainOrgs(ctx, userID, EnrollAutomaticSuggestion)
	if err != nil {
		return nil, err
	}
	out := make([]*Organization, len(rows))
	for i := range rows {
		out[i] = rows[i].organization()
	}
	return out, nil
}

// EnrollByDomain invites a user to every organization with a verified
// automatic_invitation domain matching the user's verified email address,
// unless they are a member, already invited, or the organization is full;
// it returns the new invitations (accept them with AcceptInvitationByID)
// and emits organizationInvitation.created for each. No mail is sent: the
// switcher shows them. Call it after sign-in or email verification.
func (s *Service) EnrollByDomain(ctx context.Context, userID string) ([]*Invitation, error) {
	var out []*Invitation
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		out = nil
		rows, err := s.verifiedDomainOrgs(ctx, userID, EnrollAutomaticInvitation)
		if err != nil || len(rows) == 0 {
			return err
		}
		u, err := s.users.GetUser(ctx, userID)
		if err != nil {
			return err
		}
		_, normalized, err := normalizeEmail(u.Email)
		if err != nil {
			return err
		}
		for _, r := range rows {
			inv, err := s.autoInvite(ctx, r.ID, u.Email, normalized)
			if err != nil {
				return err
			}
			if inv != nil {
				out = append(out, inv)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// autoInvite creates a domain invitation unless one is pending or the
// organization is full; it returns nil then.
func (s *Service) autoInvite(ctx context.Context, orgID, address, normalized string) (*Invitation, error) {
	org, err := s.loadOrg(ctx, orgID, true)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	n, err := s.conn(ctx).NewSelect().Model((*invitationRow)(nil)).Where("organization_id = ?", orgID).
		Where("email_normalized = ?", normalized).Where("status = ?", InvitationPending).Where("expires_at > ?", now).Count(ctx)
	if err != nil || n > 0 {
		return nil, err
	}
	if err := s.checkMemberLimit(ctx, org, true); errors.Is(err, ErrMembershipLimit) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if _, err := s.conn(ctx).NewUpdate().Model((*invitationRow)(nil)).
		Set("status = ?", InvitationExpired).Set("updated_at = ?", now).
		Where("organization_id = ?", orgID).Where("email_normalized = ?", normalized).
		Where("status = ?", InvitationPending).Exec(ctx); err != nil {
		return nil, err
	}
	if _, err := s.lockRole(ctx, rbac.RoleMember); err != nil {
		return nil, err
	}
	// The token is never sent: the invitee accepts by id, proven by their
	// verified address. The column still needs a unique value.
	row := &invitationRow{ID: id.NewAt("orginv", now), OrganizationID: orgID, EmailAddress: address,
		EmailNormalized: normalized, Role: rbac.RoleMember, Status: InvitationPending,
		TokenHash: s.keys.Hash(secret.Token(invitationTokenPrefix)), PublicMetadata: "{}", PrivateMetadata: "{}",
		ExpiresAt: now.Add(s.invitationLifetime), CreatedAt: now, UpdatedAt: now, Org: org}
	if _, err := s.conn(ctx).NewInsert().Model(row).Exec(ctx); err != nil {
		return nil, fmt.Errorf("invite %s to %q: %w", address, orgID, err)
	}
	inv := row.invitation(now)
	if err := s.emit(ctx, "organizationInvitation.created", inv.JSON()); err != nil {
		return nil, err
	}
	return inv, nil
}
