package oidc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/oidc/keys"
	"github.com/orgid/orgid/storage/storagetest"
)

// jwksVerifier verifies JWTs as a resource server does: against a cached
// JWKS fetched from the issuer, fetched again when a kid is unknown.
type jwksVerifier struct {
	issuer string
	mu     sync.Mutex
	set    jose.JSONWebKeySet
	// refetches counts the fetches an unknown kid caused.
	refetches atomic.Int32
}

func (v *jwksVerifier) fetch() error {
	resp, err := http.Get(v.issuer + oidc.PathJWKS)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return err
	}
	v.mu.Lock()
	v.set = set
	v.mu.Unlock()
	return nil
}

func (v *jwksVerifier) verify(token string) error {
	obj, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return err
	}
	kid := obj.Signatures[0].Header.KeyID
	for attempt := 0; attempt < 2; attempt++ {
		v.mu.Lock()
		found := v.set.Key(kid)
		v.mu.Unlock()
		if len(found) == 1 {
			_, err := obj.Verify(found[0].Key)
			return err
		}
		if attempt == 0 {
			v.refetches.Add(1)
			if err := v.fetch(); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("kid %q is not in the JWKS", kid)
}

// Rotating the signing keys never invalidates a token in flight: while
// clients get tokens and a resource server verifies each of them through
// the JWKS, another process rotates the keys again and again and this
// server reloads them. Not a single verification may fail.
func TestKeyRotationUnderLoad(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		ctx := context.Background()
		c, secret := srv.CreateClient(t, oidc.NewClient{Name: "load", FirstParty: true,
			Metadata: oidc.ClientMetadata{GrantTypes: []string{oidc.GrantClientCredentials}, Scopes: []string{"reports"}}})
		v := &jwksVerifier{issuer: srv.Issuer}
		if err := v.fetch(); err != nil {
			t.Fatal(err)
		}
		// "orgid keys rotate" in another process: its own manager.
		other := keys.NewManager(srv.Base.DB, srv.Base.Keys, keys.Options{MaxTokenLifetime: srv.Base.Config.AccessTokenLifetime * 2})
		if err := other.Init(ctx); err != nil {
			t.Fatal(err)
		}

		const workers, perWorker, rotations = 4, 25, 8
		var issued, failures atomic.Int32
		var firstFailure atomic.Value
		var rotating atomic.Bool
		rotating.Store(true)
		var rotatorDone sync.WaitGroup
		rotatorDone.Add(1)
		go func() {
			defer rotatorDone.Done()
			defer rotating.Store(false)
			for i := 0; i < rotations; i++ {
				if _, err := other.Rotate(ctx); err != nil {
					firstFailure.CompareAndSwap(nil, "rotate: "+err.Error())
					failures.Add(1)
					return
				}
				if err := srv.Keys.Reload(ctx); err != nil {
					firstFailure.CompareAndSwap(nil, "reload: "+err.Error())
					failures.Add(1)
					return
				}
			}
		}()
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Keep issuing until every rotation happened.
				for i := 0; i < perWorker || rotating.Load(); i++ {
					status, body, _ := postToken(t, srv.Issuer, url.Values{"grant_type": {"client_credentials"}, "scope": {"reports"}}, c.ID, secret)
					at, _ := body["access_token"].(string)
					if status != http.StatusOK || at == "" {
						firstFailure.CompareAndSwap(nil, fmt.Sprintf("token request: HTTP %d %v", status, body))
						failures.Add(1)
						continue
					}
					issued.Add(1)
					if err := v.verify(at); err != nil {
						firstFailure.CompareAndSwap(nil, "verify: "+err.Error())
						failures.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		rotatorDone.Wait()
		if failures.Load() != 0 {
			t.Fatalf("%d failures among %d tokens while rotating; first: %v", failures.Load(), issued.Load(), firstFailure.Load())
		}
		// Every token issued before the last rotation still verifies
		// afterwards: retired keys stay published.
		list, err := srv.Keys.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		retired := 0
		for _, k := range list {
			if k.State == keys.StateRetired {
				retired++
			}
		}
		if want := rotations * len(srv.Keys.Algorithms()); retired != want {
			t.Errorf("%d retired keys, want %d: not every rotation happened", retired, want)
		}
		t.Logf("%d tokens verified across %d retired keys, %d JWKS refetches", issued.Load(), retired, v.refetches.Load())
	})
}
