package keys

import (
	"context"
	"fmt"
	"time"

	"github.com/orgid/orgid/storage"
)

// Rotate rotates every configured algorithm in one transaction: its next
// key becomes active, the active key is retired and stays published for
// MaxTokenLifetime, and a new next key is generated. Retired keys past their
// publish_until are pruned in the same transaction. It returns the new
// active keys. A concurrent rotation that changed a key first makes Rotate
// fail with storage.ErrConflict and change nothing; the caller may Reload
// and look, or try again. Rotate reloads this manager after committing, so
// it must not run inside a caller's storage.InTx.
func (m *Manager) Rotate(ctx context.Context) ([]KeyInfo, error) {
	if m.optErr != nil {
		return nil, m.optErr
	}
	return m.rotate(ctx, 0)
}

// RotateIfOlderThan rotates each configured algorithm whose active key was
// activated at least d ago, for scheduled rotation. Replicas may all call
// it: the first one rotates, the others find a young key (or lose the
// conditional update) and report rotated=false without error.
func (m *Manager) RotateIfOlderThan(ctx context.Context, d time.Duration) (rotated bool, err error) {
	if m.optErr != nil {
		return false, m.optErr
	}
	if d <= 0 {
		return false, fmt.Errorf("rotate signing keys: age %v must be positive", d)
	}
	infos, err := m.rotate(ctx, d)
	return len(infos) > 0, err
}

// Prune deletes retired keys whose publish_until has passed and returns how
// many. Reload already ignores such keys; Prune only tidies the table, and
// every rotation runs it.
func (m *Manager) Prune(ctx context.Context) (int, error) {
	return m.store.prune(ctx, m.clock())
}

// rotate implements Rotate (olderThan = 0) and RotateIfOlderThan.
func (m *Manager) rotate(ctx context.Context, olderThan time.Duration) ([]KeyInfo, error) {
	conditional := olderThan > 0
	// Decide what is due and generate the new next keys before the
	// transaction, so that SQLite's write lock is held for milliseconds.
	var due []string
	for _, alg := range m.algs {
		live, err := m.store.live(ctx, alg)
		if err != nil {
			return nil, err
		}
		active, ok := live[StateActive]
		switch {
		case !ok && conditional:
			continue // not initialised yet; Init will make keys
		case !ok:
			return nil, fmt.Errorf("rotate %s: no active key (run Init first): %w", alg, ErrNoKey)
		case conditional && active.ActivatedAt.After(m.clock().Add(-olderThan)):
			continue
		}
		due = append(due, alg)
	}
	if len(due) == 0 {
		return nil, nil
	}
	fresh := make(map[string]sealedKey, len(due))
	for _, alg := range due {
		k, err := newSealedKey(m.kr, alg)
		if err != nil {
			return nil, err
		}
		fresh[alg] = k
	}

	var rotated []KeyInfo
	err := storage.InTx(ctx, m.db, func(ctx context.Context) error {
		rotated = rotated[:0]
		now := m.clock()
		var cutoff time.Time
		if conditional {
			cutoff = now.Add(-olderThan)
		}
		for _, alg := range due {
			info, ok, err := m.rotateAlg(ctx, alg, fresh[alg], now, cutoff)
			if err != nil {
				return err
			}
			if ok {
				rotated = append(rotated, info)
			}
		}
		if _, err := m.store.prune(ctx, now); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rotate signing keys: %w", err)
	}
	for _, k := range rotated {
		m.log.Info("rotated signing key", "algorithm", k.Algorithm, "active", k.KID)
	}
	if err := m.Reload(ctx); err != nil {
		return rotated, err
	}
	return rotated, nil
}

// rotateAlg rotates one algorithm inside the caller's transaction. With a
// non-zero cutoff it is conditional: a key activated after cutoff, or a
// concurrent rotation, means "nothing to do" (ok=false); without one, a
// concurrent rotation is a conflict.
func (m *Manager) rotateAlg(ctx context.Context, alg string, fresh sealedKey, now, cutoff time.Time) (KeyInfo, bool, error) {
	conditional := !cutoff.IsZero()
	live, err := m.store.live(ctx, alg)
	if err != nil {
		return KeyInfo{}, false, err
	}
	active, hasActive := live[StateActive]
	next, hasNext := live[StateNext]
	switch {
	case !hasActive && conditional:
		return KeyInfo{}, false, nil
	case !hasActive:
		return KeyInfo{}, false, fmt.Errorf("%s: no active key: %w", alg, storage.ErrConflict)
	case !hasNext:
		// Init always makes one; a missing next key means someone edited
		// the table. Promoting an unpublished key would break relying
		// parties, so stop.
		return KeyInfo{}, false, fmt.Errorf("%s: no next key to promote (run Init): %w", alg, ErrNoKey)
	}
	retired, err := m.store.retire(ctx, active.KID, now, now.Add(m.maxLifetime), cutoff)
	if err != nil {
		return KeyInfo{}, false, fmt.Errorf("retire %s key %s: %w", alg, active.KID, err)
	}
	if !retired {
		if conditional {
			return KeyInfo{}, false, nil
		}
		return KeyInfo{}, false, fmt.Errorf("retire %s key %s: changed by a concurrent rotation: %w", alg, active.KID, storage.ErrConflict)
	}
	activated, err := m.store.activate(ctx, next.KID, now)
	if err != nil {
		return KeyInfo{}, false, fmt.Errorf("activate %s key %s: %w", alg, next.KID, err)
	}
	if !activated {
		// The retire above succeeded, so this process holds the row lock
		// of the active key; a vanished next key is a conflict either way.
		return KeyInfo{}, false, fmt.Errorf("activate %s key %s: changed by a concurrent rotation: %w", alg, next.KID, storage.ErrConflict)
	}
	if err := m.store.insert(ctx, fresh, StateNext, now); err != nil {
		if storage.IsUniqueViolation(err) {
			err = fmt.Errorf("%w: %w", err, storage.ErrConflict)
		}
		return KeyInfo{}, false, err
	}
	info := next.info()
	info.State = StateActive
	info.ActivatedAt = now
	return info, true, nil
}
