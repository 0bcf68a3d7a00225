package webhook_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/webhook"
)

// attemptSummary is the part of an attempt these tests compare.
type attemptSummary struct {
	Attempt    int
	Kind       string
	StartedAt  time.Time
	StatusCode int
	Result     string
	Next       time.Time
}

func summarise(d *webhook.Delivery) []attemptSummary {
	var out []attemptSummary
	for _, a := range d.AttemptLog {
		out = append(out, attemptSummary{a.Attempt, a.Kind, a.StartedAt, a.StatusCode, a.Result, a.NextAttemptAt})
	}
	return out
}

// onlyDelivery returns the single delivery of an endpoint.
func onlyDelivery(t *testing.T, e *env, endpointID string) *webhook.Delivery {
	t.Helper()
	ds := e.deliveries(t, endpointID)
	if len(ds) != 1 {
		t.Fatalf("endpoint has %d deliveries, want 1", len(ds))
	}
	return ds[0]
}

func TestRetryScheduleFailTwiceThenSucceed(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		r := newReceiver(t,
			reply{Status: 500, Body: "boom"},
			reply{Status: 502},
			reply{Status: 200, Body: "thanks"})
		ep := e.endpoint(t, r, "/hook")
		t0 := e.clock.Now()
		e.emit(t, "user.created", user{Object: "user", ID: "user_1"})

		if n := e.runOnce(t); n != 1 {
			t.Fatalf("first step attempted %d, want 1", n)
		}
		// Not due yet: nothing happens, however often the worker looks.
		e.clock.Advance(5*time.Second - time.Millisecond)
		if n := e.runOnce(t); n != 0 {
			t.Fatalf("attempted %d deliveries before the retry was due, want 0", n)
		}
		e.clock.Set(t0.Add(5 * time.Second))
		if n := e.runOnce(t); n != 1 {
			t.Fatalf("second step attempted %d, want 1", n)
		}
		t1 := e.clock.Now()
		e.clock.Set(t1.Add(5 * time.Minute))
		if n := e.runOnce(t); n != 1 {
			t.Fatalf("third step attempted %d, want 1", n)
		}
		t2 := e.clock.Now()
		e.clock.Advance(48 * time.Hour)
		if n := e.runOnce(t); n != 0 {
			t.Fatalf("attempted %d after success, want 0", n)
		}

		d := onlyDelivery(t, e, ep.ID)
		want := []attemptSummary{
			{1, "scheduled", t0, 500, "failure", t0.Add(5 * time.Second)},
			{2, "scheduled", t1, 502, "failure", t1.Add(5 * time.Minute)},
			{3, "scheduled", t2, 200, "success", time.Time{}},
		}
		if diff := cmp.Diff(want, summarise(d)); diff != "" {
			t.Errorf("attempt log (-want +got):\n%s", diff)
		}
		if d.Status != webhook.StatusSucceeded || d.Attempts != 3 || !d.NextAttemptAt.IsZero() {
			t.Errorf("delivery = %s after %d attempts, next %v; want succeeded after 3, no next", d.Status, d.Attempts, d.NextAttemptAt)
		}
		if d.AttemptLog[0].ResponseBody != "boom" || d.AttemptLog[2].ResponseBody != "thanks" {
			t.Errorf("response bodies = %q, %q; want boom, thanks", d.AttemptLog[0].ResponseBody, d.AttemptLog[2].ResponseBody)
		}
		if !strings.Contains(d.AttemptLog[0].Error, "500") {
			t.Errorf("first attempt error %q, want it to name the status", d.AttemptLog[0].Error)
		}

		// Same message id on every attempt; each attempt signs its own time.
		reqs := r.Requests()
		if len(reqs) != 3 {
			t.Fatalf("receiver got %d requests, want 3", len(reqs))
		}
		for i, req := range reqs {
			if req.ID != d.MessageID {
				t.Errorf("attempt %d id %q, want %q", i+1, req.ID, d.MessageID)
			}
			if want := []time.Time{t0, t1, t2}[i].Unix(); req.Header.Get("webhook-timestamp") != strconv.FormatInt(want, 10) {
				t.Errorf("attempt %d timestamp %s, want %d", i+1, req.Header.Get("webhook-timestamp"), want)
			}
		}
	})
}

// Every failure waits the scheduled delay; the eighth failure is final.
func TestExhaustedScheduleFailsTheDelivery(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		r := newReceiver(t, reply{Status: 500})
		ep := e.endpoint(t, r, "/hook")
		e.emit(t, "user.created", user{Object: "user", ID: "user_1"})

		schedule := webhook.DefaultRetrySchedule()
		var wantNext []time.Duration
		for i := 0; i <= len(schedule); i++ {
			if n := e.runOnce(t); n != 1 {
				t.Fatalf("attempt %d: worker attempted %d, want 1", i+1, n)
			}
			d := onlyDelivery(t, e, ep.ID)
			if i < len(schedule) {
				wantNext = append(wantNext, schedule[i])
				if got := d.NextAttemptAt.Sub(e.clock.Now()); got != schedule[i] {
					t.Fatalf("after attempt %d the next is due in %v, want %v", i+1, got, schedule[i])
				}
				e.clock.Set(d.NextAttemptAt)
			}
		}
		d := onlyDelivery(t, e, ep.ID)
		if d.Status != webhook.StatusFailed || d.Attempts != 8 || !d.NextAttemptAt.IsZero() {
			t.Errorf("delivery %s after %d attempts (next %v), want failed after 8", d.Status, d.Attempts, d.NextAttemptAt)
		}
		var gaps []time.Duration
		for i := 1; i < len(d.AttemptLog); i++ {
			gaps = append(gaps, d.AttemptLog[i].StartedAt.Sub(d.AttemptLog[i-1].StartedAt))
		}
		if diff := cmp.Diff(wantNext, gaps); diff != "" {
			t.Errorf("gaps between attempts (-want +got):\n%s", diff)
		}
		e.clock.Advance(30 * 24 * time.Hour)
		if n := e.runOnce(t); n != 0 {
			t.Errorf("a failed delivery was attempted again (%d)", n)
		}
		// 32.5 hours of failure is not five days: the endpoint stays on.
		got, err := e.svc.Get(e.ctx, ep.ID)
		if err != nil || !got.Enabled {
			t.Errorf("endpoint enabled = %v (%v), want true", got.Enabled, err)
		}
	})
}

func TestJitterStaysWithinTenPercent(t *testing.T) {
	t.Parallel()
	d := 10 * time.Minute
	for _, r := range []float64{0, 0.25, 0.5, 0.75, 0.999999} {
		got := webhook.Jittered(d, r)
		if got < 9*time.Minute || got > 11*time.Minute {
			t.Errorf("jittered(%v, %v) = %v, want within ±10%%", d, r, got)
		}
	}
	if a, b := webhook.Jittered(d, 0), webhook.Jittered(d, 0.999); a >= b {
		t.Errorf("jitter does not spread: %v, %v", a, b)
	}
}

func TestGoneDisablesTheEndpoint(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db, func(o *webhook.WorkerOptions) { o.Concurrency = 1 })
		r := newReceiver(t, reply{Status: http.StatusGone})
		ep := e.endpoint(t, r, "/hook")
		e.emit(t, "user.created", user{Object: "user", ID: "user_1"})
		e.emit(t, "user.updated", user{Object: "user", ID: "user_1"})

		if n := e.runOnce(t); n != 1 {
			t.Fatalf("attempted %d, want 1", n)
		}
		got, err := e.svc.Get(e.ctx, ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Enabled || got.DisabledReason != webhook.DisabledGone {
			t.Errorf("endpoint enabled=%v reason=%q, want disabled as gone", got.Enabled, got.DisabledReason)
		}
		for _, d := range e.deliveries(t, ep.ID) {
			if d.Status != webhook.StatusFailed {
				t.Errorf("delivery of %s is %s, want failed", d.EventType, d.Status)
			}
		}
		e.clock.Advance(time.Hour)
		e.emit(t, "user.deleted", user{Object: "user", ID: "user_1"})
		if n := e.runOnce(t); n != 0 {
			t.Errorf("attempted %d deliveries to a gone endpoint, want 0", n)
		}
		if n := len(r.Requests()); n != 1 {
			t.Errorf("receiver got %d requests, want 1", n)
		}
	})
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		now := e.clock.Now()
		tests := []struct {
			name   string
			reply  reply
			wantIn time.Duration
		}{
			{"429 seconds", reply{Status: 429, Header: map[string]string{"Retry-After": "120"}}, 120 * time.Second},
			{"503 HTTP date", reply{Status: 503, Header: map[string]string{"Retry-After": now.Add(time.Hour).Format(http.TimeFormat)}}, time.Hour},
			{"429 shorter than the schedule", reply{Status: 429, Header: map[string]string{"Retry-After": "1"}}, 5 * time.Second},
			{"429 bounded", reply{Status: 429, Header: map[string]string{"Retry-After": "99999999999999999999"}}, webhook.MaxRetryAfter},
			{"429 malformed", reply{Status: 429, Header: map[string]string{"Retry-After": "soon"}}, 5 * time.Second},
			{"500 ignores Retry-After", reply{Status: 500, Header: map[string]string{"Retry-After": "120"}}, 5 * time.Second},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := newReceiver(t, tc.reply)
				ep := e.endpoint(t, r, "/hook")
				e.emit(t, "user.created", user{Object: "user", ID: "user_1"})
				if n := e.runOnce(t); n != 1 {
					t.Fatalf("attempted %d, want 1", n)
				}
				d := onlyDelivery(t, e, ep.ID)
				if got := d.NextAttemptAt.Sub(now); got != tc.wantIn {
					t.Errorf("next attempt in %v, want %v", got, tc.wantIn)
				}
				if _, err := e.svc.Update(e.ctx, ep.ID, webhook.UpdateParams{Enabled: new(bool)}); err != nil {
					t.Fatal(err)
				}
			})
		}
	})
}

func TestRedirectIsAFailureAndNotFollowed(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		r := newReceiver(t)
		ep := e.endpoint(t, r, "/hook")
		r.SetReplies(reply{Status: http.StatusFound, Header: map[string]string{"Location": r.URL("/elsewhere")}})
		e.emit(t, "user.created", user{Object: "user", ID: "user_1"})
		e.runOnce(t)
		for _, req := range r.Requests() {
			if req.Path != "/hook" {
				t.Errorf("the redirect was followed to %s", req.Path)
			}
		}
		d := onlyDelivery(t, e, ep.ID)
		a := d.AttemptLog[0]
		if a.StatusCode != http.StatusFound || a.Result != "failure" || d.Status != webhook.StatusPending {
			t.Errorf("attempt %d %s, delivery %s; want 302 failure and a retry", a.StatusCode, a.Result, d.Status)
		}
	})
}

func TestFiveDaysOfFailureDisableTheEndpoint(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		r := newReceiver(t, reply{Status: 500})
		ep := e.endpoint(t, r, "/hook")
		t0 := e.clock.Now()
		e.emit(t, "user.created", user{Object: "user", ID: "user_1"})
		e.runOnce(t)

		// A success in between restarts the count.
		r.SetReplies(reply{Status: 200})
		e.clock.Set(t0.Add(5 * time.Second))
		e.runOnce(t)
		r.SetReplies(reply{Status: 500})
		if got, _ := e.svc.Get(e.ctx, ep.ID); !got.FailingSince.IsZero() {
			t.Fatalf("failing since %v after a success, want zero", got.FailingSince)
		}

		t1 := t0.Add(time.Hour)
		e.clock.Set(t1)
		e.emit(t, "user.updated", user{Object: "user", ID: "user_1"})
		e.runOnce(t)
		step := func(at time.Time) {
			t.Helper()
			e.clock.Set(at)
			e.emit(t, "user.updated", user{Object: "user", ID: "user_1"})
			for e.runOnce(t) > 0 {
			}
		}
		step(t1.Add(4 * 24 * time.Hour))
		if got, _ := e.svc.Get(e.ctx, ep.ID); !got.Enabled || !got.FailingSince.Equal(t1) {
			t.Fatalf("after four days: enabled=%v failing since %v; want enabled, failing since %v", got.Enabled, got.FailingSince, t1)
		}
		step(t1.Add(5*24*time.Hour - time.Second))
		if got, _ := e.svc.Get(e.ctx, ep.ID); !got.Enabled {
			t.Fatal("disabled before five days of failure")
		}
		step(t1.Add(5 * 24 * time.Hour))
		got, err := e.svc.Get(e.ctx, ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Enabled || got.DisabledReason != webhook.DisabledFailing {
			t.Fatalf("after five days: enabled=%v reason=%q, want disabled as failing", got.Enabled, got.DisabledReason)
		}
		for _, d := range e.deliveries(t, ep.ID) {
			if d.Status == webhook.StatusPending {
				t.Errorf("delivery %s still pending on a disabled endpoint", d.ID)
			}
		}

		// Re-enabling clears the record.
		on := true
		got, err = e.svc.Update(e.ctx, ep.ID, webhook.UpdateParams{Enabled: &on})
		if err != nil || !got.Enabled || got.DisabledReason != "" || !got.FailingSince.IsZero() {
			t.Errorf("re-enabled endpoint = %+v, %v; want enabled with a clean record", got, err)
		}
	})
}
