package middleware

import (
	"fmt"
	"net/http"
	"strings"
)

// maxTokenBytes bounds the token accepted from a header before any
// parsing; orgid's tokens are a few kilobytes.
const maxTokenBytes = 64 << 10

// bearerToken returns the token of the request's Authorization header:
// "" and nil when there is none (or another scheme, which is not ours to
// judge: RFC 6750 §3.1 says to answer it without an error code), the token
// for exactly one well-formed Bearer credential, errMalformedHeader
// otherwise. A token in the query or the body (RFC 6750 §2.2, §2.3) is not
// read: it ends up in logs and caches.
func bearerToken(h http.Header) (string, error) {
	values := h.Values("Authorization")
	switch len(values) {
	case 0:
		return "", nil
	case 1:
		return parseBearer(values[0])
	default:
		return "", fmt.Errorf("%w: %d Authorization headers", errMalformedHeader, len(values))
	}
}

// parseBearer parses one Authorization header value. The scheme is
// case-insensitive (RFC 9110 §11.1); the credential is one token68 (RFC
// 9110 §11.2) after a single run of spaces, with nothing after it.
func parseBearer(value string) (string, error) {
	scheme, rest, found := strings.Cut(value, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", nil
	}
	if !found {
		return "", fmt.Errorf("%w: no token after the scheme", errMalformedHeader)
	}
	token := strings.TrimLeft(rest, " ")
	switch {
	case token == "":
		return "", fmt.Errorf("%w: empty token", errMalformedHeader)
	case len(token) > maxTokenBytes:
		return "", fmt.Errorf("%w: token longer than %d bytes", errMalformedHeader, maxTokenBytes)
	case !isToken68(token):
		return "", fmt.Errorf("%w: token is not token68", errMalformedHeader)
	}
	return token, nil
}

// isToken68 reports whether s is a token68: 1*( ALPHA / DIGIT / "-" / "." /
// "_" / "~" / "+" / "/" ) *"=".
func isToken68(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}
