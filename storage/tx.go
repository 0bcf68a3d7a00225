package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"
)

type txKey struct{}

// WithTx returns a context that carries tx. Conn and InTx called with that
// context use tx instead of opening a connection or transaction of their own.
func WithTx(ctx context.Context, tx bun.Tx) context.Context {
	return context.WithValue(ctx, txKey{}, tx)
}

// TxFrom returns the transaction carried by ctx, if any.
func TxFrom(ctx context.Context) (bun.Tx, bool) {
	tx, ok := ctx.Value(txKey{}).(bun.Tx)
	return tx, ok
}

// Conn returns the transaction carried by ctx, or db when there is none.
// Every query of every package goes through it, so that a caller's
// transaction covers the writes of the packages it calls.
func Conn(ctx context.Context, db *bun.DB) bun.IDB {
	if tx, ok := TxFrom(ctx); ok {
		return tx
	}
	return db
}

// InTx runs fn inside a transaction and commits when fn returns nil. When ctx
// already carries a transaction, fn joins it: the outermost InTx decides
// whether everything commits. The context passed to fn carries the
// transaction.
func InTx(ctx context.Context, db *bun.DB, fn func(ctx context.Context) error) error {
	if _, ok := TxFrom(ctx); ok {
		return fn(ctx)
	}
	return db.RunInTx(ctx, &sql.TxOptions{}, func(ctx context.Context, tx bun.Tx) error {
		return fn(WithTx(ctx, tx))
	})
}

// Sentinel errors that cross package boundaries; check them with errors.Is.
var (
	// ErrNotFound: the row does not exist (or the caller may not see it).
	ErrNotFound = errors.New("not found")
	// ErrConflict: a unique value is taken or a concurrent change won.
	ErrConflict = errors.New("conflict")
)

// NotFound maps sql.ErrNoRows to ErrNotFound and wraps other errors with what.
func NotFound(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}
