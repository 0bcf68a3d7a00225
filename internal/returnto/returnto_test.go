package returnto

import (
	"net/url"
	"strings"
	"testing"
)

func TestLocal(t *testing.T) {
	for in, want := range map[string]string{
		"/organizations":         "/organizations",
		"/organizations?x=1":     "/organizations?x=1",
		"":                       "/",
		"https://evil.example/":  "/",
		"//evil.example/":        "/",
		"/\\evil.example":        "/",
		"evil.example":           "/",
		"/ok\r\nSet-Cookie: x=1": "/",
		"javascript:alert(1)":    "/",
	} {
		if got := Local(in, "/"); got != want {
			t.Errorf("Local(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzLocal(f *testing.F) {
	for _, seed := range []string{"/organizations", "//evil.example", "/\\evil", "https://evil.example", "/a?b=c", "/%2F%2Fevil", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got := Local(p, "/")
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") ||
			strings.ContainsAny(got, "\\\r\n") {
			t.Fatalf("Local(%q) = %q leaves this site", p, got)
		}
	})
}
