package keys

import (
	"crypto"
	"errors"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Algorithms orgid can hold keys for.
const (
	RS256 = "RS256"
	ES256 = "ES256"
)

// supported lists the algorithms this package can generate and verify.
var supported = []string{RS256, ES256}

func isSupported(alg string) bool {
	for _, a := range supported {
		if a == alg {
			return true
		}
	}
	return false
}

// State is where a key is in its life.
type State string

const (
	// StateNext: published in the JWKS, signs after the next rotation.
	StateNext State = "next"
	// StateActive: signs new tokens of its algorithm.
	StateActive State = "active"
	// StateRetired: verifies and stays published until PublishUntil.
	StateRetired State = "retired"
)

// Sentinel errors; check them with errors.Is.
var (
	// ErrNoKey: no active key for the requested algorithm (Init not run, or
	// the algorithm is not configured).
	ErrNoKey = errors.New("keys: no signing key")
	// ErrInvalidToken: a JWS was malformed, signed by an unknown key, with a
	// disallowed algorithm or header, or its signature did not verify.
	ErrInvalidToken = errors.New("keys: invalid token")
)

// Key is one signing key as loaded in memory. It is immutable and safe for
// concurrent use; the private part is reachable only through CryptoSigner.
type Key struct {
	// KID is the JWS "kid" of tokens this key signs.
	KID string
	// Algorithm is the JWS "alg": RS256 or ES256.
	Algorithm string
	// State is the key's state when its snapshot was loaded.
	State State
	// PublishUntil is when a retired key leaves the JWKS (zero otherwise).
	PublishUntil time.Time

	signer crypto.Signer
	jwk    jose.JSONWebKey // public, with kid, alg and use
	// joseSigners caches go-jose signers by typ header; shared by the
	// copies of a key that successive snapshots hold.
	joseSigners *sync.Map
}

func newKey(kid, alg string, signer crypto.Signer) *Key {
	return &Key{KID: kid, Algorithm: alg, signer: signer, jwk: publicJWK(kid, alg, signer), joseSigners: new(sync.Map)}
}

// Public returns the standard-library public key (*rsa.PublicKey or
// *ecdsa.PublicKey).
func (k *Key) Public() crypto.PublicKey { return k.signer.Public() }

// PublicJWK returns the public key as published in the JWKS.
func (k *Key) PublicJWK() jose.JSONWebKey { return k.jwk }

// CryptoSigner returns the private key, for callers that sign with their own
// JOSE code. Prefer Manager.Sign.
func (k *Key) CryptoSigner() crypto.Signer { return k.signer }

// KeyInfo describes a stored key without its private part, for listings.
type KeyInfo struct {
	KID          string    `json:"kid"`
	Algorithm    string    `json:"algorithm"`
	State        State     `json:"state"`
	CreatedAt    time.Time `json:"created_at"`
	ActivatedAt  time.Time `json:"activated_at,omitzero"`
	RetiredAt    time.Time `json:"retired_at,omitzero"`
	PublishUntil time.Time `json:"publish_until,omitzero"`
}
