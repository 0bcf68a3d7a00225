package tenancy

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage"
)

// MaxInvitationLifetime bounds NewInvitation.ExpiresIn.
const MaxInvitationLifetime = 30 * 24 * time.Hour

// invitationTokenPrefix marks invitation tokens, so a leaked one is
// recognisable for what it is.
const invitationTokenPrefix = "orginv_tok_"

// NewInvitation is the input of CreateInvitation.
type NewInvitation struct {
	EmailAddress string // required
	Role         string // defaults to org:member
	// InviterUserID may be set by the operator; a user actor is the inviter.
	InviterUserID string
	// ExpiresIn defaults to the service's invitation lifetime (7 days).
	ExpiresIn time.Duration
	// Metadata is for the operator only.
	PublicMetadata  map[string]any
	PrivateMetadata map[string]any
}

// ListInvitationsParams filter ListInvitations.
type ListInvitationsParams struct {
	ListParams
	// Status is "", pending, accepted, revoked or expired.
	Status string
}

// normalizeEmail checks that s is one bare address and returns it trimmed
// and its lowercased form.
func normalizeEmail(s string) (address, normalized string, err error) {
	address = strings.TrimSpace(s)
	a, perr := netmail.ParseAddress(address)
	if perr != nil || a.Address != address || len(address) > 320 {
		return "", "", fmt.Errorf("%w: %q is not an email address", ErrInvalid, s)
	}
	return address, strings.ToLower(address), nil
}

// AcceptURL is the link that accepts an invitation with token.
func (s *Service) AcceptURL(token string) string {
	return strings.TrimRight(s.baseURL, "/") + "/invitations/accept?token=" + url.QueryEscape(token)
}

// CreateInvitation invites an email address to an organization with a
// role, emits organizationInvitation.created and, after the commit, mails
// the accept link. The result carries the token and link (never stored in
// clear). A user actor needs org:sys_memberships:manage and every
// permission of the role. Members plus pending invitations may not exceed
// max_allowed_memberships. When only the mail fails, the invitation is
// returned together with an ErrMailNotSent error.
func (s *Service) CreateInvitation(ctx context.Context, actor Actor, orgRef string, in NewInvitation) (*Invitation, error) {
	address, normalized, err := normalizeEmail(in.EmailAddress)
	if err != nil {
		return nil, err
	}
	if in.Role == "" {
		in.Role = rbac.RoleMember
	}
	lifetime := in.ExpiresIn
	if lifetime == 0 {
		lifetime = s.invitationLifetime
	}
	if lifetime < 0 || lifetime > MaxInvitationLifetime {
		return nil, fmt.Errorf("%w: invitation lifetime must be positive and at most %v", ErrInvalid, MaxInvitationLifetime)
	}
	if !actor.operator {
		if in.InviterUserID != "" && in.InviterUserID != actor.userID {
			return nil, fmt.Errorf("invite on behalf of another user: %w", ErrForbidden)
		}
		if in.PublicMetadata != nil || in.PrivateMetadata != nil {
			return nil, fmt.Errorf("set invitation metadata: %w (operator only)", ErrForbidden)
		}
		in.InviterUserID = actor.userID
	}
	pub, err := encodeMetadata("public_metadata", in.PublicMetadata)
	if err != nil {
		return nil, err
	}
	priv, err := encodeMetadata("private_metadata", in.PrivateMetadata)
	if err != nil {
		return nil, err
	}
	token := secret.Token(invitationTokenPrefix)
	var inv *Invitation
	var org *Organization
	err = storage.InTx(ctx, s.db, func(ctx context.Context) error {
		a, err := s.authorize(ctx, actor, orgRef, rbac.PermMembershipsManage)
		if err != nil {
			return err
		}
		if err := s.mayAssign(ctx, a, in.Role); err != nil {
			return err
		}
		if in.InviterUserID != "" {
			if _, err := s.users.GetUser(ctx, in.InviterUserID); err != nil {
				return fmt.Errorf("inviter: %w", err)
			}
		}
		if u, err := s.users.UserByEmail(ctx, address); err == nil {
			if _, err := s.membershipRow(ctx, a.org.ID, u.ID); err == nil {
				return fmt.Errorf("invite %s to %q: %w", address, a.org.ID, ErrAlreadyMember)
			}
		} else if !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("invite %s: %w", address, err)
		}
		now := s.clock()
		// A pending invitation past its expiry no longer blocks a new one.
		if _, err := s.conn(ctx).NewUpdate().Model((*invitationRow)(nil)).
			Set("status = ?", InvitationExpired).Set("updated_at = ?", now).
			Where("organization_id = ?", a.org.ID).Where("email_normalized = ?", normalized).
			Where("status = ?", InvitationPending).Where("expires_at <= ?", now).Exec(ctx); err != nil {
			return fmt.Errorf("invite %s: expire old invitations: %w", address, err)
		}
		if n, err := s.conn(ctx).NewSelect().Model((*invitationRow)(nil)).Where("organization_id = ?", a.org.ID).
			Where("email_normalized = ?", normalized).Where("status = ?", InvitationPending).Count(ctx); err != nil {
			return fmt.Errorf("invite %s: %w", address, err)
		} else if n > 0 {
			return fmt.Errorf("invite %s to %q: %w", address, a.org.ID, ErrAlreadyInvited)
		}
		if err := s.checkMemberLimit(ctx, a.org, true); err != nil {
			return err
		}
		row := &invitationRow{ID: id.NewAt("orginv", now), OrganizationID: a.org.ID, EmailAddress: address,
			EmailNormalized: normalized, Role: in.Role, Status: InvitationPending, TokenHash: s.keys.Hash(token),
			InviterUserID: in.InviterUserID, PublicMetadata: pub, PrivateMetadata: priv,
			ExpiresAt: now.Add(lifetime), CreatedAt: now, UpdatedAt: now}
		if _, err := s.conn(ctx).NewInsert().Model(row).Exec(ctx); err != nil {
			if storage.IsUniqueViolation(err) {
				return fmt.Errorf("invite %s to %q: %w", address, a.org.ID, ErrAlreadyInvited)
			}
			return fmt.Errorf("invite %s to %q: %w", address, a.org.ID, err)
		}
		inv = row.invitation(now)
		org = a.org.organization()
		return s.emit(ctx, "organizationInvitation.created", inv.JSON())
	})
	if err != nil {
		return nil, err
	}
	inv.Token, inv.URL = token, s.AcceptURL(token)
	if err := s.send(ctx, s.invitationMail(ctx, inv, org)); err != nil {
		return inv, err
	}
	return inv, nil
}

func (s *Service) loadInvitation(ctx context.Context, orgID, invitationID string) (*invitationRow, error) {
	row := new(invitationRow)
	err := s.conn(ctx).NewSelect().Model(row).Where("i.id = ?", invitationID).Where("i.organization_id = ?", orgID).Scan(ctx)
	if err != nil {
		return nil, storage.NotFound(err, fmt.Sprintf("invitation %q", invitationID))
	}
	return row, nil
}

// statusError explains why an invitation cannot be used any more; nil
// when it is pending.
func statusError(status string) error {
	switch status {
	case InvitationAccepted:
		return ErrInvitationAccepted
	case InvitationRevoked:
		return ErrInvitationRevoked
	case InvitationExpired:
		return ErrInvitationExpired
	}
	return nil
}

// RevokeInvitation revokes a pending invitation and emits
// organizationInvitation.revoked. A user actor needs
// org:sys_memberships:manage and every permission of its role.
func (s *Service) RevokeInvitation(ctx context.Context, actor Actor, orgRef, invitationID string) (*Invitation, error) {
	var out *Invitation
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		a, err := s.authorize(ctx, actor, orgRef, rbac.PermMembershipsManage)
		if err != nil {
			return err
		}
		row, err := s.loadInvitation(ctx, a.org.ID, invitationID)
		if err != nil {
			return err
		}
		now := s.clock()
		if err := statusError(row.status(now)); err != nil {
			return fmt.Errorf("revoke invitation %q: %w", row.ID, err)
		}
		if err := s.mayAssign(ctx, a, row.Role); err != nil {
			return err
		}
		row.Status, row.UpdatedAt = InvitationRevoked, now
		if _, err := s.conn(ctx).NewUpdate().Model(row).Column("status", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("revoke invitation %q: %w", row.ID, err)
		}
		out = row.invitation(now)
		return s.emit(ctx, "organizationInvitation.revoked", out.JSON())
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetInvitation returns one invitation of an organization. A user needs
// org:sys_memberships:read.
func (s *Service) GetInvitation(ctx context.Context, actor Actor, orgRef, invitationID string) (*Invitation, error) {
	a, err := s.authorizeRead(ctx, actor, orgRef, rbac.PermMembershipsRead)
	if err != nil {
		return nil, err
	}
	row, err := s.loadInvitation(ctx, a.org.ID, invitationID)
	if err != nil {
		return nil, err
	}
	return row.invitation(s.clock()), nil
}

// ListInvitations returns one page of an organization's invitations,
// newest first, and the total. A user needs org:sys_memberships:read.
func (s *Service) ListInvitations(ctx context.Context, actor Actor, orgRef string, p ListInvitationsParams) ([]*Invitation, int, error) {
	a, err := s.authorizeRead(ctx, actor, orgRef, rbac.PermMembershipsRead)
	if err != nil {
		return nil, 0, err
	}
	now := s.clock()
	var rows []invitationRow
	q := s.conn(ctx).NewSelect().Model(&rows).Where("i.organization_id = ?", a.org.ID)
	switch p.Status {
	case "":
	case InvitationPending:
		q = q.Where("i.status = ?", InvitationPending).Where("i.expires_at > ?", now)
	case InvitationExpired:
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("i.status = ?", InvitationExpired).
				WhereOr("i.status = ? AND i.expires_at <= ?", InvitationPending, now)
		})
	case InvitationAccepted, InvitationRevoked:
		q = q.Where("i.status = ?", p.Status)
	default:
		return nil, 0, fmt.Errorf("%w: invitation status %q", ErrInvalid, p.Status)
	}
	limit, offset := p.limits()
	total, err := q.OrderExpr("i.created_at DESC, i.id DESC").Limit(limit).Offset(offset).ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list invitations of %q: %w", a.org.ID, err)
	}
	out := make([]*Invitation, len(rows))
	for i := range rows {
		out[i] = rows[i].invitation(now)
	}
	return out, int(total), nil
}

// InvitationByToken returns the pending invitation a link's token names,
// with its organization, for the hosted accept page: it shows whom the
// invitation is for and, when nobody is signed in and no account has that
// address, offers to create one. An unknown token is storage.ErrNotFound;
// a used, revoked or expired one gives ErrInvitationAccepted,
// ErrInvitationRevoked or ErrInvitationExpired.
func (s *Service) InvitationByToken(ctx context.Context, token string) (*Invitation, error) {
	row := new(invitationRow)
	err := s.conn(ctx).NewSelect().Model(row).Relation("Org").Where("i.token_hash = ?", s.keys.Hash(token)).Scan(ctx)
	if err != nil {
		return nil, storage.NotFound(err, "invitation")
	}
	now := s.clock()
	if err := statusError(row.status(now)); err != nil {
		return nil, err
	}
	return row.invitation(now), nil
}

// AcceptInvitation accepts the invitation a link's token names on behalf
// of userID, whose email address must be verified and equal (ignoring
// case) to the invited one. It creates the membership, marks the
// invitation accepted, and emits organizationInvitation.accepted and
// organizationMembership.created in one transaction; of concurrent
// accepts, exactly one succeeds (the others get ErrInvitationAccepted).
//
// For a new account, the hosted page reads the invitation with
// InvitationByToken, creates the user with that address marked verified
// (following the emailed link proved it), then calls AcceptInvitation.
func (s *Service) AcceptInvitation(ctx context.Context, token, userID string) (*Membership, error) {
	return s.accept(ctx, userID, false, func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("i.token_hash = ?", s.keys.Hash(token))
	})
}

// AcceptInvitationByID accepts a pending invitation found through
// PendingInvitationsFor (the hosted switcher lists them): the user's
// verified email address proves they are the invitee, as following the
// link would. An invitation for another address is storage.ErrNotFound.
func (s *Service) AcceptInvitationByID(ctx context.Context, invitationID, userID string) (*Membership, error) {
	return s.accept(ctx, userID, true, func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("i.id = ?", invitationID)
	})
}

func (s *Service) accept(ctx context.Context, userID string, hideMismatch bool, where func(*bun.SelectQuery) *bun.SelectQuery) (*Membership, error) {
	var out *Membership
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		probe := new(invitationRow)
		if err := where(s.conn(ctx).NewSelect().Model(probe)).Scan(ctx); err != nil {
			return storage.NotFound(err, "invitation")
		}
		// Lock the organization first, then read the invitation again:
		// concurrent accepts queue here and the later ones see it accepted.
		org, err := s.loadOrg(ctx, probe.OrganizationID, true)
		if err != nil {
			return err
		}
		row := new(invitationRow)
		if err := s.conn(ctx).NewSelect().Model(row).Where("i.id = ?", probe.ID).Scan(ctx); err != nil {
			return storage.NotFound(err, "invitation")
		}
		user, err := s.users.GetUser(ctx, userID)
		if err != nil {
			return fmt.Errorf("accept invitation: user: %w", err)
		}
		if err := matchInvitee(user, row); err != nil {
			if hideMismatch {
				return fmt.Errorf("invitation %q: %w", row.ID, storage.ErrNotFound)
			}
			return err
		}
		now := s.clock()
		if err := statusError(row.status(now)); err != nil {
			return err
		}
		if _, err := s.membershipRow(ctx, org.ID, userID); err == nil {
			return fmt.Errorf("accept invitation %q: %w", row.ID, ErrAlreadyMember)
		}
		if err := s.checkMemberLimit(ctx, org, false); err != nil {
			return err
		}
		// The conditional update is the single-use guarantee on its own.
		res, err := s.conn(ctx).NewUpdate().Model((*invitationRow)(nil)).
			Set("status = ?", InvitationAccepted).Set("accepted_user_id = ?", userID).Set("updated_at = ?", now).
			Where("id = ?", row.ID).Where("status = ?", InvitationPending).Where("expires_at > ?", now).Exec(ctx)
		if err != nil {
			return fmt.Errorf("accept invitation %q: %w", row.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("accept invitation %q: %w", row.ID, ErrInvitationAccepted)
		}
		row.Status, row.AcceptedUserID, row.UpdatedAt = InvitationAccepted, userID, now
		if err := s.emit(ctx, "organizationInvitation.accepted", row.invitation(now).JSON()); err != nil {
			return err
		}
		out, err = s.insertMembership(ctx, org, userID, row.Role, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// matchInvitee checks that user may accept an invitation for row's address.
func matchInvitee(user *identity.User, row *invitationRow) error {
	if !strings.EqualFold(strings.TrimSpace(user.Email), row.EmailNormalized) {
		return fmt.Errorf("accept invitation %q: %w", row.ID, ErrEmailMismatch)
	}
	if !user.EmailVerified {
		return fmt.Errorf("accept invitation %q: %w", row.ID, ErrEmailNotVerified)
	}
	return nil
}
