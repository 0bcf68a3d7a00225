package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	jose3 "github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"

	"github.com/orgid/orgid/internal/egress"
)

// Outbound fetches of URLs that clients chose (jwks_uri,
// sector_identifier_uri, request_uri) go through one egress client: it
// refuses private, loopback and link-local destinations after DNS
// resolution (unless the operator allow-listed them), follows no
// redirects, and bounds time and size.
const (
	// fetchTimeout bounds one outbound fetch.
	fetchTimeout = 10 * time.Second
	// maxFetchBytes bounds a fetched document (a JWKS, a sector document, a
	// request object).
	maxFetchBytes = 64 << 10
	// jwksCacheTTL is how long a client's fetched JWKS is used without
	// asking again.
	jwksCacheTTL = 5 * time.Minute
	// jwksMinRefetch is the least time between two fetches of one jwks_uri:
	// an assertion naming an unknown kid makes orgid fetch again (the
	// client rotated its keys), but no more often than this.
	jwksMinRefetch = 5 * time.Second
	// jwksCacheEntries bounds the cache.
	jwksCacheEntries = 1024
)

// newEgressClient returns the client for outbound fetches.
func newEgressClient(allowHosts []string) *http.Client {
	return egress.NewClient(egress.Options{AllowHosts: allowHosts, Timeout: fetchTimeout, MaxResponseBytes: maxFetchBytes})
}

// errFetch is what a failed outbound fetch reports to the client: never the
// resolved address or the reason a destination was refused.
var errFetch = errors.New("the document could not be fetched")

// fetchDocument GETs url through the egress client and returns its body,
// which must be 200 and at most maxFetchBytes.
func fetchDocument(ctx context.Context, client *http.Client, url, accept string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, errFetch
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", "orgid")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errFetch, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: HTTP %d", errFetch, resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errFetch, err)
	}
	return body, nil
}

// jwksFetcher resolves clients' jwks_uri through the egress client, with a
// small cache. It is also fosite's JWKSFetcherStrategy (fosite's own has no
// SSRF protection).
type jwksFetcher struct {
	client *http.Client
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cachedJWKS
}

type cachedJWKS struct {
	set     *jose3.JSONWebKeySet
	fetched time.Time
}

var _ fosite.JWKSFetcherStrategy = (*jwksFetcher)(nil)

func newJWKSFetcher(client *http.Client, now func() time.Time) *jwksFetcher {
	return &jwksFetcher{client: client, now: now, cache: map[string]cachedJWKS{}}
}

// Resolve returns the key set at location, from the cache unless it is
// stale or ignoreCache asks for a fresh copy (which jwksMinRefetch
// rate-limits).
func (f *jwksFetcher) Resolve(ctx context.Context, location string, ignoreCache bool) (*jose3.JSONWebKeySet, error) {
	now := f.now()
	f.mu.Lock()
	c, ok := f.cache[location]
	f.mu.Unlock()
	if ok {
		age := now.Sub(c.fetched)
		if (!ignoreCache && age < jwksCacheTTL) || (ignoreCache && age < jwksMinRefetch) {
			return c.set, nil
		}
	}
	set, err := f.fetch(ctx, location)
	if err != nil {
		return nil, fosite.ErrInvalidClient.WithHint("The client's jwks_uri could not be fetched or is not a JSON Web Key Set.").WithWrap(err)
	}
	f.mu.Lock()
	if len(f.cache) >= jwksCacheEntries {
		clear(f.cache)
	}
	f.cache[location] = cachedJWKS{set: set, fetched: now}
	f.mu.Unlock()
	return set, nil
}

// fetch GETs a JWKS and keeps its public keys, marking keys without use
// as signing keys.
func (f *jwksFetcher) fetch(ctx context.Context, location string) (*jose3.JSONWebKeySet, error) {
	if err := fetchableURL(location, false); err != nil {
		return nil, err
	}
	body, err := fetchDocument(ctx, f.client, location, "application/jwk-set+json, application/json")
	if err != nil {
		return nil, err
	}
	return parseClientJWKS(body)
}

// parseClientJWKS decodes a fetched key set, keeping the valid public keys.
func parseClientJWKS(body []byte) (*jose3.JSONWebKeySet, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("not a JSON Web Key Set: %w", err)
	}
	set := &jose3.JSONWebKeySet{}
	for _, k := range raw.Keys {
		var key jose3.JSONWebKey
		// Keys of unknown types are skipped, as RFC 7517 §5 asks.
		if key.UnmarshalJSON(k) != nil || !key.Valid() || !key.IsPublic() {
			continue
		}
		if key.Use == "" {
			key.Use = "sig"
		}
		set.Keys = append(set.Keys, key)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("the JSON Web Key Set has no usable public key")
	}
	return set, nil
}

// clientKeys returns a client's public keys: registered by value, or
// fetched from its jwks_uri (fresh when refresh is set).
func (p *Provider) clientKeys(ctx context.Context, c *Client, refresh bool) (*jose3.JSONWebKeySet, error) {
	if c.Metadata.JWKS != nil {
		return c.Metadata.JWKS, nil
	}
	if c.Metadata.JWKSURI != "" {
		return p.jwks.Resolve(ctx, c.Metadata.JWKSURI, refresh)
	}
	return nil, errors.New("the client registered no keys (jwks or jwks_uri)")
}
