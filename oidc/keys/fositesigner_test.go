package keys_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/go-cmp/cmp"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/oidc/keys"
	"github.com/orgid/orgid/storage/storagetest"
)

// fosite validates exp/iat/nbf against the real clock (jwt.TimeFunc), so
// these tests use real time.
func idClaims(sub string, exp time.Time) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss":       "https://id.example",
		"sub":       sub,
		"aud":       []string{"client_1"},
		"exp":       exp.Unix(),
		"iat":       now.Unix(),
		"auth_time": float64(now.Unix()), // extras come back from session JSON as float64
		"amr":       []string{"pwd"},
		"org_id":    "org_1",
	}
}

func decodeSegment(t *testing.T, token string, i int) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// assertIntegers checks that the named claims of token are written as JSON
// integers: no fraction, no exponent (go-jose's own encoder writes large
// float64 values like 1.7e+09, which some verifiers reject).
func assertIntegers(t *testing.T, token string, names ...string) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		n, ok := claims[name].(json.Number)
		if !ok || strings.ContainsAny(n.String(), ".eE") {
			t.Errorf("claim %s = %v in %s, want a JSON integer", name, claims[name], raw)
		}
	}
}

func TestFositeSignerRoundTrip(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		m := newManager(t, db, nil)
		s := m.FositeSigner()
		tests := []struct {
			name    string
			ctx     context.Context
			headers jwt.Mapper
			wantAlg string
			wantTyp string
		}{
			{"ID token, default algorithm", context.Background(), &jwt.Headers{}, "RS256", "JWT"},
			{"nil header", context.Background(), nil, "RS256", "JWT"},
			{"RFC 9068 access token", context.Background(), &jwt.Headers{Extra: map[string]any{"typ": "at+jwt", "kid": "stale"}}, "RS256", "at+jwt"},
			{"ES256 chosen for the request", keys.WithAlgorithm(context.Background(), "ES256"), &jwt.Headers{}, "ES256", "JWT"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				token, sig, err := s.Generate(tt.ctx, idClaims("user_1", time.Now().Add(time.Hour)), tt.headers)
				if err != nil {
					t.Fatalf("Generate: %v", err)
				}
				if want := strings.Split(token, ".")[2]; sig != want {
					t.Errorf("Generate signature = %q, want the third segment %q", sig, want)
				}
				header := decodeSegment(t, token, 0)
				want := map[string]any{"alg": tt.wantAlg, "kid": activeKID(t, m, tt.wantAlg), "typ": tt.wantTyp}
				if diff := cmp.Diff(want, header); diff != "" {
					t.Errorf("header (-want +got):\n%s", diff)
				}
				// exp, iat and float extras are integers in the JSON.
				assertIntegers(t, token, "exp", "iat", "auth_time")

				decoded, err := s.Decode(tt.ctx, token)
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if !decoded.Valid() || decoded.Claims["sub"] != "user_1" || decoded.Header["kid"] != want["kid"] {
					t.Errorf("Decode = valid %v, claims %v, header %v", decoded.Valid(), decoded.Claims, decoded.Header)
				}
				if got, err := s.Validate(tt.ctx, token); err != nil || got != sig {
					t.Errorf("Validate = %q, %v; want %q", got, err, sig)
				}
			})
		}

		sum := sha256.Sum256([]byte("abc"))
		if h, err := s.Hash(context.Background(), []byte("abc")); err != nil || string(h) != string(sum[:]) {
			t.Errorf("Hash is not SHA-256: %x, %v", h, err)
		}
		if n := s.GetSigningMethodLength(context.Background()); n != 32 {
			t.Errorf("GetSigningMethodLength = %d, want 32", n)
		}
		if _, _, err := s.Generate(keys.WithAlgorithm(context.Background(), "PS256"), idClaims("u", time.Now().Add(time.Hour)), nil); !errors.Is(err, keys.ErrNoKey) {
			t.Errorf("Generate with an algorithm without keys: err = %v, want ErrNoKey", err)
		}
	})
}

func TestFositeSignerDecodeErrors(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		m := newManager(t, db, nil)
		s := m.FositeSigner()

		expired, _, err := s.Generate(ctx, idClaims("user_1", time.Now().Add(-time.Hour)), &jwt.Headers{})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := s.Decode(ctx, expired)
		var ve *jwt.ValidationError
		if !errors.As(err, &ve) || !ve.Has(jwt.ValidationErrorExpired) || ve.Has(jwt.ValidationErrorSignatureInvalid|jwt.ValidationErrorUnverifiable) {
			t.Fatalf("Decode of an expired token: err = %#v, want a ValidationError with only the Expired bit", err)
		}
		if tok == nil || tok.Claims["sub"] != "user_1" {
			t.Errorf("Decode of an expired token returned %v, want its claims (fosite reads sub from an expired id_token_hint)", tok)
		}

		for name, token := range attackTokens(t, m) {
			t.Run(name, func(t *testing.T) {
				_, err := s.Decode(ctx, token)
				var ve *jwt.ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("Decode = %v, want a *jwt.ValidationError", err)
				}
				if ve.Has(jwt.ValidationErrorExpired) {
					t.Errorf("a forged token got the Expired bit (fosite would accept it as id_token_hint): %v", err)
				}
				if _, err := s.Validate(ctx, token); err == nil {
					t.Error("Validate accepted the token")
				}
			})
		}
	})
}

// fosite's own ID-token strategy signs through the bridge and accepts an
// expired id_token_hint only because Decode keeps the Expired bit.
func TestFositeIDTokenStrategyWithTheBridge(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		m := newManager(t, db, nil)
		strategy := openid.DefaultStrategy{Signer: m.FositeSigner(), Config: &fosite.Config{IDTokenIssuer: "https://id.example", MinParameterEntropy: 8}}
		request := func(hint string) *fosite.Request {
			sess := openid.NewDefaultSession()
			sess.Claims.Subject = "user_1"
			sess.Claims.AuthTime = time.Now().Add(-time.Minute).UTC()
			sess.Claims.Add("sid", "sess_1")
			sess.Headers.Add("typ", "JWT")
			r := fosite.NewRequest()
			r.Client = &fosite.DefaultClient{ID: "client_1"}
			r.Session = sess
			r.Form = url.Values{"nonce": {"n-0S6_WzA2Mj"}}
			if hint != "" {
				r.Form.Set("id_token_hint", hint)
			}
			return r
		}
		idToken, err := strategy.GenerateIDToken(ctx, time.Hour, request(""))
		if err != nil {
			t.Fatalf("GenerateIDToken: %v", err)
		}
		assertIntegers(t, idToken, "exp", "iat", "auth_time", "rat")
		claims := decodeSegment(t, idToken, 1)
		if claims["sid"] != "sess_1" || claims["nonce"] != "n-0S6_WzA2Mj" {
			t.Errorf("ID token claims %v lack sid or nonce", claims)
		}

		// A valid hint, and an expired one, are accepted; a forged one is not.
		if _, err := strategy.GenerateIDToken(ctx, time.Hour, request(idToken)); err != nil {
			t.Errorf("GenerateIDToken with a valid id_token_hint: %v", err)
		}
		expired, _, err := m.FositeSigner().Generate(ctx, idClaims("user_1", time.Now().Add(-time.Hour)), &jwt.Headers{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := strategy.GenerateIDToken(ctx, time.Hour, request(expired)); err != nil {
			t.Errorf("GenerateIDToken with an expired id_token_hint: %v", err)
		}
		parts := strings.Split(expired, ".")
		if _, err := strategy.GenerateIDToken(ctx, time.Hour, request(parts[0]+"."+parts[1]+"."+tamper(parts[2]))); err == nil {
			t.Error("GenerateIDToken accepted an id_token_hint with a forged signature")
		}

		// A hint signed before a rotation still decodes after it.
		if _, err := m.Rotate(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := strategy.GenerateIDToken(ctx, time.Hour, request(idToken)); err != nil {
			t.Errorf("id_token_hint signed by the retired key: %v", err)
		}
	})
}

// A resource server that knows only the JWKS document verifies the tokens.
func TestTokensVerifyAgainstPublishedJWKS(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		m := newManager(t, db, nil)
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(m.JWKS(), &set); err != nil {
			t.Fatal(err)
		}
		for _, alg := range []string{"RS256", "ES256"} {
			t.Run(alg, func(t *testing.T) {
				ctx := keys.WithAlgorithm(context.Background(), alg)
				token, _, err := m.FositeSigner().Generate(ctx, idClaims("user_9", time.Now().Add(time.Hour)), &jwt.Headers{Extra: map[string]any{"typ": "at+jwt"}})
				if err != nil {
					t.Fatal(err)
				}
				parsed, err := josejwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
				if err != nil {
					t.Fatalf("go-jose cannot parse the token: %v", err)
				}
				candidates := set.Key(parsed.Headers[0].KeyID)
				if len(candidates) != 1 || candidates[0].Algorithm != alg || candidates[0].Use != "sig" {
					t.Fatalf("JWKS entries for kid %q = %+v, want one %s signing key", parsed.Headers[0].KeyID, candidates, alg)
				}
				var std josejwt.Claims
				var extra struct {
					OrgID string `json:"org_id"`
				}
				if err := parsed.Claims(candidates[0].Key, &std, &extra); err != nil {
					t.Fatalf("signature does not verify with the published key: %v", err)
				}
				if err := std.ValidateWithLeeway(josejwt.Expected{Issuer: "https://id.example", AnyAudience: []string{"client_1"}, Time: time.Now()}, 0); err != nil {
					t.Errorf("claims: %v", err)
				}
				if std.Subject != "user_9" || extra.OrgID != "org_1" {
					t.Errorf("claims sub=%q org_id=%q", std.Subject, extra.OrgID)
				}
			})
		}
	})
}
