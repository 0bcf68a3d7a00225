package keys

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"github.com/ory/fosite/token/jwt"
)

// algorithmKey carries the signing algorithm chosen for one request.
type algorithmKey struct{}

// WithAlgorithm returns a context in which FositeSigner signs with the
// active key of alg instead of the default algorithm, e.g. for a client
// registered with id_token_signed_response_alg ES256.
func WithAlgorithm(ctx context.Context, alg string) context.Context {
	return context.WithValue(ctx, algorithmKey{}, alg)
}

// algorithmFrom returns the algorithm WithAlgorithm put into ctx, or "".
func algorithmFrom(ctx context.Context) string {
	alg, _ := ctx.Value(algorithmKey{}).(string)
	return alg
}

// FositeSigner returns fosite's jwt.Signer backed by this manager: fosite's
// ID-token and JWT access-token strategies sign through it, and decode
// id_token_hint and JWT access tokens against every published key. Use the
// same value for every strategy that takes a signer.
func (m *Manager) FositeSigner() jwt.Signer { return fositeSigner{m: m} }

// fositeSigner bridges fosite (go-jose v3 inside) to the manager's keys
// (go-jose v4): signing uses v4 directly; decoding runs fosite's own parser
// with a key function that returns the standard-library public key, so
// fosite's ValidationError bits (Expired in particular) stay exactly as
// fosite's handlers expect them.
type fositeSigner struct{ m *Manager }

var _ jwt.Signer = fositeSigner{}

// Generate signs claims with the active key of the request's algorithm.
// Extra headers come from the session (typ "at+jwt" for RFC 9068 access
// tokens); typ defaults to "JWT", kid and alg always come from the key.
func (s fositeSigner) Generate(ctx context.Context, claims jwt.MapClaims, header jwt.Mapper) (string, string, error) {
	if claims == nil {
		return "", "", errors.New("keys: fosite signer: claims are nil")
	}
	key, err := s.m.Signer(algorithmFrom(ctx))
	if err != nil {
		return "", "", err
	}
	var extra map[string]any
	if header != nil {
		extra = header.ToMap()
	}
	payload, err := marshalClaims(map[string]any(claims))
	if err != nil {
		return "", "", err
	}
	token, err := key.sign(payload, extra)
	if err != nil {
		return "", "", err
	}
	sig, err := signatureOf(token)
	if err != nil {
		return "", "", err
	}
	return token, sig, nil
}

// Decode verifies token against the published keys and validates its time
// claims the way fosite does. On failure it returns a *jwt.ValidationError,
// with ValidationErrorExpired set for an expired but otherwise valid token.
func (s fositeSigner) Decode(ctx context.Context, token string) (*jwt.Token, error) {
	// fosite's parser (go-jose v3) also takes the JSON serialization and
	// header-embedded keys; orgid issues neither, so refuse them first.
	if err := checkCompactHeader(token); err != nil {
		return &jwt.Token{}, &jwt.ValidationError{Errors: jwt.ValidationErrorMalformed, Inner: err}
	}
	return jwt.ParseWithClaims(token, jwt.MapClaims{}, s.keyFor)
}

// keyFor is the key function for fosite's parser: the kid must name a
// published key and the header alg must be that key's algorithm, which also
// rules out "none" and HMAC. Decode has already refused forbidden headers.
func (s fositeSigner) keyFor(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	key, ok := s.m.Lookup(kid)
	if !ok {
		return nil, &jwt.ValidationError{Errors: jwt.ValidationErrorUnverifiable, Inner: fmt.Errorf("%w: unknown key id %q", ErrInvalidToken, kid)}
	}
	if string(t.Method) != key.Algorithm {
		return nil, &jwt.ValidationError{Errors: jwt.ValidationErrorSignatureInvalid, Inner: fmt.Errorf("%w: alg %q does not match key %s (%s)", ErrInvalidToken, t.Method, key.KID, key.Algorithm)}
	}
	return key.Public(), nil
}

// Validate verifies token and returns its signature segment.
func (s fositeSigner) Validate(ctx context.Context, token string) (string, error) {
	if _, err := s.Decode(ctx, token); err != nil {
		return "", err
	}
	return signatureOf(token)
}

// Hash is SHA-256, the hash of every algorithm this package signs with.
func (s fositeSigner) Hash(ctx context.Context, in []byte) ([]byte, error) {
	sum := sha256.Sum256(in)
	return sum[:], nil
}

// GetSignature returns the signature segment of a compact JWS.
func (s fositeSigner) GetSignature(ctx context.Context, token string) (string, error) {
	return signatureOf(token)
}

// GetSigningMethodLength is the size of Hash's output.
func (s fositeSigner) GetSigningMethodLength(ctx context.Context) int { return sha256.Size }

func signatureOf(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("%w: not a compact JWS", ErrInvalidToken)
	}
	return parts[2], nil
}
