package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/go-jose/go-jose/v4"
)

// maxBody bounds every response body the runner reads.
const maxBody = 2 << 20

// DiscoveryPath is where OpenID Connect Discovery puts the metadata.
const DiscoveryPath = "/.well-known/openid-configuration"

// Metadata is the part of the discovery document the modules use. The raw
// document is kept beside it (Provider.Raw) for type checks.
type Metadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	UserinfoEndpoint                           string   `json:"userinfo_endpoint"`
	JWKSURI                                    string   `json:"jwks_uri"`
	RegistrationEndpoint                       string   `json:"registration_endpoint"`
	EndSessionEndpoint                         string   `json:"end_session_endpoint"`
	ScopesSupported                            []string `json:"scopes_supported"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	ACRValuesSupported                         []string `json:"acr_values_supported"`
	SubjectTypesSupported                      []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	ClaimsSupported                            []string `json:"claims_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	RequestObjectSigningAlgValuesSupported     []string `json:"request_object_signing_alg_values_supported"`
	ClaimsParameterSupported                   *bool    `json:"claims_parameter_supported"`
	RequestParameterSupported                  *bool    `json:"request_parameter_supported"`
	RequestURIParameterSupported               *bool    `json:"request_uri_parameter_supported"`
	AuthorizationResponseIssParameterSupported *bool    `json:"authorization_response_iss_parameter_supported"`
	UserinfoSigningAlgValuesSupported          []string `json:"userinfo_signing_alg_values_supported"`
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	FrontchannelLogoutSupported                *bool    `json:"frontchannel_logout_supported"`
	FrontchannelLogoutSessionSupported         *bool    `json:"frontchannel_logout_session_supported"`
	BackchannelLogoutSupported                 *bool    `json:"backchannel_logout_supported"`
	BackchannelLogoutSessionSupported          *bool    `json:"backchannel_logout_session_supported"`
}

// Provider is the provider under test as discovery describes it.
type Provider struct {
	Metadata Metadata
	// Raw is the discovery document decoded with json.Number for numbers.
	Raw map[string]any

	http *http.Client

	mu      sync.Mutex
	jwks    jose.JSONWebKeySet
	jwksErr error
}

// Discover fetches and decodes the discovery document of issuer, then its
// JWKS. A JWKS that cannot be fetched is not an error here: it is kept and
// reported by every check that needs a key.
func Discover(ctx context.Context, client *http.Client, issuer string) (*Provider, error) {
	doc, err := FetchDiscovery(ctx, client, issuer)
	if err != nil {
		return nil, err
	}
	if doc.Status != http.StatusOK {
		return nil, fmt.Errorf("discovery %s: HTTP %d", doc.URL, doc.Status)
	}
	p := &Provider{http: client}
	if err := decodeJSON(doc.Body, &p.Raw); err != nil {
		return nil, fmt.Errorf("discovery %s: %w", doc.URL, err)
	}
	if err := json.Unmarshal(doc.Body, &p.Metadata); err != nil {
		return nil, fmt.Errorf("discovery %s: a member has the wrong type: %w", doc.URL, err)
	}
	p.jwks, p.jwksErr = p.fetchJWKS(ctx)
	return p, nil
}

// Fetched is a raw HTTP response the config modules inspect.
type Fetched struct {
	URL         string
	Status      int
	ContentType string
	Header      http.Header
	Body        []byte
}

// FetchDiscovery GETs the discovery document without judging it.
func FetchDiscovery(ctx context.Context, client *http.Client, issuer string) (*Fetched, error) {
	return fetch(ctx, client, strings.TrimSuffix(issuer, "/")+DiscoveryPath)
}

func fetch(ctx context.Context, client *http.Client, url string) (*Fetched, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, transportError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", url, err)
	}
	return &Fetched{URL: url, Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Header: resp.Header, Body: body}, nil
}

// isJSON reports whether a Content-Type is JSON (application/json or +json).
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// decodeJSON decodes one JSON object keeping numbers as json.Number, so that
// a type check can tell 1 from "1" and 1.5 from 1.
func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return fmt.Errorf("invalid JSON: trailing data")
	}
	return nil
}

func (p *Provider) fetchJWKS(ctx context.Context) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	if p.Metadata.JWKSURI == "" {
		return set, fmt.Errorf("discovery has no jwks_uri")
	}
	f, err := fetch(ctx, p.http, p.Metadata.JWKSURI)
	if err != nil {
		return set, err
	}
	if f.Status != http.StatusOK {
		return set, fmt.Errorf("jwks_uri %s: HTTP %d", f.URL, f.Status)
	}
	if err := json.Unmarshal(f.Body, &set); err != nil {
		return set, fmt.Errorf("jwks_uri %s: %w", f.URL, err)
	}
	return set, nil
}

// Keys returns the provider's keys with the given kid ("" matches keys
// without a kid). When none match it fetches the JWKS again once — a
// relying party does the same when the provider has rotated its keys.
func (p *Provider) Keys(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if keys := matchKid(p.jwks, kid); len(keys) > 0 {
		return keys, nil
	}
	p.jwks, p.jwksErr = p.fetchJWKS(ctx)
	if p.jwksErr != nil {
		return nil, p.jwksErr
	}
	return matchKid(p.jwks, kid), nil
}

// KeySet returns the JWKS as last fetched.
func (p *Provider) KeySet() (jose.JSONWebKeySet, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.jwks, p.jwksErr
}

func matchKid(set jose.JSONWebKeySet, kid string) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, k := range set.Keys {
		if k.KeyID == kid {
			out = append(out, k)
		}
	}
	return out
}

// Supports reports whether a metadata list contains v. An absent list is
// "unknown", reported as true only when absentMeans is true.
func Supports(list []string, v string, absentMeans bool) bool {
	if list == nil {
		return absentMeans
	}
	return slices.Contains(list, v)
}
