package api

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/storage"
)

// readModifyWriteAttempts bounds the retries of a read-modify-write that
// lost to a concurrent change.
const readModifyWriteAttempts = 10

// readModifyWrite runs fn, which reads a row through an owning package and
// writes it back changed (a metadata merge), so that a concurrent change
// between the read and the write is never lost. On PostgreSQL the
// transaction is REPEATABLE READ: writing a row that changed after the
// transaction's snapshot fails with a serialization error, and fn runs
// again on fresh data. SQLite runs one write transaction at a time from its
// BEGIN, so there the read and the write cannot interleave with another
// writer. The owning packages offer no locked read, and their tables are
// theirs, so the isolation level is the API's only tool here.
func (h *Handler) readModifyWrite(ctx context.Context, fn func(ctx context.Context) error) error {
	if !storage.IsPostgres(h.d.DB) {
		return storage.InTx(ctx, h.d.DB, fn)
	}
	var err error
	for attempt := range readModifyWriteAttempts {
		if attempt > 0 {
			// A little jitter lets the contenders of one row take turns.
			t := time.NewTimer(time.Duration(rand.Int64N(int64(attempt) * int64(2*time.Millisecond))))
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		err = h.d.DB.RunInTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead}, func(ctx context.Context, tx bun.Tx) error {
			return fn(storage.WithTx(ctx, tx))
		})
		if !storage.IsSerializationFailure(err) {
			return err
		}
	}
	return err
}
