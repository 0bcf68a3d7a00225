package tenancy

import (
	"time"

	"github.com/uptrace/bun"
)

// Membership is one user's place in one organization.
type Membership struct {
	ID             string
	OrganizationID string
	UserID         string
	Role           string // an rbac role key, "org:admin"
	// PublicMetadata and PrivateMetadata are set by the operator. Never nil.
	PublicMetadata  map[string]any
	PrivateMetadata map[string]any
	// Organization is always set by the methods that return memberships.
	Organization *Organization
	// RoleName, Permissions and PublicUserData are set by the list methods
	// and in events; the token path (MembershipOf, Memberships) leaves them
	// empty and uses Claims for permissions.
	RoleName       string
	Permissions    []string
	PublicUserData *PublicUserData
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// PublicUserData is what other members may see of a member.
type PublicUserData struct {
	UserID     string
	Identifier string // the email address
	FirstName  string
	LastName   string
	ImageURL   string
}

type membershipRow struct {
	bun.BaseModel `bun:"table:organization_memberships,alias:m"`

	ID              string    `bun:"id,pk"`
	OrganizationID  string    `bun:"organization_id"`
	UserID          string    `bun:"user_id"`
	Role            string    `bun:"role"`
	PublicMetadata  string    `bun:"public_metadata"`
	PrivateMetadata string    `bun:"private_metadata"`
	CreatedAt       time.Time `bun:"created_at"`
	UpdatedAt       time.Time `bun:"updated_at"`

	Org *orgRow `bun:"rel:belongs-to,join:organization_id=id"`
}

func (r *membershipRow) membership(org *Organization) *Membership {
	if org == nil {
		org = r.Org.organization()
	}
	return &Membership{
		ID: r.ID, OrganizationID: r.OrganizationID, UserID: r.UserID, Role: r.Role,
		PublicMetadata: decodeMetadata(r.PublicMetadata), PrivateMetadata: decodeMetadata(r.PrivateMetadata),
		Organization: org, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// MembershipJSON is a membership in Clerk's Backend API shape.
type MembershipJSON struct {
	Object          string              `json:"object"` // "organization_membership"
	ID              string              `json:"id"`
	Role            string              `json:"role"`
	RoleName        string              `json:"role_name"`
	Permissions     []string            `json:"permissions"`
	PublicMetadata  map[string]any      `json:"public_metadata"`
	PrivateMetadata map[string]any      `json:"private_metadata"`
	Organization    *OrganizationJSON   `json:"organization"`
	PublicUserData  *PublicUserDataJSON `json:"public_user_data"`
	CreatedAt       int64               `json:"created_at"`
	UpdatedAt       int64               `json:"updated_at"`
}

// PublicUserDataJSON is PublicUserData in Clerk's shape.
type PublicUserDataJSON struct {
	UserID     string  `json:"user_id"`
	Identifier string  `json:"identifier"`
	FirstName  *string `json:"first_name"`
	LastName   *string `json:"last_name"`
	ImageURL   string  `json:"image_url"`
	HasImage   bool    `json:"has_image"`
}

// JSON returns m's API form.
func (m *Membership) JSON() MembershipJSON {
	j := MembershipJSON{
		Object: "organization_membership", ID: m.ID, Role: m.Role, RoleName: m.RoleName,
		Permissions: m.Permissions, PublicMetadata: nonNil(m.PublicMetadata), PrivateMetadata: nonNil(m.PrivateMetadata),
		CreatedAt: m.CreatedAt.UnixMilli(), UpdatedAt: m.UpdatedAt.UnixMilli(),
	}
	if j.Permissions == nil {
		j.Permissions = []string{}
	}
	if m.Organization != nil {
		o := m.Organization.JSON()
		j.Organization = &o
	}
	if u := m.PublicUserData; u != nil {
		j.PublicUserData = &PublicUserDataJSON{UserID: u.UserID, Identifier: u.Identifier,
			FirstName: nullable(u.FirstName), LastName: nullable(u.LastName), ImageURL: u.ImageURL, HasImage: u.ImageURL != ""}
	} else {
		j.PublicUserData = &PublicUserDataJSON{UserID: m.UserID}
	}
	return j
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
