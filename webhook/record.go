package webhook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/storage"
)

// errLeaseLost means another worker claimed the delivery after this one's
// lease expired; this worker's result is dropped and the other's counts.
var errLeaseLost = errors.New("lease lost to another worker")

// recorded is what record decided.
type recorded struct {
	attempt  int
	next     time.Time // zero when no retry was scheduled
	metric   string
	disabled string // reason the endpoint was disabled by this attempt, if it was
}

// record stores an attempt and moves the delivery on: succeeded, scheduled
// for a retry, or failed. It keeps the endpoint's failure run and disables
// the endpoint on 410 Gone or after DisableAfter of continuous failure. All
// of it commits together, and only if this worker still holds the lease.
func (w *Worker) record(ctx context.Context, j job, o outcome) (recorded, error) {
	var r recorded
	err := storage.InTx(ctx, w.db, func(ctx context.Context) error {
		conn := storage.Conn(ctx, w.db)
		now := w.now().UTC()
		r = recorded{attempt: j.Attempts + 1}
		round := j.RoundAttempts + 1
		kind := kindScheduled
		if j.RoundAttempts == 0 && j.Attempts > 0 {
			kind = kindReplay
		}

		enabled, failingSince, err := w.trackFailures(ctx, conn, j.EndpointID, o.success, now)
		if err != nil {
			return err
		}
		status := StatusFailed
		var next *time.Time
		switch {
		case o.success:
			status = StatusSucceeded
		case o.gone:
			r.disabled = DisabledGone
		case !enabled:
			// Disabled while this attempt was in flight: no retry.
		case !failingSince.IsZero() && now.Sub(failingSince) >= w.opts.DisableAfter:
			r.disabled = DisabledFailing
		case round <= len(w.schedule):
			delay := jittered(w.schedule[round-1], w.rand())
			if o.retryAfter > delay {
				delay = o.retryAfter
			}
			t := now.Add(delay)
			next = &t
			status = StatusPending
		}
		switch {
		case status == StatusSucceeded:
			r.metric = metricSuccess
		case next != nil:
			r.metric = metricRetry
			r.next = *next
		default:
			r.metric = metricFailed
		}

		var code *int
		if o.statusCode != 0 {
			c := o.statusCode
			code = &c
		}
		res, err := conn.NewUpdate().Model((*deliveryRow)(nil)).
			Set("status = ?", status).
			Set("attempts = ?", r.attempt).
			Set("round_attempts = ?", round).
			Set("next_attempt_at = ?", next).
			Set("lease_token = NULL").Set("lease_expires_at = NULL").
			Set("last_attempt_at = ?", o.startedAt).
			Set("last_status_code = ?", code).
			Set("last_error = ?", o.errText).
			Set("updated_at = ?", now).
			Where("id = ?", j.DeliveryID).Where("lease_token = ?", j.LeaseToken).
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("update delivery: %w", err)
		}
		if affected(res) == 0 {
			return errLeaseLost
		}
		result := resultFailure
		if o.success {
			result = resultSuccess
		}
		a := &attemptRow{
			ID:            id.NewAt("atmpt", o.startedAt),
			DeliveryID:    j.DeliveryID,
			Attempt:       r.attempt,
			Kind:          kind,
			StartedAt:     o.startedAt,
			DurationMS:    o.duration.Milliseconds(),
			StatusCode:    o.statusCode,
			Result:        result,
			ResponseBody:  o.body,
			Error:         o.errText,
			NextAttemptAt: next,
		}
		if _, err := conn.NewInsert().Model(a).Exec(ctx); err != nil {
			return fmt.Errorf("insert attempt: %w", err)
		}
		if r.disabled != "" {
			if err := disableEndpoint(ctx, conn, j.EndpointID, r.disabled, now); err != nil {
				return err
			}
		}
		return nil
	})
	return r, err
}

// trackFailures updates the endpoint's run of failures, atomically with
// respect to other workers: a success ends it, the first failure after a
// success starts it. It returns whether the endpoint is still enabled and
// when its current run of failures began (zero after a success).
func (w *Worker) trackFailures(ctx context.Context, conn bun.IDB, endpointID string, success bool, now time.Time) (bool, time.Time, error) {
	q := conn.NewUpdate().Model((*endpointRow)(nil)).Where("id = ?", endpointID)
	if success {
		q.Set("failing_since = NULL")
	} else {
		q.Set("failing_since = COALESCE(failing_since, ?)", now)
	}
	if _, err := q.Exec(ctx); err != nil {
		return false, time.Time{}, fmt.Errorf("track endpoint failures: %w", err)
	}
	var ep endpointRow
	if err := conn.NewSelect().Model(&ep).Column("enabled", "failing_since").Where("id = ?", endpointID).Scan(ctx); err != nil {
		return false, time.Time{}, storage.NotFound(err, "load endpoint")
	}
	return ep.Enabled, timeOrZero(ep.FailingSince), nil
}
