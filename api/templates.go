package api

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/templates"
	"github.com/orgid/orgid/tenancy"
)

type createTemplateRequest struct {
	Name             string          `json:"name" required:"true" doc:"1–64 of a-z 0-9 _ -, starting with a letter or digit."`
	Claims           json.RawMessage `json:"claims" required:"true" doc:"The claims: a JSON object with {{shortcodes}}, as Clerk's templates."`
	Lifetime         *int64          `json:"lifetime" doc:"Token lifetime in seconds (default 60)."`
	AllowedClockSkew *int64          `json:"allowed_clock_skew" doc:"Seconds nbf is back-dated (default 5)."`
	SigningAlgorithm string          `json:"signing_algorithm" doc:"RS256 (default) or another algorithm the server signs with."`
	CustomSigningKey *bool           `json:"custom_signing_key" doc:"Only false: orgid signs with its own keys."`
}

type updateTemplateRequest struct {
	Name             *string         `json:"name"`
	Claims           json.RawMessage `json:"claims"`
	Lifetime         *int64          `json:"lifetime"`
	AllowedClockSkew *int64          `json:"allowed_clock_skew"`
	SigningAlgorithm *string         `json:"signing_algorithm"`
	CustomSigningKey *bool           `json:"custom_signing_key" doc:"Only false: orgid signs with its own keys."`
}

type renderTemplateRequest struct {
	UserID         string `json:"user_id" required:"true"`
	OrganizationID string `json:"organization_id" doc:"The active organization (id or slug); the user must be a member."`
}

// RenderJSON answers a dry run.
type RenderJSON struct {
	Object     string         `json:"object" required:"true"` // "jwt_template_render"
	TemplateID string         `json:"template_id" required:"true"`
	Claims     map[string]any `json:"claims" required:"true" doc:"The template's claims plus iss, sub, iat, nbf and exp; the issuer adds jti and azp to real tokens."`
}

func (h *Handler) listTemplates(c *call) (any, error) {
	list, err := h.d.Templates.List(c.ctx)
	if err != nil {
		return nil, err
	}
	return paginate(mapJSON(list, (*templates.StoredTemplate).JSON), c), nil
}

// seconds converts a count of seconds within [0, limit] to a duration.
func seconds(param string, s *int64, limit time.Duration) (*time.Duration, error) {
	if s == nil {
		return nil, nil
	}
	if *s < 0 || *s > int64(limit/time.Second) {
		return nil, errRefused(param, fmt.Sprintf("%s must be between 0 and %d seconds.", param, int64(limit/time.Second)))
	}
	d := time.Duration(*s) * time.Second
	return &d, nil
}

func noCustomKey(v *bool) error {
	if v != nil && *v {
		return errRefused("custom_signing_key", "orgid signs template tokens with its own signing keys.")
	}
	return nil
}

func (h *Handler) createTemplate(c *call) (any, error) {
	req := bodyOf[createTemplateRequest](c)
	if err := noCustomKey(req.CustomSigningKey); err != nil {
		return nil, err
	}
	lifetime, err := seconds("lifetime", req.Lifetime, templates.MaxLifetime)
	if err != nil {
		return nil, err
	}
	skew, err := seconds("allowed_clock_skew", req.AllowedClockSkew, templates.MaxClockSkew)
	if err != nil {
		return nil, err
	}
	nt := templates.NewTemplate{Name: req.Name, Claims: req.Claims, ClockSkew: skew, Algorithm: req.SigningAlgorithm}
	if lifetime != nil {
		nt.Lifetime = *lifetime
	}
	st, err := h.d.Templates.Create(c.ctx, nt)
	if err != nil {
		return nil, err
	}
	return st.JSON(), nil
}

func (h *Handler) getTemplate(c *call) (any, error) {
	st, err := h.d.Templates.Get(c.ctx, c.path("template_id"))
	if err != nil {
		return nil, err
	}
	return st.JSON(), nil
}

func (h *Handler) updateTemplate(c *call) (any, error) {
	req := bodyOf[updateTemplateRequest](c)
	if err := noCustomKey(req.CustomSigningKey); err != nil {
		return nil, err
	}
	lifetime, err := seconds("lifetime", req.Lifetime, templates.MaxLifetime)
	if err != nil {
		return nil, err
	}
	skew, err := seconds("allowed_clock_skew", req.AllowedClockSkew, templates.MaxClockSkew)
	if err != nil {
		return nil, err
	}
	st, err := h.d.Templates.Update(c.ctx, c.path("template_id"), templates.TemplateUpdate{
		Name: req.Name, Claims: req.Claims, Lifetime: lifetime, ClockSkew: skew, Algorithm: req.SigningAlgorithm,
	})
	if err != nil {
		return nil, err
	}
	return st.JSON(), nil
}

func (h *Handler) deleteTemplate(c *call) (any, error) {
	st, err := h.d.Templates.Get(c.ctx, c.path("template_id"))
	if err != nil {
		return nil, err
	}
	if err := h.d.Templates.Delete(c.ctx, st.ID); err != nil {
		return nil, err
	}
	return deleted("jwt_template", st.ID), nil
}

// renderTemplate builds the template data exactly as the token path does
// (oidc.TemplateData from the user, their memberships and the active
// organization's claims) and previews the claims without signing.
func (h *Handler) renderTemplate(c *call) (any, error) {
	req := bodyOf[renderTemplateRequest](c)
	st, err := h.d.Templates.Get(c.ctx, c.path("template_id"))
	if err != nil {
		return nil, err
	}
	user, err := h.d.Identity.GetUser(c.ctx, req.UserID)
	if err != nil {
		if isNotFound(err) {
			return nil, errRefused("user_id", "No user has this id.")
		}
		return nil, err
	}
	memberships, err := h.d.Tenancy.Memberships(c.ctx, user.ID)
	if err != nil {
		return nil, err
	}
	var org *tenancy.Claims
	if req.OrganizationID != "" {
		if org, err = h.d.Tenancy.Claims(c.ctx, user.ID, req.OrganizationID); err != nil {
			if isNotFound(err) {
				return nil, errRefused("organization_id", "The user is not a member of this organization.")
			}
			return nil, err
		}
	}
	claims, err := st.Preview(oidc.TemplateData(user, nil, memberships, org), h.d.Issuer, h.now())
	if err != nil {
		return nil, err
	}
	return RenderJSON{Object: "jwt_template_render", TemplateID: st.ID, Claims: claims}, nil
}
