package conformance

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// TokenResponse is a token endpoint answer, success or error, as received.
type TokenResponse struct {
	Status      int
	Header      http.Header
	ContentType string
	// JSON is the body decoded with json.Number numbers; nil if not JSON.
	JSON map[string]any

	AccessToken  string
	TokenType    string
	RefreshToken string
	IDToken      string
	Scope        string
	Error        string
}

// TokenRequest posts form to the token endpoint, authenticating as client.
func (e *Env) TokenRequest(ctx context.Context, client ClientAuth, form url.Values) (*TokenResponse, error) {
	endpoint := e.Provider.Metadata.TokenEndpoint
	if endpoint == "" {
		return nil, fmt.Errorf("the discovery document has no token_endpoint")
	}
	form = cloneValues(form)
	basic := ""
	switch client.Method {
	case AuthSecretBasic:
		basic = basicAuth(client.ClientID, client.ClientSecret)
	case AuthSecretPost:
		form.Set("client_id", client.ClientID)
		form.Set("client_secret", client.ClientSecret)
	case AuthNone:
		form.Set("client_id", client.ClientID)
	case AuthPrivateKey, AuthSecretJWT:
		assertion, err := clientAssertion(client, assertionClaims(client.ClientID, endpoint, e.Now()))
		if err != nil {
			return nil, err
		}
		setAssertion(form, client.ClientID, assertion)
	}
	return e.postToken(ctx, form, basic)
}

// setAssertion adds a client assertion to a token request.
func setAssertion(form url.Values, clientID, assertion string) {
	form.Set("client_id", clientID)
	form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	form.Set("client_assertion", assertion)
}

// postToken posts form to the token endpoint as it is, with an
// Authorization header when basic is not empty.
func (e *Env) postToken(ctx context.Context, form url.Values, basic string) (*TokenResponse, error) {
	endpoint := e.Provider.Metadata.TokenEndpoint
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if basic != "" {
		req.Header.Set("Authorization", basic)
	}
	resp, err := e.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("token endpoint: %w", transportError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("read token response: %w", err)
	}
	tr := &TokenResponse{Status: resp.StatusCode, Header: resp.Header, ContentType: resp.Header.Get("Content-Type")}
	var m map[string]any
	if decodeJSON(body, &m) == nil {
		tr.JSON = m
		tr.AccessToken, _ = m["access_token"].(string)
		tr.TokenType, _ = m["token_type"].(string)
		tr.RefreshToken, _ = m["refresh_token"].(string)
		tr.IDToken, _ = m["id_token"].(string)
		tr.Scope, _ = m["scope"].(string)
		tr.Error, _ = m["error"].(string)
	}
	return tr, nil
}

// basicAuth is the client_secret_basic header: both parts form-encoded
// before base64, as RFC 6749 2.3.1 requires.
func basicAuth(id, secret string) string {
	raw := url.QueryEscape(id) + ":" + url.QueryEscape(secret)
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(raw))
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// vschar is the character set of tokens (RFC 6749 appendix A).
var vschar = regexp.MustCompile(`^[\x20-\x7E]+$`)

// checkTokenSuccess checks a successful token response (RFC 6749 5.1,
// OIDC Core 3.1.3.3); what names the request in failure reasons.
func (t *T) checkTokenSuccess(tr *TokenResponse, what string) bool {
	if tr.Status != http.StatusOK {
		t.Failf("%s: HTTP %d, want 200 (error %q)", what, tr.Status, tr.Error)
		return false
	}
	if !isJSON(tr.ContentType) || tr.JSON == nil {
		t.Failf("%s: the response is not a JSON object (Content-Type %q)", what, tr.ContentType)
		return false
	}
	if tr.Error != "" {
		t.Failf("%s: HTTP 200 with error %q", what, tr.Error)
		return false
	}
	if v, ok := tr.JSON["access_token"].(string); !ok || v == "" {
		t.Failf("%s: no access_token string", what)
	} else if !vschar.MatchString(v) {
		t.Failf("%s: access_token has characters outside RFC 6749 appendix A", what)
	}
	if !strings.EqualFold(tr.TokenType, "Bearer") {
		t.Failf("%s: token_type is %q, want Bearer", what, tr.TokenType)
	}
	if v, ok := tr.JSON["expires_in"]; ok {
		n, isNum := v.(json.Number)
		if f, err := n.Float64(); !isNum || err != nil || f <= 0 {
			t.Failf("%s: expires_in %v is not a positive number", what, v)
		}
	} else {
		t.Warnf("%s: no expires_in (RFC 6749 5.1 recommends it)", what)
	}
	if v, ok := tr.JSON["refresh_token"]; ok {
		if s, isStr := v.(string); !isStr || !vschar.MatchString(s) {
			t.Failf("%s: refresh_token is not a string of RFC 6749 appendix A characters", what)
		}
	}
	if !hasDirective(tr.Header.Values("Cache-Control"), "no-store") {
		t.Failf("%s: no Cache-Control: no-store (RFC 6749 5.1)", what)
	}
	return !t.Failed()
}

func hasDirective(values []string, directive string) bool {
	for _, v := range values {
		for _, d := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(d), directive) {
				return true
			}
		}
	}
	return false
}

// tokenErrors are the error codes of RFC 6749 5.2.
var tokenErrors = []string{"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type", "invalid_scope"}

// checkTokenError checks a token error response (RFC 6749 5.2) and that
// its error is one of want.
func (t *T) checkTokenError(tr *TokenResponse, what string, want ...string) bool {
	if tr.Status >= 200 && tr.Status < 300 {
		t.Failf("%s: HTTP %d, the provider accepted the request; want error %s", what, tr.Status, strings.Join(want, " or "))
		return false
	}
	if tr.Status != http.StatusBadRequest && !(tr.Status == http.StatusUnauthorized && tr.Error == "invalid_client") {
		t.Failf("%s: HTTP %d, want 400 (RFC 6749 5.2)", what, tr.Status)
	}
	if !isJSON(tr.ContentType) || tr.JSON == nil {
		t.Failf("%s: the error is not a JSON object (Content-Type %q)", what, tr.ContentType)
		return false
	}
	if tr.Error == "" {
		t.Failf("%s: the error response has no error member", what)
		return false
	}
	if !errorCharset.MatchString(tr.Error) {
		t.Failf("%s: error %q has characters RFC 6749 5.2 does not allow", what, tr.Error)
	}
	if d, ok := tr.JSON["error_description"]; ok {
		if s, isStr := d.(string); !isStr || !errorCharset.MatchString(s) {
			t.Failf("%s: error_description is not a string of the characters RFC 6749 5.2 allows", what)
		}
	}
	if u, ok := tr.JSON["error_uri"]; ok {
		s, _ := u.(string)
		if pu, err := url.Parse(s); err != nil || !pu.IsAbs() {
			t.Failf("%s: error_uri %v is not an absolute URI", what, u)
		}
	}
	if !slices.Contains(tokenErrors, tr.Error) {
		t.Warnf("%s: error %q is not one of RFC 6749 5.2's codes", what, tr.Error)
	}
	if !slices.Contains(want, tr.Error) {
		t.Failf("%s: error %q, want %s", what, tr.Error, strings.Join(want, " or "))
		return false
	}
	return !t.Failed()
}
