package identity

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/egress"
	"github.com/orgid/orgid/internal/secret"
)

// Events records a webhook event in the caller's transaction (ctx carries
// it). Package webhook implements it; data is the resource's JSON form.
type Events interface {
	Emit(ctx context.Context, eventType string, data any) error
}

// Options configure a Service. Only Keys is required.
type Options struct {
	// Keys hashes session tokens and throttle keys.
	Keys *secret.Keyring
	// Events receives user.* and session.* events; nil emits none.
	Events Events
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// SessionIdleTimeout ends a session unused this long (default 7 days);
	// SessionMaxLifetime ends it this long after sign-in regardless
	// (default 30 days).
	SessionIdleTimeout, SessionMaxLifetime time.Duration
	// PasswordParams are the argon2id parameters of new hashes; nil means
	// DefaultPasswordParams. Hashes made with other parameters are
	// upgraded at the next successful sign-in.
	PasswordParams *PasswordParams
	// Throttle limits failed sign-ins; zero fields take the defaults.
	Throttle ThrottlePolicy
	// OnSessionEnded hooks run, in order, inside the transaction that ends,
	// revokes or expires a session (package oidc revokes the session's
	// tokens there). An error rolls the ending back.
	OnSessionEnded []func(ctx context.Context, s *Session) error
	// Logger receives problems that do not fail the call (a password hash
	// that could not be upgraded); nil discards them.
	Logger *slog.Logger
	// WebAuthn is the relying party of passkeys; nil offers none.
	WebAuthn *WebAuthnConfig
	// HTTPClient reaches upstream identity providers; nil means an
	// internal/egress client (public addresses only).
	HTTPClient *http.Client
	// MaxConcurrentHashes bounds the argon2id computations running at once,
	// each of which holds PasswordParams.Memory KiB; 0 means twice
	// GOMAXPROCS. Further sign-ins wait for a slot.
	MaxConcurrentHashes int
}

// Default session lifetimes, matching server.Defaults.
const (
	DefaultSessionIdleTimeout = 7 * 24 * time.Hour
	DefaultSessionMaxLifetime = 30 * 24 * time.Hour
)

// Service is the identity API. It is safe for concurrent use.
type Service struct {
	db       *bun.DB
	keys     *secret.Keyring
	events   Events
	now      func() time.Time
	idle     time.Duration
	lifetime time.Duration
	params   PasswordParams
	throttle ThrottlePolicy
	hooks    []func(ctx context.Context, s *Session) error
	hashSlot chan struct{}
	logger   *slog.Logger
	webauthn *webauthn.WebAuthn
	// httpClient reaches upstream providers; upstream caches their
	// discovery documents.
	httpClient *http.Client
	upstream   *upstreamCache

	// dummyHash is verified when the user is unknown or has no password, so
	// that such a sign-in costs what a wrong password costs.
	dummyOnce sync.Once
	dummyHash string
}

// New returns a Service on db. It panics when opts.Keys is nil or
// opts.PasswordParams are out of range: wiring mistakes that no request
// could recover from.
func New(db *bun.DB, opts Options) *Service {
	if opts.Keys == nil {
		panic("identity.New: Options.Keys is required")
	}
	s := &Service{
		db:       db,
		keys:     opts.Keys,
		events:   opts.Events,
		now:      opts.Now,
		idle:     opts.SessionIdleTimeout,
		lifetime: opts.SessionMaxLifetime,
		params:   DefaultPasswordParams(),
		throttle: opts.Throttle.withDefaults(),
		hooks:    opts.OnSessionEnded,
		logger:   opts.Logger,
	}
	if s.logger == nil {
		s.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.idle <= 0 {
		s.idle = DefaultSessionIdleTimeout
	}
	if s.lifetime <= 0 {
		s.lifetime = DefaultSessionMaxLifetime
	}
	if opts.PasswordParams != nil {
		s.params = *opts.PasswordParams
	}
	if err := s.params.validate(); err != nil {
		panic("identity.New: Options.PasswordParams: " + err.Error())
	}
	wa, err := newWebAuthn(opts.WebAuthn)
	if err != nil {
		panic("identity.New: Options.WebAuthn: " + err.Error())
	}
	s.webauthn = wa
	s.httpClient = opts.HTTPClient
	if s.httpClient == nil {
		s.httpClient = egress.NewClient(egress.Options{})
	}
	s.upstream = &upstreamCache{m: map[string]cachedProvider{}}
	n := opts.MaxConcurrentHashes
	if n <= 0 {
		n = 2 * runtime.GOMAXPROCS(0)
	}
	s.hashSlot = make(chan struct{}, n)
	return s
}

// clock returns the current time in UTC, truncated to the microsecond that
// PostgreSQL keeps, so that a value returned equals the value read back.
func (s *Service) clock() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

// emit records an event when an Events sink is configured.
func (s *Service) emit(ctx context.Context, eventType string, data any) error {
	if s.events == nil {
		return nil
	}
	if err := s.events.Emit(ctx, eventType, data); err != nil {
		return fmt.Errorf("emit %s: %w", eventType, err)
	}
	return nil
}

// deletedJSON is the data of a *.deleted event.
type deletedJSON struct {
	Object  string `json:"object"`
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
}
