package api

import (
	"github.com/orgid/orgid/webhook"
)

// maxDeliveriesRead bounds how many deliveries one listing reads: the
// webhook package returns the newest deliveries without a count.
const maxDeliveriesRead = 1000

type createEndpointRequest struct {
	URL         string   `json:"url" required:"true" doc:"The receiver, https:// (http:// and private addresses only where the operator allows them)."`
	Description string   `json:"description"`
	EventTypes  []string `json:"event_types" doc:"Event types to send, e.g. user.created; empty means all."`
}

type updateEndpointRequest struct {
	URL         *string   `json:"url"`
	Description *string   `json:"description"`
	EventTypes  *[]string `json:"event_types" doc:"Replaces the filter; [] means all events."`
	Enabled     *bool     `json:"enabled" doc:"false disables the endpoint and fails its pending deliveries; true re-enables it."`
}

// ReplayJSON answers a replay.
type ReplayJSON struct {
	Object    string `json:"object" required:"true"` // "webhook_replay"
	MessageID string `json:"message_id" required:"true"`
	Queued    int    `json:"queued" required:"true" doc:"Deliveries queued again."`
}

func (h *Handler) listEndpoints(c *call) (any, error) {
	eps, err := h.d.Webhooks.List(c.ctx)
	if err != nil {
		return nil, err
	}
	return paginate(mapJSON(eps, (*webhook.Endpoint).JSON), c), nil
}

func (h *Handler) createEndpoint(c *call) (any, error) {
	req := bodyOf[createEndpointRequest](c)
	ep, err := h.d.Webhooks.Create(c.ctx, webhook.CreateParams{URL: req.URL, Description: req.Description, EventTypes: req.EventTypes})
	if err != nil {
		return nil, err
	}
	return ep.JSON(), nil
}

func (h *Handler) getEndpoint(c *call) (any, error) {
	get := h.d.Webhooks.Get
	if c.flag("include_secret") {
		get = h.d.Webhooks.GetWithSecret
	}
	ep, err := get(c.ctx, c.path("endpoint_id"))
	if err != nil {
		return nil, err
	}
	return ep.JSON(), nil
}

func (h *Handler) updateEndpoint(c *call) (any, error) {
	req := bodyOf[updateEndpointRequest](c)
	ep, err := h.d.Webhooks.Update(c.ctx, c.path("endpoint_id"), webhook.UpdateParams{
		URL: req.URL, Description: req.Description, EventTypes: req.EventTypes, Enabled: req.Enabled,
	})
	if err != nil {
		return nil, err
	}
	return ep.JSON(), nil
}

func (h *Handler) deleteEndpoint(c *call) (any, error) {
	id := c.path("endpoint_id")
	if err := h.d.Webhooks.Delete(c.ctx, id); err != nil {
		return nil, err
	}
	return deleted("webhook_endpoint", id), nil
}

func (h *Handler) rotateEndpointSecret(c *call) (any, error) {
	ep, err := h.d.Webhooks.RotateSecret(c.ctx, c.path("endpoint_id"))
	if err != nil {
		return nil, err
	}
	return ep.JSON(), nil
}

func (h *Handler) listEndpointDeliveries(c *call) (any, error) {
	n := min(c.offset+c.limit, maxDeliveriesRead)
	ds, err := h.d.Webhooks.Deliveries(c.ctx, c.path("endpoint_id"), n)
	if err != nil {
		return nil, err
	}
	return paginate(mapJSON(ds, (*webhook.Delivery).JSON), c), nil
}

func (h *Handler) listMessageDeliveries(c *call) (any, error) {
	ds, err := h.d.Webhooks.MessageDeliveries(c.ctx, c.path("message_id"))
	if err != nil {
		return nil, err
	}
	return paginate(mapJSON(ds, (*webhook.Delivery).JSON), c), nil
}

func (h *Handler) replayMessage(c *call) (any, error) {
	id := c.path("message_id")
	n, err := h.d.Webhooks.Replay(c.ctx, id)
	if err != nil {
		return nil, err
	}
	return ReplayJSON{Object: "webhook_replay", MessageID: id, Queued: n}, nil
}
