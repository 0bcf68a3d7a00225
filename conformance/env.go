package conformance

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// Env is what a module runs with: the configuration, the provider as
// discovered, the runner's Listener, an HTTP client for back-channel calls,
// and the clock. Modules share nothing else; each makes its own Browser.
type Env struct {
	Config  Config
	Variant Variant
	// Provider is nil when discovery failed; ProviderErr says why.
	Provider    *Provider
	ProviderErr error
	Listener    *Listener
	// HTTP makes back-channel requests (token, userinfo, discovery). It
	// follows no redirects and keeps no cookies.
	HTTP *http.Client
	// Now and Sleep are the clock; tests replace them.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	Log   *slog.Logger
	// Registered, when a plan's Setup registered clients, replaces the
	// configured static clients for that plan's modules.
	Registered *RegisteredClients
	// RotateKeys makes the provider rotate its signing keys (nil: not
	// possible, the rotation module skips).
	RotateKeys func(ctx context.Context) error
}

// RegisteredClients are the clients a plan registered for itself.
type RegisteredClients struct {
	Basic, Post, Public ClientAuth
}

// NewBrowser returns a browser with an empty cookie jar: a user who has not
// signed in yet.
func (e *Env) NewBrowser() *Browser { return NewBrowser(e.HTTP, e.Config, e.Listener) }

// ClientAuth is a client with the way it authenticates at the token endpoint.
type ClientAuth struct {
	Client
	// Method is client_secret_basic, client_secret_post,
	// client_secret_jwt, private_key_jwt or none.
	Method string
	// Keys holds the private keys of a private_key_jwt client (the first
	// signs); KeySet is what the client registered or serves at its
	// jwks_uri. A key rotation replaces both.
	Keys *ClientKeys
	// Registration is the RFC 7592 management of a registered client.
	Registration *ClientRegistration
}

// Token endpoint authentication methods the runner uses.
const (
	AuthSecretBasic = "client_secret_basic"
	AuthSecretPost  = "client_secret_post"
	AuthSecretJWT   = "client_secret_jwt"
	AuthPrivateKey  = "private_key_jwt"
	AuthNone        = "none"
)

// BasicClient is the client most modules use: the configured
// client_secret_basic client, or the plan's registered main client.
func (e *Env) BasicClient() ClientAuth {
	if e.Registered != nil {
		return e.Registered.Basic
	}
	return ClientAuth{Client: e.Config.Clients.SecretBasic, Method: AuthSecretBasic}
}

// PostClient is the client_secret_post client (check Configured).
func (e *Env) PostClient() ClientAuth {
	if e.Registered != nil {
		return e.Registered.Post
	}
	return ClientAuth{Client: e.Config.Clients.SecretPost, Method: AuthSecretPost}
}

// PublicClient is the public PKCE client (check Configured).
func (e *Env) PublicClient() ClientAuth {
	if e.Registered != nil {
		return e.Registered.Public
	}
	return ClientAuth{Client: e.Config.Clients.Public, Method: AuthNone}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// errNoProvider stands in when a module needs discovery and it failed.
var errNoProvider = errors.New("discovery failed")

// provider returns the discovered provider or fails the module.
func (t *T) provider() (*Provider, bool) {
	if t.Env.Provider == nil {
		err := t.Env.ProviderErr
		if err == nil {
			err = errNoProvider
		}
		t.Failf("cannot run without the discovery document: %v", err)
		return nil, false
	}
	return t.Env.Provider, true
}

// wait sleeps on the Env's clock, failing the module if the run is cancelled.
func (t *T) wait(d time.Duration) bool {
	if err := t.Env.Sleep(t.Ctx, d); err != nil {
		t.Failf("waiting %s: %v", d, err)
		return false
	}
	return true
}
