package oidc

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ory/fosite"
)

// Request objects (OpenID Connect Core §6, RFC 9101), parsed by orgid
// rather than fosite: fosite formats every claim with %s, so numbers
// (max_age) and objects (claims) arrive mangled and are silently ignored.
//
// orgid accepts unsigned request objects (alg "none") passed by value: their
// parameters replace the query's, typed values are rendered as the query
// would carry them, and the request continues as if sent with them. Signed
// request objects and request_uri (which would make orgid fetch a URL of
// the client's choosing) are refused with the standard errors.

// maxRequestObject bounds the request parameter.
const maxRequestObject = 32 << 10

// expandRequestObject returns the authorization request's parameters with
// the request object merged in, or an error to send back to the client.
func expandRequestObject(form url.Values) (url.Values, error) {
	if form.Get("request_uri") != "" {
		return nil, fosite.ErrRequestURINotSupported.WithHint("Request objects by reference (request_uri) are not supported; pass the request object by value.")
	}
	raw := form.Get("request")
	if raw == "" {
		return form, nil
	}
	if len(raw) > maxRequestObject {
		return nil, fosite.ErrInvalidRequestObject.WithHint("The request object is too large.")
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, fosite.ErrInvalidRequestObject.WithHint("The request object is not a compact JWT.")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return nil, fosite.ErrInvalidRequestObject.WithHint("The request object's header cannot be decoded.")
	}
	if header.Alg != "none" || parts[2] != "" {
		return nil, fosite.ErrRequestNotSupported.WithHint("Only unsigned request objects (alg none) are supported.")
	}
	var claims map[string]any
	if err := decodeSegment(parts[1], &claims); err != nil {
		return nil, fosite.ErrInvalidRequestObject.WithHint("The request object's claims cannot be decoded.")
	}
	// OpenID Connect Core §6.1: client_id and response_type inside must
	// equal the query's (OAuth requires them outside).
	for _, k := range []string{"client_id", "response_type"} {
		if v, ok := claims[k]; ok {
			if s, _ := v.(string); s != form.Get(k) {
				return nil, fosite.ErrInvalidRequestObject.WithHintf("%s in the request object differs from the request's.", k)
			}
		}
	}
	out := url.Values{}
	for k, vs := range form {
		if k != "request" {
			out[k] = vs
		}
	}
	for k, v := range claims {
		switch k {
		case "iss", "aud", "exp", "iat", "nbf", "jti", "request", "request_uri":
			continue // JWT claims about the object itself, not parameters
		}
		s, err := parameterValue(v)
		if err != nil {
			return nil, fosite.ErrInvalidRequestObject.WithHintf("The request object's %s: %v", k, err)
		}
		out.Set(k, s)
	}
	return out, nil
}

// parameterValue renders a request object claim as the query parameter it
// stands for: strings as they are, numbers without exponent, objects (the
// claims parameter) as JSON.
func parameterValue(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	case map[string]any, []any:
		b, err := json.Marshal(x)
		return string(b), err
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("unsupported value %T", v)
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// requestWithForm rebuilds r as a GET carrying form, so that fosite parses
// exactly these parameters.
func requestWithForm(r *http.Request, form url.Values) *http.Request {
	out := r.Clone(r.Context())
	out.Method = http.MethodGet
	out.Body = http.NoBody
	out.ContentLength = 0
	out.Header.Del("Content-Type")
	out.URL = &url.URL{Path: PathAuthorize, RawQuery: form.Encode()}
	out.Form, out.PostForm, out.MultipartForm = nil, nil, nil
	return out
}
