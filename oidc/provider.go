package oidc

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"
	"github.com/ory/fosite/token/hmac"
	"github.com/ory/fosite/token/jwt"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/mail"
	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/oidc/keys"
	"github.com/orgid/orgid/templates"
	"github.com/orgid/orgid/tenancy"
	"github.com/orgid/orgid/ui"
)

// Config is what the protocol layer needs from the server configuration.
type Config struct {
	Issuer               string
	AccessTokenLifetime  time.Duration
	IDTokenLifetime      time.Duration
	RefreshTokenLifetime time.Duration
	AuthCodeLifetime     time.Duration
	// FlowLifetime bounds how long a user may take to sign in and consent.
	FlowLifetime time.Duration
	// SecureCookies sets the Secure attribute; off only for loopback
	// development over http.
	SecureCookies bool
	// RequireOrganization disables personal accounts: every grant has an
	// active organization, and users without one create or join one.
	RequireOrganization bool
	// Registration enables dynamic client registration (RFC 7591/7592):
	// RegistrationModeOff (default), RegistrationModeOpen or RegistrationModeToken
	// (an initial access token from RegistrationTokens is required).
	Registration string
	// EgressAllowHosts lets outbound fetches (jwks_uri,
	// sector_identifier_uri, request_uri) and back-channel logout reach
	// these otherwise refused hosts, addresses or CIDR prefixes
	// (development: the conformance runner on 127.0.0.1).
	EgressAllowHosts []string
	// DisableSignUp removes the hosted sign-up page (and new accounts from
	// upstream identity providers): accounts come from operators only.
	DisableSignUp bool
	// RequirePAR makes every client push its authorization requests
	// (RFC 9126); clients may also require it for themselves
	// (require_pushed_authorization_requests). PARLifetime is how long a
	// pushed request may start an authorization (default 90 s).
	RequirePAR  bool
	PARLifetime time.Duration
	// RegistrationMaxPerIPPerHour bounds the registration requests one
	// client address may send in an hour; RegistrationMaxPerHour the
	// clients registered in an hour, from anywhere. 0 is no limit.
	RegistrationMaxPerIPPerHour int
	RegistrationMaxPerHour      int
}

// Dynamic registration modes (Config.Registration).
const (
	RegistrationModeOff   = "off"
	RegistrationModeOpen  = "open"
	RegistrationModeToken = "token"
)

// Provider is orgid's OpenID Provider: fosite configured with orgid's
// storage, keys and policies, plus the endpoints fosite leaves to its user
// (discovery, JWKS, userinfo, sign-in, consent, logout).
type Provider struct {
	cfg       Config
	oauth     fosite.OAuth2Provider
	fcfg      *fosite.Config
	store     *store
	clients   *Clients
	keys      *keys.Manager
	identity  *identity.Service
	tenancy   *tenancy.Service
	templates *templates.Service
	secrets   *secret.Keyring
	pages     *ui.Renderer
	log       *slog.Logger
	now       func() time.Time
	metrics   *metrics
	csrf      *http.CrossOriginProtection
	// fosite is the composed provider, for its default client
	// authentication; oauth is the same value.
	fosite *fosite.Fosite
	// egress fetches URLs clients chose; jwks caches their key sets.
	egress             *http.Client
	jwks               *jwksFetcher
	registrationTokens *RegistrationTokens
	// limits are the database-backed rate limits (device code entry,
	// registration).
	limits *rateLimits
	// logoutKick wakes the back-channel logout worker of this process
	// after a session ended here.
	logoutKick chan struct{}
	// mailer sends the sign-in pages' codes and links; mailing tracks the
	// messages being sent in the background (FlushMail).
	mailer  mail.Mailer
	mailing sync.WaitGroup

	discovery []byte
}

// Deps are the collaborators a Provider is built from.
type Deps struct {
	DB        *bun.DB
	Secrets   *secret.Keyring
	Keys      *keys.Manager
	Identity  *identity.Service
	Tenancy   *tenancy.Service
	Templates *templates.Service
	Clients   *Clients
	Pages     *ui.Renderer
	Logger    *slog.Logger
	Metrics   prometheus.Registerer
	Now       func() time.Time
	// HTTPClient makes outbound requests to URLs clients chose; nil means
	// an internal/egress client with Config.EgressAllowHosts.
	HTTPClient *http.Client
	// Mailer sends verification codes, password reset and sign-in links;
	// nil disables the pages that need mail (sign-up, password reset,
	// magic links).
	Mailer mail.Mailer
}

// NewProvider assembles the provider. It registers the handler for session
// ends with identity is the caller's job (see SessionEnded).
func NewProvider(cfg Config, d Deps) (*Provider, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if cfg.FlowLifetime == 0 {
		cfg.FlowLifetime = 30 * time.Minute
	}
	p := &Provider{
		cfg: cfg, clients: d.Clients, keys: d.Keys, identity: d.Identity, tenancy: d.Tenancy, templates: d.Templates, secrets: d.Secrets,
		pages: d.Pages, log: d.Logger, now: func() time.Time { return d.Now().UTC() },
		mailer: d.Mailer,
	}
	p.store = &store{db: d.DB, clients: d.Clients, now: p.now, flowLifetime: cfg.FlowLifetime}
	p.csrf = http.NewCrossOriginProtection()
	switch cfg.Registration {
	case "":
		p.cfg.Registration = RegistrationModeOff
	case RegistrationModeOff, RegistrationModeOpen, RegistrationModeToken:
	default:
		return nil, fmt.Errorf("oidc: unknown registration mode %q (off, open or token)", cfg.Registration)
	}
	p.egress = d.HTTPClient
	if p.egress == nil {
		p.egress = newEgressClient(cfg.EgressAllowHosts)
	}
	p.jwks = newJWKSFetcher(p.egress, p.now)
	p.registrationTokens = NewRegistrationTokens(d.DB, d.Secrets, p.now)
	p.limits = &rateLimits{db: d.DB, keys: d.Secrets, now: p.now}
	p.logoutKick = make(chan struct{}, 1)
	m, err := newMetrics(d.Metrics)
	if err != nil {
		return nil, err
	}
	p.metrics = m
	p.fcfg = p.fositeConfig(d.Secrets)
	p.oauth = p.compose()
	if p.discovery, err = p.discoveryDocument(); err != nil {
		return nil, err
	}
	return p, nil
}

// fositeConfig is fosite's configuration with orgid's policies: exact
// scopes and audiences, PKCE S256 required for public clients and plain
// refused, state of at least 8 characters, no debug detail to clients, and client
// secrets compared as keyed hashes instead of bcrypt.
func (p *Provider) fositeConfig(kr *secret.Keyring) *fosite.Config {
	return &fosite.Config{
		AccessTokenLifespan:            p.cfg.AccessTokenLifetime,
		RefreshTokenLifespan:           p.cfg.RefreshTokenLifetime,
		AuthorizeCodeLifespan:          p.cfg.AuthCodeLifetime,
		IDTokenLifespan:                p.cfg.IDTokenLifetime,
		IDTokenIssuer:                  p.cfg.Issuer,
		AccessTokenIssuer:              p.cfg.Issuer,
		TokenURL:                       p.cfg.Issuer + PathToken,
		ScopeStrategy:                  fosite.ExactScopeStrategy,
		AudienceMatchingStrategy:       fosite.ExactAudienceMatchingStrategy,
		EnforcePKCE:                    false,
		EnforcePKCEForPublicClients:    true,
		EnablePKCEPlainChallengeMethod: false,
		SendDebugMessagesToClients:     false,
		MinParameterEntropy:            fosite.MinParameterEntropy,
		GlobalSecret:                   []byte(kr.Hash("fosite-global-secret")),
		RefreshTokenScopes:             []string{"offline_access", "offline"},
		ClientSecretsHasher:            secretHasher{keys: kr},
		JWTScopeClaimKey:               jwt.JWTScopeFieldString,
		FormPostHTMLTemplate:           formPostTemplate,
		AllowedPromptValues:            []string{"login", "none", "consent", "select_account"},
		RedirectSecureChecker:          fosite.IsRedirectURISecure,
		// fosite's own fetcher has no SSRF protection; orgid verifies
		// assertions and request objects itself, but fosite must never
		// fetch with a client of its own either.
		JWKSFetcherStrategy:          p.jwks,
		ClientAuthenticationStrategy: p.authenticateClient,
	}
}

// compose builds fosite's handlers in dependency order: the code handler
// first, OpenID Connect after it (it reads the code's session), PKCE last.
func (p *Provider) compose() fosite.OAuth2Provider {
	cfg := p.fcfg
	hmacStrategy := oauth2.NewHMACSHAStrategy(&hmac.HMACStrategy{Config: cfg}, cfg)
	signer := p.keys.FositeSigner()
	tokens := &accessTokenStrategy{
		DefaultJWTStrategy: &oauth2.DefaultJWTStrategy{Signer: signer, HMACSHAStrategy: hmacStrategy, Config: cfg},
		issuer:             p.cfg.Issuer,
		now:                p.now,
	}
	idTokens := &openid.DefaultStrategy{Signer: signer, Config: cfg}
	validator := openid.NewOpenIDConnectRequestValidator(signer, cfg)

	explicit := &oauth2.AuthorizeExplicitGrantHandler{
		AccessTokenStrategy: tokens, RefreshTokenStrategy: tokens, AuthorizeCodeStrategy: tokens,
		CoreStorage: p.store, TokenRevocationStorage: p.store, Config: cfg,
	}
	clientCredentials := &oauth2.ClientCredentialsGrantHandler{
		HandleHelper: &oauth2.HandleHelper{AccessTokenStrategy: tokens, AccessTokenStorage: p.store, Config: cfg},
		Config:       cfg,
	}
	refresh := &oauth2.RefreshTokenGrantHandler{
		AccessTokenStrategy: tokens, RefreshTokenStrategy: tokens, TokenRevocationStorage: p.store, Config: cfg,
	}
	oidcExplicit := &openid.OpenIDConnectExplicitHandler{
		IDTokenHandleHelper:           &openid.IDTokenHandleHelper{IDTokenStrategy: idTokens},
		OpenIDConnectRequestStorage:   p.store,
		OpenIDConnectRequestValidator: validator,
		Config:                        cfg,
	}
	oidcRefresh := &openid.OpenIDConnectRefreshHandler{
		IDTokenHandleHelper: &openid.IDTokenHandleHelper{IDTokenStrategy: idTokens},
		Config:              cfg,
	}
	revocation := &oauth2.TokenRevocationHandler{
		TokenRevocationStorage: p.store, AccessTokenStrategy: tokens, RefreshTokenStrategy: tokens,
	}
	introspection := &oauth2.CoreValidator{CoreStrategy: tokens, CoreStorage: p.store, Config: cfg}
	pkceHandler := &pkce.Handler{AuthorizeCodeStrategy: tokens, Storage: p.store, Config: cfg}

	cfg.AuthorizeEndpointHandlers = fosite.AuthorizeEndpointHandlers{explicit, oidcExplicit, pkceHandler}
	device := &deviceGrant{p: p, tokens: tokens, idTokens: &openid.IDTokenHandleHelper{IDTokenStrategy: idTokens}}
	cfg.TokenEndpointHandlers = fosite.TokenEndpointHandlers{explicit, clientCredentials, refresh, oidcExplicit, oidcRefresh, pkceHandler, tokenExchange{p: p}, device}
	cfg.TokenIntrospectionHandlers = fosite.TokenIntrospectionHandlers{introspection}
	cfg.RevocationHandlers = fosite.RevocationHandlers{revocation}
	p.fosite = fosite.NewOAuth2Provider(p.store, cfg)
	return p.fosite
}

// secretHasher compares client secrets as keyed SHA-256 hashes: they are
// 256-bit random values, so a slow hash would only cost CPU on every
// token request.
type secretHasher struct{ keys *secret.Keyring }

func (h secretHasher) Hash(_ context.Context, data []byte) ([]byte, error) {
	return []byte(h.keys.Hash(string(data))), nil
}

func (h secretHasher) Compare(_ context.Context, hash, data []byte) error {
	if len(hash) == 0 || !h.keys.Verify(string(data), string(hash)) {
		return fosite.ErrInvalidClient
	}
	return nil
}

// accessTokenStrategy issues RFC 9068 JWT access tokens — fosite's JWT
// strategy, plus iat and iss, and the issuer as audience when the grant
// named none (RFC 9068 requires aud; orgid's userinfo is then the
// resource) — or, for clients that chose access_token_format opaque,
// fosite's HMAC tokens, which only introspection can read. Both kinds are
// stored by signature, so userinfo, introspection, revocation and token
// exchange treat them alike; a token's shape (a JWS has three segments,
// an HMAC token two) tells which strategy validates it.
type accessTokenStrategy struct {
	*oauth2.DefaultJWTStrategy
	issuer string
	now    func() time.Time
}

// isJWT reports whether an access token is a compact JWS.
func isJWT(token string) bool { return strings.Count(token, ".") == 2 }

func (s *accessTokenStrategy) AccessTokenSignature(ctx context.Context, token string) string {
	if isJWT(token) {
		return s.DefaultJWTStrategy.AccessTokenSignature(ctx, token)
	}
	return s.HMACSHAStrategy.AccessTokenSignature(ctx, token)
}

func (s *accessTokenStrategy) ValidateAccessToken(ctx context.Context, r fosite.Requester, token string) error {
	if isJWT(token) {
		return s.DefaultJWTStrategy.ValidateAccessToken(ctx, r, token)
	}
	return s.HMACSHAStrategy.ValidateAccessToken(ctx, r, token)
}

func (s *accessTokenStrategy) GenerateAccessToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	if c, ok := r.GetClient().(*Client); ok && c.Metadata.AccessTokenFormat == AccessTokenOpaque {
		return s.HMACSHAStrategy.GenerateAccessToken(ctx, r)
	}
	sess, ok := r.GetSession().(oauth2.JWTSessionContainer)
	if !ok {
		return "", "", fmt.Errorf("session %T cannot carry JWT claims", r.GetSession())
	}
	aud := r.GetGrantedAudience()
	if len(aud) == 0 {
		aud = fosite.Arguments{s.issuer}
	}
	claims := sess.GetJWTClaims().
		With(sess.GetExpiresAt(fosite.AccessToken), r.GetGrantedScopes(), aud).
		WithDefaults(s.now(), s.issuer).
		WithScopeField(jwt.JWTScopeFieldString).
		ToMapClaims()
	if scope, _ := claims["scope"].(string); scope == "" {
		delete(claims, "scope")
	}
	return s.Signer.Generate(ctx, claims, sess.GetJWTHeader())
}

// Handler routes are mounted by Routes; paths are public contract.
const (
	PathAuthorize     = "/oauth2/authorize"
	PathToken         = "/oauth2/token"
	PathUserinfo      = "/oauth2/userinfo"
	PathIntrospect    = "/oauth2/introspect"
	PathRevoke        = "/oauth2/revoke"
	PathJWKS          = "/.well-known/jwks.json"
	PathEndSession    = "/oauth2/logout"
	PathDiscovery     = "/.well-known/openid-configuration"
	PathASMetadata    = "/.well-known/oauth-authorization-server"
	PathSignIn        = "/sign-in"
	PathSignOut       = "/sign-out"
	PathConsent       = "/consent"
	PathResume        = "/oauth2/authorize/resume"
	PathRegister      = "/oauth2/register"
	cookieSession     = "orgid_session"
	cookieBrowser     = "orgid_browser"
	defaultUIPathHome = "/"
)

// RevokeSessionTokens returns the identity.OnSessionEnded hook that
// revokes the tokens of a browser session that ended (sign-out,
// revocation, expiry, user deletion), inside the transaction that ends it.
// It needs only the database, so the CLI ends sessions as the server does.
func RevokeSessionTokens(db *bun.DB) func(ctx context.Context, sess *identity.Session) error {
	s := &store{db: db}
	return func(ctx context.Context, sess *identity.Session) error {
		return s.revokeSession(ctx, sess.ID)
	}
}

// DeleteExpired removes codes, tokens and flows past their expiry.
func (p *Provider) DeleteExpired(ctx context.Context) (int64, error) {
	n, err := p.store.deleteExpired(ctx)
	if err != nil {
		return n, err
	}
	// Every rate limit window is shorter than a day.
	pruned, err := p.limits.prune(ctx, p.now().Add(-24*time.Hour))
	return n + pruned, err
}
