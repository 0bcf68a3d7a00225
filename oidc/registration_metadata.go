package oidc

import (
	"strings"

	jose3 "github.com/go-jose/go-jose/v3"
)

// registrationRequest is the client metadata of a registration (RFC 7591
// §2 and §3.1, OpenID Connect Dynamic Client Registration 1.0 §2) or an
// update (RFC 7592 §2.2). Members orgid does not know are ignored (RFC 7591
// §2); members it knows but does not support (encryption) are refused.
type registrationRequest struct {
	RedirectURIs            []string             `json:"redirect_uris"`
	ResponseTypes           []string             `json:"response_types"`
	GrantTypes              []string             `json:"grant_types"`
	ApplicationType         string               `json:"application_type"`
	Contacts                []string             `json:"contacts"`
	ClientName              string               `json:"client_name"`
	LogoURI                 string               `json:"logo_uri"`
	ClientURI               string               `json:"client_uri"`
	PolicyURI               string               `json:"policy_uri"`
	TOSURI                  string               `json:"tos_uri"`
	JWKSURI                 string               `json:"jwks_uri"`
	JWKS                    *jose3.JSONWebKeySet `json:"jwks"`
	SectorIdentifierURI     string               `json:"sector_identifier_uri"`
	SubjectType             string               `json:"subject_type"`
	TokenEndpointAuthMethod string               `json:"token_endpoint_auth_method"`
	TokenEndpointAuthAlg    string               `json:"token_endpoint_auth_signing_alg"`
	IDTokenSignedAlg        string               `json:"id_token_signed_response_alg"`
	IDTokenEncryptedAlg     string               `json:"id_token_encrypted_response_alg"`
	IDTokenEncryptedEnc     string               `json:"id_token_encrypted_response_enc"`
	UserinfoSignedAlg       string               `json:"userinfo_signed_response_alg"`
	UserinfoEncryptedAlg    string               `json:"userinfo_encrypted_response_alg"`
	UserinfoEncryptedEnc    string               `json:"userinfo_encrypted_response_enc"`
	RequestObjectSigningAlg string               `json:"request_object_signing_alg"`
	RequestObjectEncAlg     string               `json:"request_object_encryption_alg"`
	RequestObjectEncEnc     string               `json:"request_object_encryption_enc"`
	RequirePAR              *bool                `json:"require_pushed_authorization_requests"`
	DefaultMaxAge           *int                 `json:"default_max_age"`
	RequireAuthTime         *bool                `json:"require_auth_time"`
	DefaultACRValues        []string             `json:"default_acr_values"`
	InitiateLoginURI        string               `json:"initiate_login_uri"`
	RequestURIs             []string             `json:"request_uris"`
	PostLogoutRedirectURIs  []string             `json:"post_logout_redirect_uris"`
	FrontchannelLogoutURI   string               `json:"frontchannel_logout_uri"`
	FrontchannelSession     *bool                `json:"frontchannel_logout_session_required"`
	BackchannelLogoutURI    string               `json:"backchannel_logout_uri"`
	BackchannelSession      *bool                `json:"backchannel_logout_session_required"`
	Scope                   string               `json:"scope"`
	SoftwareID              string               `json:"software_id"`
	SoftwareVersion         string               `json:"software_version"`
	SoftwareStatement       string               `json:"software_statement"`

	// RFC 7592 updates name the client and may repeat its secret.
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// registrationResponse is a client's registration as the registration
// and management endpoints return it (RFC 7591 §3.2.1, RFC 7592 §3).
type registrationResponse struct {
	ClientID                string               `json:"client_id"`
	ClientSecret            string               `json:"client_secret,omitempty"`
	ClientIDIssuedAt        int64                `json:"client_id_issued_at"`
	ClientSecretExpiresAt   *int64               `json:"client_secret_expires_at,omitempty"`
	RegistrationAccessToken string               `json:"registration_access_token,omitempty"`
	RegistrationClientURI   string               `json:"registration_client_uri"`
	ClientName              string               `json:"client_name,omitempty"`
	RedirectURIs            []string             `json:"redirect_uris"`
	ResponseTypes           []string             `json:"response_types"`
	GrantTypes              []string             `json:"grant_types"`
	ApplicationType         string               `json:"application_type"`
	Contacts                []string             `json:"contacts,omitempty"`
	LogoURI                 string               `json:"logo_uri,omitempty"`
	ClientURI               string               `json:"client_uri,omitempty"`
	PolicyURI               string               `json:"policy_uri,omitempty"`
	TOSURI                  string               `json:"tos_uri,omitempty"`
	JWKSURI                 string               `json:"jwks_uri,omitempty"`
	JWKS                    *jose3.JSONWebKeySet `json:"jwks,omitempty"`
	SectorIdentifierURI     string               `json:"sector_identifier_uri,omitempty"`
	SubjectType             string               `json:"subject_type"`
	TokenEndpointAuthMethod string               `json:"token_endpoint_auth_method"`
	TokenEndpointAuthAlg    string               `json:"token_endpoint_auth_signing_alg,omitempty"`
	IDTokenSignedAlg        string               `json:"id_token_signed_response_alg"`
	UserinfoSignedAlg       string               `json:"userinfo_signed_response_alg,omitempty"`
	RequestObjectSigningAlg string               `json:"request_object_signing_alg,omitempty"`
	RequirePAR              bool                 `json:"require_pushed_authorization_requests,omitempty"`
	DefaultMaxAge           int                  `json:"default_max_age,omitempty"`
	RequireAuthTime         bool                 `json:"require_auth_time,omitempty"`
	DefaultACRValues        []string             `json:"default_acr_values,omitempty"`
	InitiateLoginURI        string               `json:"initiate_login_uri,omitempty"`
	RequestURIs             []string             `json:"request_uris,omitempty"`
	PostLogoutRedirectURIs  []string             `json:"post_logout_redirect_uris,omitempty"`
	FrontchannelLogoutURI   string               `json:"frontchannel_logout_uri,omitempty"`
	FrontchannelSession     bool                 `json:"frontchannel_logout_session_required,omitempty"`
	BackchannelLogoutURI    string               `json:"backchannel_logout_uri,omitempty"`
	BackchannelSession      bool                 `json:"backchannel_logout_session_required,omitempty"`
	Scope                   string               `json:"scope"`
	SoftwareID              string               `json:"software_id,omitempty"`
	SoftwareVersion         string               `json:"software_version,omitempty"`
}

// defaultDynamicName names a client that registered without client_name.
const defaultDynamicName = "Unnamed application"

// newClient turns a registration request into the client orgid stores:
// registered clients are third-party (their users are asked for consent),
// public when they authenticate with none.
func (req *registrationRequest) newClient() (NewClient, error) {
	for _, f := range []struct{ name, value string }{
		{"id_token_encrypted_response_alg", req.IDTokenEncryptedAlg}, {"id_token_encrypted_response_enc", req.IDTokenEncryptedEnc},
		{"userinfo_encrypted_response_alg", req.UserinfoEncryptedAlg}, {"userinfo_encrypted_response_enc", req.UserinfoEncryptedEnc},
		{"request_object_encryption_alg", req.RequestObjectEncAlg}, {"request_object_encryption_enc", req.RequestObjectEncEnc},
	} {
		if f.value != "" {
			return NewClient{}, &ValidationError{f.name, "encryption is not supported"}
		}
	}
	m := ClientMetadata{
		RedirectURIs: req.RedirectURIs, PostLogoutRedirectURIs: req.PostLogoutRedirectURIs,
		GrantTypes: req.GrantTypes, ResponseTypes: req.ResponseTypes,
		TokenEndpointAuthMethod: req.TokenEndpointAuthMethod, TokenEndpointAuthSigningAlg: req.TokenEndpointAuthAlg,
		IDTokenSignedResponseAlg: req.IDTokenSignedAlg, UserinfoSignedResponseAlg: req.UserinfoSignedAlg,
		JWKSURI: req.JWKSURI, JWKS: req.JWKS, RequestURIs: req.RequestURIs, RequestObjectSigningAlg: req.RequestObjectSigningAlg,
		ApplicationType: req.ApplicationType, ClientURI: req.ClientURI, LogoURI: req.LogoURI, PolicyURI: req.PolicyURI,
		TOSURI: req.TOSURI, Contacts: req.Contacts, SoftwareID: req.SoftwareID, SoftwareVersion: req.SoftwareVersion,
		SubjectType: req.SubjectType, SectorIdentifierURI: req.SectorIdentifierURI,
		DefaultACRValues: req.DefaultACRValues, InitiateLoginURI: req.InitiateLoginURI,
		FrontchannelLogoutURI: req.FrontchannelLogoutURI, BackchannelLogoutURI: req.BackchannelLogoutURI,
	}
	if m.ApplicationType == "" {
		m.ApplicationType = ApplicationWeb
	}
	if len(m.GrantTypes) == 0 {
		// OpenID Connect Registration §2: authorization_code by default
		// (refresh tokens only for clients that ask for them).
		m.GrantTypes = []string{GrantAuthorizationCode}
		for _, rt := range m.ResponseTypes {
			if strings.Contains(rt, "token") {
				m.GrantTypes = append(m.GrantTypes, GrantImplicit)
				break
			}
		}
	}
	if req.DefaultMaxAge != nil {
		m.DefaultMaxAge = *req.DefaultMaxAge
		if m.DefaultMaxAge < 0 {
			return NewClient{}, &ValidationError{"default_max_age", "must not be negative"}
		}
	}
	m.RequireAuthTime = req.RequireAuthTime != nil && *req.RequireAuthTime
	m.RequirePushedAuthorizationRequests = req.RequirePAR != nil && *req.RequirePAR
	m.FrontchannelLogoutSessionRequired = req.FrontchannelSession != nil && *req.FrontchannelSession
	m.BackchannelLogoutSessionRequired = req.BackchannelSession != nil && *req.BackchannelSession
	for _, s := range strings.Fields(req.Scope) {
		// Scopes orgid does not know are dropped, as RFC 7591 §2 allows.
		if contains(defaultClientScopes, s) && !contains(m.Scopes, s) {
			m.Scopes = append(m.Scopes, s)
		}
	}
	name := strings.TrimSpace(req.ClientName)
	if name == "" {
		name = defaultDynamicName
	}
	if len(name) > 200 {
		return NewClient{}, &ValidationError{"client_name", "must have at most 200 characters"}
	}
	return NewClient{Name: name, Public: m.TokenEndpointAuthMethod == AuthMethodNone, Metadata: m}, nil
}

// registrationOf is the registration response of c.
func (p *Provider) registrationOf(c *Client) registrationResponse {
	m := c.Metadata
	resp := registrationResponse{
		ClientID: c.ID, ClientIDIssuedAt: c.CreatedAt.Unix(), RegistrationClientURI: p.cfg.Issuer + PathRegister + "/" + c.ID,
		ClientName: c.Name, RedirectURIs: nonNilStrings(m.RedirectURIs), ResponseTypes: nonNilStrings(m.ResponseTypes),
		GrantTypes: nonNilStrings(m.GrantTypes), ApplicationType: m.ApplicationType, Contacts: m.Contacts,
		LogoURI: m.LogoURI, ClientURI: m.ClientURI, PolicyURI: m.PolicyURI, TOSURI: m.TOSURI,
		JWKSURI: m.JWKSURI, JWKS: m.JWKS, SectorIdentifierURI: m.SectorIdentifierURI, SubjectType: m.SubjectType,
		TokenEndpointAuthMethod: m.TokenEndpointAuthMethod, TokenEndpointAuthAlg: m.TokenEndpointAuthSigningAlg,
		IDTokenSignedAlg: m.IDTokenSignedResponseAlg, UserinfoSignedAlg: m.UserinfoSignedResponseAlg,
		RequestObjectSigningAlg: m.RequestObjectSigningAlg, RequirePAR: m.RequirePushedAuthorizationRequests,
		DefaultMaxAge: m.DefaultMaxAge, RequireAuthTime: m.RequireAuthTime,
		DefaultACRValues: m.DefaultACRValues, InitiateLoginURI: m.InitiateLoginURI, RequestURIs: m.RequestURIs,
		PostLogoutRedirectURIs: m.PostLogoutRedirectURIs,
		FrontchannelLogoutURI:  m.FrontchannelLogoutURI, FrontchannelSession: m.FrontchannelLogoutSessionRequired,
		BackchannelLogoutURI: m.BackchannelLogoutURI, BackchannelSession: m.BackchannelLogoutSessionRequired,
		Scope: strings.Join(m.Scopes, " "), SoftwareID: m.SoftwareID, SoftwareVersion: m.SoftwareVersion,
	}
	if resp.ApplicationType == "" {
		resp.ApplicationType = ApplicationWeb
	}
	if resp.SubjectType == "" {
		resp.SubjectType = SubjectPublic
	}
	if resp.IDTokenSignedAlg == "" {
		resp.IDTokenSignedAlg = p.keys.DefaultAlgorithm()
	}
	if c.SecretHash != "" {
		never := int64(0) // RFC 7591 §3.2.1: 0 means the secret does not expire
		resp.ClientSecretExpiresAt = &never
	}
	return resp
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
