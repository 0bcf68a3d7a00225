package middleware

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// allowedAlgorithms are the only signature algorithms accepted: the ones
// orgid signs with. Never "none", never HMAC (which would let anyone
// holding the public key forge tokens).
var allowedAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}

// minRSABits refuses RSA keys too short to trust.
const minRSABits = 2048

// refreshTimeout bounds one JWK Set fetch; it runs apart from the request
// that started it, which other requests may be waiting on.
const refreshTimeout = 15 * time.Second

// publicKey is a usable verification key from the issuer's JWK Set.
type publicKey struct {
	key any // *rsa.PublicKey or *ecdsa.PublicKey
	alg jose.SignatureAlgorithm
}

// keySet is an immutable snapshot of the issuer's keys.
type keySet struct {
	byKID     map[string]publicKey
	fetchedAt time.Time
}

// keyCache holds the current key set and refreshes it: at most one fetch
// at a time (callers wait for the one in flight rather than start their
// own), and at most one per minInterval.
type keyCache struct {
	fetch       func(ctx context.Context) (*keySet, error)
	now         func() time.Time
	minInterval time.Duration
	maxAge      time.Duration
	log         *slog.Logger

	current atomic.Pointer[keySet]

	mu          sync.Mutex
	lastAttempt time.Time // start of the last fetch, successful or not
	inflight    *refreshCall
}

// refreshCall is one fetch that several callers may wait for.
type refreshCall struct {
	done chan struct{}
	err  error
}

// errRefreshThrottled: the key is unknown and the set was refreshed too
// recently to ask the issuer again.
var errRefreshThrottled = errors.New("JWK Set refreshed less than the minimum interval ago")

// key returns the key named kid. A kid the cached set does not know
// triggers a refresh (or joins the one in flight); a set older than
// maxAge is refreshed before use, falling back to it if the issuer fails.
func (c *keyCache) key(ctx context.Context, kid string) (publicKey, error) {
	set := c.current.Load()
	if c.now().Sub(set.fetchedAt) >= c.maxAge {
		if err := c.refresh(ctx); err != nil && !errors.Is(err, errRefreshThrottled) {
			c.log.WarnContext(ctx, "refresh of a stale JWK Set failed; keeping the cached keys", "error", err)
		}
		set = c.current.Load()
	}
	if k, ok := set.byKID[kid]; ok {
		return k, nil
	}
	if err := c.refresh(ctx); err != nil {
		return publicKey{}, fmt.Errorf("unknown key id %q: %w", kid, err)
	}
	if k, ok := c.current.Load().byKID[kid]; ok {
		return k, nil
	}
	return publicKey{}, fmt.Errorf("unknown key id %q (not in the refreshed JWK Set)", kid)
}

// refresh fetches the key set unless a fetch is in flight (it waits for
// that one instead) or the last one started less than minInterval ago.
func (c *keyCache) refresh(ctx context.Context) error {
	c.mu.Lock()
	call := c.inflight
	if call == nil {
		now := c.now()
		if !c.lastAttempt.IsZero() && now.Sub(c.lastAttempt) < c.minInterval {
			c.mu.Unlock()
			return errRefreshThrottled
		}
		call = &refreshCall{done: make(chan struct{})}
		c.inflight, c.lastAttempt = call, now
		// The fetch belongs to every waiter, not to this request: it
		// outlives this request's cancellation, bounded by its own timeout.
		go c.run(context.WithoutCancel(ctx), call)
	}
	c.mu.Unlock()
	select {
	case <-call.done:
		return call.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *keyCache) run(ctx context.Context, call *refreshCall) {
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	set, err := c.fetch(ctx)
	c.mu.Lock()
	if err == nil {
		c.current.Store(set)
	}
	c.inflight = nil
	call.err = err
	c.mu.Unlock()
	close(call.done)
}

// init loads the first key set (New's retries cover failures). It does
// not count towards the refresh pacing: a key rotated in just after start
// is fetched at once.
func (c *keyCache) init(ctx context.Context) error {
	set, err := c.fetch(ctx)
	if err != nil {
		return err
	}
	c.current.Store(set)
	return nil
}

// fetchKeys downloads the JWK Set at uri and keeps the keys fit to verify
// orgid tokens; keys it cannot use (other algorithms, encryption keys,
// unknown key types) are skipped, so that one odd key does not break the
// others.
func (v *Verifier) fetchKeys(ctx context.Context, uri string) (*keySet, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := v.getJSON(ctx, uri, &doc); err != nil {
		return nil, fmt.Errorf("JWK Set: %w", err)
	}
	set := &keySet{byKID: make(map[string]publicKey, len(doc.Keys)), fetchedAt: v.opts.Now()}
	for i, raw := range doc.Keys {
		k, kid, err := usableKey(raw)
		if err != nil {
			v.log.DebugContext(ctx, "skipping JWK Set entry", "index", i, "kid", kid, "reason", err)
			continue
		}
		if _, dup := set.byKID[kid]; dup {
			// Two keys under one kid: neither can be told apart safely.
			v.log.WarnContext(ctx, "JWK Set has a duplicate kid; ignoring both", "kid", kid)
			set.byKID[kid] = publicKey{}
			continue
		}
		set.byKID[kid] = k
	}
	for kid, k := range set.byKID {
		if k.key == nil {
			delete(set.byKID, kid)
		}
	}
	if len(set.byKID) == 0 {
		// Retrying would not help: the issuer signs with something else.
		return nil, fmt.Errorf("%w: JWK Set at %s has no usable RS256 or ES256 key", errPermanent, uri)
	}
	return set, nil
}

// usableKey parses one JWK and decides whether it can verify tokens.
func usableKey(raw json.RawMessage) (publicKey, string, error) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return publicKey{}, "", err
	}
	kid := jwk.KeyID
	switch {
	case kid == "":
		return publicKey{}, kid, errors.New("no kid")
	case jwk.Use != "" && jwk.Use != "sig":
		return publicKey{}, kid, fmt.Errorf("use %q", jwk.Use)
	case !jwk.IsPublic():
		return publicKey{}, kid, errors.New("not a public key")
	}
	var alg jose.SignatureAlgorithm
	switch pub := jwk.Key.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < minRSABits {
			return publicKey{}, kid, fmt.Errorf("RSA key of %d bits", pub.N.BitLen())
		}
		alg = jose.RS256
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return publicKey{}, kid, fmt.Errorf("EC curve %s", pub.Curve.Params().Name)
		}
		alg = jose.ES256
	default:
		return publicKey{}, kid, fmt.Errorf("key type %T", jwk.Key)
	}
	if jwk.Algorithm != "" && jwk.Algorithm != string(alg) {
		return publicKey{}, kid, fmt.Errorf("alg %q", jwk.Algorithm)
	}
	return publicKey{key: jwk.Key, alg: alg}, kid, nil
}
