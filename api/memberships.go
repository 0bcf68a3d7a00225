package api

import (
	"context"
	"fmt"

	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/tenancy"
)

type createMembershipRequest struct {
	UserID string `json:"user_id" required:"true"`
	Role   string `json:"role" required:"true" doc:"A role key, e.g. org:member."`
}

type updateMembershipRequest struct {
	Role string `json:"role" required:"true" doc:"The new role key."`
}

func (h *Handler) listMemberships(c *call) (any, error) {
	ms, total, err := h.d.Tenancy.ListMemberships(c.ctx, tenancy.Operator(), c.path("organization_id"),
		tenancy.ListParams{Limit: c.limit, Offset: c.offset})
	if err != nil {
		return nil, err
	}
	return page[tenancy.MembershipJSON]{items: mapJSON(ms, (*tenancy.Membership).JSON), total: total}, nil
}

func (h *Handler) createMembership(c *call) (any, error) {
	req := bodyOf[createMembershipRequest](c)
	orgRef := c.path("organization_id")
	// Resolve the organization first, so that an unknown user (a refused
	// parameter) is told apart from an unknown organization (404).
	if _, err := h.d.Tenancy.GetOrganization(c.ctx, tenancy.Operator(), orgRef); err != nil {
		return nil, err
	}
	if _, err := h.d.Identity.GetUser(c.ctx, req.UserID); err != nil {
		if isNotFound(err) {
			return nil, errRefused("user_id", "No user has this id.")
		}
		return nil, err
	}
	if err := h.checkRole(c, req.Role); err != nil {
		return nil, err
	}
	m, err := h.d.Tenancy.AddMembership(c.ctx, tenancy.Operator(), orgRef, req.UserID, req.Role)
	if err != nil {
		return nil, err
	}
	return m.JSON(), nil
}

func (h *Handler) updateMembership(c *call) (any, error) {
	req := bodyOf[updateMembershipRequest](c)
	if err := h.checkRole(c, req.Role); err != nil {
		return nil, err
	}
	m, err := h.d.Tenancy.SetMembershipRole(c.ctx, tenancy.Operator(), c.path("organization_id"), c.path("user_id"), req.Role)
	if err != nil {
		return nil, err
	}
	return m.JSON(), nil
}

// deleteMembership answers with the membership as it was, as Clerk does.
func (h *Handler) deleteMembership(c *call) (any, error) {
	var out *tenancy.Membership
	err := storage.InTx(c.ctx, h.d.DB, func(ctx context.Context) error {
		m, err := h.d.Tenancy.MembershipOf(ctx, c.path("user_id"), c.path("organization_id"))
		if err != nil {
			return err
		}
		out = m
		return h.d.Tenancy.RemoveMembership(ctx, tenancy.Operator(), m.OrganizationID, m.UserID)
	})
	if err != nil {
		return nil, err
	}
	return out.JSON(), nil
}

// mergeMembershipMetadata deep-merges in one readModifyWrite, so that
// concurrent merges all take effect.
func (h *Handler) mergeMembershipMetadata(c *call) (any, error) {
	req := bodyOf[orgMetadataRequest](c)
	var out *tenancy.Membership
	err := h.readModifyWrite(c.ctx, func(ctx context.Context) error {
		m, err := h.d.Tenancy.MembershipOf(ctx, c.path("user_id"), c.path("organization_id"))
		if err != nil {
			return err
		}
		var pub, priv map[string]any
		if req.PublicMetadata != nil {
			pub = mergeMetadata(m.PublicMetadata, req.PublicMetadata)
		}
		if req.PrivateMetadata != nil {
			priv = mergeMetadata(m.PrivateMetadata, req.PrivateMetadata)
		}
		if pub == nil && priv == nil {
			out = m
			return nil
		}
		out, err = h.d.Tenancy.UpdateMembershipMetadata(ctx, tenancy.Operator(), m.OrganizationID, m.UserID, pub, priv)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out.JSON(), nil
}

// checkRole refuses an unknown role key as a parameter: tenancy would
// refuse it too, without naming the parameter.
func (h *Handler) checkRole(c *call, role string) error {
	if role == "" {
		return nil
	}
	if _, err := h.d.RBAC.GetRole(c.ctx, role); err != nil {
		if isNotFound(err) {
			return errRefused("role", fmt.Sprintf("No role has the key %q.", role))
		}
		return err
	}
	return nil
}
