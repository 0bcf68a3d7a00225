package main

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/orgid/orgid/internal/server"
)

// coreCommands run and migrate the server.
var coreCommands = []command{
	{"serve", "run the server", runServe},
	{"migrate", "apply pending database migrations and exit", runMigrate},
}

func runServe(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	if err := f.parse(); err != nil {
		return err
	}
	if err := f.noArgs(); err != nil {
		return err
	}
	base, err := f.openBase(ctx)
	if err != nil {
		return err
	}
	defer base.Close()
	log := base.Logger
	if base.SecretFromFile {
		log.Warn("ORGID_SECRET is not set: using the generated development secret in the data directory. " +
			"Set ORGID_SECRET (≥ 32 characters) in production and keep it safe: signing keys are encrypted with it.")
	}
	srv, err := server.New(ctx, base, server.Options{})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", f.cfg.Listen, err)
	}
	printWelcome(inv, f.cfg, ln.Addr().String())
	log.Info("orgid listening", "addr", ln.Addr().String(), "issuer", f.cfg.Issuer, "database", dbKind(f.cfg.DatabaseURL))
	err = srv.Serve(ctx, ln)
	log.Info("orgid stopped")
	return err
}

func dbKind(u string) string {
	if strings.HasPrefix(u, "sqlite:") {
		return "sqlite"
	}
	return "postgres"
}

// printWelcome tells a new operator where orgid runs and what to do next.
func printWelcome(inv *invocation, cfg server.Config, addr string) {
	w := inv.stderr
	fmt.Fprintf(w, `
orgid is running.
  issuer     %s
  discovery  %s/.well-known/openid-configuration
  listening  %s
  database   %s

Next steps (in another terminal, with the same --database-url / --data-dir):
  create a user:    orgid users create --email you@example.com --password '…'
  create a client:  orgid clients create --name "My app" --redirect-uri http://localhost:3000/callback \
                      --grant authorization_code --grant refresh_token
  sign in:          %s/sign-in
  metrics, health:  /metrics  /healthz  /readyz

`, cfg.Issuer, cfg.Issuer, addr, describeDB(cfg), cfg.Issuer)
}

func describeDB(cfg server.Config) string {
	if p := cfg.SQLitePath(); p != "" {
		return "SQLite file " + p
	}
	return "PostgreSQL"
}

func runMigrate(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	if err := f.parse(); err != nil {
		return err
	}
	if err := f.noArgs(); err != nil {
		return err
	}
	base, err := f.openBase(ctx)
	if err != nil {
		return err
	}
	defer base.Close()
	return f.output(map[string]any{"status": "up to date"}, "database is up to date")
}
