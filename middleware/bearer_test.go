package middleware

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestBearerToken(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers []string
		want    string
		bad     bool // errMalformedHeader
	}{
		{name: "none"},
		{name: "bearer", headers: []string{"Bearer abc.def.ghi"}, want: "abc.def.ghi"},
		{name: "scheme case", headers: []string{"bEaReR abc"}, want: "abc"},
		{name: "extra spaces before the token", headers: []string{"Bearer   abc"}, want: "abc"},
		{name: "token68 alphabet", headers: []string{"Bearer aZ09-._~+/=="}, want: "aZ09-._~+/=="},
		{name: "another scheme", headers: []string{"Basic dXNlcjpwYXNz"}},
		{name: "scheme prefix only", headers: []string{"Bearerabc"}},
		{name: "empty value", headers: []string{""}},
		{name: "scheme alone", headers: []string{"Bearer"}, bad: true},
		{name: "no token", headers: []string{"Bearer "}, bad: true},
		{name: "trailing space", headers: []string{"Bearer abc "}, bad: true},
		{name: "two tokens", headers: []string{"Bearer abc def"}, bad: true},
		{name: "tab", headers: []string{"Bearer\tabc"}},
		{name: "comma", headers: []string{"Bearer abc,def"}, bad: true},
		{name: "quote", headers: []string{`Bearer "abc"`}, bad: true},
		{name: "padding only", headers: []string{"Bearer =="}, bad: true},
		{name: "padding inside", headers: []string{"Bearer ab=c"}, bad: true},
		{name: "non-ASCII", headers: []string{"Bearer abcé"}, bad: true},
		{name: "too long", headers: []string{"Bearer " + strings.Repeat("a", maxTokenBytes+1)}, bad: true},
		{name: "two headers", headers: []string{"Bearer abc", "Bearer abc"}, bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tc.headers {
				h.Add("Authorization", v)
			}
			got, err := bearerToken(h)
			if gotBad := errors.Is(err, errMalformedHeader); gotBad != tc.bad || (err != nil && !gotBad) {
				t.Fatalf("bearerToken(%q) error = %v, want malformed %v", tc.headers, err, tc.bad)
			}
			if got != tc.want {
				t.Errorf("bearerToken(%q) = %q, want %q", tc.headers, got, tc.want)
			}
		})
	}
}

// FuzzParseBearer: the parser never panics, and whatever it returns is a
// token68 that the header really carried after a Bearer scheme.
func FuzzParseBearer(f *testing.F) {
	for _, seed := range []string{
		"", "Bearer", "Bearer ", "Bearer abc", "bearer a.b.c", "Bearer  a==", "Bearer a b",
		"Basic dXNlcjpwYXNz", "Bearer ===", "Bearer a=b", "BEARER \x00", "Bearer é",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		token, err := parseBearer(header)
		if err != nil {
			if token != "" || !errors.Is(err, errMalformedHeader) {
				t.Fatalf("parseBearer(%q) = %q, %v: an error must come alone and be errMalformedHeader", header, token, err)
			}
			return
		}
		if token == "" {
			if scheme, _, _ := strings.Cut(header, " "); strings.EqualFold(scheme, "Bearer") {
				t.Fatalf("parseBearer(%q): a Bearer header gave neither a token nor an error", header)
			}
			return
		}
		if !isToken68(token) || len(token) > maxTokenBytes {
			t.Fatalf("parseBearer(%q) = %q, not a token68 within bounds", header, token)
		}
		if !strings.EqualFold(header[:7], "Bearer ") || !strings.HasSuffix(header, " "+token) {
			t.Fatalf("parseBearer(%q) = %q, not the header's credential", header, token)
		}
	})
}
