package middleware_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/orgid/orgid/middleware"
)

// fakeIssuer is a minimal issuer on loopback whose behaviour a test sets:
// discovery, a JWK Set of keys the test holds, and an introspection
// endpoint. It stands in for orgid where a test needs an issuer that
// misbehaves or signs in ways orgid never does.
type fakeIssuer struct {
	t      *testing.T
	srv    *httptest.Server
	URL    string
	hits   struct{ discovery, jwks, introspect atomic.Int32 }
	mu     sync.Mutex
	cfg    fakeConfig
	keys   []fakeKey
	extras []any // raw JWK Set entries published besides the keys
}

type fakeConfig struct {
	discoveryFailures int    // answer 503 to this many discovery requests
	jwksFailures      int    // likewise for the JWK Set
	discoveryIssuer   string // issuer in the document ("" the real one)
	noIntrospection   bool   // leave introspection_endpoint out
	introspect        func(form url.Values, id, secret string) (int, any)
}

type fakeKey struct {
	kid    string
	alg    string
	signer crypto.Signer
}

func newFakeIssuer(t *testing.T, cfg fakeConfig) *fakeIssuer {
	t.Helper()
	f := &fakeIssuer{t: t, cfg: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		f.hits.discovery.Add(1)
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.cfg.discoveryFailures > 0 {
			f.cfg.discoveryFailures--
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		iss := f.cfg.discoveryIssuer
		if iss == "" {
			iss = f.URL
		}
		doc := map[string]any{"issuer": iss, "jwks_uri": f.URL + "/jwks"}
		if !f.cfg.noIntrospection {
			doc["introspection_endpoint"] = f.URL + "/introspect"
		}
		writeJSON(w, http.StatusOK, doc)
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		f.hits.jwks.Add(1)
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.cfg.jwksFailures > 0 {
			f.cfg.jwksFailures--
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		keys := append([]any{}, f.extras...)
		for _, k := range f.keys {
			keys = append(keys, jose.JSONWebKey{Key: k.signer.Public(), KeyID: k.kid, Algorithm: k.alg, Use: "sig"})
		}
		writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
	})
	mux.HandleFunc("POST /introspect", func(w http.ResponseWriter, r *http.Request) {
		f.hits.introspect.Add(1)
		id, secret, _ := r.BasicAuth()
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		_ = r.ParseForm()
		f.mu.Lock()
		fn := f.cfg.introspect
		f.mu.Unlock()
		if fn == nil {
			writeJSON(w, http.StatusOK, map[string]any{"active": false})
			return
		}
		status, body := fn(r.PostForm, id, secret)
		writeJSON(w, status, body)
	})
	f.srv = httptest.NewServer(mux)
	f.URL = f.srv.URL
	t.Cleanup(f.srv.Close)
	return f
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// addKey generates and publishes a key: "RS256" (2048-bit RSA), "RS1024"
// (a too-short RSA key published as RS256), "ES256" or "ES384".
func (f *fakeIssuer) addKey(kind, kid string) fakeKey {
	f.t.Helper()
	var (
		signer crypto.Signer
		err    error
		alg    = kind
	)
	switch kind {
	case "RS256":
		signer, err = rsa.GenerateKey(rand.Reader, 2048)
	case "RS1024":
		signer, err = rsa.GenerateKey(rand.Reader, 1024)
		alg = "RS256"
	case "ES256":
		signer, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES384":
		signer, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	default:
		f.t.Fatalf("unknown key kind %s", kind)
	}
	if err != nil {
		f.t.Fatal(err)
	}
	k := fakeKey{kid: kid, alg: alg, signer: signer}
	f.mu.Lock()
	f.keys = append(f.keys, k)
	f.mu.Unlock()
	return k
}

// sign signs claims with k; header entries override alg, kid and typ.
func (f *fakeIssuer) sign(k fakeKey, header, claims map[string]any) string {
	f.t.Helper()
	h := with(map[string]any{"alg": k.alg, "kid": k.kid, "typ": "at+jwt"}, header)
	var sign signFunc
	switch s := k.signer.(type) {
	case *ecdsa.PrivateKey:
		sign = signES256(s)
	default:
		sign = signRS256(s)
	}
	return compact(f.t, h, claims, sign)
}

// claims are valid access token claims for audience.
func (f *fakeIssuer) claims(audience string) map[string]any {
	now := time.Now().Unix()
	return map[string]any{
		"iss": f.URL, "sub": "user_1", "aud": []string{audience}, "client_id": "client_1",
		"exp": now + 300, "iat": now, "jti": "jti_1", "scope": "openid organization",
		"sid": "sess_1", "org_id": "org_1", "org_slug": "acme", "org_role": "org:admin",
		"org_permissions": []string{"org:projects:manage"},
	}
}

func (f *fakeIssuer) options(t *testing.T) middleware.Options {
	return middleware.Options{Issuer: f.URL, Audience: apiAudience, Logger: testLogger(t)}
}
