package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/oidc/keys"
)

// keysCommands are the `orgid keys …` subcommands.
var keysCommands = []command{
	{"keys rotate", "promote the next signing key of each algorithm and publish a new next key", runKeysRotate},
	{"keys list", "list the signing keys and their states", runKeysList},
}

// openKeys opens the configured database and loads its signing keys,
// generating the first ones when there are none, with the same options as
// the server.
func openKeys(ctx context.Context, f *flags) (*server.Base, *keys.Manager, error) {
	base, svc, err := f.openServices(ctx)
	if err != nil {
		return nil, nil, err
	}
	return base, svc.Keys, nil
}

func runKeysRotate(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	if err := f.parse(); err != nil {
		return err
	}
	if err := f.noArgs(); err != nil {
		return err
	}
	base, m, err := openKeys(ctx, f)
	if err != nil {
		return err
	}
	defer base.Close()
	rotated, err := m.Rotate(ctx)
	if err != nil {
		return err
	}
	lines := make([]string, len(rotated))
	for i, k := range rotated {
		lines[i] = fmt.Sprintf("%s active key: %s", k.Algorithm, k.KID)
	}
	return f.output(map[string]any{"active": rotated}, lines...)
}

func runKeysList(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	if err := f.parse(); err != nil {
		return err
	}
	if err := f.noArgs(); err != nil {
		return err
	}
	base, m, err := openKeys(ctx, f)
	if err != nil {
		return err
	}
	defer base.Close()
	list, err := m.List(ctx)
	if err != nil {
		return err
	}
	lines := []string{fmt.Sprintf("%-22s  %-9s  %-7s  %-20s  %-20s  %-20s  %s", "KID", "ALGORITHM", "STATE", "CREATED", "ACTIVATED", "RETIRED", "PUBLISHED UNTIL")}
	for _, k := range list {
		lines = append(lines, strings.TrimRight(fmt.Sprintf("%-22s  %-9s  %-7s  %-20s  %-20s  %-20s  %s",
			k.KID, k.Algorithm, k.State, since(k.CreatedAt), since(k.ActivatedAt), since(k.RetiredAt), since(k.PublishUntil)), " "))
	}
	return f.output(map[string]any{"keys": list}, lines...)
}
