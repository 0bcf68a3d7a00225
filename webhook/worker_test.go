package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/webhook"
)

// A worker that claims and dies holds its deliveries only until the lease
// expires; then another worker delivers them.
func TestAbandonedClaimIsReclaimedAfterTheLease(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		r := newReceiver(t)
		ep := e.endpoint(t, r, "/hook")
		e.emit(t, "user.created", user{Object: "user", ID: "user_1"})

		dead := e.newWorker(t, db)
		if n, err := dead.ClaimOnly(e.ctx, 10); err != nil || n != 1 {
			t.Fatalf("ClaimOnly = %d, %v; want 1", n, err)
		}
		if n := e.runOnce(t); n != 0 {
			t.Fatalf("a leased delivery was claimed again (%d) before its lease expired", n)
		}
		e.clock.Advance(webhook.DefaultLease - time.Second)
		if n := e.runOnce(t); n != 0 {
			t.Fatalf("claimed again (%d) a second before the lease expired", n)
		}
		e.clock.Advance(time.Second)
		if n := e.runOnce(t); n != 1 {
			t.Fatalf("after the lease expired the worker attempted %d, want 1", n)
		}
		d := onlyDelivery(t, e, ep.ID)
		if d.Status != webhook.StatusSucceeded || d.Attempts != 1 || len(r.Requests()) != 1 {
			t.Errorf("delivery %s after %d attempts, %d requests; want succeeded once", d.Status, d.Attempts, len(r.Requests()))
		}
	})
}

// Two workers, each with its own database handle, on one database: every
// delivery arrives, none twice.
func TestTwoWorkersDeliverEachMessageOnce(t *testing.T) {
	t.Parallel()
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		db1 := storagetest.OpenURL(t, dbURL)
		db2 := storagetest.OpenURL(t, dbURL)
		e := onRealClock(t, db1)
		a, b := newReceiver(t), newReceiver(t)
		epA := e.endpoint(t, a, "/a")
		epB := e.endpoint(t, b, "/b")
		const messages = 120
		for i := range messages {
			e.emit(t, "user.updated", user{Object: "user", ID: fmt.Sprintf("user_%d", i)})
		}
		fast := func(o *webhook.WorkerOptions) {
			o.PollInterval = 10 * time.Millisecond
			o.Concurrency = 4
		}
		w1 := e.newWorker(t, db1, append([]envOption{realClock}, fast)...)
		w2 := e.newWorker(t, db2, append([]envOption{realClock}, fast)...)

		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for _, w := range []*webhook.Worker{w1, w2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := w.Run(ctx); err != nil {
					t.Errorf("Run: %v", err)
				}
			}()
		}
		gotA := a.WaitFor(messages)
		gotB := b.WaitFor(messages)
		cancel()
		wg.Wait()
		gotA, gotB = a.Requests(), b.Requests()

		for name, reqs := range map[string][]request{"a": gotA, "b": gotB} {
			seen := map[string]int{}
			for _, r := range reqs {
				seen[r.Header.Get("svix-id")]++
			}
			if len(seen) != messages {
				t.Errorf("endpoint %s received %d distinct messages, want %d", name, len(seen), messages)
			}
			for id, n := range seen {
				if n != 1 {
					t.Errorf("endpoint %s received %s %d times, want once", name, id, n)
				}
			}
		}
		for _, ep := range []*webhook.Endpoint{epA, epB} {
			for _, d := range e.deliveries(t, ep.ID) {
				if d.Status != webhook.StatusSucceeded || d.Attempts != 1 {
					t.Errorf("delivery %s: %s after %d attempts, want succeeded after 1", d.ID, d.Status, d.Attempts)
				}
			}
		}
	})
}

func realClock(o *webhook.WorkerOptions) { o.Now = nil }

// Run stops when its context ends and leaves nothing half done.
func TestRunStopsOnCancel(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := onRealClock(t, db, func(o *webhook.WorkerOptions) { o.PollInterval = 10 * time.Millisecond })
		r := newReceiver(t)
		e.endpoint(t, r, "/hook")
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.worker.Run(ctx) }()
		e.emit(t, "user.created", user{Object: "user", ID: "user_1"})
		r.WaitFor(1)
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v, want nil after cancel", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not return after cancel")
		}
	})
}

func TestAttemptsRecordBoundedResponsesAndErrors(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		// Only the hanging receiver meets the short timeout; the others get
		// the default, so that a slow machine cannot fail them.
		impatient := e.newWorker(t, db, func(o *webhook.WorkerOptions) { o.RequestTimeout = 300 * time.Millisecond })
		release := make(chan struct{})
		defer close(release)
		hang := newReceiver(t)
		hang.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		tests := []struct {
			name      string
			r         *receiver
			worker    *webhook.Worker
			wantBody  func(string) bool
			wantError string
		}{
			{"long body is cut", newReceiver(t, reply{Status: 500, Body: strings.Repeat("x", 10000)}), e.worker,
				func(b string) bool { return len(b) == webhook.MaxStoredResponseBytes }, "500"},
			{"binary body is made storable", newReceiver(t, reply{Status: 500, Body: "a\x00b\xffc"}), e.worker,
				func(b string) bool {
					return utf8.ValidString(b) && !strings.Contains(b, "\x00") && strings.HasPrefix(b, "a")
				}, "500"},
			{"no response in time", hang, impatient, func(b string) bool { return b == "" }, "no response within 300ms"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ep := e.endpoint(t, tc.r, "/hook")
				e.emit(t, "user.created", user{Object: "user", ID: "user_1"})
				if _, err := tc.worker.RunOnce(e.ctx); err != nil {
					t.Fatal(err)
				}
				d := onlyDelivery(t, e, ep.ID)
				a := d.AttemptLog[0]
				if !tc.wantBody(a.ResponseBody) {
					t.Errorf("stored body %q (%d bytes) is not what was expected", a.ResponseBody[:min(len(a.ResponseBody), 40)], len(a.ResponseBody))
				}
				if !strings.Contains(a.Error, tc.wantError) || a.Result != "failure" {
					t.Errorf("attempt error %q result %s, want %q and failure", a.Error, a.Result, tc.wantError)
				}
				if _, err := e.svc.Update(e.ctx, ep.ID, webhook.UpdateParams{Enabled: new(bool)}); err != nil {
					t.Fatal(err)
				}
			})
		}
	})
}

// Without AllowPrivate the worker's default client refuses loopback.
func TestDefaultClientRefusesLoopback(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db, func(o *webhook.WorkerOptions) { o.AllowPrivate = false })
		r := newReceiver(t)
		ep := e.endpoint(t, r, "/hook")
		e.emit(t, "user.created", user{Object: "user", ID: "user_1"})
		e.runOnce(t)
		if n := len(r.Requests()); n != 0 {
			t.Errorf("receiver on 127.0.0.1 got %d requests, want 0", n)
		}
		a := onlyDelivery(t, e, ep.ID).AttemptLog[0]
		if a.Error != "destination not allowed" || a.StatusCode != 0 {
			t.Errorf("attempt error %q status %d, want \"destination not allowed\" and no status", a.Error, a.StatusCode)
		}
	})
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		// Three at a time: the first step takes the first event's three
		// deliveries, so the 410 disables the endpoint before the second
		// event's delivery to it is tried (it fails without an attempt).
		e := newEnv(t, db, func(o *webhook.WorkerOptions) { o.Concurrency = 3 })
		ok := newReceiver(t)
		bad := newReceiver(t, reply{Status: 500})
		gone := newReceiver(t, reply{Status: 410})
		e.endpoint(t, ok, "/ok")
		e.endpoint(t, bad, "/bad")
		e.endpoint(t, gone, "/gone")
		e.emit(t, "user.created", user{Object: "user", ID: "user_1"})
		e.clock.Advance(time.Minute)
		e.emit(t, "user.updated", user{Object: "user", ID: "user_1"})
		if err := e.worker.RefreshQueueMetrics(e.ctx); err != nil {
			t.Fatal(err)
		}
		gauge := func(name string) float64 {
			t.Helper()
			mfs, err := e.reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			for _, mf := range mfs {
				if mf.GetName() == name {
					return mf.GetMetric()[0].GetGauge().GetValue()
				}
			}
			t.Fatalf("metric %s not registered", name)
			return 0
		}
		if got := gauge("orgid_webhook_queue_depth"); got != 6 {
			t.Errorf("queue depth = %v, want 6", got)
		}
		if got := gauge("orgid_webhook_oldest_pending_age_seconds"); got != 60 {
			t.Errorf("oldest pending age = %v, want 60", got)
		}
		for e.runOnce(t) > 0 {
		}
		if err := e.worker.RefreshQueueMetrics(e.ctx); err != nil {
			t.Fatal(err)
		}
		if got := gauge("orgid_webhook_queue_depth"); got != 2 {
			t.Errorf("queue depth after one round = %v, want 2 (the retries)", got)
		}
		counts := map[string]float64{}
		var observations uint64
		mfs, err := e.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				switch mf.GetName() {
				case "orgid_webhook_deliveries_total":
					counts[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
				case "orgid_webhook_delivery_duration_seconds":
					observations += m.GetHistogram().GetSampleCount()
				}
			}
		}
		if diff := cmp.Diff(map[string]float64{"success": 2, "retry": 2, "failed": 1}, counts); diff != "" {
			t.Errorf("orgid_webhook_deliveries_total by result (-want +got):\n%s", diff)
		}
		if observations != 5 {
			t.Errorf("duration histogram has %d observations, want 5", observations)
		}
		// A second worker on the same registry shares the collectors.
		if _, err := webhook.NewWorker(webhook.WorkerOptions{DB: db, Keys: e.keys, Registerer: e.reg}); err != nil {
			t.Errorf("second worker on one registry: %v", err)
		}
	})
}

func TestNewWorkerChecksOptions(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		keys := testKeyring(t)
		tests := []struct {
			name string
			opts webhook.WorkerOptions
		}{
			{"no database", webhook.WorkerOptions{Keys: keys}},
			{"no keyring", webhook.WorkerOptions{DB: db}},
			{"lease shorter than a request", webhook.WorkerOptions{DB: db, Keys: keys, Lease: 10 * time.Second}},
		}
		for _, tc := range tests {
			if _, err := webhook.NewWorker(tc.opts); err == nil {
				t.Errorf("%s: NewWorker succeeded, want an error", tc.name)
			}
		}
	})
}
