package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/orgid/orgid/middleware"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

// TestKeyRotationRefreshesJWKS: a token signed by a key the verifier has
// not seen triggers one JWK Set refresh and then verifies; a flood of
// unknown kids causes at most one refresh per MinRefreshInterval; a set
// older than JWKSMaxAge is refreshed.
func TestKeyRotationRefreshesJWKS(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		f := newFixture(t, dbURL)
		clk := new(clock)
		jwks := &countingTransport{base: http.DefaultTransport, path: oidc.PathJWKS}
		const interval = 30 * time.Second
		v := f.verifier(t, func(o *middleware.Options) {
			o.Now = clk.Now
			o.HTTPClient = &http.Client{Transport: jwks, Timeout: 10 * time.Second}
			o.MinRefreshInterval = interval
			o.JWKSMaxAge = time.Hour
		})
		wantFetches := func(want int32, when string) {
			t.Helper()
			if got := jwks.count.Load(); got != want {
				t.Fatalf("%s: %d JWK Set fetches, want %d", when, got, want)
			}
		}
		wantFetches(1, "after New")
		old := f.machineToken(t, apiAudience)
		if _, err := v.Verify(ctx, old); err != nil {
			t.Fatalf("token of the initial key: %v", err)
		}

		// orgid publishes the next key one rotation before it signs: after
		// one rotation the signing key is one the verifier already has.
		if _, err := f.srv.Keys.Rotate(ctx); err != nil {
			t.Fatal(err)
		}
		if err := f.srv.Keys.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(ctx, f.machineToken(t, apiAudience)); err != nil {
			t.Fatalf("token of the pre-published key: %v", err)
		}
		wantFetches(1, "after one rotation")

		// A second rotation signs with a key created after the verifier
		// started: unknown kid, one refresh, then accepted.
		if _, err := f.srv.Keys.Rotate(ctx); err != nil {
			t.Fatal(err)
		}
		if err := f.srv.Keys.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		fresh := f.machineToken(t, apiAudience)
		if h, _ := parts(t, fresh); h["kid"] == mustHeader(t, old)["kid"] {
			t.Fatalf("the server still signs with kid %v", h["kid"])
		}
		if _, err := v.Verify(ctx, fresh); err != nil {
			t.Fatalf("token of the new key: %v", err)
		}
		wantFetches(2, "after the unknown kid")
		if _, err := v.Verify(ctx, fresh); err != nil {
			t.Fatalf("token of the new key, again: %v", err)
		}
		wantFetches(2, "after the now-known kid")

		_, claims := parts(t, fresh)
		flood := func(round int) {
			t.Helper()
			var wg sync.WaitGroup
			errs := make([]error, 20)
			for i := range errs {
				wg.Go(func() {
					_, errs[i] = v.Verify(ctx, f.sign(t, map[string]any{"kid": fmt.Sprintf("forged-%d-%d", round, i)}, claims))
				})
			}
			wg.Wait()
			for i, err := range errs {
				if !errors.Is(err, middleware.ErrInvalidToken) {
					t.Errorf("forged kid %d: %v, want ErrInvalidToken", i, err)
				}
			}
		}
		flood(1)
		wantFetches(2, "a flood right after a refresh")
		clk.Advance(interval + time.Second)
		flood(2)
		wantFetches(3, "a flood one interval later")
		flood(3)
		wantFetches(3, "a second flood in the same interval")

		// A stale set is refreshed on use; the token still verifies.
		clk.Advance(time.Hour)
		if _, err := v.Verify(ctx, f.sign(t, nil, with(claims, map[string]any{"exp": clk.Now().Add(time.Minute).Unix()}))); err != nil {
			t.Fatalf("after the set went stale: %v", err)
		}
		wantFetches(4, "after the set went stale")
	})
}

func mustHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	h, _ := parts(t, token)
	return h
}
