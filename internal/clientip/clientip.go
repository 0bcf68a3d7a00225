package clientip

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver finds the client address of requests that may have passed
// through trusted proxies.
type Resolver struct {
	trusted []netip.Prefix
}

// New returns a resolver that trusts X-Forwarded-For only from peers in
// the given addresses or CIDR prefixes (IPv4 or IPv6); none means the
// peer is always the client.
func New(trustedProxies []string) (*Resolver, error) {
	res := &Resolver{}
	for _, s := range trustedProxies {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: not an address or CIDR prefix", s)
			}
			res.trusted = append(res.trusted, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: not an address or CIDR prefix", s)
		}
		a = a.Unmap()
		res.trusted = append(res.trusted, netip.PrefixFrom(a, a.BitLen()))
	}
	return res, nil
}

// Resolve returns the client address of r: the peer, unless the peer is a
// trusted proxy; then the right-most X-Forwarded-For entry that is not a
// trusted proxy. When every entry is trusted, or an entry is not an
// address (a client wrote it), the left-most trusted address seen is the
// client: that is as far as trusted hops vouch.
func (res *Resolver) Resolve(r *http.Request) string {
	peer, ok := parseAddr(peerHost(r.RemoteAddr))
	if !ok {
		return peerHost(r.RemoteAddr)
	}
	if !res.isTrusted(peer) {
		return peer.String()
	}
	hops := forwardedFor(r.Header)
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseAddr(hops[i])
		if !ok {
			break
		}
		client = a
		if !res.isTrusted(a) {
			break
		}
	}
	return client.String()
}

func (res *Resolver) isTrusted(a netip.Addr) bool {
	for _, p := range res.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor lists the X-Forwarded-For entries of every such header, in
// order.
func forwardedFor(h http.Header) []string {
	var out []string
	for _, v := range h.Values("X-Forwarded-For") {
		for _, part := range strings.Split(v, ",") {
			out = append(out, strings.TrimSpace(part))
		}
	}
	return out
}

// parseAddr accepts an address with or without a port ("[::1]:80").
func parseAddr(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

func peerHost(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}

type key struct{}

// Middleware records each request's client address for From.
func (res *Resolver) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), key{}, res.Resolve(r))))
	})
}

// From returns the client address the Middleware recorded for r, or the
// peer address when none ran.
func From(r *http.Request) string {
	if ip, ok := r.Context().Value(key{}).(string); ok {
		return ip
	}
	if a, ok := parseAddr(peerHost(r.RemoteAddr)); ok {
		return a.String()
	}
	return peerHost(r.RemoteAddr)
}
