package identity

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Counters of emails sent, sign-ups started and second-factor failures
// share the sign_in_throttle table and its window with the sign-in
// counters; their keys carry their own prefixes, so that each counts only
// what it names.
const (
	mailAddressKeyPrefix = "mail-address:"
	mailIPKeyPrefix      = "mail-ip:"
	signUpIPKeyPrefix    = "sign-up-ip:"
	secondFactorPrefix   = "second-factor:"
)

// rateLimit is one counter and the uses its window allows.
type rateLimit struct {
	key string
	max int
}

// limitKey is a counter key: the prefix and a keyed hash of the value, so
// the table holds no addresses.
func (s *Service) limitKey(prefix, value string) string {
	return prefix + s.keys.Hash("orgid/limit/"+prefix+value)
}

// mailLimits are the counters of one email sent to address on behalf of
// clientIP.
func (s *Service) mailLimits(address, clientIP string) []rateLimit {
	out := []rateLimit{{s.limitKey(mailAddressKeyPrefix, normalizeEmail(address)), s.throttle.MaxMailsPerAddress}}
	if clientIP != "" {
		out = append(out, rateLimit{s.limitKey(mailIPKeyPrefix, ipBucket(clientIP)), s.throttle.MaxMailsPerIP})
	}
	return out
}

// spend counts one use of every counter, or returns a *ThrottledError
// without counting when one of them has used up its window. Counters are
// written outside any caller transaction, so a refused or rolled-back step
// still counts.
func (s *Service) spend(ctx context.Context, limits ...rateLimit) error {
	if err := s.checkLimits(ctx, s.db, s.clock(), limits...); err != nil {
		return err
	}
	keys := make([]string, 0, len(limits))
	for _, l := range limits {
		if l.max >= 0 {
			keys = append(keys, l.key)
		}
	}
	return s.recordFailure(ctx, s.db, s.clock(), keys...)
}

// checkLimits returns a *ThrottledError when a counter has reached its
// limit in the current window; a negative limit disables a counter.
func (s *Service) checkLimits(ctx context.Context, db bun.IDB, now time.Time, limits ...rateLimit) error {
	limitOf := map[string]int{}
	keys := []string{}
	for _, l := range limits {
		if l.max >= 0 && l.key != "" {
			limitOf[l.key] = l.max
			keys = append(keys, l.key)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	var rows []throttleRow
	err := db.NewSelect().Model(&rows).
		Where("throttle_key IN (?)", bun.In(keys)).
		Where("window_start > ?", now.Add(-s.throttle.Window)).
		Scan(ctx)
	if err != nil {
		return fmt.Errorf("read rate limits: %w", err)
	}
	var wait time.Duration
	for _, r := range rows {
		if r.Failures >= limitOf[r.Key] {
			wait = max(wait, r.WindowStart.Add(s.throttle.Window).Sub(now))
		}
	}
	if wait > 0 {
		return &ThrottledError{RetryAfter: wait}
	}
	return nil
}
