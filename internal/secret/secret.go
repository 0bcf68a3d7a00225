// Package secret turns the operator's master secret (ORGID_SECRET) into the
// keys orgid uses for data at rest, and makes and checks machine secrets.
//
// Two keys are derived with HKDF-SHA256, one per purpose, so that neither
// can stand in for the other: an AES-256-GCM key that encrypts signing keys
// and webhook secrets in the database, and an HMAC-SHA256 key that hashes
// machine secrets (client secrets, API keys, registration and session
// tokens). Machine secrets are random values of at least 256 bits that orgid
// generates, so a keyed SHA-256 protects them fully and costs microseconds;
// slow password hashes are for human passwords only (see package identity).
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// MinMasterLen is the shortest master secret accepted, in bytes.
const MinMasterLen = 32

// Keyring holds the keys derived from one master secret. It is safe for
// concurrent use.
type Keyring struct {
	aead    cipher.AEAD
	hashKey []byte
}

// NewKeyring derives the keyring from master, which must hold at least
// MinMasterLen bytes.
func NewKeyring(master []byte) (*Keyring, error) {
	if len(master) < MinMasterLen {
		return nil, fmt.Errorf("secret: master secret has %d bytes, need at least %d", len(master), MinMasterLen)
	}
	encKey, err := hkdf.Key(sha256.New, master, nil, "orgid/encryption/v1", 32)
	if err != nil {
		return nil, fmt.Errorf("secret: derive encryption key: %w", err)
	}
	hashKey, err := hkdf.Key(sha256.New, master, nil, "orgid/hash/v1", 32)
	if err != nil {
		return nil, fmt.Errorf("secret: derive hash key: %w", err)
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Keyring{aead: aead, hashKey: hashKey}, nil
}

// sealVersion prefixes every ciphertext so that a later key or algorithm
// change can tell old values apart.
const sealVersion = 1

// ErrDecrypt means a value could not be decrypted: it was altered, bound to
// another purpose, or encrypted under another master secret.
var ErrDecrypt = errors.New("secret: cannot decrypt (wrong ORGID_SECRET or altered data)")

// Seal encrypts plaintext. aad binds the ciphertext to its purpose and row
// (for example "signing-key:"+kid); Open must be given the same aad.
func (k *Keyring) Seal(plaintext, aad []byte) []byte {
	nonce := make([]byte, k.aead.NonceSize(), 1+k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("secret: crypto/rand failed: " + err.Error())
	}
	out := append([]byte{sealVersion}, nonce...)
	return k.aead.Seal(out, nonce, plaintext, aad)
}

// Open decrypts a value made by Seal with the same aad.
func (k *Keyring) Open(ciphertext, aad []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	if len(ciphertext) < 1+ns+k.aead.Overhead() || ciphertext[0] != sealVersion {
		return nil, ErrDecrypt
	}
	pt, err := k.aead.Open(nil, ciphertext[1:1+ns], ciphertext[1+ns:], aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// Hash returns the keyed SHA-256 of a machine secret, hex encoded, for
// storage and lookup. Equal hashes mean equal secrets.
func (k *Keyring) Hash(value string) string {
	m := hmac.New(sha256.New, k.hashKey)
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}

// Verify reports, in constant time, whether value hashes to storedHash.
func (k *Keyring) Verify(value, storedHash string) bool {
	return Equal(k.Hash(value), storedHash)
}

// Equal compares two strings in time that depends only on their lengths.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// TokenBytes is the entropy of every machine secret orgid generates.
const TokenBytes = 32

// Token returns a new random machine secret: prefix followed by 256 bits,
// base64url without padding (43 characters).
func Token(prefix string) string {
	return prefix + RandomString(TokenBytes)
}

// RandomString returns n random bytes, base64url encoded without padding.
func RandomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("secret: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
