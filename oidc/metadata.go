package oidc

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	jose3 "github.com/go-jose/go-jose/v3"
)

// Client metadata rules shared by every way a client is created (the CLI,
// the management API, dynamic registration): OpenID Connect Dynamic Client
// Registration 1.0 §2, RFC 7591 §2, Front-Channel and Back-Channel Logout.
// Rules that only apply to self-registered clients (https redirect URIs for
// web clients, fetching sector_identifier_uri and jwks_uri) live in
// registration_validate.go.

// Algorithms orgid verifies in client assertions and request objects.
var (
	asymmetricAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
	hmacAlgs       = []string{"HS256", "HS384", "HS512"}
	// signingAlgs are the algorithms orgid's own keys can sign with.
	signingAlgs = []string{"RS256", "ES256"}
	// requestObjectAlgs may sign request objects; none means unsigned.
	requestObjectAlgs = append([]string{"none"}, asymmetricAlgs...)
)

// validateAuthentication checks token_endpoint_auth_method with what it
// needs (keys for private_key_jwt) and the assertion algorithm, and fills
// the defaults: none for public clients, client_secret_basic otherwise.
func validateAuthentication(public bool, m *ClientMetadata) error {
	method := m.TokenEndpointAuthMethod
	switch {
	case public:
		if method != "" && method != AuthMethodNone {
			return &ValidationError{"token_endpoint_auth_method", "a public client uses none"}
		}
		m.TokenEndpointAuthMethod = AuthMethodNone
	case method == "":
		m.TokenEndpointAuthMethod = AuthMethodBasic
	case method == AuthMethodNone:
		return &ValidationError{"token_endpoint_auth_method", "none is for public clients"}
	case !slices.Contains([]string{AuthMethodBasic, AuthMethodPost, AuthMethodSecretJWT, AuthMethodPrivateKey}, method):
		return &ValidationError{"token_endpoint_auth_method", fmt.Sprintf("unsupported method %q (client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt or none)", method)}
	}
	if m.JWKS != nil && m.JWKSURI != "" {
		return &ValidationError{"jwks", "jwks and jwks_uri are mutually exclusive"}
	}
	if m.JWKSURI != "" {
		if err := fetchableURL(m.JWKSURI, false); err != nil {
			return &ValidationError{"jwks_uri", err.Error()}
		}
	}
	if m.JWKS != nil {
		if err := normalizeClientJWKS(m.JWKS); err != nil {
			return &ValidationError{"jwks", err.Error()}
		}
	}
	alg := m.TokenEndpointAuthSigningAlg
	switch m.TokenEndpointAuthMethod {
	case AuthMethodPrivateKey:
		if m.JWKS == nil && m.JWKSURI == "" {
			return &ValidationError{"jwks", "private_key_jwt needs the client's public keys (jwks or jwks_uri)"}
		}
		if alg != "" && !slices.Contains(asymmetricAlgs, alg) {
			return &ValidationError{"token_endpoint_auth_signing_alg", fmt.Sprintf("unsupported algorithm %q for private_key_jwt (%s)", alg, strings.Join(asymmetricAlgs, ", "))}
		}
	case AuthMethodSecretJWT:
		if alg != "" && !slices.Contains(hmacAlgs, alg) {
			return &ValidationError{"token_endpoint_auth_signing_alg", fmt.Sprintf("unsupported algorithm %q for client_secret_jwt (%s)", alg, strings.Join(hmacAlgs, ", "))}
		}
	default:
		if alg != "" {
			return &ValidationError{"token_endpoint_auth_signing_alg", "only for private_key_jwt and client_secret_jwt"}
		}
	}
	return nil
}

// normalizeClientJWKS accepts public signing keys only, and marks keys
// without "use" as signing keys: fosite looks only at use=sig keys.
func normalizeClientJWKS(set *jose3.JSONWebKeySet) error {
	if len(set.Keys) == 0 {
		return fmt.Errorf("the key set is empty")
	}
	for i := range set.Keys {
		k := &set.Keys[i]
		if !k.Valid() {
			return fmt.Errorf("key %d (%q) is not a valid JWK", i, k.KeyID)
		}
		if !k.IsPublic() {
			return fmt.Errorf("key %d (%q) is a private or symmetric key; register public keys only", i, k.KeyID)
		}
		switch k.Use {
		case "":
			k.Use = "sig"
		case "sig", "enc":
		default:
			return fmt.Errorf("key %d (%q) has unknown use %q", i, k.KeyID, k.Use)
		}
	}
	return nil
}

// validateRegistrationMetadata checks the OpenID Connect registration
// metadata beyond redirect URIs, grants and authentication.
func validateRegistrationMetadata(m *ClientMetadata) error {
	switch m.ApplicationType {
	case "", ApplicationWeb, ApplicationNative:
	default:
		return &ValidationError{"application_type", fmt.Sprintf("unknown application type %q (web or native)", m.ApplicationType)}
	}
	for _, f := range []struct{ name, value string }{
		{"client_uri", m.ClientURI}, {"logo_uri", m.LogoURI}, {"policy_uri", m.PolicyURI},
		{"tos_uri", m.TOSURI}, {"initiate_login_uri", m.InitiateLoginURI},
	} {
		if f.value == "" {
			continue
		}
		if err := webURL(f.value); err != nil {
			return &ValidationError{f.name, err.Error()}
		}
	}
	if m.InitiateLoginURI != "" && !strings.HasPrefix(m.InitiateLoginURI, "https://") {
		return &ValidationError{"initiate_login_uri", "must use https"}
	}
	for _, c := range m.Contacts {
		if strings.TrimSpace(c) == "" || len(c) > 320 {
			return &ValidationError{"contacts", "contacts must be non-empty strings"}
		}
	}
	if err := validateAlg("id_token_signed_response_alg", m.IDTokenSignedResponseAlg, signingAlgs,
		"ID tokens are always signed"); err != nil {
		return err
	}
	if err := validateAlg("userinfo_signed_response_alg", m.UserinfoSignedResponseAlg, signingAlgs,
		"omit it for unsigned JSON userinfo responses"); err != nil {
		return err
	}
	if m.RequestObjectSigningAlg != "" && !slices.Contains(requestObjectAlgs, m.RequestObjectSigningAlg) {
		return &ValidationError{"request_object_signing_alg", fmt.Sprintf("unsupported algorithm %q (%s)", m.RequestObjectSigningAlg, strings.Join(requestObjectAlgs, ", "))}
	}
	if m.RequestObjectSigningAlg != "" && m.RequestObjectSigningAlg != "none" && m.JWKS == nil && m.JWKSURI == "" {
		return &ValidationError{"request_object_signing_alg", "signed request objects need the client's public keys (jwks or jwks_uri)"}
	}
	for _, u := range m.RequestURIs {
		if err := fetchableURL(u, true); err != nil {
			return &ValidationError{"request_uris", err.Error()}
		}
	}
	if m.DefaultMaxAge < 0 {
		return &ValidationError{"default_max_age", "must not be negative"}
	}
	if err := validateSubjectType(m); err != nil {
		return err
	}
	if err := validateLogoutURIs(m); err != nil {
		return err
	}
	return nil
}

// validateAlg checks a signing algorithm of orgid's keys; none is refused
// with why.
func validateAlg(field, alg string, allowed []string, noneHint string) error {
	switch {
	case alg == "":
		return nil
	case alg == "none":
		return &ValidationError{field, "none is not supported: " + noneHint}
	case !slices.Contains(allowed, alg):
		return &ValidationError{field, fmt.Sprintf("unsupported algorithm %q (%s)", alg, strings.Join(allowed, " or "))}
	}
	return nil
}

// validateSubjectType checks subject_type and computes the sector
// identifier of pairwise clients (OpenID Connect Core §8.1): the host of
// sector_identifier_uri, else the single host of the redirect URIs.
func validateSubjectType(m *ClientMetadata) error {
	m.SectorIdentifier = ""
	if m.SectorIdentifierURI != "" {
		if err := fetchableURL(m.SectorIdentifierURI, false); err != nil {
			return &ValidationError{"sector_identifier_uri", err.Error()}
		}
	}
	switch m.SubjectType {
	case "", SubjectPublic:
		return nil
	case SubjectPairwise:
	default:
		return &ValidationError{"subject_type", fmt.Sprintf("unsupported subject type %q (public or pairwise)", m.SubjectType)}
	}
	if m.SectorIdentifierURI != "" {
		u, _ := url.Parse(m.SectorIdentifierURI)
		m.SectorIdentifier = strings.ToLower(u.Hostname())
		return nil
	}
	hosts := map[string]bool{}
	for _, r := range m.RedirectURIs {
		if u, err := url.Parse(r); err == nil && u.Hostname() != "" {
			hosts[strings.ToLower(u.Hostname())] = true
		}
	}
	switch len(hosts) {
	case 0:
		return &ValidationError{"sector_identifier_uri", "a pairwise client without redirect URIs needs a sector_identifier_uri"}
	case 1:
		for h := range hosts {
			m.SectorIdentifier = h
		}
		return nil
	}
	return &ValidationError{"sector_identifier_uri", "the redirect URIs have several hosts: a pairwise client must register a sector_identifier_uri"}
}

// validateLogoutURIs checks the front- and back-channel logout receivers.
func validateLogoutURIs(m *ClientMetadata) error {
	if u := m.FrontchannelLogoutURI; u != "" {
		parsed, err := absoluteHTTPURL(u)
		if err != nil {
			return &ValidationError{"frontchannel_logout_uri", err.Error()}
		}
		// Front-Channel Logout 1.0 §2: same scheme, host and port as a
		// registered redirect URI.
		origin := strings.ToLower(parsed.Scheme + "://" + parsed.Host)
		if !slices.Contains(originsOfLower(m.RedirectURIs), origin) {
			return &ValidationError{"frontchannel_logout_uri", "must have the scheme, host and port of a registered redirect URI"}
		}
	} else if m.FrontchannelLogoutSessionRequired {
		return &ValidationError{"frontchannel_logout_session_required", "needs a frontchannel_logout_uri"}
	}
	if u := m.BackchannelLogoutURI; u != "" {
		if err := fetchableURL(u, false); err != nil {
			return &ValidationError{"backchannel_logout_uri", err.Error()}
		}
	} else if m.BackchannelLogoutSessionRequired {
		return &ValidationError{"backchannel_logout_session_required", "needs a backchannel_logout_uri"}
	}
	return nil
}

func originsOfLower(uris []string) []string {
	out := originsOf(uris)
	for i := range out {
		out[i] = strings.ToLower(out[i])
	}
	return out
}

// absoluteHTTPURL parses an absolute http(s) URL without a fragment.
func absoluteHTTPURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return nil, fmt.Errorf("%q must not have a fragment", raw)
	}
	return u, nil
}

// webURL checks a URL shown to users (logo, policy, terms): absolute http
// or https, so that no javascript: or data: URL reaches a page.
func webURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	return nil
}

// fetchableURL checks a URL orgid fetches or posts to (jwks_uri,
// sector_identifier_uri, request_uris, backchannel_logout_uri): https, or
// http to a loopback host for development (the egress client still refuses
// loopback unless the operator allowed it). allowFragment is for
// request_uris, whose fragment pins the content (OpenID Connect Core §6.2).
func fetchableURL(raw string, allowFragment bool) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	if !allowFragment && (u.Fragment != "" || strings.Contains(raw, "#")) {
		return fmt.Errorf("%q must not have a fragment", raw)
	}
	if u.User != nil {
		return fmt.Errorf("%q must not carry credentials", raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return fmt.Errorf("%q must use https", raw)
	}
	return nil
}
