package identity

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/storage"
)

// ThrottlePolicy limits failed sign-ins per identifier and per client
// address within a fixed window. Once a key reaches its limit, every
// attempt on it is refused until its window ends, whether the password is
// right or not. Counters live in the database, so the limits hold across
// replicas.
//
// The defaults (10 failures per identifier and 100 per address in 15
// minutes) allow at most 50 guesses in any hour against one account, below
// ASVS's 100, while an attacker who deliberately fails for a victim locks
// them out for 15 minutes at a time, not indefinitely; operators can lift
// that at once with UnlockUser.
type ThrottlePolicy struct {
	// Window is the length of one counting window (default 15 minutes).
	Window time.Duration
	// MaxFailuresPerIdentifier (default 10) and MaxFailuresPerIP (default
	// 100) are the failures a window allows; a negative value disables the
	// check.
	MaxFailuresPerIdentifier int
	MaxFailuresPerIP         int
	// MaxMailsPerAddress (default 5) and MaxMailsPerIP (default 30) bound
	// the codes and links mailed in a window, so that nobody floods an
	// inbox or uses orgid to send mail; MaxSignUpsPerIP (default 20) bounds
	// sign-ups started from one client address. Negative disables.
	MaxMailsPerAddress int
	MaxMailsPerIP      int
	MaxSignUpsPerIP    int
}

// DefaultThrottlePolicy returns the limits used for zero fields.
func DefaultThrottlePolicy() ThrottlePolicy {
	return ThrottlePolicy{
		Window: 15 * time.Minute, MaxFailuresPerIdentifier: 10, MaxFailuresPerIP: 100,
		MaxMailsPerAddress: 5, MaxMailsPerIP: 30, MaxSignUpsPerIP: 20,
	}
}

func (p ThrottlePolicy) withDefaults() ThrottlePolicy {
	d := DefaultThrottlePolicy()
	if p.Window <= 0 {
		p.Window = d.Window
	}
	if p.MaxFailuresPerIdentifier == 0 {
		p.MaxFailuresPerIdentifier = d.MaxFailuresPerIdentifier
	}
	if p.MaxFailuresPerIP == 0 {
		p.MaxFailuresPerIP = d.MaxFailuresPerIP
	}
	if p.MaxMailsPerAddress == 0 {
		p.MaxMailsPerAddress = d.MaxMailsPerAddress
	}
	if p.MaxMailsPerIP == 0 {
		p.MaxMailsPerIP = d.MaxMailsPerIP
	}
	if p.MaxSignUpsPerIP == 0 {
		p.MaxSignUpsPerIP = d.MaxSignUpsPerIP
	}
	return p
}

// throttleRow is one counter of the sign_in_throttle table.
type throttleRow struct {
	bun.BaseModel `bun:"table:sign_in_throttle"`

	Key         string    `bun:"throttle_key,pk"`
	WindowStart time.Time `bun:"window_start"`
	Failures    int       `bun:"failures"`
}

const (
	identifierKeyPrefix = "identifier:"
	ipKeyPrefix         = "ip:"
)

// identifierKey is the counter key of a sign-in identifier: a keyed hash of
// its normalized form, the same whether or not an account has it.
func (s *Service) identifierKey(identifier string) string {
	return identifierKeyPrefix + s.keys.Hash("orgid/sign-in/identifier:"+strings.ToLower(strings.TrimSpace(identifier)))
}

// ipKey is the counter key of a client address. IPv6 addresses count per
// /64, the block one subscriber usually gets, so that an attacker cannot
// step around the limit within their own network.
func (s *Service) ipKey(clientIP string) string {
	return ipKeyPrefix + s.keys.Hash("orgid/sign-in/ip:"+ipBucket(clientIP))
}

func ipBucket(clientIP string) string {
	clientIP = strings.TrimSpace(clientIP)
	addr, err := netip.ParseAddr(clientIP)
	if err != nil {
		ap, err := netip.ParseAddrPort(clientIP)
		if err != nil {
			return clientIP
		}
		addr = ap.Addr()
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		return netip.PrefixFrom(addr, 64).Masked().String()
	}
	return addr.String()
}

// checkThrottle returns a *ThrottledError when a key has used up its
// window; "" keys are skipped.
func (s *Service) checkThrottle(ctx context.Context, db bun.IDB, now time.Time, keys ...string) error {
	keys = nonEmpty(keys)
	if len(keys) == 0 {
		return nil
	}
	var rows []throttleRow
	err := db.NewSelect().Model(&rows).
		Where("throttle_key IN (?)", bun.In(keys)).
		Where("window_start > ?", now.Add(-s.throttle.Window)).
		Scan(ctx)
	if err != nil {
		return fmt.Errorf("read sign-in throttle: %w", err)
	}
	var wait time.Duration
	for _, r := range rows {
		limit := s.throttle.MaxFailuresPerIP
		if strings.HasPrefix(r.Key, identifierKeyPrefix) {
			limit = s.throttle.MaxFailuresPerIdentifier
		}
		if limit < 0 || r.Failures < limit {
			continue
		}
		wait = max(wait, r.WindowStart.Add(s.throttle.Window).Sub(now))
	}
	if wait > 0 {
		return &ThrottledError{RetryAfter: wait}
	}
	return nil
}

// recordFailure counts one failed attempt for each key. A counter whose
// window has ended starts a new window. One upsert per key keeps the count
// exact when replicas record at the same time.
func (s *Service) recordFailure(ctx context.Context, db bun.IDB, now time.Time, keys ...string) error {
	windowEnded := now.Add(-s.throttle.Window)
	for _, key := range nonEmpty(keys) {
		_, err := db.NewInsert().Model(&throttleRow{Key: key, WindowStart: now, Failures: 1}).
			On("CONFLICT (throttle_key) DO UPDATE").
			Set("failures = CASE WHEN ?TableAlias.window_start <= ? THEN 1 ELSE ?TableAlias.failures + 1 END", windowEnded).
			Set("window_start = CASE WHEN ?TableAlias.window_start <= ? THEN EXCLUDED.window_start ELSE ?TableAlias.window_start END", windowEnded).
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("record failed sign-in: %w", err)
		}
	}
	return nil
}

// resetThrottle forgets the counters of keys.
func (s *Service) resetThrottle(ctx context.Context, keys ...string) error {
	keys = nonEmpty(keys)
	if len(keys) == 0 {
		return nil
	}
	_, err := storage.Conn(ctx, s.db).NewDelete().Model((*throttleRow)(nil)).Where("throttle_key IN (?)", bun.In(keys)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("reset sign-in throttle: %w", err)
	}
	return nil
}

// PruneThrottle deletes the counters whose window has ended and returns how
// many; run it now and then (they are ignored anyway, this only saves
// space).
func (s *Service) PruneThrottle(ctx context.Context) (int, error) {
	res, err := storage.Conn(ctx, s.db).NewDelete().Model((*throttleRow)(nil)).
		Where("window_start <= ?", s.clock().Add(-s.throttle.Window)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune sign-in throttle: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func nonEmpty(keys []string) []string {
	out := keys[:0:0]
	for _, k := range keys {
		if k != "" {
			out = append(out, k)
		}
	}
	return out
}
