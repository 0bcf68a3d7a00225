// Package returnto decides where a browser may be sent back to after a
// hosted page: only to a path on this server. Every return_to, next or
// back parameter goes through Local, so orgid can never be used as an open
// redirector (RFC 9700 §2.1, §4.11).
package returnto

import (
	"net/url"
	"strings"
)

// Local returns p when it is a path on this server ("/organizations?x=1"),
// else fallback. It refuses schemes, hosts, and what browsers read as a
// host ("//evil", "/\evil"), and backslashes or line breaks anywhere.
func Local(p, fallback string) string {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\\\r\n") {
		return fallback
	}
	if u, err := url.Parse(p); err != nil || u.Scheme != "" || u.Host != "" {
		return fallback
	}
	return p
}
