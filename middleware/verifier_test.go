package middleware_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/orgid/orgid/middleware"
)

func TestNewOptions(t *testing.T) {
	f := newFakeIssuer(t, fakeConfig{})
	f.addKey("RS256", "k1")
	for _, tc := range []struct {
		name    string
		mutate  func(*middleware.Options)
		mention string
	}{
		{"no issuer", func(o *middleware.Options) { o.Issuer = "" }, "Issuer is required"},
		{"issuer not a URL", func(o *middleware.Options) { o.Issuer = "id.example.com" }, "http(s) URL"},
		{"issuer with query", func(o *middleware.Options) { o.Issuer += "?x=1" }, "http(s) URL"},
		{"no audience", func(o *middleware.Options) { o.Audience = "" }, "Audience is required"},
		{"introspection without secret", func(o *middleware.Options) {
			o.Introspection = &middleware.IntrospectionConfig{ClientID: "api"}
		}, "ClientSecret"},
		{"negative refresh interval", func(o *middleware.Options) { o.MinRefreshInterval = -time.Second }, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.hits.discovery.Load()
			opts := f.options(t)
			tc.mutate(&opts)
			v, err := middleware.New(context.Background(), opts)
			if err == nil || !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("New = %v, %v; want an error mentioning %q", v, err, tc.mention)
			}
			if got := f.hits.discovery.Load(); got != before {
				t.Errorf("invalid options fetched discovery %d times", got-before)
			}
		})
	}
}

func TestNewDiscovery(t *testing.T) {
	for _, tc := range []struct {
		name          string
		cfg           fakeConfig
		issuerSuffix  string // appended to the configured issuer
		introspection bool
		timeout       time.Duration
		wantErr       string // "" succeeds
		wantHits      int32  // discovery requests
	}{
		{name: "first try", wantHits: 1},
		{name: "issuer starting: retried with backoff", cfg: fakeConfig{discoveryFailures: 2}, wantHits: 3},
		{name: "JWK Set failing once", cfg: fakeConfig{jwksFailures: 1}, wantHits: 2},
		{name: "another issuer: not retried", cfg: fakeConfig{discoveryIssuer: "https://evil.example"}, wantErr: `names issuer "https://evil.example"`, wantHits: 1},
		{name: "issuer must match exactly (trailing slash)", issuerSuffix: "/", wantErr: "want exactly", wantHits: 1},
		{name: "introspection without an endpoint", cfg: fakeConfig{noIntrospection: true}, introspection: true, wantErr: "no introspection_endpoint", wantHits: 1},
		{name: "issuer down: gives up when ctx ends", cfg: fakeConfig{discoveryFailures: 1000}, timeout: 600 * time.Millisecond, wantErr: "status 503"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeIssuer(t, tc.cfg)
			f.addKey("RS256", "k1")
			opts := f.options(t)
			opts.Issuer += tc.issuerSuffix
			if tc.introspection {
				opts.Introspection = &middleware.IntrospectionConfig{ClientID: "api", ClientSecret: "s"}
			}
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			v, err := middleware.New(ctx, opts)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("New = %v, %v; want an error mentioning %q", v, err, tc.wantErr)
			}
			if got := f.hits.discovery.Load(); tc.wantHits != 0 && got != tc.wantHits {
				t.Errorf("discovery requests = %d, want %d", got, tc.wantHits)
			}
			if err == nil {
				if _, err := v.Verify(ctx, f.sign(f.keys[0], nil, f.claims(apiAudience))); err != nil {
					t.Errorf("Verify after start: %v", err)
				}
			}
		})
	}
}

// TestKeysAndAlgorithms: keys orgid never publishes, and tokens it never
// signs.
func TestKeysAndAlgorithms(t *testing.T) {
	f := newFakeIssuer(t, fakeConfig{})
	rs := f.addKey("RS256", "rs")
	es := f.addKey("ES256", "es")
	short := f.addKey("RS1024", "short")
	p384 := f.addKey("ES384", "p384")
	enc := f.addKey("RS256", "enc")
	dup := f.addKey("RS256", "dup")
	f.addKey("ES256", "dup")
	f.mu.Lock()
	// "enc" is published as an encryption key only.
	f.keys = slices.DeleteFunc(f.keys, func(k fakeKey) bool { return k.kid == "enc" })
	f.extras = []any{
		jose.JSONWebKey{Key: enc.signer.Public(), KeyID: "enc", Algorithm: "RS256", Use: "enc"},
		map[string]any{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
		map[string]any{"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
		map[string]any{"kty": "what", "kid": "odd"},
	}
	f.mu.Unlock()

	v, err := middleware.New(context.Background(), f.options(t))
	if err != nil {
		t.Fatal(err)
	}
	claims := f.claims(apiAudience)
	for _, tc := range []struct {
		name    string
		token   string
		mention string // "" accepted
	}{
		{"RS256", f.sign(rs, nil, claims), ""},
		{"ES256", f.sign(es, nil, claims), ""},
		{"RSA key under 2048 bits", f.sign(short, nil, claims), "unknown key id"},
		{"P-384 key", f.sign(p384, map[string]any{"alg": "ES256"}, claims), "unknown key id"},
		{"encryption key", f.sign(enc, nil, claims), "unknown key id"},
		{"duplicate kid", f.sign(dup, nil, claims), "unknown key id"},
		{"alg of another key type", f.sign(rs, map[string]any{"alg": "ES256"}, claims), "alg"},
		{"RS512", f.sign(rs, map[string]any{"alg": "RS512"}, claims), "unexpected signature algorithm"},
		{"PS256", f.sign(rs, map[string]any{"alg": "PS256"}, claims), "unexpected signature algorithm"},
		{"x5u header", f.sign(rs, map[string]any{"x5u": "https://evil.example/cert"}, claims), "x5u"},
		{"crit header", f.sign(rs, map[string]any{"crit": []string{"exp"}, "exp": 1}, claims), "crit"},
		{"aud as a string", f.sign(rs, nil, with(claims, map[string]any{"aud": apiAudience})), ""},
		{"aud of the wrong type", f.sign(rs, nil, with(claims, map[string]any{"aud": 7})), "aud"},
		{"org_permissions of the wrong type", f.sign(rs, nil, with(claims, map[string]any{"org_permissions": "org:projects:manage"})), "claims"},
		{"claims not an object", compact(t, map[string]any{"alg": "RS256", "kid": "rs", "typ": "at+jwt"}, nil, signRS256(rs.signer)), "object"},
		{"fractional times", f.sign(rs, nil, with(claims, map[string]any{"iat": float64(time.Now().Unix()) + 0.5})), ""},
		{"five segments (JWE)", "a.b.c.d.e", "introspection is not configured"},
		{"oversized", strings.Repeat("a", 70<<10), "longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tc.token)
			switch {
			case tc.mention == "" && err != nil:
				t.Fatalf("Verify: %v, want accepted", err)
			case tc.mention != "" && (!errors.Is(err, middleware.ErrInvalidToken) || !strings.Contains(err.Error(), tc.mention)):
				t.Fatalf("Verify: %v, want ErrInvalidToken mentioning %q", err, tc.mention)
			}
		})
	}
}

// TestOpaqueTokens maps an introspection response (orgid's shape) to
// Claims and refuses what does not fit.
func TestOpaqueTokens(t *testing.T) {
	now := time.Now()
	active := func(issuer string) map[string]any {
		return map[string]any{
			"active": true, "iss": issuer, "client_id": "client_1", "sub": "user_1", "scope": "openid organization",
			"aud": []string{apiAudience}, "exp": now.Add(time.Minute).Unix(), "iat": now.Unix(), "token_type": "Bearer",
			"sid": "sess_1", "org_id": "org_1", "org_slug": "acme", "org_role": "org:admin", "org_permissions": []string{"org:projects:manage"},
		}
	}
	var f *fakeIssuer
	responses := map[string]struct {
		status int
		body   func() any
	}{
		"opaque-ok":           {200, func() any { return active(f.URL) }},
		"opaque-no-iss":       {200, func() any { return with(active(f.URL), map[string]any{"iss": nil}) }},
		"opaque-other-iss":    {200, func() any { return with(active(f.URL), map[string]any{"iss": "https://evil.example"}) }},
		"opaque-other-aud":    {200, func() any { return with(active(f.URL), map[string]any{"aud": []string{"https://other.example"}}) }},
		"opaque-no-aud":       {200, func() any { return with(active(f.URL), map[string]any{"aud": nil}) }},
		"opaque-expired":      {200, func() any { return with(active(f.URL), map[string]any{"exp": now.Add(-time.Hour).Unix()}) }},
		"opaque-refresh":      {200, func() any { return with(active(f.URL), map[string]any{"token_type": "refresh_token"}) }},
		"opaque-inactive":     {200, func() any { return map[string]any{"active": false} }},
		"opaque-server-error": {500, func() any { return map[string]any{"error": "server_error"} }},
		"opaque-not-json":     {200, func() any { return []int{1} }},
	}
	f = newFakeIssuer(t, fakeConfig{introspect: func(form url.Values, id, secret string) (int, any) {
		if id != "api client:1" || secret != "s3cr&t" || form.Get("token_type_hint") != "access_token" {
			return http.StatusUnauthorized, map[string]any{"error": "invalid_client"}
		}
		r, ok := responses[form.Get("token")]
		if !ok {
			return 200, map[string]any{"active": false}
		}
		return r.status, r.body()
	}})
	f.addKey("RS256", "k1")
	opts := f.options(t)
	opts.Introspection = &middleware.IntrospectionConfig{ClientID: "api client:1", ClientSecret: "s3cr&t"}
	v, err := middleware.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	want := &middleware.Claims{
		Issuer: f.URL, Audience: []string{apiAudience}, Subject: "user_1", ClientID: "client_1",
		Scopes: []string{"openid", "organization"}, SessionID: "sess_1", OrgID: "org_1", OrgSlug: "acme",
		OrgRole: "org:admin", OrgPermissions: []string{"org:projects:manage"},
		IssuedAt: time.Unix(now.Unix(), 0), ExpiresAt: time.Unix(now.Add(time.Minute).Unix(), 0),
	}
	for _, tc := range []struct {
		token string
		want  *middleware.Claims
		err   error
	}{
		{"opaque-ok", want, nil},
		{"opaque-no-iss", with2(want, func(c *middleware.Claims) { c.Issuer = "" }), nil},
		{"opaque-other-iss", nil, middleware.ErrInvalidToken},
		{"opaque-other-aud", nil, middleware.ErrInvalidToken},
		{"opaque-no-aud", nil, middleware.ErrInvalidToken},
		{"opaque-expired", nil, middleware.ErrTokenExpired},
		{"opaque-refresh", nil, middleware.ErrInvalidToken},
		{"opaque-inactive", nil, middleware.ErrInvalidToken},
		{"opaque-unknown", nil, middleware.ErrInvalidToken},
		{"opaque-server-error", nil, middleware.ErrUnavailable},
		{"opaque-not-json", nil, middleware.ErrUnavailable},
	} {
		t.Run(tc.token, func(t *testing.T) {
			got, err := v.Verify(context.Background(), tc.token)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Verify = %+v, %v; want %v", got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(middleware.Claims{}, "Raw")); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
			if got.Raw["org_slug"] != "acme" {
				t.Errorf("Raw = %v", got.Raw)
			}
		})
	}
	// The verified JWT is introspected too (not OpaqueOnly): inactive there
	// means refused.
	jwt := f.sign(f.keys[0], nil, f.claims(apiAudience))
	if _, err := v.Verify(context.Background(), jwt); !errors.Is(err, middleware.ErrInvalidToken) {
		t.Errorf("JWT the issuer calls inactive: %v, want ErrInvalidToken", err)
	}
	if got := f.hits.introspect.Load(); got != 12 {
		t.Errorf("introspection requests = %d, want 12 (one per token)", got)
	}
}

func with2(c *middleware.Claims, change func(*middleware.Claims)) *middleware.Claims {
	out := *c
	change(&out)
	return &out
}
