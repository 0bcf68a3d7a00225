package middleware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"
)

// discoveryPath is where OpenID Connect Discovery 1.0 §4 puts the
// provider's metadata, relative to the issuer.
const discoveryPath = "/.well-known/openid-configuration"

// Start-up retries: the API may start before the issuer (a deployment, a
// compose file), so New retries with exponential backoff and jitter.
const (
	startAttempts   = 6
	startBackoff    = 250 * time.Millisecond
	startBackoffMax = 4 * time.Second
)

// metadata is the part of the discovery document the verifier uses.
type metadata struct {
	Issuer                string `json:"issuer"`
	JWKSURI               string `json:"jwks_uri"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
}

// errPermanent marks a start-up failure that retrying cannot fix (the
// issuer is another one, the document lacks what is needed).
var errPermanent = errors.New("permanent failure")

// discover fetches and checks the discovery document.
func (v *Verifier) discover(ctx context.Context) (metadata, error) {
	var md metadata
	u := strings.TrimSuffix(v.opts.Issuer, "/") + discoveryPath
	if err := v.getJSON(ctx, u, &md); err != nil {
		return md, fmt.Errorf("discovery: %w", err)
	}
	switch {
	case md.Issuer != v.opts.Issuer:
		// OpenID Connect Discovery 1.0 §4.3: a document for another issuer
		// must not be used, or tokens of that issuer would be accepted.
		return md, fmt.Errorf("%w: discovery at %s names issuer %q, want exactly %q", errPermanent, u, md.Issuer, v.opts.Issuer)
	case md.JWKSURI == "":
		return md, fmt.Errorf("%w: discovery at %s has no jwks_uri", errPermanent, u)
	case v.opts.Introspection != nil && md.IntrospectionEndpoint == "":
		return md, fmt.Errorf("%w: introspection configured but discovery at %s has no introspection_endpoint", errPermanent, u)
	}
	return md, nil
}

// retryStart runs step until it succeeds, fails permanently, ctx ends or
// startAttempts are used up.
func retryStart(ctx context.Context, log *slog.Logger, step func(context.Context) error) error {
	delay := startBackoff
	for attempt := 1; ; attempt++ {
		err := step(ctx)
		if err == nil || errors.Is(err, errPermanent) || attempt == startAttempts {
			return err
		}
		// Jitter in [delay/2, delay): replicas starting together do not
		// retry in lockstep.
		wait := delay/2 + rand.N(delay/2)
		log.WarnContext(ctx, "orgid issuer not ready, retrying", "attempt", attempt, "retry_in", wait, "error", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (gave up: %w)", err, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, startBackoffMax)
	}
}
