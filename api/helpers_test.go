package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgid/orgid/api"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/webhook"
)

// env is an orgid on loopback and a client holding a valid secret key.
type env struct {
	srv *servertest.Server
	c   *client
}

func start(t *testing.T, dbURL string, opts ...servertest.Option) *env {
	t.Helper()
	srv := servertest.Start(t, dbURL, opts...)
	_, secret, err := api.NewKeys(srv.Base.DB, srv.Base.Keys, api.KeysOptions{}).Create(context.Background(), "tests")
	if err != nil {
		t.Fatalf("create key: %v", err)
	}
	return &env{srv: srv, c: &client{t: t, base: srv.Issuer + "/v1", key: secret}}
}

// client speaks JSON to the API.
type client struct {
	t    testing.TB
	base string
	key  string
}

// response is an API answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r *response) String() string { return string(r.Body) }

// do sends body (JSON-encoded unless it is a string) with the client's key.
func (c *client) do(method, path string, body any) *response {
	c.t.Helper()
	return c.send(method, path, body, func(req *http.Request) {
		if c.key != "" {
			req.Header.Set("Authorization", "Bearer "+c.key)
		}
	})
}

func (c *client) send(method, path string, body any, mutate func(*http.Request)) *response {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	mutate(req)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// ok sends a request that must succeed and decodes the answer into out.
func (c *client) ok(method, path string, body, out any) {
	c.t.Helper()
	r := c.do(method, path, body)
	if r.Status != http.StatusOK {
		c.t.Fatalf("%s %s: status %d, want 200: %s", method, path, r.Status, r)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		c.t.Fatalf("%s %s: Content-Type %q, want exactly application/json", method, path, ct)
	}
	if out != nil {
		if err := json.Unmarshal(r.Body, out); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, path, r, err)
		}
	}
}

// obj is a decoded JSON object.
type obj = map[string]any

// wantError checks that r is an error in Clerk's envelope with the status,
// code and (when not empty) meta.param_name, and that clerk_trace_id is
// the request id.
func wantError(t testing.TB, r *response, status int, code, param string) api.ErrorsJSON {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var e api.ErrorsJSON
	if err := json.Unmarshal(r.Body, &e); err != nil {
		t.Fatalf("decode error body %s: %v", r, err)
	}
	if len(e.Errors) == 0 {
		t.Fatalf("no errors in %s", r)
	}
	if got := e.Errors[0].Code; got != code {
		t.Errorf("code %q, want %q (%s)", got, code, r)
	}
	if param != "" {
		if got, _ := e.Errors[0].Meta["param_name"].(string); got != param {
			t.Errorf("meta.param_name %q, want %q (%s)", got, param, r)
		}
	}
	if e.Errors[0].Message == "" || e.Errors[0].LongMessage == "" {
		t.Errorf("message or long_message empty: %s", r)
	}
	if id := r.Header.Get("X-Request-Id"); id == "" || e.ClerkTraceID != id {
		t.Errorf("clerk_trace_id %q, want the request id %q", e.ClerkTraceID, id)
	}
	return e
}

// eventsRecorder is a webhook endpoint created before a test's changes:
// every event emitted afterwards gets a delivery to it.
type eventsRecorder struct {
	env  *env
	id   string
	seen int
}

func recordEvents(t *testing.T, e *env) *eventsRecorder {
	t.Helper()
	ep, err := e.srv.Webhooks.Create(context.Background(), webhook.CreateParams{URL: "https://receiver.example/hook"})
	if err != nil {
		t.Fatalf("create endpoint: %v", err)
	}
	return &eventsRecorder{env: e, id: ep.ID}
}

// want checks the event types delivered since the last call, in any
// order: events of one transaction may share a millisecond.
func (r *eventsRecorder) want(t *testing.T, want ...string) {
	t.Helper()
	ds, err := r.env.srv.Webhooks.Deliveries(context.Background(), r.id, 1000)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, d := range ds[:len(ds)-r.seen] {
		got = append(got, d.EventType)
	}
	r.seen = len(ds)
	if want == nil {
		want = []string{}
	}
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("webhook events since the last check (-want +got):\n%s", diff)
	}
}
