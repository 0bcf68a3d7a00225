package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
)

// Dynamic client registration from the relying party's side (RFC 7591,
// RFC 7592, OpenID Connect Dynamic Client Registration 1.0): the plans
// that need clients with particular metadata register them themselves.

// ClientRegistration is what RFC 7592 needs to manage a registered client.
type ClientRegistration struct {
	// URI and Token are registration_client_uri and
	// registration_access_token ("" when the provider has none).
	URI, Token string
	// Response is the registration response.
	Response map[string]any
}

// RegistrationResult is a registration (or management) endpoint answer.
type RegistrationResult struct {
	Status      int
	ContentType string
	Header      http.Header
	// JSON is the body decoded with json.Number numbers; nil if not JSON.
	JSON  map[string]any
	Error string
}

// Register posts client metadata to the registration endpoint.
func (e *Env) Register(ctx context.Context, meta map[string]any) (*RegistrationResult, error) {
	if e.Provider == nil {
		return nil, errNoProvider
	}
	endpoint := e.Provider.Metadata.RegistrationEndpoint
	if endpoint == "" {
		return nil, errors.New("the discovery document has no registration_endpoint")
	}
	return e.registrationRequest(ctx, http.MethodPost, endpoint, e.Config.Registration.InitialAccessToken, meta)
}

// ManageRegistration sends an RFC 7592 request (GET, PUT or DELETE) to a
// client's registration_client_uri with token.
func (e *Env) ManageRegistration(ctx context.Context, method, uri, token string, meta map[string]any) (*RegistrationResult, error) {
	return e.registrationRequest(ctx, method, uri, token, meta)
}

func (e *Env) registrationRequest(ctx context.Context, method, endpoint, token string, meta map[string]any) (*RegistrationResult, error) {
	var body io.Reader
	if meta != nil {
		b, err := json.Marshal(meta)
		if err != nil {
			return nil, fmt.Errorf("registration request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, endpoint, body)
	if err != nil {
		return nil, fmt.Errorf("registration request: %w", err)
	}
	if meta != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("registration endpoint: %w", transportError(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("read registration response: %w", err)
	}
	res := &RegistrationResult{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Header: resp.Header}
	var m map[string]any
	if len(raw) > 0 && decodeJSON(raw, &m) == nil {
		res.JSON = m
		res.Error, _ = m["error"].(string)
	}
	return res, nil
}

// ClientMetadata returns the metadata every client the runner registers
// starts from: a name, the runner's redirect URI, the code flow, the
// application type the configuration names, and the authentication method.
func (e *Env) ClientMetadata(name, method string) map[string]any {
	m := map[string]any{
		"client_name":                "orgid conformance " + name,
		"redirect_uris":              []string{e.Listener.RedirectURI()},
		"response_types":             []string{"code"},
		"grant_types":                []string{"authorization_code"},
		"application_type":           e.Config.Registration.ApplicationType,
		"token_endpoint_auth_method": method,
		"contacts":                   []string{"conformance@example.com"},
	}
	return m
}

// RegisterClient registers a client with meta (from ClientMetadata, with
// the module's changes) and checks the response (RFC 7591 §3.2.1). keys
// are the private_key_jwt client's keys.
func (e *Env) RegisterClient(ctx context.Context, meta map[string]any, keys *ClientKeys) (ClientAuth, error) {
	method, _ := meta["token_endpoint_auth_method"].(string)
	res, err := e.Register(ctx, meta)
	if err != nil {
		return ClientAuth{}, err
	}
	if res.Status != http.StatusCreated && res.Status != http.StatusOK {
		return ClientAuth{}, fmt.Errorf("registration: HTTP %d, want 201 (error %q: %s)", res.Status, res.Error, strOf(res.JSON, "error_description"))
	}
	if !isJSON(res.ContentType) || res.JSON == nil {
		return ClientAuth{}, fmt.Errorf("registration: the response is not a JSON object (Content-Type %q)", res.ContentType)
	}
	id := strOf(res.JSON, "client_id")
	if id == "" {
		return ClientAuth{}, errors.New("registration: the response has no client_id (RFC 7591 3.2.1)")
	}
	if got := strOf(res.JSON, "token_endpoint_auth_method"); got != "" && got != method {
		return ClientAuth{}, fmt.Errorf("registration: token_endpoint_auth_method %q was registered as %q", method, got)
	}
	client := ClientAuth{Client: Client{ClientID: id, ClientSecret: strOf(res.JSON, "client_secret")}, Method: method, Keys: keys}
	if (method == AuthSecretBasic || method == AuthSecretPost || method == AuthSecretJWT) && client.ClientSecret == "" {
		return ClientAuth{}, fmt.Errorf("registration: a %s client got no client_secret", method)
	}
	if got, present := res.JSON["redirect_uris"]; present {
		want, _ := meta["redirect_uris"].([]string)
		for _, r := range want {
			if !slices.Contains(strList(got), r) {
				return ClientAuth{}, fmt.Errorf("registration: the response's redirect_uris do not list the registered %s", r)
			}
		}
	}
	uri, token := strOf(res.JSON, "registration_client_uri"), strOf(res.JSON, "registration_access_token")
	if (uri == "") != (token == "") {
		return ClientAuth{}, errors.New("registration: registration_client_uri and registration_access_token come together (RFC 7592 3)")
	}
	if uri != "" {
		if u, err := url.Parse(uri); err != nil || !u.IsAbs() {
			return ClientAuth{}, fmt.Errorf("registration: registration_client_uri %q is not an absolute URL", uri)
		}
	}
	client.Registration = &ClientRegistration{URI: uri, Token: token, Response: res.JSON}
	return client, nil
}

// registerClient registers a client for a module, failing it on error.
func (t *T) registerClient(meta map[string]any, keys *ClientKeys) (ClientAuth, bool) {
	if _, ok := t.provider(); !ok {
		return ClientAuth{}, false
	}
	c, err := t.Env.RegisterClient(t.Ctx, meta, keys)
	if err != nil {
		t.Failf("%v", err)
		return ClientAuth{}, false
	}
	return c, true
}

// expectRegistrationError checks that a registration was refused with a
// JSON 400 error (RFC 7591 §3.2.2), one of want (another code is a
// warning: the RFC's choice between them is not always clear-cut).
func (t *T) expectRegistrationError(meta map[string]any, what string, want ...string) {
	if _, ok := t.provider(); !ok {
		return
	}
	res, err := t.Env.Register(t.Ctx, meta)
	if err != nil {
		t.Failf("%v", err)
		return
	}
	if res.Status >= 200 && res.Status < 300 {
		t.Failf("a registration %s was accepted (HTTP %d, client %q); the provider must refuse it", what, res.Status, strOf(res.JSON, "client_id"))
		return
	}
	if res.Status != http.StatusBadRequest {
		t.Failf("a registration %s: HTTP %d, want 400 (RFC 7591 3.2.2)", what, res.Status)
	}
	if !isJSON(res.ContentType) || res.JSON == nil {
		t.Failf("a registration %s: the error is not a JSON object (Content-Type %q)", what, res.ContentType)
		return
	}
	if res.Error == "" {
		t.Failf("a registration %s: the error response has no error member", what)
		return
	}
	if !slices.Contains(want, res.Error) {
		t.Warnf("a registration %s was refused with %q; RFC 7591 3.2.2 suggests %v", what, res.Error, want)
	}
}

func strOf(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func strList(v any) []string {
	arr, _ := v.([]any)
	var out []string
	for _, x := range arr {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
