package api

import (
	"fmt"

	"github.com/orgid/orgid/oidc"
)

// createClientRequest is a registration: the client's identity plus its
// metadata, under the RFC 7591 names package oidc uses.
type createClientRequest struct {
	Name         string `json:"name" required:"true" doc:"Shown to users on the consent page."`
	Public       bool   `json:"public" doc:"A public client (SPA, mobile, CLI): no secret, PKCE required."`
	FirstParty   bool   `json:"first_party" doc:"The operator's own app: users are not asked for consent."`
	ClientID     string `json:"client_id" doc:"Import an existing client id (moving from another provider)."`
	ClientSecret string `json:"client_secret" doc:"Import an existing client secret."`
	oidc.ClientMetadata
}

// ClientCreatedJSON is a new client with its secret, shown this once.
type ClientCreatedJSON struct {
	oidc.ClientJSON
	ClientSecret string `json:"client_secret,omitempty" doc:"The client secret of a confidential client; only its hash is stored."`
}

func (h *Handler) listClients(c *call) (any, error) {
	list, err := h.d.Clients.List(c.ctx)
	if err != nil {
		return nil, err
	}
	return paginate(mapJSON(list, (*oidc.Client).JSON), c), nil
}

func (h *Handler) createClient(c *call) (any, error) {
	req := bodyOf[createClientRequest](c)
	m := req.ClientMetadata
	refs := []struct{ param, name string }{{"id_token_template", m.IDTokenTemplate}, {"access_token_template", m.AccessTokenTemplate}}
	for _, t := range m.AllowedTemplates {
		refs = append(refs, struct{ param, name string }{"allowed_templates", t})
	}
	for _, ref := range refs {
		if ref.name == "" {
			continue
		}
		if _, err := h.d.Templates.Get(c.ctx, ref.name); err != nil {
			if isNotFound(err) {
				return nil, errRefused(ref.param, fmt.Sprintf("No JWT template is named %q.", ref.name))
			}
			return nil, err
		}
	}
	cl, sec, err := h.d.Clients.Create(c.ctx, oidc.NewClient{
		ID: req.ClientID, Secret: req.ClientSecret, Name: req.Name, Public: req.Public, FirstParty: req.FirstParty, Metadata: m,
	})
	if err != nil {
		return nil, err
	}
	return ClientCreatedJSON{ClientJSON: cl.JSON(), ClientSecret: sec}, nil
}

func (h *Handler) getClient(c *call) (any, error) {
	cl, err := h.d.Clients.Get(c.ctx, c.path("client_id"))
	if err != nil {
		return nil, err
	}
	return cl.JSON(), nil
}

func (h *Handler) deleteClient(c *call) (any, error) {
	id := c.path("client_id")
	if err := h.d.Clients.Delete(c.ctx, id); err != nil {
		return nil, err
	}
	return deleted("oauth_client", id), nil
}
