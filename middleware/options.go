package middleware

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Options configure a Verifier. Issuer and Audience are required.
type Options struct {
	// Issuer is the orgid issuer URL, exactly as its discovery document
	// states it (for example "https://id.example.com").
	Issuer string
	// Audience is this API's identifier; a token is accepted only if its
	// aud contains it. See the package documentation for how a client gets
	// tokens for it.
	Audience string
	// HTTPClient fetches discovery, the JWK Set and introspection; nil
	// means a client with a 10-second timeout.
	HTTPClient *http.Client
	// Introspection enables RFC 7662 introspection (optional).
	Introspection *IntrospectionConfig
	// Leeway is the clock skew tolerated on exp, nbf and iat; 0 means
	// DefaultLeeway, a negative value none.
	Leeway time.Duration
	// Now is the clock (nil: time.Now). It decides token expiry and the
	// pacing of JWK Set refreshes.
	Now func() time.Time
	// Logger receives why tokens were refused (never the tokens) and
	// refresh failures; nil discards.
	Logger *slog.Logger
	// MinRefreshInterval is the shortest time between two JWK Set
	// refreshes caused by unknown key ids; 0 means
	// DefaultMinRefreshInterval.
	MinRefreshInterval time.Duration
	// JWKSMaxAge is how old the cached JWK Set may grow before a
	// verification refreshes it; 0 means DefaultJWKSMaxAge.
	JWKSMaxAge time.Duration
}

// IntrospectionConfig are the credentials of the confidential client the
// API introspects with (client_secret_basic).
type IntrospectionConfig struct {
	ClientID     string
	ClientSecret string
	// OpaqueOnly introspects only tokens that are not JWTs; JWTs are then
	// verified offline alone and stay valid until they expire even when
	// revoked.
	OpaqueOnly bool
}

// Defaults of the zero Options fields.
const (
	DefaultLeeway             = 30 * time.Second
	DefaultMinRefreshInterval = 30 * time.Second
	DefaultJWKSMaxAge         = time.Hour
	defaultHTTPTimeout        = 10 * time.Second
)

// validate checks o and fills in the defaults.
func (o Options) validate() (Options, error) {
	var errs []error
	u, err := url.Parse(o.Issuer)
	switch {
	case o.Issuer == "":
		errs = append(errs, errors.New("Issuer is required"))
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "":
		errs = append(errs, fmt.Errorf("Issuer %q: want an http(s) URL without query or fragment", o.Issuer))
	}
	if o.Audience == "" {
		errs = append(errs, errors.New("Audience is required: the identifier this API's tokens are issued for"))
	}
	if ic := o.Introspection; ic != nil && (ic.ClientID == "" || ic.ClientSecret == "") {
		errs = append(errs, errors.New("Introspection needs ClientID and ClientSecret"))
	}
	if o.MinRefreshInterval < 0 || o.JWKSMaxAge < 0 {
		errs = append(errs, errors.New("MinRefreshInterval and JWKSMaxAge must not be negative"))
	}
	if len(errs) > 0 {
		return o, fmt.Errorf("middleware options: %w", errors.Join(errs...))
	}
	switch {
	case o.Leeway == 0:
		o.Leeway = DefaultLeeway
	case o.Leeway < 0:
		o.Leeway = 0
	}
	if o.MinRefreshInterval == 0 {
		o.MinRefreshInterval = DefaultMinRefreshInterval
	}
	if o.JWKSMaxAge == 0 {
		o.JWKSMaxAge = DefaultJWKSMaxAge
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: defaultHTTPTimeout}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}
