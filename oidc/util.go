package oidc

import (
	"net"
	"strings"
)

// splitSpace splits a space-delimited parameter (scope, prompt, …).
func splitSpace(s string) []string { return strings.Fields(s) }

// hasWord reports whether the space-delimited list s contains w.
func hasWord(s, w string) bool {
	for _, x := range strings.Fields(s) {
		if x == w {
			return true
		}
	}
	return false
}

// isLoopback reports whether host is localhost or a loopback IP literal.
func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
