package keys

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// defaultType is the "typ" of tokens whose caller names none.
const defaultType = "JWT"

// MaxTokenBytes bounds the compact JWS that Verify and the fosite bridge
// accept; larger input is rejected before any parsing.
const MaxTokenBytes = 64 << 10

// Sign returns a compact JWS of claims signed with the active key of alg
// ("" = the default algorithm). The header carries alg and kid from the key,
// typ "JWT" unless extraHeaders names another (e.g. "logout+jwt"), and the
// other extraHeaders. claims is marshalled with encoding/json ([]byte and
// json.RawMessage are used as they are), so integral numbers such as exp
// and iat stay integers.
func (m *Manager) Sign(ctx context.Context, alg string, claims any, extraHeaders map[string]any) (string, error) {
	key, err := m.Signer(alg)
	if err != nil {
		return "", err
	}
	payload, err := marshalClaims(claims)
	if err != nil {
		return "", err
	}
	return key.sign(payload, extraHeaders)
}

// marshalClaims turns claims into the JWS payload.
func marshalClaims(claims any) ([]byte, error) {
	var b []byte
	switch c := claims.(type) {
	case []byte:
		b = c
	case json.RawMessage:
		b = c
	default:
		var err error
		if b, err = json.Marshal(claims); err != nil {
			return nil, fmt.Errorf("sign: marshal claims: %w", err)
		}
		return b, nil
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("sign: claims are not valid JSON")
	}
	return b, nil
}

// managedHeaders are set from the key; callers cannot override them.
var managedHeaders = []string{"alg", "kid"}

// forbiddenHeaders would make a token that orgid itself (and careful
// verifiers) must reject: keys or key locations inside the token, and
// extensions that change how the signature is checked.
var forbiddenHeaders = []string{"jwk", "jku", "x5u", "x5c", "crit", "b64"}

// sign signs payload with k.
func (k *Key) sign(payload []byte, extraHeaders map[string]any) (string, error) {
	typ := defaultType
	var extra map[jose.HeaderKey]any
	for name, v := range extraHeaders {
		switch {
		case slices.Contains(managedHeaders, name):
			continue
		case slices.Contains(forbiddenHeaders, name):
			return "", fmt.Errorf("sign: header %q is not allowed", name)
		case name == "typ":
			s, ok := v.(string)
			if !ok || s == "" {
				return "", fmt.Errorf("sign: header typ must be a non-empty string, got %T", v)
			}
			typ = s
		default:
			if extra == nil {
				extra = map[jose.HeaderKey]any{}
			}
			extra[jose.HeaderKey(name)] = v
		}
	}
	signer, err := k.joseSigner(typ, extra)
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign with key %s: %w", k.KID, err)
	}
	return obj.CompactSerialize()
}

// joseSigner returns a go-jose signer for k with the given headers. Signers
// that differ only by typ are cached: go-jose signers keep no per-call
// state, and building one per token would cost as much as an ES256
// signature.
func (k *Key) joseSigner(typ string, extra map[jose.HeaderKey]any) (jose.Signer, error) {
	if extra == nil {
		if s, ok := k.joseSigners.Load(typ); ok {
			return s.(jose.Signer), nil
		}
	}
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ))
	for name, v := range extra {
		opts = opts.WithHeader(name, v)
	}
	s, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.SignatureAlgorithm(k.Algorithm),
		Key:       jose.JSONWebKey{Key: k.signer, KeyID: k.KID, Algorithm: k.Algorithm},
	}, opts)
	if err != nil {
		return nil, fmt.Errorf("signer for key %s: %w", k.KID, err)
	}
	if extra == nil {
		k.joseSigners.Store(typ, s)
	}
	return s, nil
}

// Verify checks a compact JWS against the published keys and returns its
// payload and protected header. The header must name a published key by
// kid, its alg must be that key's algorithm and among allowedAlgs (default:
// every algorithm this package supports); alg "none" and HMAC algorithms
// are never accepted, and neither are tokens that carry their own key or a
// key location (jwk, jku, x5u, x5c) or critical extensions. Claims are not
// validated: that is the caller's job. Every rejection wraps
// ErrInvalidToken.
func (m *Manager) Verify(token string, allowedAlgs ...string) ([]byte, jose.Header, error) {
	if len(allowedAlgs) == 0 {
		allowedAlgs = supported
	}
	var algs []jose.SignatureAlgorithm
	for _, a := range allowedAlgs {
		if isSupported(a) {
			algs = append(algs, jose.SignatureAlgorithm(a))
		}
	}
	if len(algs) == 0 {
		return nil, jose.Header{}, fmt.Errorf("%w: none of the algorithms %v is supported", ErrInvalidToken, allowedAlgs)
	}
	if err := checkCompactHeader(token); err != nil {
		return nil, jose.Header{}, err
	}
	obj, err := jose.ParseSignedCompact(token, algs)
	if err != nil {
		return nil, jose.Header{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if len(obj.Signatures) != 1 {
		return nil, jose.Header{}, fmt.Errorf("%w: want one signature", ErrInvalidToken)
	}
	h := obj.Signatures[0].Protected
	key, ok := m.Lookup(h.KeyID)
	if !ok {
		return nil, jose.Header{}, fmt.Errorf("%w: unknown key id %q", ErrInvalidToken, h.KeyID)
	}
	if h.Algorithm != key.Algorithm {
		return nil, jose.Header{}, fmt.Errorf("%w: alg %q does not match key %s (%s)", ErrInvalidToken, h.Algorithm, key.KID, key.Algorithm)
	}
	payload, err := obj.Verify(key.Public())
	if err != nil {
		return nil, jose.Header{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return payload, h, nil
}

// checkCompactHeader rejects oversized input, anything but three segments,
// and protected headers with forbidden parameters, before go-jose parses
// the token.
func checkCompactHeader(token string) error {
	if len(token) > MaxTokenBytes {
		return fmt.Errorf("%w: token longer than %d bytes", ErrInvalidToken, MaxTokenBytes)
	}
	first, rest, ok := strings.Cut(token, ".")
	if !ok || strings.Count(rest, ".") != 1 {
		return fmt.Errorf("%w: not a compact JWS", ErrInvalidToken)
	}
	raw, err := base64.RawURLEncoding.DecodeString(first)
	if err != nil {
		return fmt.Errorf("%w: header: %w", ErrInvalidToken, err)
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(raw, &header); err != nil {
		return fmt.Errorf("%w: header: %w", ErrInvalidToken, err)
	}
	for _, name := range forbiddenHeaders {
		if _, ok := header[name]; ok {
			return fmt.Errorf("%w: header %q is not allowed", ErrInvalidToken, name)
		}
	}
	return nil
}
