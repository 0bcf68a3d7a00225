package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/oidc"
)

// registrationCommands manage the initial access tokens of dynamic client
// registration (--registration token).
var registrationCommands = []command{
	{"registration-tokens create", "create an initial access token for dynamic client registration (printed once)", runRegistrationTokensCreate},
	{"registration-tokens list", "list initial access tokens", runRegistrationTokensList},
	{"registration-tokens revoke", "revoke an initial access token by id", runRegistrationTokensRevoke},
}

// openRegistrationTokens opens the configured database for the tokens.
func openRegistrationTokens(ctx context.Context, f *flags) (func() error, *oidc.RegistrationTokens, error) {
	base, err := f.openBase(ctx)
	if err != nil {
		return nil, nil, err
	}
	return base.Close, oidc.NewRegistrationTokens(base.DB, base.Keys, time.Now), nil
}

func runRegistrationTokensCreate(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	description := f.String("description", "", "what the token is for")
	expiresIn := f.Duration("expires-in", 0, "lifetime of the token (0: until revoked)")
	if err := f.parse(); err != nil {
		return err
	}
	if err := f.noArgs(); err != nil {
		return err
	}
	closeDB, tokens, err := openRegistrationTokens(ctx, f)
	if err != nil {
		return err
	}
	defer closeDB()
	t, plain, err := tokens.Create(ctx, *description, *expiresIn)
	if err != nil {
		return err
	}
	out := struct {
		oidc.RegistrationTokenJSON
		Token string `json:"token"`
	}{t.JSON(), plain}
	return f.output(out, plain)
}

func runRegistrationTokensList(ctx context.Context, inv *invocation) error {
	return withServices(ctx, inv, func(f *flags, base *server.Base, svc *server.Services) error {
		tokens := oidc.NewRegistrationTokens(base.DB, base.Keys, time.Now)
		list, err := tokens.List(ctx)
		if err != nil {
			return err
		}
		items := make([]oidc.RegistrationTokenJSON, len(list))
		lines := []string{fmt.Sprintf("%-29s  %-20s  %-20s  %-20s  %s", "ID", "CREATED", "EXPIRES", "REVOKED", "DESCRIPTION")}
		for i, t := range list {
			items[i] = t.JSON()
			lines = append(lines, strings.TrimRight(fmt.Sprintf("%-29s  %-20s  %-20s  %-20s  %s",
				t.ID, since(t.CreatedAt), sincePtr(t.ExpiresAt), sincePtr(t.RevokedAt), t.Description), " "))
		}
		return f.output(map[string]any{"data": items, "total_count": len(items)}, lines...)
	})
}

func runRegistrationTokensRevoke(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	if err := f.parse(); err != nil {
		return err
	}
	if f.NArg() != 1 {
		return errors.New("usage: orgid registration-tokens revoke ID")
	}
	closeDB, tokens, err := openRegistrationTokens(ctx, f)
	if err != nil {
		return err
	}
	defer closeDB()
	tokenID := f.Arg(0)
	if err := tokens.Revoke(ctx, tokenID); err != nil {
		return err
	}
	return f.output(map[string]any{"object": "registration_token", "id": tokenID, "revoked": true}, "revoked "+tokenID)
}

func sincePtr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return since(*t)
}
