package oidc

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/orgid/orgid/ui"
)

// discoveryDocument is built once at start-up: the OpenID Connect
// Discovery 1.0 document, which is also valid RFC 8414 metadata.
func (p *Provider) discoveryDocument() ([]byte, error) {
	iss := p.cfg.Issuer
	algs := p.keys.Algorithms()
	doc := map[string]any{
		"issuer":                                           iss,
		"authorization_endpoint":                           iss + PathAuthorize,
		"token_endpoint":                                   iss + PathToken,
		"userinfo_endpoint":                                iss + PathUserinfo,
		"jwks_uri":                                         iss + PathJWKS,
		"introspection_endpoint":                           iss + PathIntrospect,
		"revocation_endpoint":                              iss + PathRevoke,
		"end_session_endpoint":                             iss + PathEndSession,
		"scopes_supported":                                 []string{"openid", "profile", "email", "address", "phone", "offline_access", ScopeOrganization},
		"response_types_supported":                         []string{"code"},
		"response_modes_supported":                         []string{"query", "fragment", "form_post"},
		"grant_types_supported":                            []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials, GrantTokenExchange, GrantDeviceCode},
		"subject_types_supported":                          []string{SubjectPublic, SubjectPairwise},
		"id_token_signing_alg_values_supported":            algs,
		"token_endpoint_auth_methods_supported":            []string{AuthMethodBasic, AuthMethodPost, AuthMethodSecretJWT, AuthMethodPrivateKey, AuthMethodNone},
		"token_endpoint_auth_signing_alg_values_supported": append(slices.Clone(asymmetricAlgs), hmacAlgs...),
		"userinfo_signing_alg_values_supported":            algs,
		"introspection_endpoint_auth_methods_supported":    []string{AuthMethodBasic},
		"revocation_endpoint_auth_methods_supported":       []string{AuthMethodBasic, AuthMethodPost, AuthMethodSecretJWT, AuthMethodPrivateKey, AuthMethodNone},
		"code_challenge_methods_supported":                 []string{"S256"},
		"claims_supported": []string{
			"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid",
			"name", "given_name", "family_name", "middle_name", "nickname", "preferred_username",
			"profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at",
			"email", "email_verified", "address", "phone_number", "phone_number_verified",
			"org_id", "org_slug", "org_role", "org_permissions",
		},
		"claims_parameter_supported":                     true,
		"request_parameter_supported":                    true,
		"request_uri_parameter_supported":                true,
		"require_request_uri_registration":               false,
		"request_object_signing_alg_values_supported":    requestObjectAlgs,
		"ui_locales_supported":                           ui.Languages(),
		"claims_locales_supported":                       []string{"en"},
		"display_values_supported":                       []string{"page", "popup"},
		"acr_values_supported":                           []string{acrPassword, acrMultiFactor},
		"prompt_values_supported":                        []string{"none", "login", "consent", "select_account"},
		"authorization_response_iss_parameter_supported": true,
		"frontchannel_logout_supported":                  true,
		"frontchannel_logout_session_supported":          true,
		"backchannel_logout_supported":                   true,
		"backchannel_logout_session_supported":           true,
		"pushed_authorization_request_endpoint":          iss + PathPAR,
		"device_authorization_endpoint":                  iss + PathDeviceAuthorization,
		"require_pushed_authorization_requests":          p.cfg.RequirePAR,
	}
	if p.cfg.Registration != RegistrationModeOff {
		doc["registration_endpoint"] = iss + PathRegister
	}
	return json.Marshal(doc)
}

// serveDiscovery answers both well-known metadata paths from memory; any
// origin may read it.
func (p *Provider) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(p.discovery)
}

// serveJWKS answers with the public keys from memory; any origin may read
// them. The cache lifetime is short so that a key published before
// rotation reaches caches before it signs.
func (p *Provider) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/jwk-set+json")
	h.Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(p.keys.JWKS())
}
