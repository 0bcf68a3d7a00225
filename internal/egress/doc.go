// Package egress makes the HTTP client orgid uses for requests to addresses
// that someone other than the operator chose: webhook endpoints today, and
// later anything fetched from a URL a user or client supplied.
//
// Its job is server-side request forgery protection. The client checks the
// IP address it is about to connect to, after DNS resolution, inside the
// dialer (net.Dialer.Control), so a host name that resolves to a public
// address when it is validated and to 127.0.0.1 when it is used (DNS
// rebinding) is still refused. Loopback, private, link-local (including the
// 169.254.169.254 cloud metadata service), carrier-grade NAT, unspecified,
// multicast, reserved and documentation ranges are refused, in IPv4, IPv6 and
// in IPv6 forms that embed an IPv4 address, unless Options.AllowPrivate is set
// (tests and development) or the host is listed in Options.AllowHosts.
//
// The client never follows redirects (a 3xx is returned as the response, so a
// public endpoint cannot bounce a request inward), ignores proxy environment
// variables (a proxy would be dialled instead of the target and defeat the
// check), bounds the whole request with a timeout and caps how many response
// bytes a caller can read.
//
// A refused destination fails with ErrDestinationNotAllowed and nothing else:
// the error does not say which address the name resolved to or why it was
// refused, so the feature cannot be used to map an internal network.
//
// The package does not decide what to send or how to retry; callers do.
package egress
