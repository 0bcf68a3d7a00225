package api

import (
	"context"
	"errors"

	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/tenancy"
)

type createOrganizationRequest struct {
	Name                  string         `json:"name" required:"true"`
	Slug                  string         `json:"slug" doc:"Lowercase letters, digits and dashes; generated from the name when absent."`
	CreatedBy             string         `json:"created_by" required:"true" doc:"The user who becomes the first org:owner."`
	ImageURL              string         `json:"image_url" doc:"An absolute http(s) URL of the logo (orgid)."`
	MaxAllowedMemberships *int           `json:"max_allowed_memberships" doc:"0 means unlimited."`
	PublicMetadata        map[string]any `json:"public_metadata"`
	PrivateMetadata       map[string]any `json:"private_metadata"`
}

type updateOrganizationRequest struct {
	Name                  *string        `json:"name"`
	Slug                  *string        `json:"slug"`
	ImageURL              *string        `json:"image_url"`
	MaxAllowedMemberships *int           `json:"max_allowed_memberships"`
	AdminDeleteEnabled    *bool          `json:"admin_delete_enabled" doc:"Whether members holding org:sys_profile:delete may delete the organization."`
	PublicMetadata        map[string]any `json:"public_metadata" doc:"Replaces the stored object (PATCH .../metadata merges)."`
	PrivateMetadata       map[string]any `json:"private_metadata" doc:"Replaces the stored object."`
}

// orgMetadataRequest is the body of the organization and membership
// metadata endpoints.
type orgMetadataRequest struct {
	PublicMetadata  map[string]any `json:"public_metadata"`
	PrivateMetadata map[string]any `json:"private_metadata"`
}

func (h *Handler) listOrganizations(c *call) (any, error) {
	orgs, total, err := h.d.Tenancy.ListOrganizations(c.ctx, tenancy.Operator(), tenancy.ListOrganizationsParams{
		ListParams: tenancy.ListParams{Limit: c.limit, Offset: c.offset}, Query: c.str("query"),
	})
	if err != nil {
		return nil, err
	}
	return page[tenancy.OrganizationJSON]{items: mapJSON(orgs, (*tenancy.Organization).JSON), total: total}, nil
}

func (h *Handler) createOrganization(c *call) (any, error) {
	req := bodyOf[createOrganizationRequest](c)
	in := tenancy.NewOrganization{
		Name: req.Name, Slug: req.Slug, CreatedBy: req.CreatedBy, ImageURL: req.ImageURL,
		PublicMetadata: req.PublicMetadata, PrivateMetadata: req.PrivateMetadata,
	}
	if req.MaxAllowedMemberships != nil {
		if *req.MaxAllowedMemberships < 0 {
			return nil, errRefused("max_allowed_memberships", "max_allowed_memberships must not be negative.")
		}
		in.MaxAllowedMemberships = *req.MaxAllowedMemberships
	}
	// The creator must exist: tenancy would answer "not found", which here
	// means the parameter, not the resource.
	if _, err := h.d.Identity.GetUser(c.ctx, req.CreatedBy); err != nil {
		if isNotFound(err) {
			return nil, errRefused("created_by", "No user has this id.")
		}
		return nil, err
	}
	org, err := h.d.Tenancy.CreateOrganization(c.ctx, tenancy.Operator(), in)
	if err != nil {
		return nil, err
	}
	return org.JSON(), nil
}

func (h *Handler) getOrganization(c *call) (any, error) {
	org, err := h.d.Tenancy.GetOrganization(c.ctx, tenancy.Operator(), c.path("organization_id"))
	if err != nil {
		return nil, err
	}
	return org.JSON(), nil
}

func (h *Handler) updateOrganization(c *call) (any, error) {
	req := bodyOf[updateOrganizationRequest](c)
	org, err := h.d.Tenancy.UpdateOrganization(c.ctx, tenancy.Operator(), c.path("organization_id"), tenancy.OrganizationUpdate{
		Name: req.Name, Slug: req.Slug, ImageURL: req.ImageURL, MaxAllowedMemberships: req.MaxAllowedMemberships,
		AdminDeleteEnabled: req.AdminDeleteEnabled, PublicMetadata: req.PublicMetadata, PrivateMetadata: req.PrivateMetadata,
	})
	if err != nil {
		return nil, err
	}
	return org.JSON(), nil
}

func (h *Handler) deleteOrganization(c *call) (any, error) {
	var orgID string
	err := storage.InTx(c.ctx, h.d.DB, func(ctx context.Context) error {
		org, err := h.d.Tenancy.GetOrganization(ctx, tenancy.Operator(), c.path("organization_id"))
		if err != nil {
			return err
		}
		orgID = org.ID
		return h.d.Tenancy.DeleteOrganization(ctx, tenancy.Operator(), org.ID)
	})
	if err != nil {
		return nil, err
	}
	return deleted("organization", orgID), nil
}

// mergeOrganizationMetadata deep-merges in one readModifyWrite, so that
// concurrent merges all take effect.
func (h *Handler) mergeOrganizationMetadata(c *call) (any, error) {
	req := bodyOf[orgMetadataRequest](c)
	return h.changeOrganizationMetadata(c, func(o *tenancy.Organization) (pub, priv map[string]any) {
		if req.PublicMetadata != nil {
			pub = mergeMetadata(o.PublicMetadata, req.PublicMetadata)
		}
		if req.PrivateMetadata != nil {
			priv = mergeMetadata(o.PrivateMetadata, req.PrivateMetadata)
		}
		return pub, priv
	})
}

func (h *Handler) replaceOrganizationMetadata(c *call) (any, error) {
	req := bodyOf[orgMetadataRequest](c)
	return h.changeOrganizationMetadata(c, func(*tenancy.Organization) (pub, priv map[string]any) {
		return req.PublicMetadata, req.PrivateMetadata
	})
}

func (h *Handler) changeOrganizationMetadata(c *call, change func(o *tenancy.Organization) (pub, priv map[string]any)) (any, error) {
	var out *tenancy.Organization
	err := h.readModifyWrite(c.ctx, func(ctx context.Context) error {
		org, err := h.d.Tenancy.GetOrganization(ctx, tenancy.Operator(), c.path("organization_id"))
		if err != nil {
			return err
		}
		pub, priv := change(org)
		if pub == nil && priv == nil {
			out = org
			return nil
		}
		out, err = h.d.Tenancy.UpdateOrganization(ctx, tenancy.Operator(), org.ID, tenancy.OrganizationUpdate{PublicMetadata: pub, PrivateMetadata: priv})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out.JSON(), nil
}

func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }
