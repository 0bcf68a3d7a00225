package middleware

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// forbiddenHeaders carry a key or key location inside the token, or
// change how the signature is checked; orgid never sets them, and
// honouring them is how verifiers get tricked into trusting the token's
// own key.
var forbiddenHeaders = []string{"jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256", "crit", "b64", "zip", "enc"}

// isAccessTokenType reports whether typ marks an RFC 9068 access token
// (RFC 9068 §4: "at+jwt" or "application/at+jwt"; media types compare
// case-insensitively).
func isAccessTokenType(typ string) bool {
	return strings.EqualFold(typ, "at+jwt") || strings.EqualFold(typ, "application/at+jwt")
}

// looksLikeJWS reports whether token has the three segments of a compact
// JWS; anything else is treated as an opaque token.
func looksLikeJWS(token string) bool { return strings.Count(token, ".") == 2 }

// verifyJWT checks a JWT access token offline. The cheap checks (shape,
// header, alg, typ) come before the key lookup, so that malformed tokens
// and ID tokens never cause a JWK Set refresh.
func (v *Verifier) verifyJWT(ctx context.Context, token string) (*Claims, error) {
	header, err := protectedHeader(token)
	if err != nil {
		return nil, err
	}
	for _, name := range forbiddenHeaders {
		if _, ok := header[name]; ok {
			return nil, fmt.Errorf("header %q is not allowed", name)
		}
	}
	obj, err := jose.ParseSignedCompact(token, allowedAlgorithms)
	if err != nil {
		return nil, fmt.Errorf("parse JWS: %w", err)
	}
	if len(obj.Signatures) != 1 {
		return nil, errors.New("want exactly one signature")
	}
	h := obj.Signatures[0].Protected
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if !isAccessTokenType(typ) {
		return nil, fmt.Errorf("typ %q is not at+jwt (an ID token or another JWT used as an access token)", typ)
	}
	if h.KeyID == "" {
		return nil, errors.New("no kid in the header")
	}
	key, err := v.keys.key(ctx, h.KeyID)
	if err != nil {
		return nil, err
	}
	if string(key.alg) != h.Algorithm {
		return nil, fmt.Errorf("alg %q does not match key %q (%s)", h.Algorithm, h.KeyID, key.alg)
	}
	payload, err := obj.Verify(key.key)
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	c, err := decodeClaims(payload)
	if err != nil {
		return nil, err
	}
	if err := v.checkClaims(c, true); err != nil {
		return nil, err
	}
	return c.claims(), nil
}

// protectedHeader decodes the first segment of a compact JWS as a JSON
// object.
func protectedHeader(token string) (map[string]json.RawMessage, error) {
	first, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(first)
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(raw, &header); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	return header, nil
}

// tokenClaims is the JSON of an access token, or of an introspection
// response (RFC 7662 uses the same names, plus active and token_type).
type tokenClaims struct {
	Issuer         string       `json:"iss"`
	Subject        string       `json:"sub"`
	Audience       audience     `json:"aud"`
	Expiry         *numericDate `json:"exp"`
	NotBefore      *numericDate `json:"nbf"`
	IssuedAt       *numericDate `json:"iat"`
	ID             string       `json:"jti"`
	ClientID       string       `json:"client_id"`
	Scope          string       `json:"scope"`
	SessionID      string       `json:"sid"`
	OrgID          string       `json:"org_id"`
	OrgSlug        string       `json:"org_slug"`
	OrgRole        string       `json:"org_role"`
	OrgPermissions []string     `json:"org_permissions"`

	Active    bool   `json:"active"`
	TokenType string `json:"token_type"`

	raw map[string]any
}

// decodeClaims parses a claims object. A claim of the wrong JSON type
// makes the token invalid: guessing would be unsafe.
func decodeClaims(payload []byte) (*tokenClaims, error) {
	var c tokenClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	if err := json.Unmarshal(payload, &c.raw); err != nil || c.raw == nil {
		return nil, fmt.Errorf("claims: not a JSON object")
	}
	return &c, nil
}

// checkClaims validates issuer, audience and times. A JWT must carry every
// claim RFC 9068 §2.2 requires (jti aside, which orgid sets but an API
// has no use for); an introspection response (RFC 7662 §2.2) only has to
// be consistent where it speaks.
func (v *Verifier) checkClaims(c *tokenClaims, isJWT bool) error {
	now := v.opts.Now()
	leeway := v.opts.Leeway
	if isJWT || c.Issuer != "" {
		if c.Issuer != v.opts.Issuer {
			return fmt.Errorf("iss %q, want %q", c.Issuer, v.opts.Issuer)
		}
	}
	if !c.Audience.contains(v.opts.Audience) {
		return fmt.Errorf("aud %q does not contain %q", []string(c.Audience), v.opts.Audience)
	}
	if c.Subject == "" {
		return errors.New("no sub")
	}
	if isJWT && c.ClientID == "" {
		return errors.New("no client_id")
	}
	switch {
	case c.Expiry == nil && isJWT:
		return errors.New("no exp")
	case c.Expiry != nil && !now.Before(c.Expiry.time().Add(leeway)):
		return fmt.Errorf("%w at %s", ErrTokenExpired, c.Expiry.time().UTC().Format(time.RFC3339))
	}
	if c.NotBefore != nil && now.Add(leeway).Before(c.NotBefore.time()) {
		return fmt.Errorf("not valid before %s", c.NotBefore.time().UTC().Format(time.RFC3339))
	}
	switch {
	case c.IssuedAt == nil && isJWT:
		return errors.New("no iat")
	case c.IssuedAt != nil && now.Add(leeway).Before(c.IssuedAt.time()):
		return fmt.Errorf("issued in the future (%s)", c.IssuedAt.time().UTC().Format(time.RFC3339))
	}
	return nil
}

// claims is the exported form.
func (c *tokenClaims) claims() *Claims {
	out := &Claims{
		Issuer: c.Issuer, Audience: []string(c.Audience), Subject: c.Subject, ClientID: c.ClientID,
		Scopes: strings.Fields(c.Scope), SessionID: c.SessionID,
		OrgID: c.OrgID, OrgSlug: c.OrgSlug, OrgRole: c.OrgRole, OrgPermissions: c.OrgPermissions,
		ID: c.ID, Raw: c.raw,
	}
	if c.IssuedAt != nil {
		out.IssuedAt = c.IssuedAt.time()
	}
	if c.Expiry != nil {
		out.ExpiresAt = c.Expiry.time()
	}
	return out
}

// audience is aud: a string or an array of strings (RFC 7519 §4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("aud is neither a string nor an array of strings")
	}
	*a = many
	return nil
}

func (a audience) contains(want string) bool {
	for _, s := range a {
		if s == want {
			return true
		}
	}
	return false
}

// numericDate is a JSON number of seconds since the epoch, fractions
// allowed (RFC 7519 §2).
type numericDate struct{ t time.Time }

func (d *numericDate) UnmarshalJSON(b []byte) error {
	var n json.Number
	// encoding/json would also take a numeric string ("123") for a Number.
	if len(b) == 0 || b[0] == '"' || json.Unmarshal(b, &n) != nil {
		return errors.New("a time claim is not a number")
	}
	f, err := n.Float64()
	// Beyond ±2^53 s a float64 loses whole seconds and time.Unix
	// overflows; no genuine token comes close.
	if err != nil || f < -(1<<53) || f > 1<<53 {
		return fmt.Errorf("time claim %s out of range", n)
	}
	sec := int64(f)
	d.t = time.Unix(sec, int64((f-float64(sec))*1e9))
	return nil
}

func (d *numericDate) time() time.Time { return d.t }
