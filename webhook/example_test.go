package webhook_test

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/storage/storagetest"
)

// TestAttemptLogExample prints, with -v, a delivered request (headers and
// body) and the attempt log of a message that failed twice and then
// succeeded, for the documentation:
//
//	go test ./webhook -run TestAttemptLogExample/sqlite -v
func TestAttemptLogExample(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		r := newReceiver(t,
			reply{Status: 503, Body: `{"error":"maintenance"}`},
			reply{Status: 500, Body: "Internal Server Error"},
			reply{Status: 200, Body: `{"received":true}`})
		ep := e.endpoint(t, r, "/api/webhooks")
		e.emit(t, "user.created", map[string]any{
			"object": "user", "id": "user_2xQp3VbR8mYkLs0Tz9JaWc",
			"first_name": "Ada", "last_name": "Lovelace",
			"email_addresses": []any{map[string]any{"object": "email_address", "email_address": "ada@example.com"}},
			"created_at":      e.clock.Now().UnixMilli(), "updated_at": e.clock.Now().UnixMilli(),
		})
		for range 3 {
			if e.runOnce(t) != 1 {
				t.Fatal("no attempt was due")
			}
			if d := onlyDelivery(t, e, ep.ID); !d.NextAttemptAt.IsZero() {
				e.clock.Set(d.NextAttemptAt)
			}
		}
		reqs := r.Requests()
		if len(reqs) != 3 {
			t.Fatalf("receiver got %d requests, want 3", len(reqs))
		}
		last := reqs[2]
		var b strings.Builder
		b.WriteString("POST /api/webhooks HTTP/1.1\n")
		var names []string
		for k := range last.Header {
			if k != "Accept-Encoding" {
				names = append(names, k)
			}
		}
		slices.Sort(names)
		for _, k := range names {
			b.WriteString(strings.ToLower(k) + ": " + last.Header.Get(k) + "\n")
		}
		b.WriteString("\n" + string(last.Body) + "\n")
		t.Logf("delivered request (third attempt):\n%s", b.String())

		d := onlyDelivery(t, e, ep.ID)
		var log strings.Builder
		for _, a := range d.AttemptLog {
			next := "-"
			if !a.NextAttemptAt.IsZero() {
				next = a.NextAttemptAt.Format(time.RFC3339) + " (+" + a.NextAttemptAt.Sub(a.StartedAt).String() + ")"
			}
			log.WriteString(strings.Join([]string{
				"#" + strconv.Itoa(a.Attempt), a.StartedAt.Format(time.RFC3339), strconv.Itoa(a.StatusCode), a.Result,
				"body=" + a.ResponseBody, "error=" + a.Error, "next=" + next,
			}, "  ") + "\n")
		}
		t.Logf("attempt log of %s to %s (status %s):\n%s", d.MessageID, ep.ID, d.Status, log.String())
		j, _ := json.MarshalIndent(d.JSON(), "", "  ")
		t.Logf("delivery as JSON (orgid webhooks deliveries --json):\n%s", j)
	})
}
