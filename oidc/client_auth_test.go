package oidc_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

// machineRegistration registers a client_credentials client with auth.
func machineRegistration(auth string, extra map[string]any) map[string]any {
	m := map[string]any{"client_name": "service", "grant_types": []string{"client_credentials"},
		"token_endpoint_auth_method": auth, "scope": "openid"}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func ccForm() url.Values { return url.Values{"grant_type": {"client_credentials"}} }

func TestPrivateKeyJWT(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := startDynamic(t, dbURL, oidc.RegistrationModeOpen)
		key := rsaKey(t, "pk-1")
		reg := mustRegister(t, srv, machineRegistration("private_key_jwt", map[string]any{"jwks": publicJWKS(t, key)}))
		id := reg["client_id"].(string)
		if _, hasSecret := reg["client_secret"]; hasSecret {
			t.Errorf("a private_key_jwt client got a client_secret")
		}
		other := freshRSAKey(t, "pk-1")
		token := func(form url.Values) (int, map[string]any) {
			status, body, _ := postToken(t, srv.Issuer, form, "", "")
			return status, body
		}

		tests := []struct {
			name   string
			jwt    func() string
			status int
		}{
			{"valid assertion", func() string { return assertion(t, srv, id, key.Key, "RS256", "pk-1", nil) }, http.StatusOK},
			{"aud is the issuer", func() string {
				return assertion(t, srv, id, key.Key, "RS256", "pk-1", func(c map[string]any) { c["aud"] = srv.Issuer })
			}, http.StatusOK},
			{"aud is an array with the token endpoint", func() string {
				return assertion(t, srv, id, key.Key, "RS256", "pk-1", func(c map[string]any) { c["aud"] = []string{"x", srv.Issuer + oidc.PathToken} })
			}, http.StatusOK},
			{"another aud", func() string {
				return assertion(t, srv, id, key.Key, "RS256", "pk-1", func(c map[string]any) { c["aud"] = "https://elsewhere.example.com/token" })
			}, http.StatusUnauthorized},
			{"iss is not the client", func() string {
				return assertion(t, srv, id, key.Key, "RS256", "pk-1", func(c map[string]any) { c["iss"] = "someone" })
			}, http.StatusUnauthorized},
			{"expired", func() string {
				return assertion(t, srv, id, key.Key, "RS256", "pk-1", func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() })
			}, http.StatusUnauthorized},
			{"no exp", func() string {
				return assertion(t, srv, id, key.Key, "RS256", "pk-1", func(c map[string]any) { delete(c, "exp") })
			}, http.StatusUnauthorized},
			{"exp too far ahead", func() string {
				return assertion(t, srv, id, key.Key, "RS256", "pk-1", func(c map[string]any) { c["exp"] = time.Now().Add(48 * time.Hour).Unix() })
			}, http.StatusUnauthorized},
			{"no jti", func() string {
				return assertion(t, srv, id, key.Key, "RS256", "pk-1", func(c map[string]any) { delete(c, "jti") })
			}, http.StatusUnauthorized},
			{"signed by another key", func() string { return assertion(t, srv, id, other.Key, "RS256", "pk-1", nil) }, http.StatusUnauthorized},
			{"HS256 with the public key's modulus", func() string {
				return assertion(t, srv, id, []byte("0123456789abcdef0123456789abcdef"), "HS256", "pk-1", nil)
			}, http.StatusUnauthorized},
			{"alg none", func() string {
				return strings.Join([]string{b64(`{"alg":"none"}`), b64(`{"iss":"` + id + `","sub":"` + id + `"}`), ""}, ".")
			}, http.StatusUnauthorized},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				status, body := token(withAssertion(ccForm(), id, tc.jwt()))
				if status != tc.status {
					t.Fatalf("HTTP %d %v, want %d", status, body, tc.status)
				}
				if status == http.StatusUnauthorized && body["error"] != "invalid_client" {
					t.Errorf("error = %v, want invalid_client", body["error"])
				}
			})
		}

		t.Run("replay refused", func(t *testing.T) {
			jwt := assertion(t, srv, id, key.Key, "RS256", "pk-1", nil)
			if status, body := token(withAssertion(ccForm(), id, jwt)); status != http.StatusOK {
				t.Fatalf("first use: HTTP %d %v", status, body)
			}
			status, body := token(withAssertion(ccForm(), id, jwt))
			if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
				t.Errorf("replay: HTTP %d %v, want 401 invalid_client", status, body)
			}
		})
		t.Run("concurrent replay: exactly one wins", func(t *testing.T) {
			jwt := assertion(t, srv, id, key.Key, "RS256", "pk-1", nil)
			var ok atomic.Int32
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if status, _ := token(withAssertion(ccForm(), id, jwt)); status == http.StatusOK {
						ok.Add(1)
					}
				}()
			}
			wg.Wait()
			if ok.Load() != 1 {
				t.Errorf("%d of 8 concurrent uses of one assertion succeeded, want 1", ok.Load())
			}
		})
		t.Run("secret methods refused", func(t *testing.T) {
			status, body, _ := postToken(t, srv.Issuer, ccForm(), id, "guess-guess-guess-guess")
			if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
				t.Errorf("client_secret_basic for a private_key_jwt client: HTTP %d %v", status, body)
			}
		})
		t.Run("two methods at once", func(t *testing.T) {
			form := withAssertion(ccForm(), id, assertion(t, srv, id, key.Key, "RS256", "pk-1", nil))
			status, body, _ := postToken(t, srv.Issuer, form, id, "secret-secret-secret-secret")
			if status != http.StatusBadRequest || body["error"] != "invalid_request" {
				t.Errorf("assertion plus basic: HTTP %d %v, want invalid_request", status, body)
			}
		})
	})
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestPrivateKeyJWTKeyRotationThroughJWKSURI(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		clock := new(servertest.Clock)
		srv := startDynamic(t, dbURL, oidc.RegistrationModeOpen, servertest.WithClock(clock))
		var mu sync.Mutex
		current := rsaKey(t, "old")
		var fetches atomic.Int32
		jwksURI := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			fetches.Add(1)
			mu.Lock()
			defer mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(mustJSON(publicJWKS(t, current)))
		})) + "/jwks"
		reg := mustRegister(t, srv, machineRegistration("private_key_jwt", map[string]any{"jwks_uri": jwksURI}))
		id := reg["client_id"].(string)
		use := func(k *jose.JSONWebKey) int {
			status, _, _ := postToken(t, srv.Issuer, withAssertion(ccForm(), id, assertion(t, srv, id, k.Key, "RS256", k.KeyID, nil)), "", "")
			return status
		}
		if s := use(current); s != http.StatusOK {
			t.Fatalf("assertion with the registered key: HTTP %d", s)
		}
		fresh := freshRSAKey(t, "new")
		mu.Lock()
		current = fresh
		mu.Unlock()
		// Within the minimum refetch interval orgid keeps its copy: the
		// client's new key is not known yet, and the jwks_uri is not
		// fetched again on every request.
		before := fetches.Load()
		if s := use(fresh); s != http.StatusUnauthorized {
			t.Errorf("new key right after rotation: HTTP %d, want 401 (cached set)", s)
		}
		if fetches.Load() != before {
			t.Errorf("the jwks_uri was fetched again within the minimum interval")
		}
		clock.Advance(10 * time.Second)
		if s := use(fresh); s != http.StatusOK {
			t.Errorf("new key after the refetch interval: HTTP %d, want 200", s)
		}
	})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func TestClientSecretJWT(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := startDynamic(t, dbURL, oidc.RegistrationModeOpen)
		reg := mustRegister(t, srv, machineRegistration("client_secret_jwt", nil))
		id, secret := reg["client_id"].(string), reg["client_secret"].(string)
		if secret == "" {
			t.Fatal("a client_secret_jwt client got no secret")
		}
		use := func(key []byte, alg string, change func(map[string]any)) (int, map[string]any) {
			status, body, _ := postToken(t, srv.Issuer, withAssertion(ccForm(), id, assertion(t, srv, id, key, alg, "", change)), "", "")
			return status, body
		}
		if status, body := use([]byte(secret), "HS256", nil); status != http.StatusOK {
			t.Fatalf("HS256 assertion with the secret: HTTP %d %v", status, body)
		}
		if status, _ := use([]byte(secret+"x"), "HS256", nil); status != http.StatusUnauthorized {
			t.Errorf("HS256 assertion with a wrong secret: HTTP %d, want 401", status)
		}
		if status, _ := use([]byte(secret), "HS512", nil); status != http.StatusOK {
			t.Errorf("HS512 assertion (no alg registered): HTTP %d, want 200", status)
		}
		jwt := assertion(t, srv, id, []byte(secret), "HS256", "", nil)
		postToken(t, srv.Issuer, withAssertion(ccForm(), id, jwt), "", "")
		if status, body, _ := postToken(t, srv.Issuer, withAssertion(ccForm(), id, jwt), "", ""); status != http.StatusUnauthorized {
			t.Errorf("replayed HS256 assertion: HTTP %d %v", status, body)
		}
		// The secret is kept sealed (an HMAC key must be known), never in
		// the clear.
		var sealed []byte
		if err := srv.Base.DB.NewSelect().TableExpr("oauth2_clients").Column("secret_sealed").Where("id = ?", id).Scan(context.Background(), &sealed); err != nil {
			t.Fatal(err)
		}
		if len(sealed) == 0 || strings.Contains(string(sealed), secret) {
			t.Errorf("secret_sealed = %d bytes (contains the secret: %v), want a ciphertext", len(sealed), strings.Contains(string(sealed), secret))
		}
		// A client_secret_basic client has no sealed secret, so it cannot
		// authenticate with HMAC assertions.
		basic := mustRegister(t, srv, machineRegistration("client_secret_basic", nil))
		bid, bsecret := basic["client_id"].(string), basic["client_secret"].(string)
		status, _, _ := postToken(t, srv.Issuer, withAssertion(ccForm(), bid, assertion(t, srv, bid, []byte(bsecret), "HS256", "", nil)), "", "")
		if status != http.StatusUnauthorized {
			t.Errorf("HMAC assertion of a client_secret_basic client: HTTP %d, want 401", status)
		}
	})
}
