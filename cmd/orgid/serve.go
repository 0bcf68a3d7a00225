package main

import (
	"context"
	"errors"
)

// coreCommands run and migrate the server.
var coreCommands = []command{
	{"serve", "run the server", runServe},
	{"migrate", "apply pending database migrations and exit", runMigrate},
}

func runServe(ctx context.Context, inv *invocation) error {
	return errors.New("not implemented yet")
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
