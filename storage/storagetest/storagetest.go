// Package storagetest runs a test against every database orgid supports.
//
// Each call gets its own SQLite file or its own PostgreSQL schema, migrated
// to the current version and dropped when the test ends, so tests may run in
// parallel and twice in a row. PostgreSQL is reached through
// ORGID_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres);
// when it is unreachable the PostgreSQL subtest is skipped, unless
// ORGID_REQUIRE_POSTGRES=1, which makes it fail: CI can never pass by skipping.
package storagetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/storage"
)

// DefaultPostgresURL is used when ORGID_TEST_POSTGRES_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Dialects are the subtest names, in the order Run uses them.
var Dialects = []string{"sqlite", "postgres"}

// Run calls fn once per dialect, as subtests named "sqlite" and "postgres",
// each with a fresh migrated database.
func Run(t *testing.T, fn func(t *testing.T, db *bun.DB)) {
	t.Helper()
	RunURL(t, func(t *testing.T, dbURL string) {
		fn(t, OpenURL(t, dbURL))
	})
}

// RunURL calls fn once per dialect with the URL of a fresh migrated database,
// for tests that start a whole server or process of their own.
func RunURL(t *testing.T, fn func(t *testing.T, dbURL string)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(d, func(t *testing.T) {
			fn(t, NewURL(t, d))
		})
	}
}

// NewURL creates an empty, migrated database of the given dialect and
// returns its URL; it is dropped when t ends.
func NewURL(t testing.TB, dialect string) string {
	t.Helper()
	var dbURL string
	switch dialect {
	case "sqlite":
		dbURL = "sqlite:" + filepath.Join(t.TempDir(), "orgid.db")
	case "postgres":
		dbURL = newPostgresSchema(t)
	default:
		t.Fatalf("storagetest: unknown dialect %q", dialect)
	}
	db := OpenURL(t, dbURL)
	if _, err := storage.Migrate(context.Background(), db); err != nil {
		t.Fatalf("storagetest: migrate %s: %v", dialect, err)
	}
	return dbURL
}

// OpenURL opens dbURL and closes it when t ends.
func OpenURL(t testing.TB, dbURL string) *bun.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatalf("storagetest: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var (
	pgOnce  sync.Once
	pgAdmin *bun.DB
	pgErr   error
)

func postgresBaseURL() string {
	if u := os.Getenv("ORGID_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// postgres connects once per test process to the administrative database.
func postgres(t testing.TB) *bun.DB {
	t.Helper()
	pgOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		pgAdmin, pgErr = storage.Open(ctx, postgresBaseURL())
	})
	if pgErr != nil {
		if os.Getenv("ORGID_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("storagetest: PostgreSQL is required (ORGID_REQUIRE_POSTGRES=1) but unreachable: %v", pgErr)
		}
		t.Skipf("storagetest: PostgreSQL unreachable, skipping (set ORGID_TEST_POSTGRES_URL): %v", pgErr)
	}
	return pgAdmin
}

// newPostgresSchema creates a schema of its own for t and returns a URL
// whose search_path puts every unqualified table there.
func newPostgresSchema(t testing.TB) string {
	t.Helper()
	admin := postgres(t)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "orgid_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("storagetest: create schema: %v", err)
	}
	// Registered before the caller's cleanups, so it runs after they closed
	// their connections.
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("storagetest: drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(postgresBaseURL())
	if err != nil {
		t.Fatalf("storagetest: parse ORGID_TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Name returns "sqlite" or "postgres" for db, for messages.
func Name(db bun.IDB) string {
	if storage.IsPostgres(db) {
		return "postgres"
	}
	return "sqlite"
}
