package api

import (
	"errors"
	"fmt"
	"time"

	"github.com/orgid/orgid/tenancy"
)

type createInvitationRequest struct {
	EmailAddress    string         `json:"email_address" required:"true"`
	Role            string         `json:"role" doc:"A role key (default org:member)."`
	InviterUserID   string         `json:"inviter_user_id" doc:"The user shown as the inviter; none when absent."`
	ExpiresInDays   *int           `json:"expires_in_days" doc:"1 to 30 (default 7)."`
	PublicMetadata  map[string]any `json:"public_metadata"`
	PrivateMetadata map[string]any `json:"private_metadata"`
}

type revokeInvitationRequest struct {
	RequestingUserID string `json:"requesting_user_id" doc:"Accepted for compatibility with Clerk; the API acts as the operator."`
}

func (h *Handler) listInvitations(c *call) (any, error) {
	invs, total, err := h.d.Tenancy.ListInvitations(c.ctx, tenancy.Operator(), c.path("organization_id"), tenancy.ListInvitationsParams{
		ListParams: tenancy.ListParams{Limit: c.limit, Offset: c.offset}, Status: c.str("status"),
	})
	if err != nil {
		if errors.Is(err, tenancy.ErrInvalid) {
			return nil, errFormat("status", "status must be pending, accepted, revoked or expired.")
		}
		return nil, err
	}
	return page[tenancy.InvitationJSON]{items: mapJSON(invs, (*tenancy.Invitation).JSON), total: total}, nil
}

func (h *Handler) createInvitation(c *call) (any, error) {
	req := bodyOf[createInvitationRequest](c)
	in := tenancy.NewInvitation{
		EmailAddress: req.EmailAddress, Role: req.Role, InviterUserID: req.InviterUserID,
		PublicMetadata: req.PublicMetadata, PrivateMetadata: req.PrivateMetadata,
	}
	if d := req.ExpiresInDays; d != nil {
		maxDays := int(tenancy.MaxInvitationLifetime / (24 * time.Hour))
		if *d < 1 || *d > maxDays {
			return nil, errRefused("expires_in_days", fmt.Sprintf("expires_in_days must be between 1 and %d.", maxDays))
		}
		in.ExpiresIn = time.Duration(*d) * 24 * time.Hour
	}
	if err := h.checkRole(c, req.Role); err != nil {
		return nil, err
	}
	if req.InviterUserID != "" {
		if _, err := h.d.Identity.GetUser(c.ctx, req.InviterUserID); err != nil {
			if isNotFound(err) {
				return nil, errRefused("inviter_user_id", "No user has this id.")
			}
			return nil, err
		}
	}
	inv, err := h.d.Tenancy.CreateInvitation(c.ctx, tenancy.Operator(), c.path("organization_id"), in)
	if errors.Is(err, tenancy.ErrMailNotSent) && inv != nil {
		// The invitation committed; the answer carries its link, which the
		// caller can deliver instead.
		h.log.WarnContext(c.ctx, "api: invitation created but not mailed", "invitation_id", inv.ID, "error", err)
		err = nil
	}
	if err != nil {
		return nil, err
	}
	return inv.JSON(), nil
}

func (h *Handler) getInvitation(c *call) (any, error) {
	inv, err := h.d.Tenancy.GetInvitation(c.ctx, tenancy.Operator(), c.path("organization_id"), c.path("invitation_id"))
	if err != nil {
		return nil, err
	}
	return inv.JSON(), nil
}

func (h *Handler) revokeInvitation(c *call) (any, error) {
	inv, err := h.d.Tenancy.RevokeInvitation(c.ctx, tenancy.Operator(), c.path("organization_id"), c.path("invitation_id"))
	if err != nil {
		return nil, err
	}
	return inv.JSON(), nil
}
