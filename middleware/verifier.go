package middleware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// Verifier verifies orgid access tokens for one API (one issuer, one
// audience). It is safe for concurrent use; create one per process.
type Verifier struct {
	opts Options
	meta metadata
	keys *keyCache
	log  *slog.Logger
}

// New reads the issuer's discovery document and JWK Set, retrying with
// backoff while the issuer is unreachable (bounded by ctx and a few
// attempts). It fails at once when the options are invalid or the
// discovery document names another issuer.
func New(ctx context.Context, opts Options) (*Verifier, error) {
	opts, err := opts.validate()
	if err != nil {
		return nil, err
	}
	v := &Verifier{opts: opts, log: opts.Logger}
	err = retryStart(ctx, v.log, func(ctx context.Context) error {
		md, err := v.discover(ctx)
		if err != nil {
			return err
		}
		v.meta = md
		v.keys = &keyCache{
			fetch:       func(ctx context.Context) (*keySet, error) { return v.fetchKeys(ctx, md.JWKSURI) },
			now:         opts.Now,
			minInterval: opts.MinRefreshInterval,
			maxAge:      opts.JWKSMaxAge,
			log:         v.log,
		}
		return v.keys.init(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("middleware: issuer %s: %w", opts.Issuer, err)
	}
	return v, nil
}

// Issuer is the issuer tokens must come from.
func (v *Verifier) Issuer() string { return v.opts.Issuer }

// Audience is the audience tokens must be for.
func (v *Verifier) Audience() string { return v.opts.Audience }

// Verify checks token (without the "Bearer " prefix) and returns its
// claims. A JWT is verified offline and, when introspection is configured
// (and not OpaqueOnly), also checked to be still active; anything else is
// introspected, or refused when introspection is not configured. Errors
// wrap ErrInvalidToken (and ErrTokenExpired for an expired token) or
// ErrUnavailable; the message says why, for logs only.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	if token == "" || len(token) > maxTokenBytes {
		return nil, fmt.Errorf("%w: empty or longer than %d bytes", ErrInvalidToken, maxTokenBytes)
	}
	ic := v.opts.Introspection
	if !looksLikeJWS(token) {
		if ic == nil {
			return nil, fmt.Errorf("%w: not a JWT, and introspection is not configured", ErrInvalidToken)
		}
		return v.introspect(ctx, token)
	}
	c, err := v.verifyJWT(ctx, token)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if ic != nil && !ic.OpaqueOnly {
		// Revoked and session-ended tokens verify offline until they
		// expire; only the issuer knows.
		if _, err := v.introspect(ctx, token); err != nil {
			return nil, err
		}
	}
	return c, nil
}
