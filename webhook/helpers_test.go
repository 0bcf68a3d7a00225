package webhook_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/webhook"
)

// clock is a fake clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func testKeyring(t testing.TB) *secret.Keyring {
	t.Helper()
	return testKeyringFrom(t, "k")
}

// request is one delivery as the receiver saw it.
type request struct {
	ID     string
	Path   string
	Header http.Header
	Body   []byte
}

// reply is what the receiver answers.
type reply struct {
	Status int
	Header map[string]string
	Body   string
}

// receiver is a webhook receiver on 127.0.0.1 that verifies every request
// with the Standard Webhooks library (code nobody here wrote), under both
// the webhook-* and the svix-* header names.
type receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	secrets []string // each must verify every request
	reject  []string // none may verify any request
	// checkTimestamp also enforces the library's 5-minute tolerance; only
	// for tests on the real clock.
	checkTimestamp bool
	replies        []reply // answered in order; the last one repeats
	requests       []request
	problems       []string
	notify         chan struct{}
}

func newReceiver(t *testing.T, replies ...reply) *receiver {
	t.Helper()
	r := &receiver{t: t, replies: replies, notify: make(chan struct{}, 1)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) URL(path string) string { return r.srv.URL + path }

// Expect sets the secrets every request must verify with, and those none
// may verify with.
func (r *receiver) Expect(secrets []string, reject ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets, r.reject = secrets, reject
}

func (r *receiver) SetReplies(replies ...reply) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.replies = replies
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	r.mu.Lock()
	defer func() {
		r.mu.Unlock()
		select {
		case r.notify <- struct{}{}:
		default:
		}
	}()
	if err != nil {
		r.problems = append(r.problems, "read body: "+err.Error())
	}
	got := request{ID: req.Header.Get("webhook-id"), Path: req.URL.Path, Header: req.Header.Clone(), Body: body}
	for _, s := range r.secrets {
		if msg := verify(s, got, r.checkTimestamp); msg != "" {
			r.problems = append(r.problems, msg)
		}
	}
	for _, s := range r.reject {
		if verify(s, got, false) == "" {
			r.problems = append(r.problems, "request "+got.ID+" verified with a secret that should no longer sign")
		}
	}
	r.requests = append(r.requests, got)
	rep := reply{Status: http.StatusNoContent}
	if n := len(r.replies); n > 0 {
		rep = r.replies[min(len(r.requests)-1, n-1)]
	}
	for k, v := range rep.Header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.Status)
	io.WriteString(w, rep.Body)
}

// verify returns "" when req verifies with secret under both header
// families, else what went wrong.
func verify(secret string, req request, checkTimestamp bool) string {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return "library rejects the secret: " + err.Error()
	}
	svix := http.Header{}
	svix.Set(standardwebhooks.HeaderWebhookID, req.Header.Get("svix-id"))
	svix.Set(standardwebhooks.HeaderWebhookTimestamp, req.Header.Get("svix-timestamp"))
	svix.Set(standardwebhooks.HeaderWebhookSignature, req.Header.Get("svix-signature"))
	for name, h := range map[string]http.Header{"webhook-*": req.Header, "svix-*": svix} {
		v := wh.VerifyIgnoringTimestamp
		if checkTimestamp {
			v = wh.Verify
		}
		if err := v(req.Body, h); err != nil {
			return "request " + req.ID + " (" + name + " headers) does not verify: " + err.Error()
		}
	}
	return ""
}

// Requests returns what arrived so far and fails the test on any request
// that did not verify.
func (r *receiver) Requests() []request {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.problems {
		r.t.Error(p)
	}
	r.problems = nil
	return append([]request(nil), r.requests...)
}

// WaitFor blocks until n requests arrived, failing after a generous limit.
func (r *receiver) WaitFor(n int) []request {
	r.t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		r.mu.Lock()
		got := len(r.requests)
		r.mu.Unlock()
		if got >= n {
			return r.Requests()
		}
		select {
		case <-r.notify:
		case <-deadline:
			r.t.Fatalf("receiver got %d requests, want %d", got, n)
		}
	}
}

// env is one database with the webhook package's parts on a fake clock.
type env struct {
	db      *bun.DB
	clock   *clock
	keys    *secret.Keyring
	svc     *webhook.Service
	outbox  *webhook.Outbox
	worker  *webhook.Worker
	reg     *prometheus.Registry
	ctx     context.Context
	realNow bool
}

type envOption func(*webhook.WorkerOptions)

// newEnv builds the parts on db with a fake clock and a jitter of zero
// (Rand returns the midpoint), a client that may reach loopback, and a
// registry of its own.
func newEnv(t *testing.T, db *bun.DB, opts ...envOption) *env {
	t.Helper()
	e := &env{db: db, clock: newClock(), keys: testKeyring(t), reg: prometheus.NewRegistry(), ctx: context.Background()}
	e.svc = webhook.NewService(db, e.keys, webhook.ServiceOptions{Now: e.clock.Now})
	e.outbox = webhook.NewOutbox(db, e.clock.Now)
	e.worker = e.newWorker(t, db, opts...)
	return e
}

func (e *env) newWorker(t *testing.T, db *bun.DB, opts ...envOption) *webhook.Worker {
	t.Helper()
	wo := webhook.WorkerOptions{
		DB:           db,
		Keys:         e.keys,
		AllowPrivate: true,
		Now:          e.clock.Now,
		Rand:         func() float64 { return 0.5 },
		Registerer:   e.reg,
	}
	for _, o := range opts {
		o(&wo)
	}
	w, err := webhook.NewWorker(wo)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// onRealClock makes the env use time.Now, for tests that verify the
// signature timestamp's tolerance or run the worker's loop.
func onRealClock(t *testing.T, db *bun.DB, opts ...envOption) *env {
	t.Helper()
	e := &env{db: db, keys: testKeyring(t), reg: prometheus.NewRegistry(), ctx: context.Background(), realNow: true}
	e.svc = webhook.NewService(db, e.keys, webhook.ServiceOptions{})
	e.outbox = webhook.NewOutbox(db, nil)
	opts = append([]envOption{func(o *webhook.WorkerOptions) { o.Now = nil; o.Rand = nil }}, opts...)
	e.clock = newClock() // the first option replaces it with time.Now
	e.worker = e.newWorker(t, db, opts...)
	return e
}

// endpoint creates an endpoint and tells the receiver its secret.
func (e *env) endpoint(t *testing.T, r *receiver, path string, types ...string) *webhook.Endpoint {
	t.Helper()
	ep, err := e.svc.Create(e.ctx, webhook.CreateParams{URL: r.URL(path), EventTypes: types, Description: "test " + path})
	if err != nil {
		t.Fatal(err)
	}
	r.Expect([]string{ep.Secret})
	return ep
}

func (e *env) emit(t *testing.T, typ string, data any) {
	t.Helper()
	if err := e.outbox.Emit(e.ctx, typ, data); err != nil {
		t.Fatalf("Emit(%s): %v", typ, err)
	}
}

// runOnce runs one worker step and returns how many deliveries it tried.
func (e *env) runOnce(t *testing.T) int {
	t.Helper()
	n, err := e.worker.RunOnce(e.ctx)
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	return n
}

// deliveries returns the deliveries of an endpoint, oldest first.
func (e *env) deliveries(t *testing.T, endpointID string) []*webhook.Delivery {
	t.Helper()
	ds, err := e.svc.Deliveries(e.ctx, endpointID, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(ds)-1; i < j; i, j = i+1, j-1 {
		ds[i], ds[j] = ds[j], ds[i]
	}
	return ds
}

func (e *env) count(t *testing.T, table string) int {
	t.Helper()
	n, err := e.db.NewSelect().Table(table).Count(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// user is a stand-in for a resource's JSON form.
type user struct {
	Object    string `json:"object"`
	ID        string `json:"id"`
	FirstName string `json:"first_name"`
}

func testKeyringFrom(t testing.TB, fill string) *secret.Keyring {
	t.Helper()
	k, err := secret.NewKeyring([]byte(strings.Repeat(fill, 32)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}
