package conformance

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// UserInfoMethod is how the access token is presented (OIDC Core 5.3.1,
// RFC 6750 2.1 and 2.2).
type UserInfoMethod string

// The three ways of calling the UserInfo endpoint.
const (
	UserInfoGet        UserInfoMethod = "GET with a bearer header"
	UserInfoPostHeader UserInfoMethod = "POST with a bearer header"
	UserInfoPostBody   UserInfoMethod = "POST with the token in the body"
)

// UserInfo calls the UserInfo endpoint.
func (e *Env) UserInfo(ctx context.Context, accessToken string, method UserInfoMethod) (*Fetched, error) {
	endpoint := e.Provider.Metadata.UserinfoEndpoint
	if endpoint == "" {
		return nil, fmt.Errorf("the discovery document has no userinfo_endpoint")
	}
	var req *http.Request
	var err error
	switch method {
	case UserInfoGet:
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	case UserInfoPostHeader:
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(""))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	case UserInfoPostBody:
		body := url.Values{"access_token": {accessToken}}.Encode()
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(body))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	default:
		return nil, fmt.Errorf("unknown userinfo method %q", method)
	}
	if err != nil {
		return nil, fmt.Errorf("userinfo request: %w", err)
	}
	if method != UserInfoPostBody {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := e.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("userinfo endpoint: %w", transportError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("read userinfo response: %w", err)
	}
	return &Fetched{URL: endpoint, Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Header: resp.Header, Body: body}, nil
}

// userInfoClaims calls the UserInfo endpoint with the flow's access token
// and checks the response (OIDC Core 5.3.2): HTTP 200, JSON, a sub equal to
// the ID token's, standard claims of the right types. It returns nil after
// recording a failure.
func (t *T) userInfoClaims(f *Flow, method UserInfoMethod) map[string]any {
	resp, err := t.Env.UserInfo(t.Ctx, f.Tokens.AccessToken, method)
	if err != nil {
		t.Failf("userinfo %s: %v", method, err)
		return nil
	}
	return t.checkUserInfo(f, resp, method)
}

func (t *T) checkUserInfo(f *Flow, resp *Fetched, method UserInfoMethod) map[string]any {
	if resp.Status != http.StatusOK {
		t.Failf("userinfo %s: HTTP %d, want 200 (%s)", method, resp.Status, excerpt(resp.Body))
		return nil
	}
	var claims map[string]any
	mt, _, _ := mime.ParseMediaType(resp.ContentType)
	switch {
	case mt == "application/jwt":
		// A signed response (OIDC Core 5.3.2) is only for clients that
		// registered for it; read its payload to check the claims.
		parts := strings.Split(strings.TrimSpace(string(resp.Body)), ".")
		payload, err := base64.RawURLEncoding.DecodeString(partOr(parts, 1))
		if err != nil || decodeJSON(payload, &claims) != nil {
			t.Failf("userinfo %s: application/jwt response that is not a readable JWT", method)
			return nil
		}
		t.Warnf("userinfo %s: the response is a signed JWT although the client did not ask for one", method)
	case isJSON(resp.ContentType):
		if err := decodeJSON(resp.Body, &claims); err != nil {
			t.Failf("userinfo %s: %v", method, err)
			return nil
		}
	default:
		t.Failf("userinfo %s: Content-Type %q, want application/json", method, resp.ContentType)
		return nil
	}
	sub, _ := claims["sub"].(string)
	switch {
	case sub == "":
		t.Failf("userinfo %s: no sub", method)
	case f.IDToken != nil && sub != f.IDToken.Str("sub"):
		t.Failf("userinfo %s: sub differs from the ID token's sub (OIDC Core 5.3.2)", method)
	}
	for _, p := range claimTypeProblems(claims) {
		t.Failf("userinfo %s: %s", method, p)
	}
	return claims
}

func partOr(parts []string, i int) string {
	if i < len(parts) {
		return parts[i]
	}
	return ""
}
