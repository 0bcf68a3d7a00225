package storage

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// Migrations are hand-written SQL, one directory per dialect, with the same
// file names in both (a test checks it). Each package owns a range of
// numbers: 0010 identity, 0020 signing keys, 0030 OAuth 2.0 and OIDC,
// 0040 tenancy, 0050 rbac, 0060 templates, 0070 webhooks, 0090 API keys;
// later changes append within or after those ranges, never edit an applied
// file.
//
//go:embed migrations
var migrationFiles embed.FS

// migrationLockID is the PostgreSQL advisory lock that serialises replicas
// migrating the same database at start-up.
const migrationLockID = 0x6f72676964 // "orgid"

func migrations(db bun.IDB) (*migrate.Migrations, error) {
	dir := "migrations/sqlite"
	if IsPostgres(db) {
		dir = "migrations/postgres"
	}
	sub, err := fs.Sub(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	ms := migrate.NewMigrations()
	if err := ms.Discover(sub); err != nil {
		return nil, fmt.Errorf("discover migrations: %w", err)
	}
	return ms, nil
}

// Migrate applies every migration the database has not applied yet. A
// migration is marked applied only after it succeeded, so a failed one runs
// again next time. On PostgreSQL an advisory lock lets several replicas start
// at once.
func Migrate(ctx context.Context, db *bun.DB) ([]string, error) {
	ms, err := migrations(db)
	if err != nil {
		return nil, err
	}
	if IsPostgres(db) {
		conn, err := db.Conn(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", migrationLockID); err != nil {
			return nil, fmt.Errorf("migrate: take lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", migrationLockID) //nolint:errcheck // the session ends with conn anyway
	}
	m := migrate.NewMigrator(db, ms, migrate.WithMarkAppliedOnSuccess(true),
		migrate.WithTableName("orgid_migrations"), migrate.WithLocksTableName("orgid_migration_locks"))
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("migrate: init: %w", err)
	}
	group, err := m.Migrate(ctx)
	var applied []string
	if group != nil {
		for _, mig := range group.Migrations {
			applied = append(applied, mig.Name+"_"+mig.Comment)
		}
	}
	if err != nil {
		return applied, fmt.Errorf("migrate: %w", err)
	}
	return applied, nil
}

// Pending lists the migrations the database has not applied.
func Pending(ctx context.Context, db *bun.DB) ([]string, error) {
	ms, err := migrations(db)
	if err != nil {
		return nil, err
	}
	m := migrate.NewMigrator(db, ms, migrate.WithTableName("orgid_migrations"), migrate.WithLocksTableName("orgid_migration_locks"))
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	all, err := m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	var names []string
	for _, mig := range all.Unapplied() {
		names = append(names, mig.Name+"_"+mig.Comment)
	}
	return names, nil
}
