package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/oidc"
)

// idpsCommands configure the upstream identity providers users can sign
// in with (the buttons of the sign-in page).
var idpsCommands = []command{
	{"idps create", "add an upstream identity provider: --kind google|github|microsoft|oidc --client-id ID --client-secret S [--provider-issuer URL] [--tenant T] [--slug S] [--name N] [--scope S...]", runIdPsCreate},
	{"idps list", "list upstream identity providers", runIdPsList},
	{"idps enable", "let users sign in with a provider again: SLUG|ID", runIdPsEnable},
	{"idps disable", "stop sign-in with a provider (identities stay): SLUG|ID", runIdPsDisable},
	{"idps delete", "delete a provider and every identity users hold at it: SLUG|ID", runIdPsDelete},
}

func runIdPsCreate(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	var n identity.NewIdentityProvider
	f.StringVar(&n.Kind, "kind", "", "google, github, microsoft, or oidc (any OpenID provider) (required)")
	f.StringVar(&n.ClientID, "client-id", "", "the OAuth client id orgid has at the provider (required)")
	f.StringVar(&n.ClientSecret, "client-secret", "", "its client secret (required; stored encrypted)")
	f.StringVar(&n.Issuer, "provider-issuer", "", "the provider's issuer URL (kind oidc; --issuer is orgid's own)")
	f.StringVar(&n.Tenant, "tenant", "", "Microsoft Entra tenant id or domain (default common)")
	f.StringVar(&n.Slug, "slug", "", "short name in URLs (default: the kind)")
	f.StringVar(&n.Name, "name", "", "button label: Continue with NAME (default from the kind)")
	scopes := &listFlag{split: true}
	f.Var(scopes, "scope", "scopes to ask for (repeatable or comma-separated; default from the kind)")
	f.StringVar(&n.AuthURL, "auth-url", "", "GitHub Enterprise: authorization endpoint")
	f.StringVar(&n.TokenURL, "token-url", "", "GitHub Enterprise: token endpoint")
	f.StringVar(&n.APIURL, "api-url", "", "GitHub Enterprise: API base URL")
	if err := f.parse(); err != nil {
		return err
	}
	if err := f.noArgs(); err != nil {
		return err
	}
	n.Scopes = scopes.values
	if n.Kind == "" || n.ClientID == "" || n.ClientSecret == "" {
		return errors.New("--kind, --client-id and --client-secret are required")
	}
	return withOpened(ctx, f, func(svc *server.Services) error {
		p, err := svc.Identity.CreateIdentityProvider(ctx, n)
		if err != nil {
			return err
		}
		redirect := f.cfg.Issuer + oidc.PathUpstreamCallback
		out := struct {
			identity.IdentityProviderJSON
			RedirectURI string `json:"redirect_uri"`
		}{p.JSON(), redirect}
		return f.output(out, fmt.Sprintf("%s (%s)", p.ID, p.Slug),
			"Register this redirect URI with the provider: "+redirect)
	})
}

func runIdPsList(ctx context.Context, inv *invocation) error {
	return withServices(ctx, inv, func(f *flags, _ *server.Base, svc *server.Services) error {
		list, err := svc.Identity.ListIdentityProviders(ctx, false)
		if err != nil {
			return err
		}
		out := make([]identity.IdentityProviderJSON, 0, len(list))
		lines := []string{fmt.Sprintf("%-30s  %-16s  %-10s  %-8s  %s", "ID", "SLUG", "KIND", "STATE", "NAME")}
		for _, p := range list {
			out = append(out, p.JSON())
			state := "enabled"
			if !p.Enabled {
				state = "disabled"
			}
			lines = append(lines, fmt.Sprintf("%-30s  %-16s  %-10s  %-8s  %s", p.ID, p.Slug, p.Kind, state, p.Name))
		}
		return f.output(out, lines...)
	})
}

func runIdPsEnable(ctx context.Context, inv *invocation) error { return setIdPEnabled(ctx, inv, true) }
func runIdPsDisable(ctx context.Context, inv *invocation) error {
	return setIdPEnabled(ctx, inv, false)
}

func setIdPEnabled(ctx context.Context, inv *invocation, enabled bool) error {
	f, ref, err := idpRefFlags(inv)
	if err != nil {
		return err
	}
	return withOpened(ctx, f, func(svc *server.Services) error {
		p, err := svc.Identity.SetIdentityProviderEnabled(ctx, ref, enabled)
		if err != nil {
			return err
		}
		state := map[bool]string{true: "enabled", false: "disabled"}[enabled]
		return f.output(p.JSON(), state+" "+p.Slug)
	})
}

func runIdPsDelete(ctx context.Context, inv *invocation) error {
	f, ref, err := idpRefFlags(inv)
	if err != nil {
		return err
	}
	return withOpened(ctx, f, func(svc *server.Services) error {
		p, err := svc.Identity.GetIdentityProvider(ctx, ref)
		if err != nil {
			return err
		}
		if err := svc.Identity.DeleteIdentityProvider(ctx, p.ID); err != nil {
			return err
		}
		return f.output(map[string]any{"object": "identity_provider", "id": p.ID, "deleted": true}, "deleted "+p.Slug)
	})
}

// idpRefFlags parses the shared flags around one SLUG|ID argument.
func idpRefFlags(inv *invocation) (*flags, string, error) {
	f := inv.newFlags()
	f.configFlags()
	if err := f.parse(); err != nil {
		return nil, "", err
	}
	if f.NArg() == 0 {
		return nil, "", fmt.Errorf("usage: orgid %s SLUG|ID [flags]", inv.name)
	}
	ref := f.Arg(0)
	f.inv.args = f.Args()[1:]
	if err := f.parse(); err != nil {
		return nil, "", err
	}
	if err := f.noArgs(); err != nil {
		return nil, "", err
	}
	return f, strings.TrimSpace(ref), nil
}

// withOpened opens the services for parsed flags and runs fn.
func withOpened(ctx context.Context, f *flags, fn func(svc *server.Services) error) error {
	base, svc, err := f.openServices(ctx)
	if err != nil {
		return err
	}
	defer base.Close()
	return fn(svc)
}
