package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/orgid/orgid/api"
	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/webhook"
)

func TestWebhookEndpoints(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		e := start(t, dbURL)
		c := e.c

		var ep webhook.EndpointJSON
		c.ok(http.MethodPost, "/webhooks/endpoints", obj{"url": "https://hooks.example/orgid", "event_types": []string{"user.created", "user.deleted"}}, &ep)
		if ep.Object != "webhook_endpoint" || !strings.HasPrefix(ep.Secret, "whsec_") || !ep.Enabled {
			t.Fatalf("endpoint %+v", ep)
		}
		wantError(t, c.do(http.MethodPost, "/webhooks/endpoints", obj{"url": "ftp://x"}), 422, "form_param_format_invalid", "")
		wantError(t, c.do(http.MethodPost, "/webhooks/endpoints", obj{"url": "https://x.example", "event_types": []string{"not an event"}}), 422, "form_param_format_invalid", "")

		t.Run("get list update", func(t *testing.T) {
			var got webhook.EndpointJSON
			c.ok(http.MethodGet, "/webhooks/endpoints/"+ep.ID, nil, &got)
			if got.Secret != "" {
				t.Error("GET shows the secret without include_secret")
			}
			c.ok(http.MethodGet, "/webhooks/endpoints/"+ep.ID+"?include_secret=true", nil, &got)
			if got.Secret != ep.Secret {
				t.Error("include_secret=true: not the endpoint's secret")
			}
			var list struct {
				Data       []webhook.EndpointJSON `json:"data"`
				TotalCount int                    `json:"total_count"`
			}
			c.ok(http.MethodGet, "/webhooks/endpoints", nil, &list)
			if list.TotalCount != 1 || list.Data[0].Secret != "" {
				t.Errorf("list %+v", list)
			}
			var up webhook.EndpointJSON
			c.ok(http.MethodPatch, "/webhooks/endpoints/"+ep.ID, obj{"description": "CRM sync", "event_types": []string{}}, &up)
			if up.Description != "CRM sync" || len(up.EventTypes) != 0 {
				t.Errorf("updated %+v", up)
			}
			wantError(t, c.do(http.MethodPatch, "/webhooks/endpoints/"+ep.ID, obj{"description": "changed", "url": "nope://"}), 422, "form_param_format_invalid", "")
			c.ok(http.MethodGet, "/webhooks/endpoints/"+ep.ID, nil, &got)
			if got.Description != "CRM sync" {
				t.Errorf("a refused update changed the description to %q", got.Description)
			}
			var rotated webhook.EndpointJSON
			c.ok(http.MethodPost, "/webhooks/endpoints/"+ep.ID+"/rotate_secret", nil, &rotated)
			if rotated.Secret == "" || rotated.Secret == ep.Secret || rotated.PreviousSecretExpiresAt == nil {
				t.Errorf("rotated %+v", rotated)
			}
		})

		t.Run("deliveries and replay", func(t *testing.T) {
			for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
				c.ok(http.MethodPost, "/users", obj{"email_address": email}, nil)
			}
			var ds struct {
				Data       []webhook.DeliveryJSON `json:"data"`
				TotalCount int                    `json:"total_count"`
			}
			c.ok(http.MethodGet, "/webhooks/endpoints/"+ep.ID+"/deliveries?limit=2", nil, &ds)
			if len(ds.Data) != 2 || ds.Data[0].EventType != "user.created" || ds.Data[0].Status != "pending" {
				t.Fatalf("deliveries %+v", ds)
			}
			msg := ds.Data[0].MessageID
			var byMsg struct {
				Data []webhook.DeliveryJSON `json:"data"`
			}
			c.ok(http.MethodGet, "/webhooks/messages/"+msg+"/deliveries", nil, &byMsg)
			if len(byMsg.Data) != 1 || byMsg.Data[0].EndpointID != ep.ID {
				t.Errorf("deliveries of %s: %+v", msg, byMsg)
			}
			var replay api.ReplayJSON
			c.ok(http.MethodPost, "/webhooks/messages/"+msg+"/replay", nil, &replay)
			if replay.Object != "webhook_replay" || replay.MessageID != msg || replay.Queued != 1 {
				t.Errorf("replay %+v", replay)
			}
			wantError(t, c.do(http.MethodPost, "/webhooks/messages/msg_nothing/replay", nil), 404, "resource_not_found", "")
			wantError(t, c.do(http.MethodGet, "/webhooks/endpoints/ep_nothing/deliveries", nil), 404, "resource_not_found", "")
		})

		t.Run("delete", func(t *testing.T) {
			var del obj
			c.ok(http.MethodDelete, "/webhooks/endpoints/"+ep.ID, nil, &del)
			if del["object"] != "webhook_endpoint" || del["id"] != ep.ID || del["deleted"] != true {
				t.Errorf("delete %v", del)
			}
			wantError(t, c.do(http.MethodGet, "/webhooks/endpoints/"+ep.ID, nil), 404, "resource_not_found", "")
			wantError(t, c.do(http.MethodDelete, "/webhooks/endpoints/"+ep.ID, nil), 404, "resource_not_found", "")
		})
	})
}
