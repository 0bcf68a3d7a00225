package keys_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/oidc/keys"
	"github.com/orgid/orgid/storage/storagetest"
)

func TestSignAndVerify(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		m := newManager(t, db, nil)
		claims := map[string]any{
			"iss":    "https://id.example",
			"sub":    "user_1",
			"exp":    int64(1767225600),
			"iat":    float64(1767222000), // as decoded from stored JSON
			"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}},
		}
		tests := []struct {
			name    string
			alg     string
			headers map[string]any
			wantAlg string
			wantTyp string
		}{
			{"default algorithm and type", "", nil, "RS256", "JWT"},
			{"logout token", "ES256", map[string]any{"typ": "logout+jwt"}, "ES256", "logout+jwt"},
			{"extra header, managed ones ignored", "RS256", map[string]any{"cty": "x", "kid": "forged", "alg": "none"}, "RS256", "JWT"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tok, err := m.Sign(ctx, tt.alg, claims, tt.headers)
				if err != nil {
					t.Fatalf("Sign: %v", err)
				}
				payload, h, err := m.Verify(tok)
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if h.Algorithm != tt.wantAlg || h.KeyID != activeKID(t, m, tt.wantAlg) || h.ExtraHeaders["typ"] != tt.wantTyp {
					t.Errorf("header alg=%s kid=%s typ=%v; want %s, the active key, %s", h.Algorithm, h.KeyID, h.ExtraHeaders["typ"], tt.wantAlg, tt.wantTyp)
				}
				// Numbers stay integers, whatever Go type they had.
				for _, want := range []string{`"exp":1767225600`, `"iat":1767222000`} {
					if !strings.Contains(string(payload), want) {
						t.Errorf("payload %s lacks %s", payload, want)
					}
				}
				if _, ok := tt.headers["cty"]; ok && h.ExtraHeaders["cty"] != "x" {
					t.Errorf("extra header cty lost: %v", h.ExtraHeaders)
				}
			})
		}

		raw, err := m.Sign(ctx, "", []byte(`{"sub":"raw"}`), nil)
		if err != nil {
			t.Fatal(err)
		}
		if payload, _, err := m.Verify(raw); err != nil || string(payload) != `{"sub":"raw"}` {
			t.Errorf("raw payload round trip = %s, %v", payload, err)
		}
		for name, headers := range map[string]map[string]any{
			"embedded key":  {"jwk": map[string]any{"kty": "oct"}},
			"key location":  {"jku": "https://evil.example/jwks"},
			"critical":      {"crit": []string{"exp"}},
			"typ not text":  {"typ": 7},
			"unencoded b64": {"b64": false},
		} {
			if _, err := m.Sign(ctx, "", claims, headers); err == nil {
				t.Errorf("Sign with %s header succeeded, want an error", name)
			}
		}
		if _, err := m.Sign(ctx, "", []byte(`{not json`), nil); err == nil {
			t.Error("Sign of invalid raw JSON succeeded")
		}
		if _, err := m.Sign(ctx, "PS256", claims, nil); !errors.Is(err, keys.ErrNoKey) {
			t.Errorf("Sign with an algorithm without keys: err = %v, want ErrNoKey", err)
		}
	})
}

// compact builds a compact JWS from a header, a payload and a signature
// function, so that tests can make tokens orgid would never make.
func compact(t *testing.T, header map[string]any, payload string, sign func(input []byte) []byte) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	return input + "." + base64.RawURLEncoding.EncodeToString(sign([]byte(input)))
}

func rsaSign(t *testing.T, k *rsa.PrivateKey) func([]byte) []byte {
	return func(input []byte) []byte {
		d := sha256.Sum256(input)
		sig, err := rsa.SignPKCS1v15(rand.Reader, k, 5 /* crypto.SHA256 */, d[:])
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
}

// attackTokens are tokens that claim to come from m's keys but must not
// verify, by name.
func attackTokens(t *testing.T, m *keys.Manager) map[string]string {
	t.Helper()
	ctx := context.Background()
	rsKey, err := m.Signer("RS256")
	if err != nil {
		t.Fatal(err)
	}
	esKey, err := m.Signer("ES256")
	if err != nil {
		t.Fatal(err)
	}
	good, err := m.Sign(ctx, "RS256", map[string]any{"sub": "user_1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	attacker, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	attackerEC, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(rsKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	attackerJWK, err := json.Marshal(jose.JSONWebKey{Key: attacker.Public()})
	if err != nil {
		t.Fatal(err)
	}
	payload := `{"sub":"admin"}`
	none := func([]byte) []byte { return nil }
	// Control: a hand-made token with an honest header verifies, so the
	// rejections below come from what each one changes.
	if _, _, err := m.Verify(compact(t, map[string]any{"alg": "ES256", "kid": esKey.KID}, payload, esSign(t, esKey.CryptoSigner().(*ecdsa.PrivateKey)))); err != nil {
		t.Fatalf("control token does not verify: %v", err)
	}
	return map[string]string{
		"alg none": compact(t, map[string]any{"alg": "none", "kid": rsKey.KID}, payload, none),
		// The classic confusion: HMAC keyed with the published public key.
		"HS256 with the public key": compact(t, map[string]any{"alg": "HS256", "kid": rsKey.KID}, payload, func(in []byte) []byte {
			mac := hmac.New(sha256.New, pubDER)
			mac.Write(in)
			return mac.Sum(nil)
		}),
		"unknown kid":           compact(t, map[string]any{"alg": "RS256", "kid": "nobody"}, payload, rsaSign(t, attacker)),
		"no kid":                compact(t, map[string]any{"alg": "RS256"}, payload, rsaSign(t, attacker)),
		"attacker's key":        compact(t, map[string]any{"alg": "RS256", "kid": rsKey.KID}, payload, rsaSign(t, attacker)),
		"tampered payload":      parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + parts[2],
		"tampered sig":          parts[0] + "." + parts[1] + "." + tamper(parts[2]),
		"missing signature":     parts[0] + "." + parts[1] + ".",
		"alg of another key":    compact(t, map[string]any{"alg": "ES256", "kid": rsKey.KID}, payload, esSign(t, attackerEC)),
		"embedded attacker jwk": compact(t, map[string]any{"alg": "RS256", "kid": rsKey.KID, "jwk": json.RawMessage(attackerJWK)}, payload, rsaSign(t, attacker)),
		// Signed with orgid's own key: only the header check rejects these.
		"embedded own jwk":   compact(t, map[string]any{"alg": "ES256", "kid": esKey.KID, "jwk": esKey.PublicJWK()}, payload, esSign(t, esKey.CryptoSigner().(*ecdsa.PrivateKey))),
		"jku":                compact(t, map[string]any{"alg": "ES256", "kid": esKey.KID, "jku": "https://evil.example/jwks"}, payload, esSign(t, esKey.CryptoSigner().(*ecdsa.PrivateKey))),
		"x5u":                compact(t, map[string]any{"alg": "ES256", "kid": esKey.KID, "x5u": "https://evil.example/cert"}, payload, esSign(t, esKey.CryptoSigner().(*ecdsa.PrivateKey))),
		"crit":               compact(t, map[string]any{"alg": "ES256", "kid": esKey.KID, "crit": []string{"exp"}, "exp": 1}, payload, esSign(t, esKey.CryptoSigner().(*ecdsa.PrivateKey))),
		"four segments":      good + ".x",
		"JSON serialization": `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`,
		"oversized":          parts[0] + "." + strings.Repeat("A", keys.MaxTokenBytes) + "." + parts[2],
		"garbage":            "not.a.token",
	}
}

func esSign(t *testing.T, k *ecdsa.PrivateKey) func([]byte) []byte {
	return func(input []byte) []byte {
		d := sha256.Sum256(input)
		r, s, err := ecdsa.Sign(rand.Reader, k, d[:])
		if err != nil {
			t.Fatal(err)
		}
		return append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	}
}

// tamper changes the first character of a base64url segment. (The last
// one may carry only padding bits, which lenient decoders ignore.)
func tamper(s string) string {
	repl := "A"
	if s[0] == 'A' {
		repl = "B"
	}
	return repl + s[1:]
}

func TestVerifyRejects(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		m := newManager(t, db, nil)
		for name, tok := range attackTokens(t, m) {
			t.Run(name, func(t *testing.T) {
				if payload, _, err := m.Verify(tok); !errors.Is(err, keys.ErrInvalidToken) {
					t.Errorf("Verify = %q, %v; want ErrInvalidToken", payload, err)
				}
			})
		}
		es, err := m.Sign(context.Background(), "ES256", map[string]any{"sub": "x"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := m.Verify(es, "RS256"); !errors.Is(err, keys.ErrInvalidToken) {
			t.Errorf("ES256 token verified with only RS256 allowed: err = %v", err)
		}
		if _, _, err := m.Verify(es, "HS256", "none"); !errors.Is(err, keys.ErrInvalidToken) {
			t.Errorf("Verify allowing only HS256/none: err = %v, want ErrInvalidToken", err)
		}
		if _, _, err := m.Verify(es, "ES256"); err != nil {
			t.Errorf("ES256 token with ES256 allowed: %v", err)
		}
	})
}

// FuzzVerify feeds arbitrary input to Verify: it must never panic and must
// accept only tokens that the manager signed.
func FuzzVerify(f *testing.F) {
	db := storagetest.OpenURL(f, storagetest.NewURL(f, "sqlite"))
	m := keys.NewManager(db, testKeyring(f, testMaster), keys.Options{})
	if err := m.Init(context.Background()); err != nil {
		f.Fatal(err)
	}
	signed := map[string]bool{}
	for _, alg := range []string{"RS256", "ES256"} {
		tok, err := m.Sign(context.Background(), alg, map[string]any{"sub": "seed"}, map[string]any{"typ": "at+jwt"})
		if err != nil {
			f.Fatal(err)
		}
		signed[tok] = true
		f.Add(tok)
	}
	for _, s := range []string{"", ".", "..", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "eyJ9.e30.x", `{"protected":"e30"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		payload, _, err := m.Verify(tok)
		if err == nil && !signed[tok] {
			// go-jose tolerates some non-canonical encodings; the payload
			// must still be one we signed.
			if string(payload) != `{"sub":"seed"}` {
				t.Errorf("Verify accepted a token orgid did not sign: %q → %q", tok, payload)
			}
		}
		if err != nil && !errors.Is(err, keys.ErrInvalidToken) {
			t.Errorf("Verify error %v does not wrap ErrInvalidToken", err)
		}
	})
}

func TestVerifiedHeaderOfSignedToken(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		m := newManager(t, db, nil)
		tok, err := m.Sign(context.Background(), "ES256", struct {
			Sub string `json:"sub"`
		}{"user_2"}, map[string]any{"typ": "logout+jwt"})
		if err != nil {
			t.Fatal(err)
		}
		var header map[string]any
		h, _, _ := strings.Cut(tok, ".")
		b, err := base64.RawURLEncoding.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &header); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"alg": "ES256", "kid": activeKID(t, m, "ES256"), "typ": "logout+jwt"}
		if diff := cmp.Diff(want, header); diff != "" {
			t.Errorf("protected header (-want +got):\n%s", diff)
		}
	})
}
