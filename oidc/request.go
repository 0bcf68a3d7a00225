package oidc

import (
	"context"
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
// A request object comes by value (request) or by reference (request_uri,
// fetched through the egress client: SSRF-safe, bounded in size and time;
// when the client registered request_uris it must be one of them). It is
// unsigned (alg none), which a client that registered a
// request_object_signing_alg other than none cannot send, or signed with
// one of the client's keys (RS*, PS*, ES*); a signed object's iss, when
// present, is the client id, its aud includes the issuer, and exp, nbf
// and iat hold. Its parameters replace the query's, typed values rendered
// as the query would carry them.

// maxRequestObject bounds the request parameter.
const maxRequestObject = 32 << 10

// expandRequestObject returns the authorization request's parameters with
// the request object merged in, or an error to send back to the client.
func (p *Provider) expandRequestObject(ctx context.Context, form url.Values) (url.Values, error) {
	raw := form.Get("request")
	if uri := form.Get("request_uri"); uri != "" {
		if raw != "" {
			return nil, fosite.ErrInvalidRequest.WithHint("request and request_uri must not be used together.")
		}
		var err error
		if raw, err = p.fetchRequestObject(ctx, form.Get("client_id"), uri); err != nil {
			return nil, err
		}
	}
	if raw == "" {
		return form, nil
	}
	if len(raw) > maxRequestObject {
		return nil, fosite.ErrInvalidRequestObject.WithHint("The request object is too large.")
	}
	claims, err := p.requestObjectClaims(ctx, form.Get("client_id"), raw)
	if err != nil {
		return nil, err
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
		if k != "request" && k != "request_uri" {
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

// fetchRequestObject fetches a request_uri.
func (p *Provider) fetchRequestObject(ctx context.Context, clientID, uri string) (string, error) {
	if len(uri) > 512 {
		return "", fosite.ErrInvalidRequestURI.WithHint("The request_uri is too long.")
	}
	if err := fetchableURL(uri, true); err != nil {
		return "", fosite.ErrInvalidRequestURI.WithHint("The request_uri must be an https URL.")
	}
	c, err := p.clients.Get(ctx, clientID)
	if err != nil {
		return "", fosite.ErrInvalidClient.WithHint("The client is not registered.")
	}
	target, _, _ := strings.Cut(uri, "#")
	if len(c.Metadata.RequestURIs) > 0 {
		registered := false
		for _, r := range c.Metadata.RequestURIs {
			if base, _, _ := strings.Cut(r, "#"); base == target {
				registered = true
			}
		}
		if !registered {
			return "", fosite.ErrInvalidRequestURI.WithHint("The request_uri is not one the client registered.")
		}
	}
	body, err := fetchDocument(ctx, p.egress, target, "application/oauth-authz-req+jwt, application/jwt")
	if err != nil {
		return "", fosite.ErrInvalidRequestURI.WithHint("The request_uri could not be fetched.")
	}
	return strings.TrimSpace(string(body)), nil
}

// requestObjectClaims verifies a request object for the client and
// returns its claims.
func (p *Provider) requestObjectClaims(ctx context.Context, clientID, raw string) (map[string]any, error) {
	header, payload, err := parseCompact(raw)
	if err != nil {
		return nil, fosite.ErrInvalidRequestObject.WithHint("The request object cannot be used: " + err.Error())
	}
	c, err := p.clients.Get(ctx, clientID)
	if err != nil {
		return nil, fosite.ErrInvalidClient.WithHint("The client is not registered.")
	}
	registered := c.Metadata.RequestObjectSigningAlg
	alg, _ := header["alg"].(string)
	if alg == "none" {
		if registered != "" && registered != "none" {
			return nil, fosite.ErrInvalidRequestObject.WithHintf("The client registered %s request objects; this one is unsigned.", registered)
		}
		if !strings.HasSuffix(raw, ".") {
			return nil, fosite.ErrInvalidRequestObject.WithHint("An unsigned request object has an empty signature.")
		}
		claims, err := decodeClaims(payload)
		if err != nil {
			return nil, fosite.ErrInvalidRequestObject.WithHint("The request object's claims cannot be decoded.")
		}
		return numbersToFloat(claims), nil
	}
	algs := asymmetricAlgs
	if registered != "" {
		algs = []string{registered}
	}
	tok, err := p.verifyClientJWT(ctx, c, raw, algs)
	if err != nil {
		return nil, fosite.ErrInvalidRequestObject.WithHint("The request object does not verify: " + err.Error())
	}
	claims := tok.claims
	if iss, ok := claims["iss"]; ok && iss != c.ID {
		return nil, fosite.ErrInvalidRequestObject.WithHint("The request object's iss must be the client id.")
	}
	if _, ok := claims["aud"]; ok && !contains(claimAudience(claims), p.cfg.Issuer) {
		return nil, fosite.ErrInvalidRequestObject.WithHint("The request object's aud must include the issuer.")
	}
	if _, err := checkTimes(claims, p.now(), false); err != nil {
		return nil, fosite.ErrInvalidRequestObject.WithHint("The request object is not valid now: " + err.Error())
	}
	return numbersToFloat(claims), nil
}

// numbersToFloat turns json.Number values into float64, as parameterValue
// renders them.
func numbersToFloat(claims map[string]any) map[string]any {
	for k, v := range claims {
		if n, ok := v.(json.Number); ok {
			if f, err := n.Float64(); err == nil {
				claims[k] = f
			}
		}
	}
	return claims
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
