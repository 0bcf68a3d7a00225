package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/webhook"
)

// A committed change delivers its event; a rolled-back one leaves nothing.
func TestEmitFollowsTheCallersTransaction(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := onRealClock(t, db)
		r := newReceiver(t)
		r.checkTimestamp = true
		ep := e.endpoint(t, r, "/hook")

		boom := errors.New("boom")
		err := storage.InTx(e.ctx, db, func(ctx context.Context) error {
			if err := e.outbox.Emit(ctx, "user.created", user{Object: "user", ID: "user_rolledback"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want boom", err)
		}
		for _, table := range []string{"webhook_message", "webhook_delivery", "instance"} {
			if n := e.count(t, table); n != 0 {
				t.Errorf("after rollback %s has %d rows, want 0", table, n)
			}
		}

		want := user{Object: "user", ID: "user_committed", FirstName: "Ada <&>"}
		if err := storage.InTx(e.ctx, db, func(ctx context.Context) error {
			return e.outbox.Emit(ctx, "user.created", want)
		}); err != nil {
			t.Fatal(err)
		}
		if n := e.runOnce(t); n != 1 {
			t.Fatalf("RunOnce attempted %d deliveries, want 1", n)
		}
		reqs := r.Requests()
		if len(reqs) != 1 {
			t.Fatalf("receiver got %d requests, want 1", len(reqs))
		}
		req := reqs[0]
		var env struct {
			Data       user   `json:"data"`
			Object     string `json:"object"`
			Type       string `json:"type"`
			Timestamp  int64  `json:"timestamp"`
			InstanceID string `json:"instance_id"`
		}
		if err := json.Unmarshal(req.Body, &env); err != nil {
			t.Fatalf("body %s: %v", req.Body, err)
		}
		if diff := cmp.Diff(want, env.Data); diff != "" {
			t.Errorf("data (-want +got):\n%s", diff)
		}
		if env.Object != "event" || env.Type != "user.created" || env.Timestamp == 0 || !id.HasPrefix(env.InstanceID, "ins") {
			t.Errorf("envelope = %+v, want object event, type user.created, a timestamp and an ins_ id", env)
		}
		if !strings.Contains(string(req.Body), `"first_name":"Ada <&>"`) {
			t.Errorf("body %s: want HTML characters unescaped", req.Body)
		}
		var instanceID string
		if err := db.NewSelect().Table("instance").Column("id").Scan(e.ctx, &instanceID); err != nil || instanceID != env.InstanceID {
			t.Errorf("instance row id = %q (%v), envelope says %q", instanceID, err, env.InstanceID)
		}
		wantHeaders := map[string]string{
			"Content-Type": "application/json",
			"User-Agent":   "orgid-webhooks/1",
		}
		for k, v := range wantHeaders {
			if got := req.Header.Get(k); got != v {
				t.Errorf("header %s = %q, want %q", k, got, v)
			}
		}
		for _, h := range []string{"id", "timestamp", "signature"} {
			if a, b := req.Header.Get("svix-"+h), req.Header.Get("webhook-"+h); a == "" || a != b {
				t.Errorf("svix-%s = %q, webhook-%s = %q; want equal and set", h, a, h, b)
			}
		}
		if !id.HasPrefix(req.ID, "msg") {
			t.Errorf("message id %q, want msg_…", req.ID)
		}
		ds := e.deliveries(t, ep.ID)
		if len(ds) != 1 || ds[0].Status != webhook.StatusSucceeded || ds[0].MessageID != req.ID {
			t.Errorf("deliveries = %+v, want one succeeded for %s", ds, req.ID)
		}

		// A second event reuses the instance id.
		e.emit(t, "user.updated", want)
		e.runOnce(t)
		reqs = r.Requests()
		if len(reqs) != 2 || !strings.Contains(string(reqs[1].Body), `"instance_id":"`+env.InstanceID+`"`) {
			t.Errorf("second event body %s, want instance_id %s", reqs[len(reqs)-1].Body, env.InstanceID)
		}
	})
}

func TestEmitFansOutToSubscribedEndpoints(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		all := newReceiver(t)
		users := newReceiver(t)
		e.endpoint(t, all, "/all")
		e.endpoint(t, users, "/users", "user.created", "user.deleted")
		disabled := newReceiver(t)
		epDisabled := e.endpoint(t, disabled, "/disabled")
		off := false
		if _, err := e.svc.Update(e.ctx, epDisabled.ID, webhook.UpdateParams{Enabled: &off}); err != nil {
			t.Fatal(err)
		}

		e.emit(t, "user.created", user{Object: "user", ID: "user_1"})
		e.emit(t, "organization.created", map[string]any{"object": "organization", "id": "org_1"})
		e.emit(t, "user.deleted", map[string]any{"object": "user", "id": "user_1", "deleted": true})

		// Created after the events: receives none of them.
		late := newReceiver(t)
		epLate := e.endpoint(t, late, "/late")

		for e.runOnce(t) > 0 {
		}
		types := func(r *receiver) []string {
			var out []string
			for _, req := range r.Requests() {
				var env struct{ Type string }
				json.Unmarshal(req.Body, &env)
				out = append(out, env.Type)
			}
			return out
		}
		tests := []struct {
			name string
			r    *receiver
			want []string
		}{
			{"no filter", all, []string{"organization.created", "user.created", "user.deleted"}},
			{"filter", users, []string{"user.created", "user.deleted"}},
			{"disabled", disabled, nil},
			{"created later", late, nil},
		}
		for _, tc := range tests {
			got := types(tc.r)
			slices.Sort(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: event types received (-want +got):\n%s", tc.name, diff)
			}
		}
		for _, ep := range []*webhook.Endpoint{epDisabled, epLate} {
			if ds := e.deliveries(t, ep.ID); len(ds) != 0 {
				t.Errorf("endpoint %s has %d deliveries, want 0", ep.Description, len(ds))
			}
		}
	})
}

func TestEmitRejectsBadInput(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		tests := []struct {
			name string
			typ  string
			data any
		}{
			{"empty type", "", user{}},
			{"type with space", "user created", user{}},
			{"type with trailing dot", "user.", user{}},
			{"data not an object", "user.created", []int{1}},
			{"nil data", "user.created", nil},
			{"unencodable data", "user.created", map[string]any{"f": func() {}}},
		}
		for _, tc := range tests {
			if err := e.outbox.Emit(e.ctx, tc.typ, tc.data); err == nil {
				t.Errorf("%s: Emit succeeded, want an error", tc.name)
			}
		}
		if n := e.count(t, "webhook_message"); n != 0 {
			t.Errorf("%d messages stored, want 0", n)
		}
	})
}

func TestInstanceIDIsCreatedOnceAndKept(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		first, err := e.outbox.InstanceID(e.ctx)
		if err != nil || !id.HasPrefix(first, "ins") {
			t.Fatalf("InstanceID = %q, %v; want ins_…", first, err)
		}
		// Another process (another Outbox) sees the same row.
		second, err := webhook.NewOutbox(db, nil).InstanceID(e.ctx)
		if err != nil || second != first {
			t.Errorf("second InstanceID = %q, %v; want %q", second, err, first)
		}
		if n := e.count(t, "instance"); n != 1 {
			t.Errorf("instance has %d rows, want 1", n)
		}
	})
}
