package egress

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// ErrDestinationNotAllowed is the only error a refused destination produces.
var ErrDestinationNotAllowed = errors.New("destination not allowed")

// ErrResponseTooLarge is returned by a response body read past
// Options.MaxResponseBytes.
var ErrResponseTooLarge = errors.New("response too large")

// Defaults used when an Options field is zero.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultMaxResponseBytes = 1 << 20
)

// Options configure NewClient.
type Options struct {
	// AllowPrivate lets requests reach every address, loopback and private
	// networks included. For tests and development only.
	AllowPrivate bool
	// AllowHosts lists exceptions for one deployment: host names (matched
	// exactly, case-insensitively, against the URL's host), IP addresses
	// and CIDR prefixes ("10.1.2.0/24") that may be reached although they
	// are not public.
	AllowHosts []string
	// Timeout bounds a whole request, response body included
	// (DefaultTimeout when zero).
	Timeout time.Duration
	// MaxResponseBytes caps how much of a response body can be read
	// (DefaultMaxResponseBytes when zero); reading past it fails with
	// ErrResponseTooLarge.
	MaxResponseBytes int64
}

// NewClient returns an HTTP client that refuses non-public destinations at
// connect time, never follows redirects and ignores proxy settings.
func NewClient(opts Options) *http.Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = DefaultMaxResponseBytes
	}
	g := newGuard(opts)
	dialer := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control:   g.control,
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           g.dialContext(dialer),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: opts.Timeout,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
	}
	return &http.Client{
		Transport: &limitTransport{next: transport, max: opts.MaxResponseBytes},
		Timeout:   opts.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// guard decides, per connection, whether the destination may be reached.
type guard struct {
	allowAll bool
	hosts    map[string]bool
	prefixes []netip.Prefix
}

func newGuard(opts Options) *guard {
	g := &guard{allowAll: opts.AllowPrivate, hosts: map[string]bool{}}
	for _, h := range opts.AllowHosts {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if p, err := netip.ParsePrefix(h); err == nil {
			g.prefixes = append(g.prefixes, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(h); err == nil {
			g.prefixes = append(g.prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		g.hosts[strings.ToLower(strings.TrimSuffix(h, "."))] = true
	}
	return g
}

// dialContext lets listed host names through unchecked and sends every
// other connection through the checking dialer. Refusals come back as the
// bare sentinel: the net.OpError around it would name the resolved address.
func (g *guard) dialContext(checked *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	unchecked := &net.Dialer{Timeout: checked.Timeout, KeepAlive: checked.KeepAlive}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, ErrDestinationNotAllowed
		}
		d := checked
		if g.allowAll || g.hosts[strings.ToLower(strings.TrimSuffix(host, "."))] {
			d = unchecked
		}
		conn, err := d.DialContext(ctx, network, addr)
		if errors.Is(err, ErrDestinationNotAllowed) {
			return nil, ErrDestinationNotAllowed
		}
		return conn, err
	}
}

// control runs after name resolution, just before connect(2), with the
// address actually being dialled.
func (g *guard) control(network, address string, _ syscall.RawConn) error {
	switch network {
	case "tcp4", "tcp6":
	default:
		return ErrDestinationNotAllowed
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return ErrDestinationNotAllowed
	}
	ip := ap.Addr().WithZone("").Unmap()
	for _, p := range g.prefixes {
		if p.Contains(ip) {
			return nil
		}
	}
	if !Allowed(ip) {
		return ErrDestinationNotAllowed
	}
	return nil
}

// limitTransport caps response bodies.
type limitTransport struct {
	next http.RoundTripper
	max  int64
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.max}
	return resp, nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// underlying transport.
func (t *limitTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the limit from a longer one.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("read response: %w", ErrResponseTooLarge)
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
