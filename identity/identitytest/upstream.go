package identitytest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// FakeIdentity is who the fake provider says signed in.
type FakeIdentity struct {
	Subject       string
	Email         string
	EmailVerified bool
	GivenName     string
	FamilyName    string
}

// FakeUpstream is an upstream identity provider on loopback for tests:
// an OpenID provider (discovery, JWKS, authorization, token endpoint,
// RS256 ID tokens) that also answers GitHub's OAuth and user APIs. Its
// authorization endpoint signs in Next at once and redirects back; the
// token endpoint checks the client, the redirect URI and the PKCE
// verifier.
type FakeUpstream struct {
	Server       *httptest.Server
	Issuer       string
	ClientID     string
	ClientSecret string

	mu sync.Mutex
	// Next is the identity the next authorization signs in.
	Next FakeIdentity
	// TamperNonce makes ID tokens carry another nonce than requested.
	TamperNonce bool
	// Requests are the authorization requests received.
	Requests []url.Values

	key   *rsa.PrivateKey
	codes map[string]fakeGrant
}

type fakeGrant struct {
	identity  FakeIdentity
	nonce     string
	challenge string
	redirect  string
}

// NewFakeUpstream starts a fake provider until t ends.
func NewFakeUpstream(t testing.TB) *FakeUpstream {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &FakeUpstream{ClientID: "fake-client", ClientSecret: "fake-secret-" + RandomID(), key: key, codes: map[string]fakeGrant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", f.discovery)
	mux.HandleFunc("GET /jwks", f.jwks)
	mux.HandleFunc("GET /authorize", f.authorize)
	mux.HandleFunc("GET /login/oauth/authorize", f.authorize)
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("POST /login/oauth/access_token", f.token)
	mux.HandleFunc("GET /api/user", f.githubUser)
	mux.HandleFunc("GET /api/user/emails", f.githubEmails)
	f.Server = httptest.NewServer(mux)
	f.Issuer = f.Server.URL
	t.Cleanup(f.Server.Close)
	return f
}

// RandomID is a random string for test values.
func RandomID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// SignInAs sets the identity of the next authorization.
func (f *FakeUpstream) SignInAs(id FakeIdentity) {
	f.mu.Lock()
	f.Next = id
	f.mu.Unlock()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *FakeUpstream) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer": f.Issuer, "authorization_endpoint": f.Issuer + "/authorize", "token_endpoint": f.Issuer + "/token",
		"jwks_uri": f.Issuer + "/jwks", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"},
	})
}

func (f *FakeUpstream) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &f.key.PublicKey, KeyID: "fake", Algorithm: "RS256", Use: "sig"}}})
}

func (f *FakeUpstream) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	f.Requests = append(f.Requests, q)
	next := f.Next
	f.mu.Unlock()
	if q.Get("client_id") != f.ClientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	code := RandomID()
	f.mu.Lock()
	f.codes[code] = fakeGrant{identity: next, nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
	f.mu.Unlock()
	back, _ := url.Parse(q.Get("redirect_uri"))
	bq := back.Query()
	bq.Set("code", code)
	bq.Set("state", q.Get("state"))
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (f *FakeUpstream) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != f.ClientID || secret != f.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	f.mu.Lock()
	g, found := f.codes[r.PostForm.Get("code")]
	delete(f.codes, r.PostForm.Get("code"))
	tamper := f.TamperNonce
	f.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !found || g.redirect != r.PostForm.Get("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	}
	nonce := g.nonce
	if tamper {
		nonce = "not-the-nonce"
	}
	access := "at-" + g.identity.Subject + "-" + RandomID()
	f.mu.Lock()
	f.codes["access:"+access] = g
	f.mu.Unlock()
	now := time.Now()
	claims := map[string]any{
		"iss": f.Issuer, "sub": g.identity.Subject, "aud": f.ClientID, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"nonce": nonce, "email": g.identity.Email, "email_verified": g.identity.EmailVerified,
		"given_name": g.identity.GivenName, "family_name": g.identity.FamilyName,
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: f.key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "fake"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 300, "id_token": raw})
}

// grantOf finds the grant of a GitHub API request's access token.
func (f *FakeUpstream) grantOf(r *http.Request) (fakeGrant, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return fakeGrant{}, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g, found := f.codes["access:"+tok]
	return g, found
}

func (f *FakeUpstream) githubUser(w http.ResponseWriter, r *http.Request) {
	g, ok := f.grantOf(r)
	if !ok {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	id := int64(0)
	for _, c := range g.identity.Subject {
		id = id*10 + int64(c-'0')
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "login": "octo", "name": strings.TrimSpace(g.identity.GivenName + " " + g.identity.FamilyName),
		"avatar_url": "https://avatars.example.com/u/1"})
}

func (f *FakeUpstream) githubEmails(w http.ResponseWriter, r *http.Request) {
	g, ok := f.grantOf(r)
	if !ok {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	writeJSON(w, http.StatusOK, []map[string]any{
		{"email": "secondary@example.org", "primary": false, "verified": true},
		{"email": g.identity.Email, "primary": true, "verified": g.identity.EmailVerified},
	})
}
