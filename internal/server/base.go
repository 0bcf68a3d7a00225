package server

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/storage"
)

// Base is what every command that touches data needs: the configuration, a
// migrated database and the keyring derived from the master secret.
type Base struct {
	Config Config
	DB     *bun.DB
	Keys   *secret.Keyring
	Logger *slog.Logger
	// SecretFromFile is true when the master secret is the generated
	// development secret in the data directory rather than ORGID_SECRET.
	SecretFromFile bool
}

// OpenBase validates cfg, loads the master secret, opens the database and
// applies pending migrations.
func OpenBase(ctx context.Context, cfg Config, logger *slog.Logger) (*Base, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	master, fromFile, err := secret.LoadMaster(cfg.Secret, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	keys, err := secret.NewKeyring(master)
	if err != nil {
		return nil, err
	}
	db, err := storage.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	applied, err := storage.Migrate(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	if len(applied) > 0 {
		logger.Info("applied database migrations", "migrations", applied)
	}
	return &Base{Config: cfg, DB: db, Keys: keys, Logger: logger, SecretFromFile: fromFile}, nil
}

// Close releases the database.
func (b *Base) Close() error { return b.DB.Close() }
