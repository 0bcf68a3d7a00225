package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/oidc"
)

// clientsCommands register and list OAuth 2.0 clients.
var clientsCommands = []command{
	{"clients create", "register an OAuth 2.0 client (prints client_id and, for confidential clients, client_secret)", runClientsCreate},
	{"clients list", "list OAuth 2.0 clients", runClientsList},
	{"clients delete", "delete an OAuth 2.0 client and its tokens", runClientsDelete},
}

func runClientsCreate(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	name := f.String("name", "", "client name shown to users (required)")
	public := f.Bool("public", false, "public client (SPA, mobile, CLI): no secret, PKCE required")
	firstParty := f.Bool("first-party", false, "the operator's own app: users are not asked for consent")
	id := f.String("id", "", "import an existing client id")
	// --secret is the client secret here (the spec's import contract); its
	// environment twin is ORGID_CLIENT_SECRET so that ORGID_SECRET, the
	// master secret, is never mistaken for it.
	secretFlag := f.String("secret", "", "import an existing client secret (confidential clients; env ORGID_CLIENT_SECRET)")
	f.env["secret"] = "ORGID_CLIENT_SECRET"
	authMethod := f.String("token-endpoint-auth-method", "", "client_secret_basic (default) or client_secret_post")
	idTokenAlg := f.String("id-token-signing-alg", "", "RS256 or ES256 (default: the server's)")
	atFormat := f.String("access-token-format", "", "jwt (default: RFC 9068 JWTs) or opaque (resource servers introspect them)")
	grace := f.Int("refresh-grace-period", 0, "seconds a rotated refresh token stays usable (0–60)")
	idTemplate := f.String("id-token-template", "", "JWT template whose claims go into this client's ID tokens and userinfo")
	atTemplate := f.String("access-token-template", "", "JWT template whose claims go into this client's access tokens")
	var allowTemplates listFlag
	allowTemplates.split = true
	f.Var(&allowTemplates, "allow-template", "template this client may mint by token exchange (repeatable; needs --grant "+oidc.GrantTokenExchange+")")
	var redirects, postLogout, grants, scopes, origins, audience, responseTypes, responseModes listFlag
	grants.split, scopes.split, responseModes.split = true, true, true
	f.Var(&redirects, "redirect-uri", "redirect URI (repeatable)")
	f.Var(&postLogout, "post-logout-redirect-uri", "post-logout redirect URI (repeatable)")
	f.Var(&grants, "grant", "grant type: authorization_code, refresh_token, client_credentials, "+oidc.GrantTokenExchange+", "+oidc.GrantDeviceCode+" (repeatable or comma-separated)")
	f.Var(&scopes, "scope", "allowed scope (repeatable or comma-separated; default openid profile email address phone offline_access)")
	f.Var(&origins, "web-origin", "web origin allowed to call the token endpoint from a browser (default: the redirect URIs' origins)")
	f.Var(&audience, "audience", "resource server the client may request tokens for (repeatable)")
	f.Var(&responseTypes, "response-type", "response type (repeatable; default code)")
	f.Var(&responseModes, "response-mode", "allowed response modes (default query, fragment, form_post)")
	if err := f.parse(); err != nil {
		return err
	}
	if err := f.noArgs(); err != nil {
		return err
	}
	if *name == "" {
		return errors.New("--name is required")
	}
	base, svc, err := f.openServices(ctx)
	if err != nil {
		return err
	}
	defer base.Close()
	for _, name := range append([]string{*idTemplate, *atTemplate}, allowTemplates.values...) {
		if name == "" {
			continue
		}
		if _, err := svc.Templates.Get(ctx, name); err != nil {
			return fmt.Errorf("template %q: %w", name, err)
		}
	}
	c, secret, err := svc.Clients.Create(ctx, oidc.NewClient{
		ID: *id, Secret: *secretFlag, Name: *name, Public: *public, FirstParty: *firstParty,
		Metadata: oidc.ClientMetadata{
			RedirectURIs: redirects.values, PostLogoutRedirectURIs: postLogout.values,
			GrantTypes: grants.values, Scopes: scopes.values, WebOrigins: origins.values,
			Audience: audience.values, ResponseTypes: responseTypes.values, ResponseModes: responseModes.values,
			TokenEndpointAuthMethod: *authMethod, IDTokenSignedResponseAlg: *idTokenAlg, AccessTokenFormat: *atFormat,
			RefreshGracePeriodSeconds: *grace,
			IDTokenTemplate:           *idTemplate, AccessTokenTemplate: *atTemplate, AllowedTemplates: allowTemplates.values,
		},
	})
	if err != nil {
		return err
	}
	out := map[string]any{"client_id": c.ID, "name": c.Name, "public": c.Public}
	lines := []string{"client_id: " + c.ID}
	if secret != "" {
		out["client_secret"] = secret
		lines = append(lines, "client_secret: "+secret, "(the secret is shown once; only its hash is stored)")
	}
	return f.output(out, lines...)
}

func runClientsList(ctx context.Context, inv *invocation) error {
	return withServices(ctx, inv, func(f *flags, base *server.Base, svc *server.Services) error {
		list, err := svc.Clients.List(ctx)
		if err != nil {
			return err
		}
		out := make([]oidc.ClientJSON, 0, len(list))
		lines := []string{}
		for _, c := range list {
			out = append(out, c.JSON())
			kind := "confidential"
			if c.Public {
				kind = "public"
			}
			lines = append(lines, fmt.Sprintf("%s\t%s\t%s\t%v", c.ID, kind, c.Name, c.Metadata.GrantTypes))
		}
		return f.output(out, lines...)
	})
}

func runClientsDelete(ctx context.Context, inv *invocation) error {
	f := inv.newFlags()
	f.configFlags()
	if err := f.parse(); err != nil {
		return err
	}
	if f.NArg() != 1 {
		return errors.New("usage: orgid clients delete CLIENT_ID")
	}
	base, err := f.openBase(ctx)
	if err != nil {
		return err
	}
	defer base.Close()
	if err := oidc.NewClients(base.DB, base.Keys, nil).Delete(ctx, f.Arg(0)); err != nil {
		return err
	}
	return f.output(map[string]any{"client_id": f.Arg(0), "deleted": true}, "deleted "+f.Arg(0))
}
