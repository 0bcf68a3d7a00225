package oidc

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/secret"
)

// rateLimits are fixed-window counters in the database, so that a limit
// holds across replicas (the entry of device user codes, dynamic client
// registration). Keys hold a keyed hash of what they count, never a client
// address in the clear.
type rateLimits struct {
	db   *bun.DB
	keys *secret.Keyring
	now  func() time.Time
}

type rateLimitRow struct {
	bun.BaseModel `bun:"table:oauth2_rate_limits"`
	Key           string    `bun:"limit_key,pk"`
	WindowStart   time.Time `bun:"window_start"`
	Hits          int       `bun:"hits"`
}

// limit is one counter: at most max uses per window.
type limit struct {
	purpose string
	max     int
	window  time.Duration
}

// take counts one use of value under l and returns how long to wait when
// the window's uses were already spent (0: allowed). A refused use still
// counts; the window restarts only when it has passed. The counter is
// written on the database itself, outside any caller transaction, so a
// request that fails later still counted. A limit with max ≤ 0 is off.
func (rl *rateLimits) take(ctx context.Context, l limit, value string) (time.Duration, error) {
	if l.max <= 0 {
		return 0, nil
	}
	now := rl.now()
	stale := now.Add(-l.window)
	key := l.purpose + ":" + rl.keys.Hash("orgid/rate-limit/"+l.purpose+":"+value)
	// One statement: concurrent requests on any replica serialise on the
	// row, and each sees the count its own increment produced.
	var row rateLimitRow
	err := rl.db.NewRaw(`INSERT INTO oauth2_rate_limits (limit_key, window_start, hits) VALUES (?, ?, 1)
ON CONFLICT (limit_key) DO UPDATE SET
  hits = CASE WHEN oauth2_rate_limits.window_start <= ? THEN 1 ELSE oauth2_rate_limits.hits + 1 END,
  window_start = CASE WHEN oauth2_rate_limits.window_start <= ? THEN excluded.window_start ELSE oauth2_rate_limits.window_start END
RETURNING hits, window_start`, key, now, stale, stale).Scan(ctx, &row.Hits, &row.WindowStart)
	if err != nil {
		return 0, fmt.Errorf("rate limit %s: %w", l.purpose, err)
	}
	if row.Hits <= l.max {
		return 0, nil
	}
	return max(row.WindowStart.UTC().Add(l.window).Sub(now), time.Second), nil
}

// prune deletes counters whose window ended long ago.
func (rl *rateLimits) prune(ctx context.Context, olderThan time.Time) (int64, error) {
	res, err := rl.db.NewDelete().Model((*rateLimitRow)(nil)).Where("window_start < ?", olderThan).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune rate limits: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
