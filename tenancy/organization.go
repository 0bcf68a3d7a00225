package tenancy

import (
	"time"

	"github.com/uptrace/bun"
)

// Organization is a tenant: a group of users with roles.
type Organization struct {
	ID       string
	Name     string
	Slug     string
	ImageURL string
	// PublicMetadata is readable by members; PrivateMetadata by the
	// backend only. Never nil.
	PublicMetadata  map[string]any
	PrivateMetadata map[string]any
	// MaxAllowedMemberships bounds members; 0 means unlimited.
	MaxAllowedMemberships int
	// AdminDeleteEnabled: members holding org:sys_profile:delete may delete
	// the organization. When false only the operator can.
	AdminDeleteEnabled bool
	// CreatedBy is the creator's user id; "" once that user is deleted.
	CreatedBy string
	// Counts is set by GetOrganization, ListOrganizations and
	// CreateOrganization, nil elsewhere.
	Counts    *OrganizationCounts
	CreatedAt time.Time
	UpdatedAt time.Time
}

// OrganizationCounts are computed when the organization is read.
type OrganizationCounts struct {
	Members            int
	PendingInvitations int
}

type orgRow struct {
	bun.BaseModel `bun:"table:organizations,alias:o"`

	ID                    string    `bun:"id,pk"`
	Name                  string    `bun:"name"`
	Slug                  string    `bun:"slug"`
	ImageURL              string    `bun:"image_url"`
	PublicMetadata        string    `bun:"public_metadata"`
	PrivateMetadata       string    `bun:"private_metadata"`
	MaxAllowedMemberships int       `bun:"max_allowed_memberships"`
	AdminDeleteEnabled    bool      `bun:"admin_delete_enabled"`
	CreatedBy             string    `bun:"created_by,nullzero"`
	CreatedAt             time.Time `bun:"created_at"`
	UpdatedAt             time.Time `bun:"updated_at"`

	MembersCount            *int `bun:"members_count,scanonly"`
	PendingInvitationsCount *int `bun:"pending_invitations_count,scanonly"`
}

func (r *orgRow) organization() *Organization {
	if r == nil {
		return nil
	}
	o := &Organization{
		ID: r.ID, Name: r.Name, Slug: r.Slug, ImageURL: r.ImageURL,
		PublicMetadata: decodeMetadata(r.PublicMetadata), PrivateMetadata: decodeMetadata(r.PrivateMetadata),
		MaxAllowedMemberships: r.MaxAllowedMemberships, AdminDeleteEnabled: r.AdminDeleteEnabled,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.MembersCount != nil && r.PendingInvitationsCount != nil {
		o.Counts = &OrganizationCounts{Members: *r.MembersCount, PendingInvitations: *r.PendingInvitationsCount}
	}
	return o
}

// OrganizationJSON is an organization in Clerk's Backend API shape.
type OrganizationJSON struct {
	Object   string `json:"object"` // "organization"
	ID       string `json:"id"`
	Name     string `json:"name"`
	Slug     string `json:"slug"`
	ImageURL string `json:"image_url"`
	HasImage bool   `json:"has_image"`
	// Present when the organization was read with its counts.
	MembersCount            *int           `json:"members_count,omitempty"`
	PendingInvitationsCount *int           `json:"pending_invitations_count,omitempty"`
	MaxAllowedMemberships   int            `json:"max_allowed_memberships"`
	AdminDeleteEnabled      bool           `json:"admin_delete_enabled"`
	PublicMetadata          map[string]any `json:"public_metadata"`
	PrivateMetadata         map[string]any `json:"private_metadata"`
	CreatedBy               *string        `json:"created_by"`
	CreatedAt               int64          `json:"created_at"`
	UpdatedAt               int64          `json:"updated_at"`
}

// JSON returns o's API form.
func (o *Organization) JSON() OrganizationJSON {
	j := OrganizationJSON{
		Object: "organization", ID: o.ID, Name: o.Name, Slug: o.Slug, ImageURL: o.ImageURL, HasImage: o.ImageURL != "",
		MaxAllowedMemberships: o.MaxAllowedMemberships, AdminDeleteEnabled: o.AdminDeleteEnabled,
		PublicMetadata: nonNil(o.PublicMetadata), PrivateMetadata: nonNil(o.PrivateMetadata),
		CreatedAt: o.CreatedAt.UnixMilli(), UpdatedAt: o.UpdatedAt.UnixMilli(),
	}
	if o.CreatedBy != "" {
		j.CreatedBy = &o.CreatedBy
	}
	if o.Counts != nil {
		m, p := o.Counts.Members, o.Counts.PendingInvitations
		j.MembersCount, j.PendingInvitationsCount = &m, &p
	}
	return j
}

func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
