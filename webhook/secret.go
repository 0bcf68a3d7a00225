package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/orgid/orgid/internal/secret"
)

// secretPrefix marks an endpoint secret, as Svix and Standard Webhooks do.
const secretPrefix = "whsec_"

// secretBytes is the size of a new endpoint secret: 256 bits, above the 24
// bytes Standard Webhooks requires and within its 64-byte maximum.
const secretBytes = 32

// newEndpointSecret returns a fresh "whsec_<base64>" secret. The part after
// the prefix is standard base64 with padding, which every Svix and Standard
// Webhooks library decodes.
func newEndpointSecret() string {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		panic("webhook: crypto/rand failed: " + err.Error())
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

var errBadSecret = errors.New("malformed webhook secret")

// secretKey returns the HMAC key of a "whsec_" secret: its decoded bytes.
func secretKey(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, secretPrefix)
	if !ok {
		return nil, errBadSecret
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(key) < 24 || len(key) > 64 {
		return nil, errBadSecret
	}
	return key, nil
}

// secretAAD binds a sealed secret to its endpoint: a ciphertext copied to
// another row does not decrypt. The current and previous secrets share it so
// that rotation moves the ciphertext without re-encrypting.
func secretAAD(endpointID string) []byte {
	return []byte("webhook-endpoint-secret:" + endpointID)
}

func sealSecret(keys *secret.Keyring, endpointID, s string) []byte {
	return keys.Seal([]byte(s), secretAAD(endpointID))
}

func openSecret(keys *secret.Keyring, endpointID string, sealed []byte) (string, error) {
	pt, err := keys.Open(sealed, secretAAD(endpointID))
	if err != nil {
		return "", fmt.Errorf("open secret of endpoint %q: %w", endpointID, err)
	}
	return string(pt), nil
}
