package keys_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/oidc/keys"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/storagetest"
)

func TestRotationLifecycle(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := newFakeClock()
		m := newManager(t, db, clock)
		algs := []string{"RS256", "ES256"}

		oldActive := liveKIDs(t, m, keys.StateActive)
		nextBefore := liveKIDs(t, m, keys.StateNext)
		for _, alg := range algs {
			if !hasKID(t, m, nextBefore[alg]) {
				t.Errorf("%s next key %s is not published before rotation", alg, nextBefore[alg])
			}
		}
		tokens := map[string]string{}
		for _, alg := range algs {
			tok, err := m.Sign(ctx, alg, map[string]any{"sub": "user_1"}, nil)
			if err != nil {
				t.Fatalf("Sign(%s): %v", alg, err)
			}
			tokens[alg] = tok
		}

		clock.Advance(time.Hour)
		rotated, err := m.Rotate(ctx)
		if err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		rotatedAt := clock.Now()
		var gotActive []string
		for _, k := range rotated {
			gotActive = append(gotActive, k.Algorithm+"="+k.KID)
			if k.State != keys.StateActive || !k.ActivatedAt.Equal(rotatedAt) {
				t.Errorf("Rotate reported %+v, want state active, activated at %v", k, rotatedAt)
			}
		}
		if diff := cmp.Diff([]string{"RS256=" + nextBefore["RS256"], "ES256=" + nextBefore["ES256"]}, gotActive); diff != "" {
			t.Errorf("Rotate did not promote the former next keys (-want +got):\n%s", diff)
		}
		newNext := liveKIDs(t, m, keys.StateNext)
		for _, alg := range algs {
			if got := activeKID(t, m, alg); got != nextBefore[alg] {
				t.Errorf("%s signs with %s after Rotate, want the former next key %s", alg, got, nextBefore[alg])
			}
			for _, kid := range []string{oldActive[alg], nextBefore[alg], newNext[alg]} {
				if !hasKID(t, m, kid) {
					t.Errorf("%s key %s missing from the JWKS after rotation", alg, kid)
				}
			}
			if newNext[alg] == "" || newNext[alg] == nextBefore[alg] {
				t.Errorf("%s: no new next key after rotation (got %q)", alg, newNext[alg])
			}
			if _, _, err := m.Verify(tokens[alg]); err != nil {
				t.Errorf("%s token signed before rotation no longer verifies: %v", alg, err)
			}
		}
		list, err := m.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range list {
			if k.State == keys.StateRetired {
				if want := rotatedAt.Add(testLifetime); !k.PublishUntil.Equal(want) || !k.RetiredAt.Equal(rotatedAt) {
					t.Errorf("retired key %s: retired %v, published until %v; want %v and %v", k.KID, k.RetiredAt, k.PublishUntil, rotatedAt, want)
				}
			}
		}

		// Just before publish_until the old keys stay; after it they go.
		clock.Advance(testLifetime - time.Second)
		if err := m.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		for _, alg := range algs {
			if !hasKID(t, m, oldActive[alg]) {
				t.Errorf("retired %s key left the JWKS before publish_until", alg)
			}
		}
		clock.Advance(time.Second)
		if err := m.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		for _, alg := range algs {
			if hasKID(t, m, oldActive[alg]) {
				t.Errorf("retired %s key %s still in the JWKS after publish_until", alg, oldActive[alg])
			}
			if _, ok := m.Lookup(oldActive[alg]); ok {
				t.Errorf("retired %s key %s still verifies after publish_until", alg, oldActive[alg])
			}
			if _, _, err := m.Verify(tokens[alg]); !errors.Is(err, keys.ErrInvalidToken) {
				t.Errorf("%s token of an unpublished key: err = %v, want ErrInvalidToken", alg, err)
			}
		}
		n, err := m.Prune(ctx)
		if err != nil || n != 2 {
			t.Errorf("Prune = %d, %v; want the 2 expired keys", n, err)
		}
		if diff := cmp.Diff(oneActiveOneNext, stateCounts(t, m)); diff != "" {
			t.Errorf("keys after prune (-want +got):\n%s", diff)
		}
	})
}

// Every key signs only after it was published by an earlier snapshot.
func TestKeysArePublishedBeforeTheySign(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		m := newManager(t, db, newFakeClock())
		for i := range 3 {
			before := jwksKIDs(t, m)
			if _, err := m.Rotate(ctx); err != nil {
				t.Fatalf("rotation %d: %v", i, err)
			}
			for _, alg := range []string{"RS256", "ES256"} {
				kid := activeKID(t, m, alg)
				found := false
				for _, k := range before {
					found = found || k == kid
				}
				if !found {
					t.Errorf("rotation %d: %s key %s signs but was not in the JWKS before (%v)", i, alg, kid, before)
				}
			}
		}
	})
}

func TestReloadPicksUpAnotherProcesssRotation(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		a := newManager(t, storagetest.OpenURL(t, dbURL), nil)
		b := newManager(t, storagetest.OpenURL(t, dbURL), nil)
		before := activeKID(t, b, "RS256")
		jwksBefore := string(b.JWKS())
		if err := b.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if string(b.JWKS()) != jwksBefore {
			t.Error("Reload with nothing changed changed the JWKS")
		}
		rotated, err := a.Rotate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := activeKID(t, b, "RS256"); got != before {
			t.Fatalf("b switched keys before Reload: %s", got)
		}
		if err := b.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		for _, k := range rotated {
			if got := activeKID(t, b, k.Algorithm); got != k.KID {
				t.Errorf("after Reload b signs %s with %s, want %s", k.Algorithm, got, k.KID)
			}
		}
		if string(a.JWKS()) != string(b.JWKS()) {
			t.Errorf("JWKS differ after Reload:\na: %s\nb: %s", a.JWKS(), b.JWKS())
		}
	})
}

func TestConcurrentRotationsStayConsistent(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		managers := []*keys.Manager{
			newManager(t, storagetest.OpenURL(t, dbURL), nil),
			newManager(t, storagetest.OpenURL(t, dbURL), nil),
		}
		const perManager = 2
		var (
			mu        sync.Mutex
			successes int
			wg        sync.WaitGroup
		)
		for _, m := range managers {
			wg.Go(func() {
				for range perManager {
					_, err := m.Rotate(ctx)
					if err != nil && !errors.Is(err, storage.ErrConflict) {
						t.Errorf("Rotate: %v (want success or ErrConflict)", err)
						continue
					}
					if err == nil {
						mu.Lock()
						successes++
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		if successes == 0 {
			t.Fatal("no rotation succeeded")
		}
		counts := stateCounts(t, managers[0])
		for _, alg := range []string{"RS256", "ES256"} {
			want := map[keys.State]int{keys.StateActive: 1, keys.StateNext: 1, keys.StateRetired: successes}
			if diff := cmp.Diff(want, counts[alg]); diff != "" {
				t.Errorf("%s keys after %d successful rotations (-want +got):\n%s", alg, successes, diff)
			}
		}
	})
}

func TestRotateIfOlderThan(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		clock := newFakeClock()
		a := newManager(t, storagetest.OpenURL(t, dbURL), clock)
		b := newManager(t, storagetest.OpenURL(t, dbURL), clock)
		const period = 24 * time.Hour

		clock.Advance(period - time.Second)
		if rotated, err := a.RotateIfOlderThan(ctx, period); err != nil || rotated {
			t.Fatalf("RotateIfOlderThan of a young key = %v, %v; want false, nil", rotated, err)
		}
		clock.Advance(time.Second)

		// Both replicas' schedulers fire at once: exactly one rotates.
		var wg sync.WaitGroup
		results := make([]bool, 2)
		for i, m := range []*keys.Manager{a, b} {
			wg.Go(func() {
				rotated, err := m.RotateIfOlderThan(ctx, period)
				if err != nil {
					t.Errorf("replica %d: RotateIfOlderThan: %v", i, err)
				}
				results[i] = rotated
			})
		}
		wg.Wait()
		if results[0] == results[1] {
			t.Errorf("rotated = %v; want exactly one replica to rotate", results)
		}
		for _, alg := range []string{"RS256", "ES256"} {
			want := map[keys.State]int{keys.StateActive: 1, keys.StateNext: 1, keys.StateRetired: 1}
			if diff := cmp.Diff(want, stateCounts(t, a)[alg]); diff != "" {
				t.Errorf("%s keys after scheduled rotation (-want +got):\n%s", alg, diff)
			}
		}
		if rotated, err := b.RotateIfOlderThan(ctx, period); err != nil || rotated {
			t.Errorf("RotateIfOlderThan right after a rotation = %v, %v; want false, nil", rotated, err)
		}
		if _, err := a.RotateIfOlderThan(ctx, 0); err == nil {
			t.Error("RotateIfOlderThan(0) succeeded, want an error")
		}
	})
}

// Rotation is one transaction: when one algorithm cannot rotate, the other
// does not either.
func TestRotateRollsBackEveryAlgorithm(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		m := newManager(t, db, nil)
		// The ES256 next key is gone (an operator edited the table).
		if _, err := db.NewDelete().Table("signing_keys").Where("algorithm = ?", "ES256").Where("state = ?", "next").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		before := liveKIDs(t, m, keys.StateActive)
		if _, err := m.Rotate(ctx); !errors.Is(err, keys.ErrNoKey) {
			t.Fatalf("Rotate without an ES256 next key: err = %v, want ErrNoKey", err)
		}
		if diff := cmp.Diff(before, liveKIDs(t, m, keys.StateActive)); diff != "" {
			t.Errorf("a failed rotation changed the active keys (-before +after):\n%s", diff)
		}
		if n := stateCounts(t, m)["RS256"][keys.StateRetired]; n != 0 {
			t.Errorf("a failed rotation retired %d RS256 keys", n)
		}
		// Init repairs the missing next key; then rotation works.
		if err := m.Init(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Rotate(ctx); err != nil {
			t.Errorf("Rotate after Init repaired the keys: %v", err)
		}
	})
}

func TestRotateBeforeInit(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		m := keys.NewManager(db, testKeyring(t, testMaster), keys.Options{})
		if _, err := m.Rotate(ctx); !errors.Is(err, keys.ErrNoKey) {
			t.Errorf("Rotate before Init: err = %v, want ErrNoKey", err)
		}
		if rotated, err := m.RotateIfOlderThan(ctx, time.Hour); err != nil || rotated {
			t.Errorf("RotateIfOlderThan before Init = %v, %v; want false, nil", rotated, err)
		}
	})
}
