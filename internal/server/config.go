package server

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/orgid/orgid/internal/clientip"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/ui"
)

// Config is everything an orgid process is configured with. cmd/orgid fills
// it from flags and their ORGID_ environment twins; tests fill it directly.
type Config struct {
	// Listen is the address the HTTP server binds (":8080").
	Listen string
	// Issuer is the public base URL, the "iss" of every token.
	Issuer string
	// DatabaseURL is "sqlite:PATH" or "postgres://…".
	DatabaseURL string
	// DataDir holds the SQLite file by default and the generated
	// development secret when Secret is empty.
	DataDir string
	// Secret is the master secret that encrypts signing keys at rest and
	// keys the hashes of machine secrets. Empty in development only.
	Secret string
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// SigningAlgorithm is the algorithm of newly generated signing keys:
	// RS256 (default, required by OpenID Connect) or ES256.
	SigningAlgorithm string
	// KeyRotationInterval rotates the signing key on a schedule; 0 disables
	// scheduled rotation (orgid keys rotate still works).
	KeyRotationInterval time.Duration
	// AccessTokenLifetime, IDTokenLifetime, RefreshTokenLifetime and
	// AuthCodeLifetime bound the tokens orgid issues.
	AccessTokenLifetime  time.Duration
	IDTokenLifetime      time.Duration
	RefreshTokenLifetime time.Duration
	AuthCodeLifetime     time.Duration
	// SessionIdleTimeout ends a browser session after this long without
	// use; SessionMaxLifetime ends it regardless.
	SessionIdleTimeout time.Duration
	SessionMaxLifetime time.Duration
	// ShutdownTimeout bounds graceful shutdown.
	ShutdownTimeout time.Duration
	// RequireOrganization disables personal accounts: every session must
	// have an active organization.
	RequireOrganization bool
	// WebhookAllowPrivate lets webhooks reach private and loopback
	// addresses (development and tests only).
	WebhookAllowPrivate bool
	// Registration enables dynamic client registration: "off" (default),
	// "open" (anyone may register a client) or "token" (an initial access
	// token from `orgid registration-tokens create` is required).
	Registration string
	// EgressAllowHosts lets orgid's fetches of client-chosen URLs
	// (jwks_uri, sector_identifier_uri, request_uri) and back-channel
	// logout reach these otherwise refused hosts, IP addresses or CIDR
	// prefixes (development, e.g. 127.0.0.1).
	EgressAllowHosts []string
	// KeyReloadInterval is how often a replica reloads the signing keys
	// that another process (orgid keys rotate, another replica) changed.
	KeyReloadInterval time.Duration
	// WebhookLease is how long a worker holds a delivery it claimed; a
	// replica that dies mid-attempt leaves it to others after this.
	WebhookLease time.Duration
	// DisableSignUp removes the hosted sign-up page and account creation
	// through upstream identity providers: accounts come from operators.
	DisableSignUp bool
	// RequirePAR makes every client push its authorization requests
	// (RFC 9126) before sending the browser to the authorization endpoint.
	RequirePAR bool
	// RegistrationMaxPerIPPerHour and RegistrationMaxPerHour bound dynamic
	// client registration: requests per client address, and clients
	// registered overall, in an hour (0: no limit).
	RegistrationMaxPerIPPerHour int
	RegistrationMaxPerHour      int
	// TrustedProxies are the addresses or CIDR prefixes of reverse
	// proxies whose X-Forwarded-For orgid believes: the client address of
	// a request (throttling, session records) is then the right-most
	// forwarded address that is not a trusted proxy. Empty: the TCP peer.
	TrustedProxies []string
	// BrandName, BrandLogoURL (https or data:image/…), BrandAccentColor
	// and BrandBackgroundColor (#rgb or #rrggbb) theme the hosted pages;
	// empty fields keep orgid's look. See ui.Brand.
	BrandName            string
	BrandLogoURL         string
	BrandAccentColor     string
	BrandBackgroundColor string
	// SMTP sends mail; with no host, mail goes to <data-dir>/outbox.jsonl.
	SMTPHost     string
	SMTPPort     int
	SMTPUsername string
	SMTPPassword string
	SMTPFrom     string
}

// Defaults returns the configuration of `orgid serve` with no flags.
func Defaults() Config {
	return Config{
		Listen:                      ":8080",
		Issuer:                      "http://localhost:8080",
		DatabaseURL:                 storage.DefaultURL,
		DataDir:                     "./data",
		LogLevel:                    "info",
		SigningAlgorithm:            "RS256",
		KeyRotationInterval:         0,
		KeyReloadInterval:           30 * time.Second,
		Registration:                "off",
		RegistrationMaxPerIPPerHour: 100,
		RegistrationMaxPerHour:      1000,
		AccessTokenLifetime:         time.Hour,
		IDTokenLifetime:             time.Hour,
		RefreshTokenLifetime:        30 * 24 * time.Hour,
		AuthCodeLifetime:            5 * time.Minute,
		SessionIdleTimeout:          7 * 24 * time.Hour,
		SessionMaxLifetime:          30 * 24 * time.Hour,
		ShutdownTimeout:             15 * time.Second,
		WebhookLease:                2 * time.Minute,
	}
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen %q: %w", c.Listen, err))
	}
	if err := validateIssuer(c.Issuer); err != nil {
		errs = append(errs, err)
	}
	if !strings.HasPrefix(c.DatabaseURL, "sqlite:") && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		errs = append(errs, fmt.Errorf("database-url %q: want sqlite:PATH or postgres://…", storage.Redact(c.DatabaseURL)))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data-dir must not be empty"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	switch c.SigningAlgorithm {
	case "RS256", "ES256":
	default:
		errs = append(errs, fmt.Errorf("signing-algorithm %q: want RS256 or ES256", c.SigningAlgorithm))
	}
	for name, d := range map[string]time.Duration{
		"access-token-lifetime":  c.AccessTokenLifetime,
		"id-token-lifetime":      c.IDTokenLifetime,
		"refresh-token-lifetime": c.RefreshTokenLifetime,
		"auth-code-lifetime":     c.AuthCodeLifetime,
		"session-idle-timeout":   c.SessionIdleTimeout,
		"session-max-lifetime":   c.SessionMaxLifetime,
	} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive", name))
		}
	}
	if c.AuthCodeLifetime > 10*time.Minute {
		errs = append(errs, errors.New("auth-code-lifetime must not exceed 10m (RFC 9700)"))
	}
	if c.SMTPHost != "" && c.SMTPFrom == "" {
		errs = append(errs, errors.New("smtp-from is required with smtp-host"))
	}
	if c.KeyRotationInterval < 0 {
		errs = append(errs, errors.New("key-rotation-interval must not be negative"))
	}
	if c.KeyReloadInterval <= 0 || c.KeyReloadInterval > KeyPublishMargin {
		errs = append(errs, fmt.Errorf("key-reload-interval must be positive and at most %s", KeyPublishMargin))
	}
	if _, err := clientip.New(c.TrustedProxies); err != nil {
		errs = append(errs, fmt.Errorf("trusted-proxies: %w", err))
	}
	if c.RegistrationMaxPerIPPerHour < 0 || c.RegistrationMaxPerHour < 0 {
		errs = append(errs, errors.New("registration-max-per-ip-per-hour and registration-max-per-hour must not be negative (0: no limit)"))
	}
	switch c.Registration {
	case "off", "open", "token":
	default:
		errs = append(errs, fmt.Errorf("registration %q: want off, open or token", c.Registration))
	}
	if err := c.Brand().Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Brand is the theme of the hosted pages.
func (c Config) Brand() ui.Brand {
	return ui.Brand{Name: c.BrandName, LogoURL: c.BrandLogoURL, AccentColor: c.BrandAccentColor, BackgroundColor: c.BrandBackgroundColor}
}

func validateIssuer(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil {
		return fmt.Errorf("issuer %q: %w", issuer, err)
	}
	switch {
	case u.Scheme != "https" && !(u.Scheme == "http" && IsLoopbackHost(u.Hostname())):
		return fmt.Errorf("issuer %q: must be https (http only for localhost)", issuer)
	case u.Host == "":
		return fmt.Errorf("issuer %q: missing host", issuer)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("issuer %q: must not have a query or fragment", issuer)
	case strings.HasSuffix(u.Path, "/"):
		return fmt.Errorf("issuer %q: must not end with a slash", issuer)
	}
	return nil
}

// IsLoopbackHost reports whether host names this machine: localhost or a
// loopback IP literal.
func IsLoopbackHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// SQLitePath returns the database file for a sqlite: URL, for messages.
func (c Config) SQLitePath() string {
	p, ok := strings.CutPrefix(c.DatabaseURL, "sqlite:")
	if !ok {
		return ""
	}
	return filepath.Clean(p)
}
