package webhook

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/storage"
)

// job is a claimed delivery with what its attempt needs.
type job struct {
	DeliveryID              string     `bun:"id"`
	MessageID               string     `bun:"message_id"`
	EndpointID              string     `bun:"endpoint_id"`
	Attempts                int        `bun:"attempts"`
	RoundAttempts           int        `bun:"round_attempts"`
	EventType               string     `bun:"event_type"`
	Payload                 string     `bun:"payload"`
	URL                     string     `bun:"url"`
	Enabled                 bool       `bun:"enabled"`
	Secret                  []byte     `bun:"secret"`
	PreviousSecret          []byte     `bun:"previous_secret"`
	PreviousSecretExpiresAt *time.Time `bun:"previous_secret_expires_at"`
	LeaseToken              string     `bun:"lease_token"`
}

// claim leases up to n due deliveries to this worker. Due means pending,
// next_attempt_at reached, and not leased or leased by a worker whose lease
// has expired (it died or stalled).
//
// On PostgreSQL, FOR UPDATE SKIP LOCKED lets concurrent claimers pass over
// each other's rows instead of waiting for them or taking them twice; the
// UPDATE repeats the condition as a second guard. On SQLite the transaction is BEGIN IMMEDIATE:
// claimers take turns holding the single write lock.
func (w *Worker) claim(ctx context.Context, n int) ([]job, error) {
	now := w.now().UTC()
	token := secret.RandomString(16)
	due := "status = ? AND next_attempt_at <= ? AND (lease_expires_at IS NULL OR lease_expires_at <= ?)"
	pick := "SELECT id FROM webhook_delivery WHERE " + due + " ORDER BY next_attempt_at, id LIMIT ?"
	var leaseQuery string
	if storage.IsPostgres(w.db) {
		// MATERIALIZED: the locked pick is made once. As a plain IN
		// subquery the planner may rescan it per row and, with ties in
		// next_attempt_at, pick more rows than asked.
		leaseQuery = "WITH picked AS MATERIALIZED (" + pick + " FOR UPDATE SKIP LOCKED) " +
			"UPDATE webhook_delivery SET lease_token = ?, lease_expires_at = ?, updated_at = ? " +
			"WHERE id IN (SELECT id FROM picked) AND " + due
	} else {
		leaseQuery = "UPDATE webhook_delivery SET lease_token = ?, lease_expires_at = ?, updated_at = ? " +
			"WHERE id IN (" + pick + ") AND " + due
	}
	var jobs []job
	err := storage.InTx(ctx, w.db, func(ctx context.Context) error {
		conn := storage.Conn(ctx, w.db)
		set := []any{token, now.Add(w.opts.Lease), now}
		dueArgs := []any{StatusPending, now, now}
		pickArgs := append(slices.Clone(dueArgs), n)
		args := slices.Concat(set, pickArgs, dueArgs)
		if storage.IsPostgres(w.db) {
			args = slices.Concat(pickArgs, set, dueArgs)
		}
		res, err := conn.NewRaw(leaseQuery, args...).Exec(ctx)
		if err != nil {
			return fmt.Errorf("lease deliveries: %w", err)
		}
		if affected(res) == 0 {
			return nil
		}
		return conn.NewRaw(
			"SELECT d.id, d.message_id, d.endpoint_id, d.attempts, d.round_attempts, d.lease_token, "+
				"m.event_type, m.payload, e.url, e.enabled, e.secret, e.previous_secret, e.previous_secret_expires_at "+
				"FROM webhook_delivery AS d "+
				"JOIN webhook_message AS m ON m.id = d.message_id "+
				"JOIN webhook_endpoint AS e ON e.id = d.endpoint_id "+
				"WHERE d.lease_token = ?", token).Scan(ctx, &jobs)
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return jobs, nil
}
