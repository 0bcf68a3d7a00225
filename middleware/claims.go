package middleware

import (
	"context"
	"slices"
	"time"
)

// Claims are the verified claims of an access token: who is calling, for
// which client, in which organization, with which permissions.
type Claims struct {
	// Issuer is iss; Audience is aud (always a list).
	Issuer   string
	Audience []string
	// Subject is the user id for a user's token, the client id for a
	// client-credentials (machine) token. A pairwise client's users have
	// a pairwise subject.
	Subject string
	// ClientID is the OAuth 2.0 client the token was issued to.
	ClientID string
	// Scopes are the granted scopes (the scope claim, split on spaces).
	Scopes []string
	// SessionID is the user's browser session (sid); empty for machines.
	SessionID string
	// The active organization, empty when the token has none (no
	// organization scope, a personal account, a machine).
	OrgID   string
	OrgSlug string
	// OrgRole is the member's role key, for example "org:admin".
	OrgRole string
	// OrgPermissions are the custom permissions of the role, for example
	// "org:projects:manage"; system permissions (org:sys_*) are never in
	// tokens.
	OrgPermissions []string
	// ID is jti; IssuedAt iat; ExpiresAt exp.
	ID        string
	IssuedAt  time.Time
	ExpiresAt time.Time
	// Raw are all the claims as JSON decoded them (numbers are float64),
	// template claims included.
	Raw map[string]any
}

// Has reports whether the token's organization role holds permission: an
// exact member of org_permissions, the rule of rbac.Grants.Has and of
// Clerk's has({permission}). System permissions (org:sys_*) are never in
// tokens, so Has is false for them; the server checks those itself.
func (c *Claims) Has(permission string) bool {
	return c != nil && permission != "" && slices.Contains(c.OrgPermissions, permission)
}

// HasScope reports whether scope was granted.
func (c *Claims) HasScope(scope string) bool {
	return c != nil && scope != "" && slices.Contains(c.Scopes, scope)
}

// IsMachine reports whether the token is a client-credentials token: its
// subject is the client itself and no browser session stands behind it.
func (c *Claims) IsMachine() bool {
	return c != nil && c.Subject != "" && c.Subject == c.ClientID && c.SessionID == ""
}

type claimsKey struct{}

// NewContext returns ctx carrying c; Handler does this for verified
// requests, and tests of handlers can do it themselves.
func NewContext(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// FromContext returns the claims Handler verified, or nil when the request
// did not pass through it.
func FromContext(ctx context.Context) *Claims {
	c, _ := ctx.Value(claimsKey{}).(*Claims)
	return c
}
