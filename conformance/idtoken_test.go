package conformance

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

func TestHalfHashMatchesOIDCCoreExamples(t *testing.T) {
	// OIDC Core appendix A.3 (at_hash) and A.4 (c_hash), RS256.
	tests := []struct{ value, want string }{
		{"jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", "77QmUPtjPfzWtF2AnpK9RQ"},
		{"Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk", "LDktKdoQak3Pk0cnXxCltA"},
	}
	for _, tc := range tests {
		got, err := halfHash("RS256", tc.value)
		if err != nil || got != tc.want {
			t.Errorf("halfHash(RS256, %q) = %q, %v; want %q", tc.value, got, err, tc.want)
		}
	}
	if _, err := halfHash("XY1", "v"); err == nil {
		t.Errorf("halfHash(XY1) = nil error, want an error for an unknown alg")
	}
}

// otherKey is a second RSA key, for signatures by a key the JWKS names
// differently.
var otherKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

type tokenSpec struct {
	alg      jose.SignatureAlgorithm
	kid      string
	noKid    bool
	key      any
	unsigned bool
}

func signToken(t *testing.T, claims map[string]any, spec tokenSpec) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	if spec.unsigned {
		return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
	}
	if spec.alg == "" {
		spec.alg = jose.RS256
	}
	if spec.key == nil {
		spec.key = testKey()
	}
	opts := &jose.SignerOptions{}
	if !spec.noKid {
		kid := spec.kid
		if kid == "" {
			kid = "key-1"
		}
		opts = opts.WithHeader("kid", kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: spec.alg, Key: spec.key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerifyIDToken(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const issuer, client, nonce, access, code = "https://op.example.com", "client-1", "n-0S6_WzA2Mj", "at-123", "code-456"
	atHash, _ := halfHash("RS256", access)
	cHash, _ := halfHash("RS256", code)
	base := func() map[string]any {
		return map[string]any{"iss": issuer, "sub": "user-1", "aud": client, "exp": now.Add(5 * time.Minute).Unix(),
			"iat": now.Unix(), "auth_time": now.Add(-time.Minute).Unix(), "nonce": nonce, "at_hash": atHash, "c_hash": cHash}
	}
	with := func(k string, v any) map[string]any { c := base(); c[k] = v; return c }
	without := func(k string) map[string]any { c := base(); delete(c, k); return c }
	sigKey := jose.JSONWebKey{Key: &testKey().PublicKey, KeyID: "key-1", Use: "sig", Algorithm: "RS256"}
	second := jose.JSONWebKey{Key: &otherKey().PublicKey, KeyID: "key-2", Use: "sig", Algorithm: "RS256"}
	encKey := jose.JSONWebKey{Key: &testKey().PublicKey, KeyID: "key-1", Use: "enc"}
	noKidKey := jose.JSONWebKey{Key: &testKey().PublicKey, Use: "sig"}
	noKidOther := jose.JSONWebKey{Key: &otherKey().PublicKey, Use: "sig"}
	want := IDTokenWant{Client: ClientAuth{Client: Client{ClientID: client, ClientSecret: "s3cret-s3cret-s3cret-s3cret-s3cret"}}, Nonce: nonce, AccessToken: access, Code: code}

	tests := []struct {
		name     string
		claims   map[string]any
		spec     tokenSpec
		keys     []jose.JSONWebKey
		want     func(IDTokenWant) IDTokenWant
		wantFail string // "" for a pass
	}{
		{name: "valid", claims: base()},
		{name: "aud array with azp", claims: with("aud", []string{client, "api"})},
		{name: "no kid, one key", claims: base(), spec: tokenSpec{noKid: true}, keys: []jose.JSONWebKey{noKidKey}},
		{name: "wrong iss", claims: with("iss", "https://evil.example.com"), wantFail: "iss"},
		{name: "iss missing", claims: without("iss"), wantFail: "no iss"},
		{name: "sub missing", claims: without("sub"), wantFail: "no sub"},
		{name: "aud other client", claims: with("aud", "client-2"), wantFail: "aud"},
		{name: "aud array without client", claims: with("aud", []string{"client-2"}), wantFail: "does not contain the client id"},
		{name: "azp other client", claims: with("azp", "client-2"), wantFail: "azp"},
		{name: "expired", claims: with("exp", now.Add(-time.Hour).Unix()), wantFail: "expired"},
		{name: "exp in milliseconds", claims: with("exp", now.Add(time.Hour).UnixMilli()), wantFail: "50 years"},
		{name: "exp missing", claims: without("exp"), wantFail: "no exp"},
		{name: "exp as string", claims: with("exp", "1900000000"), wantFail: "no exp"},
		{name: "iat in the future", claims: with("iat", now.Add(time.Hour).Unix()), wantFail: "future"},
		{name: "iat old", claims: with("iat", now.Add(-time.Hour).Unix()), wantFail: "5 minutes old"},
		{name: "auth_time in the future", claims: with("auth_time", now.Add(time.Hour).Unix()), wantFail: "auth_time"},
		{name: "auth_time required", claims: without("auth_time"), want: func(w IDTokenWant) IDTokenWant { w.RequireAuthTime = true; return w }, wantFail: "max_age"},
		{name: "nonce missing", claims: without("nonce"), wantFail: "no nonce"},
		{name: "nonce differs", claims: with("nonce", "other"), wantFail: "nonce differs"},
		{name: "nonce not requested", claims: base(), want: func(w IDTokenWant) IDTokenWant { w.Nonce = ""; return w }, wantFail: "has a nonce"},
		{name: "acr empty", claims: with("acr", ""), wantFail: "acr"},
		{name: "amr not strings", claims: with("amr", []any{1}), wantFail: "amr"},
		{name: "at_hash mismatch", claims: with("at_hash", cHash), wantFail: "at_hash"},
		{name: "c_hash mismatch", claims: with("c_hash", atHash), wantFail: "c_hash"},
		{name: "email_verified as string", claims: with("email_verified", "true"), wantFail: "email_verified"},
		{name: "unsigned", claims: base(), spec: tokenSpec{unsigned: true}, wantFail: "unsigned"},
		{name: "alg not advertised", claims: base(), spec: tokenSpec{alg: jose.HS256, key: []byte("s3cret-s3cret-s3cret-s3cret-s3cret")}, wantFail: "id_token_signing_alg_values_supported"},
		{name: "unknown kid", claims: base(), spec: tokenSpec{kid: "key-9"}, wantFail: "not in the provider's JWKS"},
		{name: "signed by another key", claims: base(), spec: tokenSpec{key: otherKey()}, wantFail: "signature does not verify"},
		{name: "no kid, two keys", claims: base(), spec: tokenSpec{noKid: true}, keys: []jose.JSONWebKey{noKidKey, noKidOther}, wantFail: "no kid"},
		{name: "kid of an encryption key", claims: base(), keys: []jose.JSONWebKey{encKey}, wantFail: "use \"enc\""},
		{name: "two keys, right kid", claims: base(), keys: []jose.JSONWebKey{second, sigKey}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys := tc.keys
			if keys == nil {
				keys = []jose.JSONWebKey{sigKey}
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: keys})
			}))
			defer srv.Close()
			p := &Provider{Metadata: Metadata{Issuer: issuer, JWKSURI: srv.URL, IDTokenSigningAlgValuesSupported: []string{"RS256"}}, http: srv.Client()}
			p.jwks, p.jwksErr = p.fetchJWKS(context.Background())
			if p.jwksErr != nil {
				t.Fatalf("fetch JWKS: %v", p.jwksErr)
			}
			w := want
			if tc.want != nil {
				w = tc.want(w)
			}
			tt := NewT(context.Background(), &Env{Provider: p, Now: func() time.Time { return now }})
			tok := tt.verifyIDToken(signToken(t, tc.claims, tc.spec), "test", w)
			res := tt.Result()
			switch {
			case tc.wantFail == "" && res.Status != StatusPass:
				t.Errorf("got %s %q, want PASS", res.Status, res.Reason)
			case tc.wantFail != "" && (res.Status != StatusFail || !strings.Contains(res.Reason, tc.wantFail)):
				t.Errorf("got %s %q, want FAIL mentioning %q", res.Status, res.Reason, tc.wantFail)
			}
			if tok == nil {
				t.Errorf("verifyIDToken returned nil for a parseable token")
			}
		})
	}
}

func TestParseIDTokenRejectsMalformed(t *testing.T) {
	tests := map[string]string{
		"two parts":       "a.b",
		"JWE":             "a.b.c.d.e",
		"padded header":   base64.URLEncoding.EncodeToString([]byte(`{"alg":"RS256"}x`)) + ".e30.",
		"header not JSON": base64.RawURLEncoding.EncodeToString([]byte(`nope`)) + ".e30.",
		"payload array":   base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." + base64.RawURLEncoding.EncodeToString([]byte(`[1]`)) + ".",
	}
	for name, raw := range tests {
		if tok, err := parseIDToken(raw); err == nil {
			t.Errorf("%s: parseIDToken(%q) = %v, nil; want an error", name, raw, tok.Claims)
		}
	}
}

func TestClaimTypeProblems(t *testing.T) {
	tests := []struct {
		name   string
		claims map[string]any
		want   string // "" for none
	}{
		{"valid", map[string]any{"sub": "u", "email": "a@b.c", "email_verified": true, "updated_at": json.Number("1700000000"),
			"address": map[string]any{"country": "GB"}, "birthdate": "0000-12-10", "picture": "https://x.example/p.png", "name#se": "Ada"}, ""},
		{"email_verified string", map[string]any{"email_verified": "true"}, "email_verified"},
		{"updated_at string", map[string]any{"updated_at": "2024-01-01"}, "updated_at"},
		{"address string", map[string]any{"address": "London"}, "address"},
		{"address member number", map[string]any{"address": map[string]any{"postal_code": json.Number("12345")}}, "address.postal_code"},
		{"birthdate format", map[string]any{"birthdate": "10/12/1815"}, "birthdate"},
		{"picture relative", map[string]any{"picture": "/p.png"}, "picture"},
		{"tagged name not string", map[string]any{"name#se": json.Number("1")}, "name#se"},
		{"email without @", map[string]any{"email": "ada"}, "email"},
		{"phone verified string", map[string]any{"phone_number_verified": "false"}, "phone_number_verified"},
	}
	for _, tc := range tests {
		got := strings.Join(claimTypeProblems(tc.claims), "; ")
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: claimTypeProblems = %q, want a problem mentioning %q", tc.name, got, tc.want)
		}
	}
}
