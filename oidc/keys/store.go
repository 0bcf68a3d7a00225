package keys

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/storage"
)

// keyRow is one row of signing_keys.
type keyRow struct {
	bun.BaseModel `bun:"table:signing_keys"`

	KID          string    `bun:"kid,pk"`
	Algorithm    string    `bun:"algorithm,notnull"`
	State        State     `bun:"state,notnull"`
	PrivateKey   []byte    `bun:"private_key"`
	PublicJWK    string    `bun:"public_jwk,notnull"`
	CreatedAt    time.Time `bun:"created_at,notnull"`
	ActivatedAt  time.Time `bun:"activated_at,nullzero"`
	RetiredAt    time.Time `bun:"retired_at,nullzero"`
	PublishUntil time.Time `bun:"publish_until,nullzero"`
}

func (r *keyRow) info() KeyInfo {
	return KeyInfo{
		KID:          r.KID,
		Algorithm:    r.Algorithm,
		State:        r.State,
		CreatedAt:    utc(r.CreatedAt),
		ActivatedAt:  utc(r.ActivatedAt),
		RetiredAt:    utc(r.RetiredAt),
		PublishUntil: utc(r.PublishUntil),
	}
}

// utc normalises a time read back from the database (SQLite may tag it
// Local) and keeps the zero time zero.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// metaColumns are every column but the sealed private key, which is read
// only for keys this process has not parsed yet.
var metaColumns = []string{"kid", "algorithm", "state", "public_jwk", "created_at", "activated_at", "retired_at", "publish_until"}

// store runs the package's queries, through storage.Conn so that a caller's
// transaction covers them.
type store struct{ db *bun.DB }

// published returns the keys that belong in the JWKS at now: next, active,
// and retired ones whose publish_until has not passed.
func (s store) published(ctx context.Context, now time.Time) ([]keyRow, error) {
	var rows []keyRow
	err := storage.Conn(ctx, s.db).NewSelect().Model(&rows).Column(metaColumns...).
		Where("(state IN (?) OR (state = ? AND publish_until > ?))",
			bun.List([]State{StateNext, StateActive}), StateRetired, now).
		OrderExpr("created_at, kid").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	return rows, nil
}

// sealedKeys returns the sealed private keys of kids.
func (s store) sealedKeys(ctx context.Context, kids []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(kids))
	if len(kids) == 0 {
		return out, nil
	}
	var rows []keyRow
	err := storage.Conn(ctx, s.db).NewSelect().Model(&rows).Column("kid", "private_key").
		Where("kid IN (?)", bun.List(kids)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("load signing key material: %w", err)
	}
	for _, r := range rows {
		out[r.KID] = r.PrivateKey
	}
	return out, nil
}

// all returns every stored key, oldest first within each algorithm.
func (s store) all(ctx context.Context) ([]keyRow, error) {
	var rows []keyRow
	err := storage.Conn(ctx, s.db).NewSelect().Model(&rows).Column(metaColumns...).
		OrderExpr("algorithm, created_at, kid").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	return rows, nil
}

// live returns the active and next keys of alg, by state.
func (s store) live(ctx context.Context, alg string) (map[State]keyRow, error) {
	var rows []keyRow
	err := storage.Conn(ctx, s.db).NewSelect().Model(&rows).Column(metaColumns...).
		Where("algorithm = ?", alg).
		Where("state IN (?)", bun.List([]State{StateNext, StateActive})).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("load %s signing keys: %w", alg, err)
	}
	out := make(map[State]keyRow, len(rows))
	for _, r := range rows {
		out[r.State] = r
	}
	return out, nil
}

// insert stores a new key in the given state.
func (s store) insert(ctx context.Context, k sealedKey, state State, now time.Time) error {
	row := &keyRow{KID: k.kid, Algorithm: k.alg, State: state, PrivateKey: k.sealed, PublicJWK: k.publicJWK, CreatedAt: now}
	if state == StateActive {
		row.ActivatedAt = now
	}
	if _, err := storage.Conn(ctx, s.db).NewInsert().Model(row).Exec(ctx); err != nil {
		return fmt.Errorf("insert %s %s key: %w", state, k.alg, err)
	}
	return nil
}

// retire turns the active key kid into a retired one, published until
// until. When activatedBefore is not zero, only a key activated at or before
// it is retired. It reports whether the row changed: false means another
// process rotated first.
func (s store) retire(ctx context.Context, kid string, now, until, activatedBefore time.Time) (bool, error) {
	q := storage.Conn(ctx, s.db).NewUpdate().Model((*keyRow)(nil)).
		Set("state = ?", StateRetired).Set("retired_at = ?", now).Set("publish_until = ?", until).
		Where("kid = ?", kid).Where("state = ?", StateActive)
	if !activatedBefore.IsZero() {
		q = q.Where("activated_at <= ?", activatedBefore)
	}
	return affectedOne(q.Exec(ctx))
}

// activate turns the next key kid into the active one.
func (s store) activate(ctx context.Context, kid string, now time.Time) (bool, error) {
	return affectedOne(storage.Conn(ctx, s.db).NewUpdate().Model((*keyRow)(nil)).
		Set("state = ?", StateActive).Set("activated_at = ?", now).
		Where("kid = ?", kid).Where("state = ?", StateNext).Exec(ctx))
}

// prune deletes retired keys whose publish_until has passed.
func (s store) prune(ctx context.Context, now time.Time) (int, error) {
	res, err := storage.Conn(ctx, s.db).NewDelete().Model((*keyRow)(nil)).
		Where("state = ?", StateRetired).Where("publish_until <= ?", now).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune signing keys: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func affectedOne(res interface{ RowsAffected() (int64, error) }, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}
