package oidc

import (
	"net/url"
	"strings"
	"testing"
)

// Fuzz targets for the parsers orgid writes itself (fosite's are fosite's):
// request objects, redirect URI registration and local return paths.
// Seeds live in testdata/fuzz; run with go test -fuzz=FuzzX ./oidc.

// FuzzRequestObjectParsing covers what a request object or client
// assertion goes through before any signature check: compact parsing,
// claims decoding and rendering claims as parameters.
func FuzzRequestObjectParsing(f *testing.F) {
	for _, seed := range []string{
		"eyJhbGciOiJub25lIn0.eyJzdGF0ZSI6ImFiY2RlZmdoIiwibWF4X2FnZSI6MzAwfQ.",
		"eyJhbGciOiJub25lIn0.eyJjbGFpbXMiOnsidXNlcmluZm8iOnsibmFtZSI6eyJlc3NlbnRpYWwiOnRydWV9fX19.",
		"eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
		"a.b.c", "..", "", "eyJhbGciOiJub25lIn0.eyJtYXhfYWdlIjoxZTMwOX0.",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		header, payload, err := parseCompact(raw)
		if err != nil {
			return
		}
		if header == nil {
			t.Fatalf("parseCompact(%q) gave no header and no error", raw)
		}
		claims, err := decodeClaims(payload)
		if err != nil {
			return
		}
		for k, v := range numbersToFloat(claims) {
			if s, err := parameterValue(v); err == nil && len(s) > 2*len(payload)+64 {
				t.Fatalf("claim %q renders to %d bytes from a %d-byte payload", k, len(s), len(payload))
			}
		}
	})
}

func FuzzValidateRedirectURI(f *testing.F) {
	for _, seed := range []string{
		"https://app.example.com/cb", "http://127.0.0.1:9/cb", "http://localhost/cb", "com.example.app:/cb",
		"https://*.example.com/cb", "https://app.example.com/cb#x", "javascript:alert(1)", "http://evil.example/cb",
		"https://", "//x", "http://[::1]/cb",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, raw string, public bool) {
		if err := validateRedirectURI(raw, public); err != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil || !u.IsAbs() || strings.Contains(raw, "#") || strings.Contains(raw, "*") {
			t.Fatalf("accepted %q", raw)
		}
		if u.Scheme == "http" && !isLoopback(u.Hostname()) {
			t.Fatalf("accepted plain http off loopback: %q", raw)
		}
		if !public && u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("confidential client got custom scheme %q", raw)
		}
	})
}
