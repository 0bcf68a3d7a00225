package conformance

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
)

// Params is an ordered list of request parameters. The order is kept on the
// wire so that a module can show the provider does not depend on it.
type Params []Param

// Param is one request parameter.
type Param struct{ Key, Value string }

// Get returns the first value of key.
func (p Params) Get(key string) string {
	for _, kv := range p {
		if kv.Key == key {
			return kv.Value
		}
	}
	return ""
}

// Has reports whether key is present.
func (p Params) Has(key string) bool {
	return slices.ContainsFunc(p, func(kv Param) bool { return kv.Key == key })
}

// Set replaces the value of key in place, or appends it.
func (p *Params) Set(key, value string) {
	for i := range *p {
		if (*p)[i].Key == key {
			(*p)[i].Value = value
			return
		}
	}
	*p = append(*p, Param{key, value})
}

// Del removes key.
func (p *Params) Del(key string) {
	*p = slices.DeleteFunc(*p, func(kv Param) bool { return kv.Key == key })
}

// Reversed returns the parameters in reverse order.
func (p Params) Reversed() Params {
	r := slices.Clone(p)
	slices.Reverse(r)
	return r
}

// Encode renders the parameters in order as application/x-www-form-urlencoded.
func (p Params) Encode() string {
	var b strings.Builder
	for i, kv := range p {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv.Key))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(kv.Value))
	}
	return b.String()
}

// randomValue is a fresh URL-safe random string of n random bytes.
func randomValue(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// s256 is the PKCE S256 challenge of a verifier (RFC 7636 section 4.2).
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
