package storage_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/storagetest"
)

// Both dialects must carry the same migrations, or one database would be a
// version behind the other.
func TestMigrationsMatchAcrossDialects(t *testing.T) {
	names := func(dir string) []string {
		entries, err := fs.ReadDir(os.DirFS("migrations/"+dir), ".")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		sort.Strings(out)
		return out
	}
	if diff := cmp.Diff(names("sqlite"), names("postgres")); diff != "" {
		t.Errorf("migration files differ between sqlite and postgres (-sqlite +postgres):\n%s", diff)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		applied, err := storage.Migrate(ctx, db)
		if err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if len(applied) != 0 {
			t.Errorf("second Migrate applied %v, want nothing", applied)
		}
		pending, err := storage.Pending(ctx, db)
		if err != nil || len(pending) != 0 {
			t.Errorf("Pending = %v, %v; want none", pending, err)
		}
	})
}

type instanceRow struct {
	bun.BaseModel `bun:"table:instance"`
	ID            string    `bun:"id,pk"`
	CreatedAt     time.Time `bun:"created_at"`
}

func TestInTxRollsBackAndJoinsOuterTransaction(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := storage.InTx(ctx, db, func(ctx context.Context) error {
			if _, err := storage.Conn(ctx, db).NewInsert().Model(&instanceRow{ID: "ins_a", CreatedAt: time.Now()}).Exec(ctx); err != nil {
				return err
			}
			// A nested InTx joins the outer transaction: its write is undone too.
			if err := storage.InTx(ctx, db, func(ctx context.Context) error { return nil }); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want boom", err)
		}
		n, err := db.NewSelect().Model((*instanceRow)(nil)).Count(ctx)
		if err != nil || n != 0 {
			t.Fatalf("rows after rollback = %d, %v; want 0", n, err)
		}

		want := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.FixedZone("CET", 3600))
		if err := storage.InTx(ctx, db, func(ctx context.Context) error {
			_, err := storage.Conn(ctx, db).NewInsert().Model(&instanceRow{ID: "ins_b", CreatedAt: want}).Exec(ctx)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var got instanceRow
		if err := db.NewSelect().Model(&got).Where("id = ?", "ins_b").Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if !got.CreatedAt.Equal(want) {
			t.Errorf("created_at round trip = %v, want %v", got.CreatedAt, want)
		}
		// Text timestamps on SQLite must compare like instants.
		n, err = db.NewSelect().Model((*instanceRow)(nil)).Where("created_at > ?", want.Add(-time.Millisecond)).Where("created_at < ?", want.Add(time.Millisecond)).Count(ctx)
		if err != nil || n != 1 {
			t.Errorf("range query found %d rows (%v), want 1", n, err)
		}

		_, err = db.NewInsert().Model(&instanceRow{ID: "ins_b", CreatedAt: want}).Exec(ctx)
		if !storage.IsUniqueViolation(err) {
			t.Errorf("duplicate insert error %v is not recognised as a unique violation", err)
		}
		var missing instanceRow
		err = storage.NotFound(db.NewSelect().Model(&missing).Where("id = ?", "nope").Scan(ctx), "load instance")
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("missing row error = %v, want ErrNotFound", err)
		}
	})
}

func TestOpenRejectsUnknownURL(t *testing.T) {
	for _, u := range []string{"mysql://x", "", "sqlite:", "sqlite::memory:"} {
		if db, err := storage.Open(context.Background(), u); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded, want an error", u)
		}
	}
}

func TestRedactHidesPassword(t *testing.T) {
	got := storage.Redact("postgres://u:secret@h/db")
	if got != "postgres://u:xxxxx@h/db" {
		t.Errorf("Redact = %q", got)
	}
}
