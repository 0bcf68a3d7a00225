package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/orgid/orgid/internal/secret"
)

// rsaBits is the modulus size of new RSA keys: the common floor that every
// relying party accepts, at a signing cost the token endpoint can afford.
const rsaBits = 2048

// kidBytes of randomness make a kid: unguessable and collision-free, and it
// says nothing about the key.
const kidBytes = 16

// newKID returns a fresh key id, base64url without padding.
func newKID() string { return secret.RandomString(kidBytes) }

// generateKey makes a new private key for alg.
func generateKey(alg string) (crypto.Signer, error) {
	switch alg {
	case RS256:
		return rsa.GenerateKey(rand.Reader, rsaBits)
	case ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, fmt.Errorf("generate key: unsupported algorithm %q", alg)
	}
}

// publicJWK is the JWKS entry of a key.
func publicJWK(kid, alg string, signer crypto.Signer) jose.JSONWebKey {
	return jose.JSONWebKey{Key: signer.Public(), KeyID: kid, Algorithm: alg, Use: "sig"}
}

// sealedKey is a freshly generated key, ready to be inserted.
type sealedKey struct {
	kid       string
	alg       string
	sealed    []byte
	publicJWK string
}

// newSealedKey generates a key for alg and seals its PKCS#8 DER with kr,
// bound to the kid so that a ciphertext cannot be moved to another row.
func newSealedKey(kr *secret.Keyring, alg string) (sealedKey, error) {
	signer, err := generateKey(alg)
	if err != nil {
		return sealedKey{}, err
	}
	kid := newKID()
	der, err := x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		return sealedKey{}, fmt.Errorf("encode %s key: %w", alg, err)
	}
	pub, err := json.Marshal(publicJWK(kid, alg, signer))
	if err != nil {
		return sealedKey{}, fmt.Errorf("encode %s public key: %w", alg, err)
	}
	return sealedKey{kid: kid, alg: alg, sealed: kr.Seal(der, keyAAD(kid)), publicJWK: string(pub)}, nil
}

// keyAAD binds a sealed private key to its row.
func keyAAD(kid string) []byte { return []byte("signing-key:" + kid) }

// openKey decrypts and parses a stored private key and checks that it fits
// its algorithm.
func openKey(kr *secret.Keyring, kid, alg string, sealed []byte) (crypto.Signer, error) {
	der, err := kr.Open(sealed, keyAAD(kid))
	if err != nil {
		return nil, fmt.Errorf("decrypt signing key %q: %w", kid, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse signing key %q: %w", kid, err)
	}
	switch k := parsed.(type) {
	case *rsa.PrivateKey:
		if alg == RS256 && k.N.BitLen() >= rsaBits {
			return k, nil
		}
	case *ecdsa.PrivateKey:
		if alg == ES256 && k.Curve == elliptic.P256() {
			return k, nil
		}
	}
	return nil, fmt.Errorf("signing key %q: a %T does not fit algorithm %s", kid, parsed, alg)
}
