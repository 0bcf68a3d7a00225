package middleware

import "errors"

// Sentinel errors of Verify; check them with errors.Is. Every rejection of
// a token wraps ErrInvalidToken and keeps the reason in its message, which
// is for logs, never for the client.
var (
	// ErrInvalidToken: the token is malformed, forged, for another issuer
	// or audience, of the wrong type, expired, or inactive.
	ErrInvalidToken = errors.New("invalid token")
	// ErrTokenExpired: the token's exp has passed (also ErrInvalidToken).
	ErrTokenExpired = errors.New("token expired")
	// ErrUnavailable: the issuer could not be asked (introspection endpoint
	// unreachable or failing); the token was neither accepted nor refused.
	ErrUnavailable = errors.New("issuer unavailable")
)

// errMalformedHeader: an Authorization header that is not one well-formed
// Bearer credential (RFC 6750 §2.1), answered with invalid_request.
var errMalformedHeader = errors.New("malformed Authorization header")
