package clientip_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/orgid/orgid/internal/clientip"
)

func TestResolve(t *testing.T) {
	proxies := []string{"10.0.0.0/8", "192.0.2.10", "2001:db8::/32"}
	cases := []struct {
		name    string
		trusted []string
		peer    string
		xff     []string
		want    string
	}{
		{"no proxies: the peer", nil, "203.0.113.5:4000", []string{"198.51.100.1"}, "203.0.113.5"},
		{"untrusted peer: header ignored", proxies, "203.0.113.5:4000", []string{"198.51.100.1"}, "203.0.113.5"},
		{"trusted peer, one hop", proxies, "10.1.2.3:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"right-most untrusted wins over a forged left", proxies, "10.1.2.3:4000", []string{"1.2.3.4, 198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		{"several headers", proxies, "192.0.2.10:443", []string{"1.2.3.4", "198.51.100.1, 10.0.0.1"}, "198.51.100.1"},
		{"trusted peer, no header", proxies, "10.1.2.3:4000", nil, "10.1.2.3"},
		{"every hop trusted: the left-most", proxies, "10.1.2.3:4000", []string{"10.0.0.9, 10.0.0.8"}, "10.0.0.9"},
		{"garbage stops the walk", proxies, "10.1.2.3:4000", []string{"198.51.100.1, not-an-ip, 10.0.0.8"}, "10.0.0.8"},
		{"addresses with ports", proxies, "10.1.2.3:4000", []string{"198.51.100.1:5555"}, "198.51.100.1"},
		{"IPv6 peer and hop", proxies, "[2001:db8::1]:443", []string{"2001:db9::7"}, "2001:db9::7"},
		{"IPv4-mapped IPv6 peer is unmapped", []string{"10.0.0.0/8"}, "[::ffff:10.0.0.1]:443", []string{"198.51.100.1"}, "198.51.100.1"},
		{"single trusted address", []string{"192.0.2.10"}, "192.0.2.11:1", []string{"198.51.100.1"}, "192.0.2.11"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := clientip.New(c.trusted)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = c.peer
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := res.Resolve(r); got != c.want {
				t.Errorf("Resolve = %q, want %q", got, c.want)
			}
		})
	}
}

func TestNewRefusesBadEntries(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "10.0.0"} {
		if _, err := clientip.New([]string{bad}); err == nil {
			t.Errorf("New(%q) accepted it", bad)
		}
	}
	if _, err := clientip.New([]string{" 10.0.0.1 ", "", "fd00::/8"}); err != nil {
		t.Errorf("New refused valid entries: %v", err)
	}
}

func TestMiddlewareAndFrom(t *testing.T) {
	res, _ := clientip.New([]string{"127.0.0.1"})
	var seen string
	h := res.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = clientip.From(r) }))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "127.0.0.1:1234"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if seen != "198.51.100.1" {
		t.Errorf("From behind the middleware = %q, want the forwarded address", seen)
	}
	// Without the middleware, From is the peer and ignores the header.
	if got := clientip.From(r); got != "127.0.0.1" {
		t.Errorf("From without the middleware = %q, want the peer", got)
	}
}
