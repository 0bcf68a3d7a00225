package templates

import "time"

// Data is what a template renders from. The caller fills it from its own
// user, organization and session records; this package imports none of
// them. A nil User, Org, Membership or Session renders its shortcodes as
// null. Org is the active organization: without it, org.* and
// org_membership.* render null even when Membership is set.
type Data struct {
	User       *User
	Org        *Org
	Membership *Membership
	Session    *Session
}

// User is the signed-in user. Empty strings and zero times render as null.
type User struct {
	ID, ExternalID, FirstName, LastName, Username, Email string
	EmailVerified                                        bool
	ImageURL                                             string
	CreatedAt, UpdatedAt                                 time.Time
	PublicMetadata, UnsafeMetadata                       map[string]any
	// Organizations maps each organization id the user belongs to onto
	// the user's role key there ("org:admin").
	Organizations map[string]string
}

// Org is the active organization.
type Org struct {
	ID, Name, Slug, ImageURL string
	PublicMetadata           map[string]any
}

// Membership is the user's membership of the active organization: its role
// key ("org:admin") and the permission keys that role grants
// ("org:projects:manage"). org.role and org.permissions read it too.
type Membership struct {
	Role           string
	Permissions    []string
	PublicMetadata map[string]any
}

// Session is the browser session the token is issued for. Actor is set
// only while an operator impersonates the user ({"sub": …, "iss": …}).
type Session struct {
	ID    string
	Actor map[string]any
}
