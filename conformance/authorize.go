package conformance

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// AuthRequest is one authorization request under construction.
type AuthRequest struct {
	Client ClientAuth
	Params Params
	// Method is GET (default) or POST (form-encoded body).
	Method string
	// State, Nonce and CodeVerifier are what the response must match; empty
	// when not sent.
	State        string
	Nonce        string
	CodeVerifier string
	// RedirectURI is where the response must arrive.
	RedirectURI string
	// Mode is how the response must arrive: "query", "fragment" or
	// "form_post".
	Mode string
}

// NewAuthRequest builds the standard code-flow request of a client: response
// type code, the redirect URI, scope, a fresh state and nonce, and the plan's
// response_mode.
func (e *Env) NewAuthRequest(client ClientAuth, scope string) *AuthRequest {
	ar := &AuthRequest{
		Client:      client,
		Method:      http.MethodGet,
		State:       randomValue(24),
		Nonce:       randomValue(24),
		RedirectURI: e.Listener.RedirectURI(),
		Mode:        "query",
	}
	ar.Params = Params{
		{"response_type", "code"},
		{"client_id", client.ClientID},
		{"redirect_uri", ar.RedirectURI},
		{"scope", scope},
		{"state", ar.State},
		{"nonce", ar.Nonce},
	}
	if m := e.Variant.ResponseMode; m != "" {
		ar.Params.Set("response_mode", m)
		ar.Mode = m
	}
	return ar
}

// DropNonce removes the nonce from the request.
func (ar *AuthRequest) DropNonce() {
	ar.Params.Del("nonce")
	ar.Nonce = ""
}

// AddPKCE adds an S256 code challenge; the verifier goes to the token request.
func (ar *AuthRequest) AddPKCE() {
	ar.CodeVerifier = randomValue(48)
	ar.Params.Set("code_challenge", s256(ar.CodeVerifier))
	ar.Params.Set("code_challenge_method", "S256")
}

// HTTPRequest renders the request for the browser.
func (e *Env) HTTPRequest(ar *AuthRequest) (*http.Request, error) {
	endpoint := e.Provider.Metadata.AuthorizationEndpoint
	if endpoint == "" {
		return nil, fmt.Errorf("the discovery document has no authorization_endpoint")
	}
	if ar.Method == http.MethodPost {
		req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(ar.Params.Encode()))
		if err != nil {
			return nil, fmt.Errorf("authorization request: %w", transportError(err))
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req, nil
	}
	sep := "?"
	if strings.Contains(endpoint, "?") {
		sep = "&"
	}
	req, err := http.NewRequest(http.MethodGet, endpoint+sep+ar.Params.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("authorization request: %w", transportError(err))
	}
	return req, nil
}

// responseParams checks that the response reached the request's redirect
// URI by the expected response mode and returns its parameters. It fails
// the module and returns nil when there is no usable response.
func (t *T) responseParams(ar *AuthRequest, out *Outcome) url.Values {
	if out.Stop != nil {
		t.Failf("the provider did not answer the redirect URI: %s", out.Stop.Describe())
		return nil
	}
	cb := out.Callback
	want, _ := url.Parse(ar.RedirectURI)
	if !sameEndpoint(cb.URL, want) {
		t.Failf("the provider sent the response to %s, not to the requested redirect URI %s", stripQuery(cb.URL), stripQuery(want))
		return nil
	}
	// A registered redirect URI's own query must survive (RFC 6749 3.1.2).
	for k, vs := range want.Query() {
		if got := cb.Query.Get(k); got != vs[0] {
			t.Failf("the redirect URI's own query parameter %s=%q was not kept in the response (got %q)", k, vs[0], got)
		}
	}
	var params url.Values
	switch ar.Mode {
	case "form_post":
		if cb.Via != "form" {
			t.Failf("response_mode=form_post was requested but the response came as a %s to %s", cb.Via, stripQuery(cb.URL))
			return nil
		}
		if cb.FormMethod != http.MethodPost {
			t.Failf("the form_post form's method is %s, want POST", cb.FormMethod)
		}
		if rec := cb.Received; rec != nil {
			if mt, _, _ := mime.ParseMediaType(rec.ContentType); rec.Method != http.MethodPost || mt != "application/x-www-form-urlencoded" {
				t.Failf("the form_post response arrived as %s %q, want POST application/x-www-form-urlencoded", rec.Method, rec.ContentType)
			}
		}
		for _, k := range []string{"code", "error", "id_token", "access_token"} {
			if cb.Query.Has(k) {
				t.Failf("response_mode=form_post, yet %q is in the URL query (OIDC Core 3.3.2.5, OAuth 2.0 Form Post)", k)
			}
		}
		params = cb.Form
	case "fragment":
		if cb.Via != "redirect" {
			t.Failf("response_mode=fragment was requested but the response came as a form")
			return nil
		}
		params = cb.Fragment
	default:
		if cb.Via != "redirect" {
			t.Failf("the response came as a form_post page although response_mode=query (the code flow's default) applies")
			return nil
		}
		if !cb.Query.Has("code") && !cb.Query.Has("error") && (cb.Fragment.Has("code") || cb.Fragment.Has("error")) {
			t.Failf("the response is in the URL fragment; the code flow's default response mode is query")
			return nil
		}
		params = cb.Query
	}
	if params == nil {
		params = url.Values{}
	}
	return params
}

// sameEndpoint compares scheme, host and path; queries may differ.
func sameEndpoint(a, b *url.URL) bool {
	return a != nil && b != nil && strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host) && a.Path == b.Path
}

// checkResponseCommon checks what every authorization response must get
// right: the state and, when present or promised, the iss parameter
// (RFC 9207).
func (t *T) checkResponseCommon(ar *AuthRequest, params url.Values) {
	if ar.State != "" {
		if got := params.Get("state"); got != ar.State {
			if got == "" {
				t.Failf("the response has no state; the request sent one (RFC 6749 4.1.2)")
			} else {
				t.Failf("the response's state differs from the request's (%d characters sent, %d returned)", len(ar.State), len(got))
			}
		}
	}
	p := t.Env.Provider
	if params.Has("iss") {
		if got := params.Get("iss"); got != p.Metadata.Issuer {
			t.Failf("the response's iss %q is not the issuer %q (RFC 9207)", got, p.Metadata.Issuer)
		}
	} else if s := p.Metadata.AuthorizationResponseIssParameterSupported; s != nil && *s {
		t.Failf("the response has no iss, though discovery says authorization_response_iss_parameter_supported (RFC 9207)")
	}
}

// checkSuccess checks a successful code response and returns the code.
func (t *T) checkSuccess(ar *AuthRequest, params url.Values) (string, bool) {
	t.checkResponseCommon(ar, params)
	if e := params.Get("error"); e != "" {
		t.Failf("the provider returned error %q (%s) instead of a code", e, params.Get("error_description"))
		return "", false
	}
	code := params.Get("code")
	if code == "" {
		t.Failf("the response has no code")
		return "", false
	}
	// 128 bits at least (RFC 6749 10.10, RFC 6819 5.1.4.2.2): one byte per
	// character is the most a code can carry.
	if len(code) < 16 {
		t.Failf("the authorization code is %d characters long, too short to carry 128 bits (RFC 6749 10.10)", len(code))
	}
	if ar.Params.Get("response_type") == "code" && (params.Has("id_token") || params.Has("access_token")) {
		t.Failf("response_type=code, yet the authorization response carries tokens")
	}
	return code, !t.Failed()
}

// errorCharset is the character set of error and error_description
// (RFC 6749 4.1.2.1 and 5.2).
var errorCharset = regexp.MustCompile(`^[\x20-\x21\x23-\x5B\x5D-\x7E]+$`)

// checkErrorResponse checks an authorization error response and that its
// error is one of want.
func (t *T) checkErrorResponse(ar *AuthRequest, params url.Values, want ...string) bool {
	t.checkResponseCommon(ar, params)
	e := params.Get("error")
	if e != "" && params.Has("code") {
		t.Failf("the error response also carries a code (OIDC Core 3.1.2.6)")
	}
	if e == "" {
		if params.Has("code") {
			t.Failf("the provider issued a code; want an error %s", strings.Join(want, " or "))
		} else {
			t.Failf("the response has no error; want %s", strings.Join(want, " or "))
		}
		return false
	}
	if !errorCharset.MatchString(e) {
		t.Failf("the error %q has characters RFC 6749 4.1.2.1 does not allow", e)
	}
	if d := params.Get("error_description"); params.Has("error_description") && !errorCharset.MatchString(d) {
		t.Failf("error_description has characters RFC 6749 4.1.2.1 does not allow")
	}
	if params.Has("error_uri") {
		if u, err := url.Parse(params.Get("error_uri")); err != nil || !u.IsAbs() {
			t.Failf("error_uri %q is not an absolute URI", params.Get("error_uri"))
		}
	}
	if !slices.Contains(want, e) {
		t.Failf("the provider returned error %q (%s); want %s", e, params.Get("error_description"), strings.Join(want, " or "))
		return false
	}
	return !t.Failed()
}
