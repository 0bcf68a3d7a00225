package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/orgid/orgid/api"
	"github.com/orgid/orgid/internal/server"
)

// apikeysCommands manage the secret keys of the management API (/v1).
var apikeysCommands = []command{
	{"apikeys create", "create a management API secret key: --name N (prints the secret, shown once)", runAPIKeysCreate},
	{"apikeys list", "list management API secret keys (never their secrets)", runAPIKeysList},
	{"apikeys revoke", "revoke a management API secret key at once: ID", runAPIKeysRevoke},
}

// openAPIKeys opens the configured database and the key store.
func openAPIKeys(ctx context.Context, f *flags) (*api.Keys, func(), error) {
	base, err := f.openBase(ctx)
	if err != nil {
		return nil, nil, err
	}
	return api.NewKeys(base.DB, base.Keys, api.KeysOptions{Logger: base.Logger}), func() { base.Close() }, nil
}

func runAPIKeysCreate(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	name := f.String("name", "", "what the key is for, e.g. the backend using it (required)")
	if err := f.parse(); err != nil {
		return err
	}
	if err := f.noArgs(); err != nil {
		return err
	}
	if *name == "" {
		return errors.New("--name is required")
	}
	ks, done, err := openAPIKeys(ctx, f)
	if err != nil {
		return err
	}
	defer done()
	k, secret, err := ks.Create(ctx, *name)
	if err != nil {
		return err
	}
	out := struct {
		api.KeyJSON
		Secret string `json:"secret"`
	}{k.JSON(), secret}
	return f.output(out, secret,
		fmt.Sprintf("(key %s; the secret is shown once: only its hash is stored. Send it as Authorization: Bearer.)", k.ID))
}

func runAPIKeysList(ctx context.Context, inv *invocation) error {
	return withServices(ctx, inv, func(f *flags, base *server.Base, svc *server.Services) error {
		ks := api.NewKeys(base.DB, base.Keys, api.KeysOptions{Logger: base.Logger})
		list, err := ks.List(ctx)
		if err != nil {
			return err
		}
		out := make([]api.KeyJSON, 0, len(list))
		lines := []string{fmt.Sprintf("%-25s  %-8s  %-20s  %-20s  %s", "ID", "STATE", "CREATED", "LAST USED", "NAME")}
		for _, k := range list {
			out = append(out, k.JSON())
			state := "active"
			if k.Revoked() {
				state = "revoked"
			}
			lines = append(lines, fmt.Sprintf("%-25s  %-8s  %-20s  %-20s  %s", k.ID, state, since(k.CreatedAt), since(k.LastUsedAt), k.Name))
		}
		return f.output(out, lines...)
	})
}

func runAPIKeysRevoke(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	if err := f.parse(); err != nil {
		return err
	}
	if f.NArg() == 0 {
		return errors.New("usage: orgid apikeys revoke ID [flags]")
	}
	// Flags may follow the id too.
	keyID := f.Arg(0)
	f.inv.args = f.Args()[1:]
	if err := f.parse(); err != nil {
		return err
	}
	if err := f.noArgs(); err != nil {
		return err
	}
	ks, done, err := openAPIKeys(ctx, f)
	if err != nil {
		return err
	}
	defer done()
	k, err := ks.Revoke(ctx, keyID)
	if err != nil {
		return err
	}
	return f.output(k.JSON(), "revoked "+k.ID)
}
