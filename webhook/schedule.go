package webhook

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultRetrySchedule returns the delays before each retry, Svix's
// schedule: the first attempt is immediate, then 5 s, 5 min, 30 min, 2 h,
// 5 h, 10 h and 10 h after each failure: eight attempts over about 32.5 h.
func DefaultRetrySchedule() []time.Duration {
	return []time.Duration{
		5 * time.Second,
		5 * time.Minute,
		30 * time.Minute,
		2 * time.Hour,
		5 * time.Hour,
		10 * time.Hour,
		10 * time.Hour,
	}
}

// jitterFraction spreads retries by up to ±10 % so that the deliveries of a
// burst that failed together do not come back together.
const jitterFraction = 0.1

// jittered returns d moved by up to ±jitterFraction; r is uniform in [0, 1).
func jittered(d time.Duration, r float64) time.Duration {
	return d + time.Duration((2*r-1)*jitterFraction*float64(d))
}

// MaxRetryAfter bounds the delay a receiver can ask for with Retry-After,
// so that a hostile or broken header cannot park a delivery forever.
const MaxRetryAfter = 24 * time.Hour

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP
// date (RFC 9110 §10.2.3). The result is clamped to [0, MaxRetryAfter];
// ok is false when the header is absent or malformed.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			// Only digits but too many of them: as long as allowed.
			if allDigits(v) {
				return MaxRetryAfter, true
			}
			return 0, false
		}
		if secs > uint64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), MaxRetryAfter), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
