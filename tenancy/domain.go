package tenancy

import (
	"time"

	"github.com/uptrace/bun"
)

// Enrollment modes of a verified domain.
const (
	// EnrollManual: the domain is verified, nothing happens automatically.
	EnrollManual = "manual_invitation"
	// EnrollAutomaticInvitation: users with a verified address at the
	// domain are invited (EnrollByDomain) and accept from the switcher.
	EnrollAutomaticInvitation = "automatic_invitation"
	// EnrollAutomaticSuggestion: such users are shown the organization
	// (DomainSuggestions).
	EnrollAutomaticSuggestion = "automatic_suggestion"
)

// Domain is an email domain an organization claims.
type Domain struct {
	ID             string
	OrganizationID string
	Name           string // lowercase, "example.com"
	EnrollmentMode string
	Verified       bool
	VerifiedAt     time.Time
	// AffiliationEmailAddress received the last verification code.
	AffiliationEmailAddress string
	// VerificationAttempts counts wrong codes against the pending one;
	// VerificationExpiresAt is when it expires (zero: none pending).
	VerificationAttempts  int
	VerificationExpiresAt time.Time
	// TotalPendingInvitations counts pending invitations to addresses at
	// the domain; set by ListDomains.
	TotalPendingInvitations int
	CreatedAt               time.Time
	UpdatedAt               time.Time
}

type domainRow struct {
	bun.BaseModel `bun:"table:organization_domains,alias:d"`

	ID                      string    `bun:"id,pk"`
	OrganizationID          string    `bun:"organization_id"`
	Name                    string    `bun:"name"`
	EnrollmentMode          string    `bun:"enrollment_mode"`
	VerifiedAt              time.Time `bun:"verified_at,nullzero"`
	AffiliationEmailAddress string    `bun:"affiliation_email_address,nullzero"`
	CodeHash                string    `bun:"code_hash,nullzero"`
	CodeExpiresAt           time.Time `bun:"code_expires_at,nullzero"`
	CodeAttempts            int       `bun:"code_attempts"`
	CreatedAt               time.Time `bun:"created_at"`
	UpdatedAt               time.Time `bun:"updated_at"`

	TotalPendingInvitations int `bun:"total_pending_invitations,scanonly"`
}

func (r *domainRow) domain() *Domain {
	d := &Domain{
		ID: r.ID, OrganizationID: r.OrganizationID, Name: r.Name, EnrollmentMode: r.EnrollmentMode,
		Verified: !r.VerifiedAt.IsZero(), AffiliationEmailAddress: r.AffiliationEmailAddress,
		VerificationAttempts: r.CodeAttempts, TotalPendingInvitations: r.TotalPendingInvitations,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if d.Verified {
		d.VerifiedAt = r.VerifiedAt.UTC()
	}
	if r.CodeHash != "" {
		d.VerificationExpiresAt = r.CodeExpiresAt.UTC()
	}
	return d
}

// DomainJSON is a domain in Clerk's Backend API shape.
type DomainJSON struct {
	Object                  string                  `json:"object"` // "organization_domain"
	ID                      string                  `json:"id"`
	OrganizationID          string                  `json:"organization_id"`
	Name                    string                  `json:"name"`
	EnrollmentMode          string                  `json:"enrollment_mode"`
	AffiliationEmailAddress *string                 `json:"affiliation_email_address"`
	Verification            *DomainVerificationJSON `json:"verification"`
	TotalPendingInvitations int                     `json:"total_pending_invitations"`
	TotalPendingSuggestions int                     `json:"total_pending_suggestions"`
	CreatedAt               int64                   `json:"created_at"`
	UpdatedAt               int64                   `json:"updated_at"`
}

// DomainVerificationJSON is a domain's verification state.
type DomainVerificationJSON struct {
	Status   string `json:"status"`   // "verified" or "unverified"
	Strategy string `json:"strategy"` // "email_code"
	Attempts int    `json:"attempts"`
	ExpireAt *int64 `json:"expire_at"`
}

// JSON returns d's API form.
func (d *Domain) JSON() DomainJSON {
	j := DomainJSON{
		Object: "organization_domain", ID: d.ID, OrganizationID: d.OrganizationID, Name: d.Name,
		EnrollmentMode: d.EnrollmentMode, AffiliationEmailAddress: nullable(d.AffiliationEmailAddress),
		TotalPendingInvitations: d.TotalPendingInvitations,
		CreatedAt:               d.CreatedAt.UnixMilli(), UpdatedAt: d.UpdatedAt.UnixMilli(),
	}
	if d.Verified || d.AffiliationEmailAddress != "" {
		v := &DomainVerificationJSON{Status: "unverified", Strategy: "email_code", Attempts: d.VerificationAttempts}
		if d.Verified {
			v.Status = "verified"
		}
		if !d.VerificationExpiresAt.IsZero() {
			ms := d.VerificationExpiresAt.UnixMilli()
			v.ExpireAt = &ms
		}
		j.Verification = v
	}
	return j
}
