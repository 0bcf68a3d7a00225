package middleware

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// Descriptions sent to clients: fixed strings, so that nothing about why
// a token failed (which key, which claim) reaches the caller.
const (
	descInvalid     = "The access token is invalid."
	descExpired     = "The access token has expired."
	descMalformed   = "The Authorization header must carry one Bearer token."
	descUnavailable = "The access token cannot be checked right now."
	descPermission  = "The token's organization role lacks a required permission."
	descScope       = "The access token lacks a required scope."
)

// Handler protects next: a request needs an Authorization: Bearer header
// with a valid access token, whose Claims next finds with FromContext.
// Otherwise it answers as RFC 6750 §3 says: 401 with a bare Bearer
// challenge when no token was sent, 400 invalid_request for a malformed
// header, 401 invalid_token for a token that failed, and 503 when
// introspection could not be asked.
func (v *Verifier) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		token, err := bearerToken(r.Header)
		if err != nil {
			v.log.DebugContext(ctx, "bearer token refused", "reason", err)
			writeChallenge(w, http.StatusBadRequest, "invalid_request", descMalformed, "")
			return
		}
		if token == "" {
			// RFC 6750 §3.1: no error code when no credentials were sent.
			writeChallenge(w, http.StatusUnauthorized, "", "", "")
			return
		}
		claims, err := v.Verify(ctx, token)
		switch {
		case err == nil:
			next.ServeHTTP(w, r.WithContext(NewContext(ctx, claims)))
		case errors.Is(err, ErrTokenExpired):
			v.log.DebugContext(ctx, "bearer token refused", "reason", err)
			writeChallenge(w, http.StatusUnauthorized, "invalid_token", descExpired, "")
		case errors.Is(err, ErrInvalidToken):
			v.log.DebugContext(ctx, "bearer token refused", "reason", err)
			writeChallenge(w, http.StatusUnauthorized, "invalid_token", descInvalid, "")
		default:
			v.log.WarnContext(ctx, "bearer token not checked", "error", err)
			writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", descUnavailable)
		}
	})
}

// Require returns middleware that lets a request through only if the
// verified token's organization role holds permission (Claims.Has), and
// answers 403 insufficient_scope otherwise. Use it inside Handler:
//
//	v.Handler(middleware.Require("org:projects:manage")(h))
func Require(permission string) func(http.Handler) http.Handler {
	return guard(func(c *Claims) bool { return c.Has(permission) }, descPermission, "")
}

// RequireScope is Require for a granted scope (Claims.HasScope); the 403
// challenge names the scope (RFC 6750 §3).
func RequireScope(scope string) func(http.Handler) http.Handler {
	return guard(func(c *Claims) bool { return c.HasScope(scope) }, descScope, scope)
}

func guard(allowed func(*Claims) bool, desc, scope string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c := FromContext(r.Context())
			if c == nil {
				// Not behind Handler: a wiring mistake, refused rather than
				// let through.
				writeChallenge(w, http.StatusUnauthorized, "", "", "")
				return
			}
			if !allowed(c) {
				writeChallenge(w, http.StatusForbidden, "insufficient_scope", desc, scope)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// writeChallenge answers with a WWW-Authenticate: Bearer challenge (RFC
// 6750 §3) and the same error as a JSON body.
func writeChallenge(w http.ResponseWriter, status int, code, desc, scope string) {
	challenge := "Bearer"
	sep := " "
	for _, p := range [][2]string{{"error", code}, {"error_description", desc}, {"scope", scope}} {
		if p[1] != "" {
			challenge += sep + p[0] + "=" + strconv.Quote(p[1])
			sep = ", "
		}
	}
	w.Header().Set("WWW-Authenticate", challenge)
	writeError(w, status, code, desc)
}

// writeError writes {"error": …, "error_description": …} (or an empty
// body for a bare challenge).
func writeError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	if code == "" {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}
