package tenancy

import (
	"time"

	"github.com/uptrace/bun"
)

// Invitation statuses. A pending invitation past its expiry reads as
// expired.
const (
	InvitationPending  = "pending"
	InvitationAccepted = "accepted"
	InvitationRevoked  = "revoked"
	InvitationExpired  = "expired"
)

// Invitation asks someone, by email address, to join an organization.
type Invitation struct {
	ID             string
	OrganizationID string
	EmailAddress   string
	Role           string
	Status         string // pending, accepted, revoked or expired
	InviterUserID  string // "" when the operator invited or the inviter was deleted
	AcceptedUserID string
	// PublicMetadata and PrivateMetadata are set by the operator. Never nil.
	PublicMetadata  map[string]any
	PrivateMetadata map[string]any
	// Organization is set by PendingInvitationsFor and InvitationByToken.
	Organization *Organization
	// Token and URL (the accept link) are set only in the result of
	// CreateInvitation: only a keyed hash of the token is stored.
	Token     string
	URL       string
	ExpiresAt time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

type invitationRow struct {
	bun.BaseModel `bun:"table:organization_invitations,alias:i"`

	ID              string    `bun:"id,pk"`
	OrganizationID  string    `bun:"organization_id"`
	EmailAddress    string    `bun:"email_address"`
	EmailNormalized string    `bun:"email_normalized"`
	Role            string    `bun:"role"`
	Status          string    `bun:"status"`
	TokenHash       string    `bun:"token_hash"`
	InviterUserID   string    `bun:"inviter_user_id,nullzero"`
	AcceptedUserID  string    `bun:"accepted_user_id,nullzero"`
	PublicMetadata  string    `bun:"public_metadata"`
	PrivateMetadata string    `bun:"private_metadata"`
	ExpiresAt       time.Time `bun:"expires_at"`
	CreatedAt       time.Time `bun:"created_at"`
	UpdatedAt       time.Time `bun:"updated_at"`

	Org *orgRow `bun:"rel:belongs-to,join:organization_id=id"`
}

// status is the invitation's status as of now.
func (r *invitationRow) status(now time.Time) string {
	if r.Status == InvitationPending && !now.Before(r.ExpiresAt) {
		return InvitationExpired
	}
	return r.Status
}

func (r *invitationRow) invitation(now time.Time) *Invitation {
	return &Invitation{
		ID: r.ID, OrganizationID: r.OrganizationID, EmailAddress: r.EmailAddress, Role: r.Role,
		Status: r.status(now), InviterUserID: r.InviterUserID, AcceptedUserID: r.AcceptedUserID,
		PublicMetadata: decodeMetadata(r.PublicMetadata), PrivateMetadata: decodeMetadata(r.PrivateMetadata),
		Organization: r.Org.organization(),
		ExpiresAt:    r.ExpiresAt.UTC(), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// InvitationJSON is an invitation in Clerk's Backend API shape.
type InvitationJSON struct {
	Object          string         `json:"object"` // "organization_invitation"
	ID              string         `json:"id"`
	EmailAddress    string         `json:"email_address"`
	Role            string         `json:"role"`
	OrganizationID  string         `json:"organization_id"`
	Status          string         `json:"status"`
	PublicMetadata  map[string]any `json:"public_metadata"`
	PrivateMetadata map[string]any `json:"private_metadata"`
	// URL, the accept link, only in the answer to the request that created
	// the invitation; never in events.
	URL *string `json:"url"`
	// PublicOrganizationData is present when the organization was loaded
	// (a user's pending invitations).
	PublicOrganizationData *PublicOrganizationDataJSON `json:"public_organization_data,omitempty"`
	ExpiresAt              int64                       `json:"expires_at"`
	CreatedAt              int64                       `json:"created_at"`
	UpdatedAt              int64                       `json:"updated_at"`
}

// PublicOrganizationDataJSON is what an invitee may see of the organization.
type PublicOrganizationDataJSON struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Slug     string `json:"slug"`
	ImageURL string `json:"image_url"`
	HasImage bool   `json:"has_image"`
}

// JSON returns inv's API form.
func (inv *Invitation) JSON() InvitationJSON {
	j := InvitationJSON{
		Object: "organization_invitation", ID: inv.ID, EmailAddress: inv.EmailAddress, Role: inv.Role,
		OrganizationID: inv.OrganizationID, Status: inv.Status,
		PublicMetadata: nonNil(inv.PublicMetadata), PrivateMetadata: nonNil(inv.PrivateMetadata),
		URL:       nullable(inv.URL),
		ExpiresAt: inv.ExpiresAt.UnixMilli(), CreatedAt: inv.CreatedAt.UnixMilli(), UpdatedAt: inv.UpdatedAt.UnixMilli(),
	}
	if o := inv.Organization; o != nil {
		j.PublicOrganizationData = &PublicOrganizationDataJSON{ID: o.ID, Name: o.Name, Slug: o.Slug, ImageURL: o.ImageURL, HasImage: o.ImageURL != ""}
	}
	return j
}
