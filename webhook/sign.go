package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
)

// Signature returns the Standard Webhooks (and Svix) signature of one
// message: "v1," followed by the base64 HMAC-SHA256, keyed with the decoded
// secret, of "<msgID>.<timestamp>.<body>".
func Signature(key []byte, msgID string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msgID))
	m.Write([]byte{'.'})
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// userAgent identifies orgid's deliveries to receivers.
const userAgent = "orgid-webhooks/1"

// setSignedHeaders sets the headers of one attempt: the Svix names and their
// Standard Webhooks twins carry the same values, so a receiver verifies with
// either family of libraries. keys holds the current secret's key first and,
// during a rotation, the previous one; the signature header lists one
// signature per key, separated by spaces.
func setSignedHeaders(h http.Header, keys [][]byte, msgID string, timestamp int64, body []byte) {
	sigs := make([]string, len(keys))
	for i, k := range keys {
		sigs[i] = Signature(k, msgID, timestamp, body)
	}
	ts := strconv.FormatInt(timestamp, 10)
	sig := strings.Join(sigs, " ")
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", userAgent)
	for _, p := range []string{"svix", "webhook"} {
		h.Set(p+"-id", msgID)
		h.Set(p+"-timestamp", ts)
		h.Set(p+"-signature", sig)
	}
}
