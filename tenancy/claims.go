package tenancy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage"
)

// The questions the OIDC layer asks on every authorization, token and
// refresh. Each is one query (Claims adds one for the role's grants), and
// none reveals anything about an organization the user does not belong to.

// MembershipOf returns the user's membership in the organization named by
// id or slug, with the organization. storage.ErrNotFound when the user is
// not a member — exactly as when the organization does not exist.
func (s *Service) MembershipOf(ctx context.Context, userID, orgRef string) (*Membership, error) {
	if userID == "" || orgRef == "" {
		return nil, fmt.Errorf("membership: %w", storage.ErrNotFound)
	}
	row := new(membershipRow)
	err := whereOrg(s.conn(ctx).NewSelect().Model(row).Relation("Org"), "org.", orgRef).
		Where("m.user_id = ?", userID).Scan(ctx)
	if err != nil {
		return nil, storage.NotFound(err, fmt.Sprintf("membership of %q in %q", userID, orgRef))
	}
	return row.membership(nil), nil
}

// Memberships returns all of a user's memberships with their
// organizations, by organization name.
func (s *Service) Memberships(ctx context.Context, userID string) ([]*Membership, error) {
	var rows []membershipRow
	err := s.conn(ctx).NewSelect().Model(&rows).Relation("Org").Where("m.user_id = ?", userID).
		OrderExpr("LOWER(org.name), org.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("memberships of %q: %w", userID, err)
	}
	out := make([]*Membership, len(rows))
	for i := range rows {
		out[i] = rows[i].membership(nil)
	}
	return out, nil
}

// PendingInvitationsFor returns the pending, unexpired invitations for an
// email address (compared ignoring case) with their organizations, newest
// first. Show them only to a user who has verified that address.
func (s *Service) PendingInvitationsFor(ctx context.Context, email string) ([]*Invitation, error) {
	normalized := strings.ToLower(strings.TrimSpace(email))
	now := s.clock()
	var rows []invitationRow
	err := s.conn(ctx).NewSelect().Model(&rows).Relation("Org").
		Where("i.email_normalized = ?", normalized).Where("i.status = ?", InvitationPending).Where("i.expires_at > ?", now).
		OrderExpr("i.created_at DESC, i.id DESC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("pending invitations: %w", err)
	}
	out := make([]*Invitation, len(rows))
	for i := range rows {
		out[i] = rows[i].invitation(now)
	}
	return out, nil
}

// Claims is a user's standing in their active organization, as tokens carry
// it and as the server checks it.
type Claims struct {
	OrgID   string
	OrgSlug string
	OrgRole string
	// OrgPermissions are the role's custom permissions only, sorted and
	// never nil; system permissions stay on the server, as in Clerk.
	OrgPermissions []string
	// Grants answers Has for system and custom permissions alike.
	Grants     rbac.Grants
	Membership *Membership
}

// Map returns the token claims: org_id, org_slug, org_role and
// org_permissions.
func (c *Claims) Map() map[string]any {
	return map[string]any{
		"org_id":          c.OrgID,
		"org_slug":        c.OrgSlug,
		"org_role":        c.OrgRole,
		"org_permissions": c.OrgPermissions,
	}
}

// Claims computes the organization claims of userID in the organization
// named by id or slug, from the membership and role as they are now (so a
// role change or removal shows on the next token). storage.ErrNotFound
// when the user is not a member: never issue a token for it.
func (s *Service) Claims(ctx context.Context, userID, orgRef string) (*Claims, error) {
	m, err := s.MembershipOf(ctx, userID, orgRef)
	if err != nil {
		return nil, err
	}
	g, err := s.rbac.Grants(ctx, m.Role)
	if err != nil {
		return nil, fmt.Errorf("claims of %q in %q: %w", userID, m.OrganizationID, err)
	}
	return &Claims{OrgID: m.OrganizationID, OrgSlug: m.Organization.Slug, OrgRole: m.Role,
		OrgPermissions: g.CustomPermissions(), Grants: g, Membership: m}, nil
}

// SetActiveOrganization makes the organization (id or slug) the active one
// of a browser session after checking that userID, the session's user, is a
// member, and returns the claims; orgRef "" clears it and returns nil
// claims. A non-member gets storage.ErrNotFound and the session is left
// unchanged. It needs Options.Sessions.
func (s *Service) SetActiveOrganization(ctx context.Context, sessionID, userID, orgRef string) (*Claims, error) {
	if s.sessions == nil {
		return nil, errors.New("tenancy: SetActiveOrganization needs Options.Sessions")
	}
	if orgRef == "" {
		return nil, s.sessions.SetActiveOrganization(ctx, sessionID, "")
	}
	c, err := s.Claims(ctx, userID, orgRef)
	if err != nil {
		return nil, err
	}
	if err := s.sessions.SetActiveOrganization(ctx, sessionID, c.OrgID); err != nil {
		return nil, err
	}
	return c, nil
}
