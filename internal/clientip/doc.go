// Package clientip tells which address a request came from, for per-client
// throttling and session records. By default that is the TCP peer: a
// client can write any X-Forwarded-For it likes, so trusting the header
// would let anyone dodge a per-address limit. Behind reverse proxies the
// operator lists their addresses (--trusted-proxies); when the peer is one
// of them, the client is the right-most X-Forwarded-For address that is
// not a trusted proxy — the last hop a trusted proxy saw, which the client
// cannot forge.
//
// A Resolver computes the address once per request in its Middleware; every
// package reads it with From, which falls back to the peer when no
// middleware ran (tests, the CLI).
package clientip
