package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/orgid/orgid/api"
	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/storage/storagetest"
)

// authWindow is longer than the throttle's window.
const authWindow = 11 * time.Minute

func TestAuthentication(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		clock := &servertest.Clock{}
		e := start(t, dbURL, servertest.WithClock(clock))
		ctx := context.Background()
		keys := api.NewKeys(e.srv.Base.DB, e.srv.Base.Keys, api.KeysOptions{Now: clock.Now})
		revokedKey, revokedSecret, err := keys.Create(ctx, "to be revoked")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := keys.Revoke(ctx, revokedKey.ID); err != nil {
			t.Fatal(err)
		}

		for _, tc := range []struct{ name, header string }{
			{"missing", ""},
			{"not bearer", "Basic " + e.c.key},
			{"bearer without key", "Bearer"},
			{"malformed key", "Bearer sk_live_short"},
			{"unknown key", "Bearer " + secret.Token(api.KeyPrefix)},
			{"key of another prefix", "Bearer " + secret.Token("sk_test_")},
			{"revoked key", "Bearer " + revokedSecret},
		} {
			t.Run(tc.name, func(t *testing.T) {
				clock.Advance(authWindow) // earlier cases' failures would throttle this one
				for _, target := range []struct{ method, path string }{
					{http.MethodGet, "/users"},
					{http.MethodPost, "/users"},
					{http.MethodGet, "/no/such/route"},    // unknown paths are not probed for free
					{http.MethodPut, "/users/user_x/ban"}, // nor methods
				} {
					r := e.c.send(target.method, target.path, nil, func(r *http.Request) {
						if tc.header != "" {
							r.Header.Set("Authorization", tc.header)
						}
					})
					wantError(t, r, http.StatusUnauthorized, "authentication_invalid", "")
					if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
						t.Errorf("%s %s: WWW-Authenticate %q", target.method, target.path, r.Header.Get("WWW-Authenticate"))
					}
				}
			})
		}

		t.Run("valid key", func(t *testing.T) {
			wantError(t, e.c.do(http.MethodGet, "/no/such/route", nil), http.StatusNotFound, "resource_not_found", "")
			wantError(t, e.c.do(http.MethodPut, "/users/user_x/ban", nil), http.StatusMethodNotAllowed, "method_not_allowed", "")
			e.c.ok(http.MethodGet, "/users", nil, nil)
			// Each route is its own metrics series.
			routes := map[string]bool{}
			mfs, err := e.srv.Registry.Gather()
			if err != nil {
				t.Fatal(err)
			}
			for _, mf := range mfs {
				if mf.GetName() != "orgid_http_requests_total" {
					continue
				}
				for _, m := range mf.GetMetric() {
					for _, l := range m.GetLabel() {
						if l.GetName() == "route" {
							routes[l.GetValue()] = true
						}
					}
				}
			}
			for _, want := range []string{"api_users_list", "api_users_create", "api_unmatched"} {
				if !routes[want] {
					t.Errorf("no orgid_http_requests_total series for route %q (have %v)", want, routes)
				}
			}
		})

		t.Run("the OpenAPI document is public", func(t *testing.T) {
			anon := &client{t: t, base: e.c.base}
			anon.ok(http.MethodGet, "/openapi.json", nil, nil)
		})

		t.Run("last use is recorded at most once a minute", func(t *testing.T) {
			k, sec, err := keys.Create(ctx, "touch")
			if err != nil {
				t.Fatal(err)
			}
			kc := &client{t: t, base: e.c.base, key: sec}
			lastUsed := func() time.Time {
				t.Helper()
				list, err := keys.List(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range list {
					if l.ID == k.ID {
						return l.LastUsedAt
					}
				}
				t.Fatalf("key %s not listed", k.ID)
				return time.Time{}
			}
			if !lastUsed().IsZero() {
				t.Fatal("a new key has a last use")
			}
			kc.ok(http.MethodGet, "/users/count", nil, nil)
			first := lastUsed()
			if first.IsZero() {
				t.Fatal("no last use after a request")
			}
			clock.Advance(30 * time.Second)
			kc.ok(http.MethodGet, "/users/count", nil, nil)
			if got := lastUsed(); !got.Equal(first) {
				t.Errorf("last use %v after 30 s, want unchanged %v", got, first)
			}
			clock.Advance(31 * time.Second)
			kc.ok(http.MethodGet, "/users/count", nil, nil)
			if got := lastUsed(); !got.After(first) {
				t.Errorf("last use %v after 61 s, want later than %v", got, first)
			}
		})

		t.Run("throttle", func(t *testing.T) {
			clock.Advance(authWindow)
			failures := authFailures(t, e)
			bad := "Bearer " + secret.Token(api.KeyPrefix)
			send := func() *response {
				return e.c.send(http.MethodGet, "/users", nil, func(r *http.Request) { r.Header.Set("Authorization", bad) })
			}
			var r *response
			for range 25 {
				if r = send(); r.Status == http.StatusTooManyRequests {
					break
				}
				wantError(t, r, http.StatusUnauthorized, "authentication_invalid", "")
			}
			wantError(t, r, http.StatusTooManyRequests, "too_many_requests", "")
			if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
				t.Errorf("Retry-After %q", ra)
			}
			// A valid key is never locked out by someone else's failures.
			e.c.ok(http.MethodGet, "/users", nil, nil)
			if got := authFailures(t, e); got <= failures {
				t.Errorf("orgid_api_auth_failures_total %v, want more than %v", got, failures)
			}
			clock.Advance(authWindow)
			wantError(t, send(), http.StatusUnauthorized, "authentication_invalid", "")
		})
	})
}

// authFailures reads orgid_api_auth_failures_total from the server's
// registry.
func authFailures(t *testing.T, e *env) float64 {
	t.Helper()
	mfs, err := e.srv.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "orgid_api_auth_failures_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("orgid_api_auth_failures_total not registered")
	return 0
}
