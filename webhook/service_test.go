package webhook_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/webhook"
)

func TestEndpointLifecycle(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		created, err := e.svc.Create(e.ctx, webhook.CreateParams{
			URL:         "https://example.com/hooks",
			Description: "CRM sync",
			EventTypes:  []string{"user.updated", "user.created", "user.created"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if !id.HasPrefix(created.ID, "ep") {
			t.Errorf("id %q, want ep_…", created.ID)
		}
		now := e.clock.Now().UnixMilli()
		b, err := json.Marshal(created.JSON())
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		json.Unmarshal(b, &got)
		want := map[string]any{
			"object":          "webhook_endpoint",
			"id":              created.ID,
			"url":             "https://example.com/hooks",
			"description":     "CRM sync",
			"event_types":     []any{"user.created", "user.updated"},
			"enabled":         true,
			"disabled_reason": nil,
			"failing_since":   nil,
			"secret":          created.Secret,
			"created_at":      float64(now),
			"updated_at":      float64(now),
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("endpoint JSON (-want +got):\n%s", diff)
		}

		e.clock.Advance(time.Minute)
		url, desc, types, off := "https://example.org/new", "", []string{}, false
		updated, err := e.svc.Update(e.ctx, created.ID, webhook.UpdateParams{URL: &url, Description: &desc, EventTypes: &types, Enabled: &off})
		if err != nil {
			t.Fatal(err)
		}
		if updated.URL != url || updated.Description != "" || len(updated.EventTypes) != 0 || updated.Enabled ||
			updated.DisabledReason != webhook.DisabledOperator || !updated.UpdatedAt.Equal(e.clock.Now()) || updated.Secret != "" {
			t.Errorf("updated = %+v", updated)
		}
		if j := updated.JSON(); j.EventTypes == nil {
			t.Error("an empty filter encodes as null, want []")
		}
		list, err := e.svc.List(e.ctx)
		if err != nil || len(list) != 1 || list[0].URL != url {
			t.Errorf("List = %+v, %v", list, err)
		}

		if err := e.svc.Delete(e.ctx, created.ID); err != nil {
			t.Fatal(err)
		}
		for name, err := range map[string]error{
			"Get":    func() error { _, err := e.svc.Get(e.ctx, created.ID); return err }(),
			"Delete": e.svc.Delete(e.ctx, created.ID),
			"Update": func() error { _, err := e.svc.Update(e.ctx, created.ID, webhook.UpdateParams{}); return err }(),
			"Rotate": func() error { _, err := e.svc.RotateSecret(e.ctx, created.ID); return err }(),
			"Deliveries": func() error {
				_, err := e.svc.Deliveries(e.ctx, created.ID, 0)
				return err
			}(),
		} {
			if !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("%s after delete = %v, want ErrNotFound", name, err)
			}
		}
	})
}

func TestEndpointValidation(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		tests := []struct {
			name string
			p    webhook.CreateParams
		}{
			{"no URL", webhook.CreateParams{}},
			{"relative URL", webhook.CreateParams{URL: "/hooks"}},
			{"other scheme", webhook.CreateParams{URL: "ftp://example.com/"}},
			{"javascript", webhook.CreateParams{URL: "javascript:alert(1)"}},
			{"no host", webhook.CreateParams{URL: "https:///path"}},
			{"fragment", webhook.CreateParams{URL: "https://example.com/#x"}},
			{"bad event type", webhook.CreateParams{URL: "https://example.com/", EventTypes: []string{"user created"}}},
		}
		for _, tc := range tests {
			if _, err := e.svc.Create(e.ctx, tc.p); !errors.Is(err, webhook.ErrInvalid) {
				t.Errorf("%s: Create = %v, want ErrInvalid", tc.name, err)
			}
		}
		if n := e.count(t, "webhook_endpoint"); n != 0 {
			t.Errorf("%d endpoints stored, want 0", n)
		}
		ep, err := e.svc.Create(e.ctx, webhook.CreateParams{URL: "https://example.com/"})
		if err != nil {
			t.Fatal(err)
		}
		bad := "not a url"
		if _, err := e.svc.Update(e.ctx, ep.ID, webhook.UpdateParams{URL: &bad}); !errors.Is(err, webhook.ErrInvalid) {
			t.Errorf("Update with a bad URL = %v, want ErrInvalid", err)
		}
		if got, _ := e.svc.Get(e.ctx, ep.ID); got.URL != "https://example.com/" {
			t.Errorf("URL after a rejected update = %q", got.URL)
		}
	})
}

func TestReplayMessage(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		r := newReceiver(t)
		ep := e.endpoint(t, r, "/hook")
		e.emit(t, "user.created", user{Object: "user", ID: "user_1"})
		e.runOnce(t)
		msgID := onlyDelivery(t, e, ep.ID).MessageID

		e.clock.Advance(time.Hour)
		n, err := e.svc.Replay(e.ctx, msgID)
		if err != nil || n != 1 {
			t.Fatalf("Replay = %d, %v; want 1", n, err)
		}
		if n := e.runOnce(t); n != 1 {
			t.Fatalf("attempted %d after replay, want 1", n)
		}
		reqs := r.Requests()
		if len(reqs) != 2 || reqs[0].ID != msgID || reqs[1].ID != msgID || string(reqs[0].Body) != string(reqs[1].Body) {
			t.Fatalf("receiver got %d requests, want the same message twice", len(reqs))
		}
		d := onlyDelivery(t, e, ep.ID)
		var kinds []string
		for _, a := range d.AttemptLog {
			kinds = append(kinds, a.Kind)
		}
		if diff := cmp.Diff([]string{"scheduled", "replay"}, kinds); diff != "" || d.Status != webhook.StatusSucceeded {
			t.Errorf("attempt kinds (-want +got):\n%s; status %s", diff, d.Status)
		}

		ds, err := e.svc.MessageDeliveries(e.ctx, msgID)
		if err != nil || len(ds) != 1 || ds[0].EndpointID != ep.ID {
			t.Errorf("MessageDeliveries = %+v, %v", ds, err)
		}
		if _, err := e.svc.Replay(e.ctx, "msg_missing"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Replay of an unknown message = %v, want ErrNotFound", err)
		}
	})
}

func TestReplayFailedSince(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		r := newReceiver(t, reply{Status: 500})
		ep := e.endpoint(t, r, "/hook")
		t0 := e.clock.Now()
		e.emit(t, "user.created", user{Object: "user", ID: "user_old"})
		e.clock.Advance(time.Hour)
		e.emit(t, "user.created", user{Object: "user", ID: "user_new"})
		// Run both to the end of the schedule.
		for range 200 {
			e.runOnce(t)
			e.clock.Advance(time.Hour)
		}
		for _, d := range e.deliveries(t, ep.ID) {
			if d.Status != webhook.StatusFailed {
				t.Fatalf("delivery %s is %s, want failed", d.ID, d.Status)
			}
		}
		before := len(r.Requests())

		r.SetReplies(reply{Status: 200})
		n, err := e.svc.ReplayFailedSince(e.ctx, ep.ID, t0.Add(30*time.Minute))
		if err != nil || n != 1 {
			t.Fatalf("ReplayFailedSince = %d, %v; want 1", n, err)
		}
		if n := e.runOnce(t); n != 1 {
			t.Fatalf("attempted %d, want 1", n)
		}
		reqs := r.Requests()[before:]
		if len(reqs) != 1 || !json.Valid(reqs[0].Body) || !strings.Contains(string(reqs[0].Body), "user_new") {
			t.Fatalf("replayed requests = %d, want the newer message only", len(reqs))
		}
		statuses := map[string]string{}
		for _, d := range e.deliveries(t, ep.ID) {
			statuses[d.MessageID] = d.Status
		}
		ds := e.deliveries(t, ep.ID)
		if statuses[ds[0].MessageID] != webhook.StatusFailed || statuses[ds[1].MessageID] != webhook.StatusSucceeded {
			t.Errorf("statuses = %v, want the old one failed and the new one succeeded", statuses)
		}
		last := ds[1].AttemptLog[len(ds[1].AttemptLog)-1]
		if last.Kind != "replay" || last.Attempt != 9 {
			t.Errorf("last attempt = #%d %s, want #9 replay", last.Attempt, last.Kind)
		}

		// Nothing left to replay; a disabled endpoint refuses.
		if n, err := e.svc.ReplayFailedSince(e.ctx, ep.ID, t0.Add(30*time.Minute)); err != nil || n != 0 {
			t.Errorf("second ReplayFailedSince = %d, %v; want 0", n, err)
		}
		off := false
		if _, err := e.svc.Update(e.ctx, ep.ID, webhook.UpdateParams{Enabled: &off}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.ReplayFailedSince(e.ctx, ep.ID, t0); !errors.Is(err, webhook.ErrInvalid) {
			t.Errorf("ReplayFailedSince on a disabled endpoint = %v, want ErrInvalid", err)
		}
		if _, err := e.svc.ReplayFailedSince(e.ctx, "ep_missing", t0); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("ReplayFailedSince on an unknown endpoint = %v, want ErrNotFound", err)
		}
	})
}

func TestPruneKeepsPendingAndRecentMessages(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ok := newReceiver(t)
		bad := newReceiver(t, reply{Status: 500})
		e.endpoint(t, ok, "/ok", "user.created")
		e.endpoint(t, bad, "/bad", "user.updated")
		e.emit(t, "user.created", user{Object: "user", ID: "user_delivered"}) // old, delivered
		e.emit(t, "user.updated", user{Object: "user", ID: "user_pending"})   // old, still retrying
		e.emit(t, "session.created", map[string]any{"object": "session"})     // old, nobody subscribed
		e.runOnce(t)
		e.clock.Advance(48 * time.Hour)
		e.emit(t, "user.created", user{Object: "user", ID: "user_recent"})
		e.runOnce(t)

		n, err := e.svc.Prune(e.ctx, e.clock.Now().Add(-24*time.Hour))
		if err != nil || n != 2 {
			t.Fatalf("Prune = %d, %v; want 2", n, err)
		}
		var left []string
		if err := db.NewSelect().Table("webhook_message").Column("event_type").Order("created_at").Scan(e.ctx, &left); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"user.updated", "user.created"}, left); diff != "" {
			t.Errorf("messages left (-want +got):\n%s", diff)
		}
		if n := e.count(t, "webhook_delivery"); n != 2 {
			t.Errorf("%d deliveries left, want 2", n)
		}
	})
}
