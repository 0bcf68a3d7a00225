package conformance

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// ClientKeys are the RS256 keys of a client the runner plays: the newest
// signs assertions and request objects; all of them are published (by
// value at registration, or at the client's jwks_uri on the Listener). A
// rotation adds a key with a new kid and drops the old one, as a client
// that rotates its keys does.
type ClientKeys struct {
	mu   sync.Mutex
	keys []jose.JSONWebKey
}

// NewClientKeys generates a client key set with one RS256 key.
func NewClientKeys() (*ClientKeys, error) {
	ck := &ClientKeys{}
	if err := ck.Rotate(); err != nil {
		return nil, err
	}
	return ck, nil
}

// Rotate replaces the keys by one new key with a new kid.
func (ck *ClientKeys) Rotate() error {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("generate client key: %w", err)
	}
	jwk := jose.JSONWebKey{Key: k, KeyID: "rp-" + randomValue(8), Algorithm: "RS256", Use: "sig"}
	ck.mu.Lock()
	ck.keys = []jose.JSONWebKey{jwk}
	ck.mu.Unlock()
	return nil
}

// Signing returns the key that signs.
func (ck *ClientKeys) Signing() jose.JSONWebKey {
	ck.mu.Lock()
	defer ck.mu.Unlock()
	return ck.keys[len(ck.keys)-1]
}

// PublicSet returns the public JWK Set as a JSON value for a registration
// request or a jwks_uri document.
func (ck *ClientKeys) PublicSet() map[string]any {
	ck.mu.Lock()
	defer ck.mu.Unlock()
	var keys []any
	for _, k := range ck.keys {
		b, _ := k.Public().MarshalJSON() // an RSA public key always marshals
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		keys = append(keys, m)
	}
	return map[string]any{"keys": keys}
}

// ServeHTTP serves the public set: the client's jwks_uri.
func (ck *ClientKeys) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(ck.PublicSet())
}

// signJWT signs claims as a compact JWS with the JWK's alg and kid (or,
// for HMAC, the key bytes with alg) and the given typ ("" for none).
func signJWT(key any, alg, kid string, claims map[string]any, typ string) (string, error) {
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: key}, opts)
	if err != nil {
		return "", fmt.Errorf("signer: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("claims: %w", err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return obj.CompactSerialize()
}

// assertionClaims are the claims of a client assertion (RFC 7523 §3) for
// aud, valid for a minute.
func assertionClaims(clientID, aud string, now time.Time) map[string]any {
	return map[string]any{
		"iss": clientID, "sub": clientID, "aud": aud, "jti": randomValue(18),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	}
}

// clientAssertion signs a client assertion for client: with its private
// key (private_key_jwt) or its secret (client_secret_jwt, HS256).
func clientAssertion(client ClientAuth, claims map[string]any) (string, error) {
	switch client.Method {
	case AuthPrivateKey:
		if client.Keys == nil {
			return "", fmt.Errorf("client %s has no key for private_key_jwt", client.ClientID)
		}
		k := client.Keys.Signing()
		return signJWT(k.Key, k.Algorithm, k.KeyID, claims, "")
	case AuthSecretJWT:
		return signJWT([]byte(client.ClientSecret), "HS256", "", claims, "")
	}
	return "", fmt.Errorf("client %s does not authenticate with a JWT", client.ClientID)
}
