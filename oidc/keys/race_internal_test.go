package keys

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/storagetest"
)

// These tests stage the races of concurrent replicas deterministically: a
// "winner" transaction holds its writes uncommitted while the manager under
// test runs into them. On PostgreSQL the test waits until the loser is
// blocked on the winner's locks; on SQLite the loser waits for the write
// lock and then sees the winner's commit.

func internalKeyring(t *testing.T) *secret.Keyring {
	t.Helper()
	kr, err := secret.NewKeyring([]byte("internal test master secret, long enough"))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// waitUntilBlockedBy waits until some session waits for a lock held by the
// session of tx (PostgreSQL only).
func waitUntilBlockedBy(t *testing.T, db *bun.DB, tx bun.Tx) {
	t.Helper()
	ctx := context.Background()
	var pid int
	if err := tx.NewRaw("SELECT pg_backend_pid()").Scan(ctx, &pid); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		if err := db.NewRaw("SELECT count(*) FROM pg_stat_activity WHERE ? = ANY(pg_blocking_pids(pid))", pid).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the concurrent statement never blocked on the winner's transaction")
		}
		time.Sleep(5 * time.Millisecond) // polling for a lock wait, not timing logic
	}
}

func TestInitThatLosesTheInsertRaceAdoptsTheWinnersKeys(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		kr := internalKeyring(t)
		m := NewManager(db, kr, Options{Algorithms: []string{RS256}})

		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback() //nolint:errcheck // committed below; rollback only on failure
		winner := map[State]sealedKey{}
		for _, st := range []State{StateActive, StateNext} {
			k, err := newSealedKey(kr, RS256)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.store.insert(storage.WithTx(ctx, tx), k, st, time.Now().UTC()); err != nil {
				t.Fatal(err)
			}
			winner[st] = k
		}

		done := make(chan error, 1)
		go func() { done <- m.Init(ctx) }()
		if storage.IsPostgres(db) {
			waitUntilBlockedBy(t, db, tx)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("Init that lost the race: %v", err)
		}
		k, err := m.Signer(RS256)
		if err != nil || k.KID != winner[StateActive].kid {
			t.Errorf("Signer(RS256) = %v, %v; want the winner's key %s", k, err, winner[StateActive].kid)
		}
		rows, err := m.store.all(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 {
			t.Errorf("stored %d keys after the race, want the winner's 2", len(rows))
		}
	})
}

func TestRotateThatLosesToAConcurrentRotation(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		kr := internalKeyring(t)
		opts := Options{Algorithms: []string{ES256}, DefaultAlgorithm: ES256}
		winnerM := NewManager(db, kr, opts)
		loser := NewManager(db, kr, opts)
		for _, m := range []*Manager{winnerM, loser} {
			if err := m.Init(ctx); err != nil {
				t.Fatal(err)
			}
		}

		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback() //nolint:errcheck // committed below
		fresh, err := newSealedKey(kr, ES256)
		if err != nil {
			t.Fatal(err)
		}
		info, ok, err := winnerM.rotateAlg(storage.WithTx(ctx, tx), ES256, fresh, winnerM.clock(), time.Time{})
		if err != nil || !ok {
			t.Fatalf("winner's rotation = %v, %v", ok, err)
		}

		type result struct {
			infos []KeyInfo
			err   error
		}
		done := make(chan result, 1)
		go func() {
			infos, err := loser.Rotate(ctx)
			done <- result{infos, err}
		}()
		if storage.IsPostgres(db) {
			waitUntilBlockedBy(t, db, tx)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		got := <-done
		if storage.IsPostgres(db) {
			// The loser read the old active key and its conditional UPDATE
			// found it retired: a conflict, and nothing changed.
			if !errors.Is(got.err, storage.ErrConflict) {
				t.Fatalf("losing Rotate on PostgreSQL: err = %v, want ErrConflict", got.err)
			}
		} else if got.err != nil {
			// SQLite serialises the two: the loser rotates after the winner.
			t.Fatalf("second Rotate on SQLite: %v", got.err)
		}

		rows, err := loser.store.all(ctx)
		if err != nil {
			t.Fatal(err)
		}
		counts := map[State]int{}
		for _, r := range rows {
			counts[r.State]++
		}
		if counts[StateActive] != 1 || counts[StateNext] != 1 {
			t.Errorf("after racing rotations: %v, want one active and one next", counts)
		}
		wantRetired := 1
		if got.err == nil {
			wantRetired = 2
		}
		if counts[StateRetired] != wantRetired {
			t.Errorf("retired keys = %d, want %d", counts[StateRetired], wantRetired)
		}
		if got.err != nil {
			if err := loser.Reload(ctx); err != nil {
				t.Fatal(err)
			}
			if k, _ := loser.Signer(ES256); k == nil || k.KID != info.KID {
				t.Errorf("loser signs with %v after Reload, want the winner's %s", k, info.KID)
			}
		}
	})
}
