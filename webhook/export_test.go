package webhook

import "context"

// ClaimOnly leases up to n due deliveries and abandons them, as a worker
// that dies right after claiming would. It returns how many it leased.
func (w *Worker) ClaimOnly(ctx context.Context, n int) (int, error) {
	jobs, err := w.claim(ctx, n)
	return len(jobs), err
}

// Jittered exposes the jitter for its bounds test.
var Jittered = jittered

// ParseRetryAfter exposes the Retry-After parser for its fuzz test.
var ParseRetryAfter = parseRetryAfter
