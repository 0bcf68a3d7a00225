package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/orgid/orgid/internal/server"
)

// keysCommands are the `orgid keys …` subcommands.
var keysCommands = []command{
	{"keys rotate", "promote the next signing key of each algorithm and publish a new next key", runKeysRotate},
	{"keys list", "list the signing keys and their states", runKeysList},
}

func runKeysRotate(ctx context.Context, inv *invocation) error {
	return withServices(ctx, inv, func(f *flags, base *server.Base, svc *server.Services) error {
		rotated, err := svc.Keys.Rotate(ctx)
		if err != nil {
			return err
		}
		lines := make([]string, len(rotated))
		for i, k := range rotated {
			lines[i] = fmt.Sprintf("%s active key: %s", k.Algorithm, k.KID)
		}
		return f.output(map[string]any{"active": rotated}, lines...)
	})
}

func runKeysList(ctx context.Context, inv *invocation) error {
	return withServices(ctx, inv, func(f *flags, base *server.Base, svc *server.Services) error {
		list, err := svc.Keys.List(ctx)
		if err != nil {
			return err
		}
		lines := []string{fmt.Sprintf("%-22s  %-9s  %-7s  %-20s  %-20s  %-20s  %s", "KID", "ALGORITHM", "STATE", "CREATED", "ACTIVATED", "RETIRED", "PUBLISHED UNTIL")}
		for _, k := range list {
			lines = append(lines, strings.TrimRight(fmt.Sprintf("%-22s  %-9s  %-7s  %-20s  %-20s  %-20s  %s",
				k.KID, k.Algorithm, k.State, since(k.CreatedAt), since(k.ActivatedAt), since(k.RetiredAt), since(k.PublishUntil)), " "))
		}
		return f.output(map[string]any{"keys": list}, lines...)
	})
}
