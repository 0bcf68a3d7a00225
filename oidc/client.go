package oidc

import (
	"time"

	jose3 "github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"
)

// Client is a registered OAuth 2.0 client. It implements the fosite client
// interfaces, so fosite reads its registration directly.
type Client struct {
	ID   string
	Name string
	// SecretHash is the keyed hash of the client secret; empty for public
	// clients.
	SecretHash string
	Public     bool
	// FirstParty clients belong to the operator: their users are not asked
	// for consent.
	FirstParty bool
	Metadata   ClientMetadata
	CreatedAt  time.Time
	UpdatedAt  time.Time

	// secretSealed is the secret of a client_secret_jwt client, sealed
	// with the keyring; registrationTokenHash the keyed hash of a
	// dynamically registered client's registration access token.
	secretSealed          []byte
	registrationTokenHash string
}

// Dynamic reports whether the client registered itself (RFC 7591).
func (c *Client) Dynamic() bool { return c.registrationTokenHash != "" }

// ClientMetadata is everything a client registers beyond its identity, with
// RFC 7591 / OpenID Connect Dynamic Registration names where one exists.
type ClientMetadata struct {
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	GrantTypes             []string `json:"grant_types"`
	ResponseTypes          []string `json:"response_types"`
	// ResponseModes the client may ask for; empty means query, fragment and
	// form_post (each still only with response types it is safe for).
	ResponseModes []string `json:"response_modes,omitempty"`
	Scopes        []string `json:"scopes"`
	// Audience lists the resource servers the client may request tokens
	// for; access tokens without a requested audience are for the issuer.
	Audience                []string `json:"audience,omitempty"`
	WebOrigins              []string `json:"web_origins,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	// RefreshGracePeriod tolerates the client's own concurrent refreshes:
	// a rotated refresh token stays usable this long (0: strict).
	RefreshGracePeriodSeconds int `json:"refresh_grace_period_seconds,omitempty"`
	// AccessTokenFormat is AccessTokenJWT (RFC 9068, the default when
	// empty) or AccessTokenOpaque (random tokens that resource servers
	// introspect).
	AccessTokenFormat string `json:"access_token_format,omitempty"`
	// IDTokenSignedResponseAlg chooses the key that signs ID tokens.
	IDTokenSignedResponseAlg string `json:"id_token_signed_response_alg,omitempty"`

	// Templates (package templates) shaping token claims.
	IDTokenTemplate     string   `json:"id_token_template,omitempty"`
	AccessTokenTemplate string   `json:"access_token_template,omitempty"`
	AllowedTemplates    []string `json:"allowed_templates,omitempty"`

	// Client authentication with keys (private_key_jwt) and request objects.
	JWKSURI                     string               `json:"jwks_uri,omitempty"`
	JWKS                        *jose3.JSONWebKeySet `json:"jwks,omitempty"`
	TokenEndpointAuthSigningAlg string               `json:"token_endpoint_auth_signing_alg,omitempty"`
	RequestURIs                 []string             `json:"request_uris,omitempty"`
	RequestObjectSigningAlg     string               `json:"request_object_signing_alg,omitempty"`
	// RequirePushedAuthorizationRequests: the client starts authorizations
	// only through the PAR endpoint (RFC 9126 §6).
	RequirePushedAuthorizationRequests bool `json:"require_pushed_authorization_requests,omitempty"`

	// OpenID Connect Dynamic Client Registration 1.0 §2 and RFC 7591 §2.
	// ApplicationType is "web" (default) or "native"; native clients may
	// use loopback http and custom-scheme redirect URIs.
	ApplicationType string   `json:"application_type,omitempty"`
	ClientURI       string   `json:"client_uri,omitempty"`
	LogoURI         string   `json:"logo_uri,omitempty"`
	PolicyURI       string   `json:"policy_uri,omitempty"`
	TOSURI          string   `json:"tos_uri,omitempty"`
	Contacts        []string `json:"contacts,omitempty"`
	SoftwareID      string   `json:"software_id,omitempty"`
	SoftwareVersion string   `json:"software_version,omitempty"`
	// SubjectType is "public" (default) or "pairwise". A pairwise client's
	// users are known to it by a subject derived from SectorIdentifier.
	SubjectType         string `json:"subject_type,omitempty"`
	SectorIdentifierURI string `json:"sector_identifier_uri,omitempty"`
	// SectorIdentifier is the host pairwise subjects are computed for: the
	// sector_identifier_uri's host, else the redirect URIs' single host.
	// orgid computes it; clients cannot set it.
	SectorIdentifier string `json:"sector_identifier,omitempty"`
	// UserinfoSignedResponseAlg makes userinfo answer with a signed JWT
	// (application/jwt) instead of JSON.
	UserinfoSignedResponseAlg string `json:"userinfo_signed_response_alg,omitempty"`
	// DefaultMaxAge applies when an authorization request has no max_age
	// (seconds; 0: none). RequireAuthTime asks for auth_time in every ID
	// token, which orgid always sends.
	DefaultMaxAge    int      `json:"default_max_age,omitempty"`
	RequireAuthTime  bool     `json:"require_auth_time,omitempty"`
	DefaultACRValues []string `json:"default_acr_values,omitempty"`
	InitiateLoginURI string   `json:"initiate_login_uri,omitempty"`

	// Front-channel (OpenID Connect Front-Channel Logout 1.0) and
	// back-channel (Back-Channel Logout 1.0) logout receivers.
	FrontchannelLogoutURI             string `json:"frontchannel_logout_uri,omitempty"`
	FrontchannelLogoutSessionRequired bool   `json:"frontchannel_logout_session_required,omitempty"`
	BackchannelLogoutURI              string `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired  bool   `json:"backchannel_logout_session_required,omitempty"`
}

// Grant types and methods orgid knows.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantImplicit          = "implicit"

	AuthMethodBasic      = "client_secret_basic"
	AuthMethodPost       = "client_secret_post"
	AuthMethodSecretJWT  = "client_secret_jwt"
	AuthMethodPrivateKey = "private_key_jwt"
	AuthMethodNone       = "none"

	SubjectPublic   = "public"
	SubjectPairwise = "pairwise"

	ApplicationWeb    = "web"
	ApplicationNative = "native"

	AccessTokenJWT    = "jwt"
	AccessTokenOpaque = "opaque"
)

var (
	_ fosite.Client              = (*Client)(nil)
	_ fosite.OpenIDConnectClient = (*Client)(nil)
	_ fosite.ResponseModeClient  = (*Client)(nil)
)

func (c *Client) GetID() string { return c.ID }

// GetHashedSecret returns the stored keyed hash; secretHasher compares it.
func (c *Client) GetHashedSecret() []byte { return []byte(c.SecretHash) }

func (c *Client) GetRedirectURIs() []string          { return c.Metadata.RedirectURIs }
func (c *Client) GetGrantTypes() fosite.Arguments    { return c.Metadata.GrantTypes }
func (c *Client) GetResponseTypes() fosite.Arguments { return c.Metadata.ResponseTypes }
func (c *Client) GetScopes() fosite.Arguments        { return c.Metadata.Scopes }
func (c *Client) IsPublic() bool                     { return c.Public }
func (c *Client) GetAudience() fosite.Arguments      { return c.Metadata.Audience }
func (c *Client) GetRequestURIs() []string           { return c.Metadata.RequestURIs }
func (c *Client) GetJSONWebKeys() *jose3.JSONWebKeySet {
	return c.Metadata.JWKS
}
func (c *Client) GetJSONWebKeysURI() string { return c.Metadata.JWKSURI }
func (c *Client) GetRequestObjectSigningAlgorithm() string {
	return c.Metadata.RequestObjectSigningAlg
}
func (c *Client) GetTokenEndpointAuthMethod() string { return c.Metadata.TokenEndpointAuthMethod }
func (c *Client) GetTokenEndpointAuthSigningAlgorithm() string {
	if c.Metadata.TokenEndpointAuthSigningAlg == "" {
		if c.Metadata.TokenEndpointAuthMethod == AuthMethodSecretJWT {
			return "HS256"
		}
		return "RS256"
	}
	return c.Metadata.TokenEndpointAuthSigningAlg
}

// GetResponseModes lists the response modes fosite lets this client use.
func (c *Client) GetResponseModes() []fosite.ResponseModeType {
	modes := c.Metadata.ResponseModes
	if len(modes) == 0 {
		modes = []string{"query", "fragment", "form_post"}
	}
	out := make([]fosite.ResponseModeType, 0, len(modes)+1)
	out = append(out, fosite.ResponseModeDefault)
	for _, m := range modes {
		out = append(out, fosite.ResponseModeType(m))
	}
	return out
}

// RefreshGracePeriod is how long a rotated refresh token stays usable.
func (c *Client) RefreshGracePeriod() time.Duration {
	return time.Duration(c.Metadata.RefreshGracePeriodSeconds) * time.Second
}

// HasGrant reports whether the client may use grant type g.
func (c *Client) HasGrant(g string) bool {
	for _, x := range c.Metadata.GrantTypes {
		if x == g {
			return true
		}
	}
	return false
}

// AllowsPostLogoutRedirect reports whether uri is registered, exactly.
func (c *Client) AllowsPostLogoutRedirect(uri string) bool {
	for _, x := range c.Metadata.PostLogoutRedirectURIs {
		if x == uri {
			return true
		}
	}
	return false
}

// ClientJSON is the management form of a client; it never carries the
// secret or its hash.
type ClientJSON struct {
	Object     string         `json:"object"`
	ClientID   string         `json:"client_id"`
	Name       string         `json:"name"`
	Public     bool           `json:"public"`
	FirstParty bool           `json:"first_party"`
	CreatedAt  int64          `json:"created_at"`
	UpdatedAt  int64          `json:"updated_at"`
	Metadata   ClientMetadata `json:"metadata"`
}

// JSON returns the client's management form.
func (c *Client) JSON() ClientJSON {
	return ClientJSON{
		Object: "oauth_client", ClientID: c.ID, Name: c.Name, Public: c.Public, FirstParty: c.FirstParty,
		CreatedAt: c.CreatedAt.UnixMilli(), UpdatedAt: c.UpdatedAt.UnixMilli(), Metadata: c.Metadata,
	}
}
