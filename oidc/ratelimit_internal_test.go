package oidc

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/storage/storagetest"
)

func TestRateLimitsConcurrentAndWindowed(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		keys, err := secret.NewKeyring([]byte("rate limit test master secret, 32+ bytes"))
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		rl := &rateLimits{db: db, keys: keys, now: clock}
		l := limit{purpose: "test", max: 5, window: time.Hour}
		ctx := context.Background()

		// Twenty at once, from "replicas" sharing the database: five pass.
		var wg sync.WaitGroup
		allowed := make(chan bool, 20)
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				wait, err := rl.take(ctx, l, "198.51.100.7")
				if err != nil {
					t.Error(err)
				}
				allowed <- wait == 0
			}()
		}
		wg.Wait()
		close(allowed)
		n := 0
		for ok := range allowed {
			if ok {
				n++
			}
		}
		if n != 5 {
			t.Errorf("%d of 20 concurrent uses allowed, want 5", n)
		}
		// Another value has its own counter.
		if wait, _ := rl.take(ctx, l, "198.51.100.8"); wait != 0 {
			t.Errorf("another address waits %v", wait)
		}
		// Refused until the window that started at the first use ends.
		mu.Lock()
		now = now.Add(40 * time.Minute)
		mu.Unlock()
		if wait, _ := rl.take(ctx, l, "198.51.100.7"); wait != 20*time.Minute {
			t.Errorf("40 minutes in: wait %v, want 20m", wait)
		}
		mu.Lock()
		now = now.Add(20 * time.Minute)
		mu.Unlock()
		if wait, _ := rl.take(ctx, l, "198.51.100.7"); wait != 0 {
			t.Errorf("after the window: wait %v, want 0", wait)
		}
		// An off limit never refuses and writes nothing.
		if wait, err := rl.take(ctx, limit{purpose: "off", max: 0, window: time.Hour}, "x"); wait != 0 || err != nil {
			t.Errorf("off limit: wait %v, err %v", wait, err)
		}
		if n, err := rl.prune(ctx, now.Add(time.Minute)); err != nil || n != 2 {
			t.Errorf("prune = %d, %v; want both counters", n, err)
		}
	})
}
