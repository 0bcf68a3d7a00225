package conformance

import (
	"context"
	"fmt"
)

// DynamicPlan is modelled on the OpenID Foundation's
// oidcc-dynamic-certification-test-plan: the runner registers its own
// clients through the registration endpoint (main client private_key_jwt,
// as in the plan), and checks registration, redirect URI, signing, key
// rotation and request_uri behaviour, in the plan's order; then orgid's
// runner adds client_secret_jwt, assertion replay and RFC 7592
// management.
func DynamicPlan() Plan {
	return Plan{
		Name:  "dynamic",
		Title: "oidcc-dynamic-certification-test-plan",
		Setup: registerPlanClients(func(e *Env, method string) map[string]any {
			m := e.ClientMetadata("dynamic "+method, method)
			m["grant_types"] = []string{"authorization_code", "refresh_token"}
			m["scope"] = "openid profile email address phone offline_access"
			return m
		}, AuthPrivateKey),
		Modules: []Module{
			moduleIDTokenRS256(),
			moduleIDTokenUnsignedDynamic(),
			moduleUserInfoRS256(),
			moduleRedirectURIMissing(),
			moduleRedirectURIQueryOK(),
			moduleRedirectURIQueryMismatch(),
			moduleRedirectURIQueryAdded(),
			moduleRedirectURIRegFrag(),
			moduleDiscovery(),
			serverModule("oidcc-server",
				"Code flow with the registered private_key_jwt client: the response, the token response, every ID token check and a UserInfo call.",
				(*Env).BasicClient),
			registrationURIModule("oidcc-registration-logo-uri", "logo_uri", "/logo.png"),
			registrationURIModule("oidcc-registration-policy-uri", "policy_uri", "/policy.html"),
			registrationURIModule("oidcc-registration-tos-uri", "tos_uri", "/tos.html"),
			moduleRegistrationJWKSURI(),
			moduleRegistrationSectorURI(),
			moduleRegistrationSectorBad(),
			moduleServerRotateKeys(),
			moduleRefreshTokenRPKeyRotation(),
			moduleRequestURIUnsignedDynamic(),
			moduleRequestURISignedRS256(),
			moduleRequestObjectRedirectURI(),
			moduleRefreshToken(),
			moduleClientAssertionIssAud(),
			moduleClientSecretJWT(),
			moduleClientAssertionReplay(),
			moduleRegistrationManagement(),
		},
	}
}

// registerPlanClients returns a Setup that registers the plan's three
// clients — the main one with mainMethod, a client_secret_post one and a
// public one — from the metadata meta builds, and makes the modules use
// them.
func registerPlanClients(meta func(e *Env, method string) map[string]any, mainMethod string) func(ctx context.Context, env *Env) error {
	return func(ctx context.Context, env *Env) error {
		if env.Provider == nil {
			return fmt.Errorf("discovery failed: %w", env.ProviderErr)
		}
		var keys *ClientKeys
		if mainMethod == AuthPrivateKey {
			var err error
			if keys, err = NewClientKeys(); err != nil {
				return err
			}
		}
		reg := &RegisteredClients{}
		for _, c := range []struct {
			method string
			into   *ClientAuth
		}{{mainMethod, &reg.Basic}, {AuthSecretPost, &reg.Post}, {AuthNone, &reg.Public}} {
			m := meta(env, c.method)
			if c.method == AuthPrivateKey {
				m["jwks"] = keys.PublicSet()
			}
			registered, err := env.RegisterClient(ctx, m, keys)
			if err != nil {
				return fmt.Errorf("register the %s client: %w", c.method, err)
			}
			*c.into = registered
		}
		env.Registered = reg
		return nil
	}
}
