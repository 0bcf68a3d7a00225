package oidc_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
)

// Helpers of the registration, client authentication and logout tests:
// they speak plain HTTP to a real server, as a relying party would.

// startDynamic starts orgid with dynamic registration in mode and the
// outbound client allowed to reach the test's loopback servers.
func startDynamic(t *testing.T, dbURL, mode string, opts ...servertest.Option) *servertest.Server {
	t.Helper()
	opts = append([]servertest.Option{servertest.WithConfig(func(c *server.Config) {
		c.Registration = mode
		c.EgressAllowHosts = []string{"127.0.0.1"}
	})}, opts...)
	return servertest.Start(t, dbURL, opts...)
}

// baseRSA is generated once per test binary: RSA generation is slow.
var baseRSA = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// rsaKey is an RS256 client key with kid (the same key material each time).
func rsaKey(_ *testing.T, kid string) *jose.JSONWebKey {
	return &jose.JSONWebKey{Key: baseRSA(), KeyID: kid, Algorithm: "RS256", Use: "sig"}
}

// freshRSAKey is a new RS256 key (a client that rotates its key).
func freshRSAKey(t *testing.T, kid string) *jose.JSONWebKey {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: "RS256", Use: "sig"}
}

// newLoopbackServer serves h on 127.0.0.1 until the test ends and returns
// its base URL.
func newLoopbackServer(t *testing.T, h http.Handler) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}

// publicJWKS is the JSON value of a key set holding the public halves.
func publicJWKS(t *testing.T, keys ...*jose.JSONWebKey) map[string]any {
	t.Helper()
	var out []any
	for _, k := range keys {
		b, err := k.Public().MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		out = append(out, m)
	}
	return map[string]any{"keys": out}
}

// signJWT signs claims with key (a private JWK, or []byte for HS256).
func signJWT(t *testing.T, key any, alg, kid, typ string, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := obj.CompactSerialize()
	return out
}

// assertion is a client assertion for the token endpoint (RFC 7523 §3).
func assertion(t *testing.T, srv *servertest.Server, clientID string, key any, alg, kid string, change func(map[string]any)) string {
	t.Helper()
	now := time.Now()
	claims := map[string]any{"iss": clientID, "sub": clientID, "aud": srv.Issuer + oidc.PathToken,
		"jti": base64.RawURLEncoding.EncodeToString([]byte(now.String())) + kid + randomSuffix(), "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	if change != nil {
		change(claims)
	}
	return signJWT(t, key, alg, kid, "", claims)
}

func randomSuffix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// jsonRequest sends a JSON request and decodes a JSON answer.
func jsonRequest(t *testing.T, method, target, bearer string, body any) (int, map[string]any, http.Header) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, target, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out, resp.Header
}

// register posts client metadata to the registration endpoint.
func register(t *testing.T, srv *servertest.Server, token string, meta map[string]any) (int, map[string]any) {
	t.Helper()
	status, body, _ := jsonRequest(t, http.MethodPost, srv.Issuer+oidc.PathRegister, token, meta)
	return status, body
}

// mustRegister registers a client and fails the test unless it worked.
func mustRegister(t *testing.T, srv *servertest.Server, meta map[string]any) map[string]any {
	t.Helper()
	status, body := register(t, srv, "", meta)
	if status != http.StatusCreated {
		t.Fatalf("register %v: HTTP %d %v", meta, status, body)
	}
	return body
}

// withAssertion adds a client assertion to a token request form.
func withAssertion(form url.Values, clientID, jwt string) url.Values {
	form.Set("client_id", clientID)
	form.Set("client_assertion_type", oidc.ClientAssertionType)
	form.Set("client_assertion", jwt)
	return form
}

// authorizeCode runs the browser part of a code flow for a client and
// returns the callback's query: it signs in and consents when asked.
func authorizeCode(t *testing.T, srv *servertest.Server, b *servertest.Browser, clientID, redirectURI, email string, extra url.Values) url.Values {
	t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectURI},
		"scope": {"openid email"}, "state": {"state-1234567890"}, "nonce": {"nonce-1234567890"}}
	for k, v := range extra {
		q[k] = v
	}
	page := b.Follow(b.Get(srv.Issuer+oidc.PathAuthorize+"?"+q.Encode()), srv.Issuer)
	for i := 0; i < 4 && page.Location == nil; i++ {
		switch {
		case strings.Contains(page.Body, `name="identifier"`):
			page = b.SignIn(page, srv.Issuer, email, servertest.Password)
		case strings.Contains(page.Body, `value="allow"`):
			form, action, err := servertest.FindForm(page.Body, "flow")
			if err != nil {
				t.Fatalf("consent page: %v", err)
			}
			form.Set("action", "allow")
			page = b.Follow(b.PostForm(srv.Issuer+action, form), srv.Issuer)
		default:
			t.Fatalf("authorization stopped at %v", page)
		}
	}
	if page.Location == nil || !strings.HasPrefix(page.Location.String(), redirectURI) {
		t.Fatalf("authorization did not return to the client: %v", page)
	}
	return page.Location.Query()
}

// claimsOf decodes a JWT's payload without verifying it.
func claimsOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// serveJSON serves v at a loopback URL until the test ends.
func serveJSON(t *testing.T, v any) string {
	t.Helper()
	b, _ := json.Marshal(v)
	srv := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}))
	return srv + "/doc.json"
}

// jsonObject decodes a JSON object.
func jsonObject(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
