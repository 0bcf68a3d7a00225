package middleware_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// signFunc signs a JWS signing input and returns the raw signature.
type signFunc func(t *testing.T, input []byte) []byte

// signRS256 signs with an RSA key (PKCS #1 v1.5, SHA-256).
func signRS256(key crypto.Signer) signFunc {
	return func(t *testing.T, input []byte) []byte {
		t.Helper()
		digest := sha256.Sum256(input)
		sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
}

// signES256 signs with an EC key, as r || s (RFC 7518 §3.4); a P-384
// key makes an ES384-shaped signature.
func signES256(key *ecdsa.PrivateKey) signFunc {
	return func(t *testing.T, input []byte) []byte {
		t.Helper()
		digest := sha256.Sum256(input)
		r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		n := (key.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*n)
		r.FillBytes(out[:n])
		s.FillBytes(out[n:])
		return out
	}
}

// signHS256 is the algorithm-confusion attack when secret is the issuer's
// public key.
func signHS256(secret []byte) signFunc {
	return func(_ *testing.T, input []byte) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write(input)
		return m.Sum(nil)
	}
}

// unsigned is alg "none".
func unsigned(*testing.T, []byte) []byte { return nil }

// compact builds a compact JWS from a header and claims.
func compact(t *testing.T, header, claims map[string]any, sign signFunc) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	input := b64(h) + "." + b64(c)
	return input + "." + b64(sign(t, []byte(input)))
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// parts decodes a compact JWS's header and claims (not verified).
func parts(t *testing.T, token string) (header, claims map[string]any) {
	t.Helper()
	seg := strings.Split(token, ".")
	if len(seg) != 3 {
		t.Fatalf("not a compact JWS: %d segments", len(seg))
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(seg[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, claims
}

// with returns a copy of m with the changes applied; a nil value deletes.
func with(m map[string]any, changes map[string]any) map[string]any {
	out := make(map[string]any, len(m)+len(changes))
	for k, v := range m {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// tamper flips one character in the middle of the signature segment.
func tamper(token string) string {
	i := strings.LastIndex(token, ".") + (len(token)-strings.LastIndex(token, "."))/2
	c := byte('A')
	if token[i] == 'A' {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}

// clock is a settable clock: real time plus an offset.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time           { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration)  { c.offset.Add(int64(d)) }
func (c *clock) Set(offset time.Duration) { c.offset.Store(int64(offset)) }

// countingTransport counts requests per URL path.
type countingTransport struct {
	base  http.RoundTripper
	path  string
	count atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == c.path {
		c.count.Add(1)
	}
	return c.base.RoundTrip(r)
}

// testLogger logs through t, so failures show the verifier's reasons.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func bg() context.Context { return context.Background() }
