package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// DefaultRedirectURI is the redirect URI the runner listens on when the
// configuration names none. Register it for every client the run uses.
const DefaultRedirectURI = "http://127.0.0.1:9797/callback"

// Config is everything a run needs to know about the provider under test.
// It is read from a JSON file (LoadConfig) and/or filled from flags.
type Config struct {
	// Issuer is the provider's issuer URL; discovery is fetched from
	// Issuer + "/.well-known/openid-configuration".
	Issuer string `json:"issuer"`
	// RedirectURI is registered for every client; the runner listens on it
	// (loopback only) and receives the authorization responses there.
	RedirectURI string  `json:"redirect_uri"`
	Clients     Clients `json:"clients"`
	// User signs in during the run.
	User  User      `json:"user"`
	Login LoginForm `json:"login"`

	// LoginHint is sent by the login_hint module (default: User.Identifier).
	LoginHint string `json:"login_hint,omitempty"`
	// UILocales and ClaimsLocales are sent by their modules (default "se",
	// as in the OpenID Foundation suite).
	UILocales     string `json:"ui_locales,omitempty"`
	ClaimsLocales string `json:"claims_locales,omitempty"`
	// ACRValues is sent by the acr_values module (default: the provider's
	// acr_values_supported, else "1 2").
	ACRValues string `json:"acr_values,omitempty"`
	// Timeout bounds every HTTP request the runner makes (default 30s).
	Timeout Duration `json:"timeout,omitempty"`

	// Registration is how the plans that register their own clients
	// (dynamic, rp-logout, frontchannel-logout, backchannel-logout) use
	// the provider's registration endpoint.
	Registration Registration `json:"registration,omitempty"`
	// RotateKeysCommand makes the provider rotate its signing keys for
	// oidcc-server-rotate-keys; it runs with sh -c (for orgid:
	// "orgid keys rotate" with the server's configuration in the
	// environment). Empty: the module is skipped.
	RotateKeysCommand string `json:"rotate_keys_command,omitempty"`
	// KeyRotationWait bounds how long the module waits for the rotated key
	// to appear in the JWKS (default 90s).
	KeyRotationWait Duration `json:"key_rotation_wait,omitempty"`
	// JWKSRefreshDelay is how long oidcc-refresh-token-rp-key-rotation
	// waits after rotating the runner's own key, so that a provider that
	// rate-limits fetching a jwks_uri fetches it again (default 10s).
	JWKSRefreshDelay Duration `json:"jwks_refresh_delay,omitempty"`
	// LogoutWait bounds how long the back-channel logout module waits for
	// the provider's notification (default 30s).
	LogoutWait Duration `json:"logout_wait,omitempty"`
}

// Registration configures dynamic client registration (RFC 7591).
type Registration struct {
	// InitialAccessToken is sent as a bearer token when the provider
	// requires one.
	InitialAccessToken string `json:"initial_access_token,omitempty"`
	// ApplicationType is registered for the runner's clients; default
	// "native", because the runner's redirect URI is loopback http, which
	// OpenID Connect Registration allows native clients only.
	ApplicationType string `json:"application_type,omitempty"`
}

// Clients are the clients registered at the provider for the run. Each
// must have RedirectURI registered and the authorization_code grant (and
// refresh_token, for the refresh module).
type Clients struct {
	// SecretBasic authenticates with client_secret_basic; most modules use it.
	SecretBasic Client `json:"client_secret_basic"`
	// SecretPost authenticates with client_secret_post; the client_secret_post
	// module uses it, and the refresh module uses it as the second client.
	SecretPost Client `json:"client_secret_post"`
	// Public is a public client (token_endpoint_auth_method none) that must
	// use PKCE; the PKCE module uses it when it is configured.
	Public Client `json:"public"`
}

// Client is one registered client.
type Client struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
}

// Configured reports whether a client id was given.
func (c Client) Configured() bool { return c.ClientID != "" }

// User is the test user.
type User struct {
	Identifier string `json:"identifier"`
	Password   string `json:"password"`
	// Claims the provider must return for the user when the matching scope is
	// granted (for example "email", "given_name", "address"). Modules check
	// each listed claim whose scope they request; unlisted claims are only
	// checked for their type.
	Claims map[string]any `json:"claims,omitempty"`
}

// LoginForm describes the provider's HTML pages so that the browserless
// driver can get through them. The zero value (after Defaults) is orgid's
// hosted form contract: inputs "identifier" and "password", consent buttons
// name="action" value="allow", organization chooser field "org_id".
type LoginForm struct {
	// URLPattern, a regular expression, must match the URL of a page before
	// its form is treated as the login form. Empty: any page whose form has
	// the identifier or password field.
	URLPattern string `json:"url_pattern,omitempty"`
	// IdentifierField and PasswordField are the inputs' names. A form with
	// only one of them is filled too (two-step sign-in).
	IdentifierField string `json:"identifier_field,omitempty"`
	PasswordField   string `json:"password_field,omitempty"`
	// ExtraFields are set on the login form as given (for example a
	// "remember" checkbox or a tenant name).
	ExtraFields map[string]string `json:"extra_fields,omitempty"`
	// Submit is the button to click on the login form; empty: the form's
	// first submit button.
	Submit Button `json:"submit,omitempty"`
	// Consent is the button that grants consent. A page whose form has it is
	// a consent page.
	Consent Button `json:"consent,omitempty"`
	// OrganizationField names the organization chooser's field; the driver
	// posts its first value.
	OrganizationField string `json:"organization_field,omitempty"`
	// LogoutConfirm is the button that confirms a sign-out on the
	// provider's logout confirmation page.
	LogoutConfirm Button `json:"logout_confirm,omitempty"`
}

// Button names a submit control by name and value.
type Button struct {
	Name  string `json:"name,omitempty"`
	Value string `json:"value,omitempty"`
}

// Duration is a time.Duration written as a Go duration string in JSON ("30s").
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "30s" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("duration: want a string such as \"30s\" or seconds, got %s", b)
	}
	*d = Duration(time.Duration(secs * float64(time.Second)))
	return nil
}

// LoadConfig reads a JSON configuration file. Unknown fields are an error,
// so that a misspelt field is not silently ignored.
func LoadConfig(path string) (Config, error) {
	var c Config
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("read conformance config: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("parse conformance config %s: %w", path, err)
	}
	return c, nil
}

// WithDefaults returns the configuration with every empty optional field
// set to its default.
func (c Config) WithDefaults() Config {
	c.Issuer = strings.TrimSpace(c.Issuer)
	if c.RedirectURI == "" {
		c.RedirectURI = DefaultRedirectURI
	}
	l := &c.Login
	if l.IdentifierField == "" {
		l.IdentifierField = "identifier"
	}
	if l.PasswordField == "" {
		l.PasswordField = "password"
	}
	if l.Consent == (Button{}) {
		l.Consent = Button{Name: "action", Value: "allow"}
	}
	if l.OrganizationField == "" {
		l.OrganizationField = "org_id"
	}
	if l.LogoutConfirm == (Button{}) {
		l.LogoutConfirm = Button{Name: "action", Value: "logout"}
	}
	if c.Registration.ApplicationType == "" {
		c.Registration.ApplicationType = "native"
	}
	if c.KeyRotationWait == 0 {
		c.KeyRotationWait = Duration(90 * time.Second)
	}
	if c.JWKSRefreshDelay == 0 {
		c.JWKSRefreshDelay = Duration(10 * time.Second)
	}
	if c.LogoutWait == 0 {
		c.LogoutWait = Duration(30 * time.Second)
	}
	if c.LoginHint == "" {
		c.LoginHint = c.User.Identifier
	}
	if c.UILocales == "" {
		c.UILocales = "se"
	}
	if c.ClaimsLocales == "" {
		c.ClaimsLocales = "se"
	}
	if c.Timeout == 0 {
		c.Timeout = Duration(30 * time.Second)
	}
	return c
}

// Validate reports every problem with the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.Issuer); c.Issuer == "" || err != nil || !u.IsAbs() || u.Host == "" {
		errs = append(errs, fmt.Errorf("issuer %q: want an absolute URL", c.Issuer))
	} else if u.RawQuery != "" || u.Fragment != "" {
		errs = append(errs, fmt.Errorf("issuer %q: must have no query or fragment", c.Issuer))
	}
	if err := checkRedirectURI(c.RedirectURI); err != nil {
		errs = append(errs, err)
	}
	if !c.Clients.SecretBasic.Configured() || c.Clients.SecretBasic.ClientSecret == "" {
		errs = append(errs, errors.New("clients.client_secret_basic: client_id and client_secret are required"))
	}
	if c.Clients.SecretPost.Configured() && c.Clients.SecretPost.ClientSecret == "" {
		errs = append(errs, errors.New("clients.client_secret_post: client_secret is required"))
	}
	if c.Clients.Public.ClientSecret != "" {
		errs = append(errs, errors.New("clients.public: a public client has no client_secret"))
	}
	if c.User.Identifier == "" || c.User.Password == "" {
		errs = append(errs, errors.New("user: identifier and password are required"))
	}
	if c.Login.URLPattern != "" {
		if _, err := regexp.Compile(c.Login.URLPattern); err != nil {
			errs = append(errs, fmt.Errorf("login.url_pattern: %w", err))
		}
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("timeout: must not be negative"))
	}
	if c.KeyRotationWait < 0 || c.JWKSRefreshDelay < 0 || c.LogoutWait < 0 {
		errs = append(errs, errors.New("key_rotation_wait, jwks_refresh_delay and logout_wait must not be negative"))
	}
	switch c.Registration.ApplicationType {
	case "", "web", "native":
	default:
		errs = append(errs, fmt.Errorf("registration.application_type %q: want web or native", c.Registration.ApplicationType))
	}
	return errors.Join(errs...)
}

// checkRedirectURI accepts only loopback http(s) URLs with an explicit port:
// the runner must be able to listen there itself.
func checkRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return fmt.Errorf("redirect_uri %q: want an absolute URL", raw)
	}
	if u.Scheme != "http" {
		return fmt.Errorf("redirect_uri %q: the runner serves plain http on loopback", raw)
	}
	if u.Fragment != "" {
		return fmt.Errorf("redirect_uri %q: must not have a fragment", raw)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" || port == "0" {
		return fmt.Errorf("redirect_uri %q: needs an explicit port (it is registered at the provider)", raw)
	}
	if host != "localhost" {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("redirect_uri %q: host must be a loopback address", raw)
		}
	}
	return nil
}
