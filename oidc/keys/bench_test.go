package keys_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/ory/fosite/token/jwt"

	"github.com/orgid/orgid/oidc/keys"
	"github.com/orgid/orgid/storage/storagetest"
)

// Run together, e.g. `go test -run '^$' -bench . ./oidc/keys/`: the raw
// signature benchmarks are the bound the signing paths are compared with.

func benchManager(b *testing.B) *keys.Manager {
	b.Helper()
	db := storagetest.OpenURL(b, storagetest.NewURL(b, "sqlite"))
	m := keys.NewManager(db, testKeyring(b, testMaster), keys.Options{})
	if err := m.Init(context.Background()); err != nil {
		b.Fatal(err)
	}
	return m
}

// typicalClaims is a JWT access token of about ten claims.
func typicalClaims() map[string]any {
	now := time.Now()
	return map[string]any{
		"iss":       "https://id.example.com",
		"sub":       "user_2pQ8aZ3kLmN0bVcX7yT1rS",
		"aud":       []string{"https://api.example.com"},
		"client_id": "app_2pQ8aZ3kLmN0bVcX7yT1rS",
		"exp":       now.Add(time.Hour).Unix(),
		"iat":       now.Unix(),
		"nbf":       now.Unix(),
		"jti":       "6f1c0a9e-3d2b-4c1a-9e8f-7a6b5c4d3e2f",
		"scope":     "openid profile email offline_access",
		"org_id":    "org_2pQ8aZ3kLmN0bVcX7yT1rS",
		"org_role":  "admin",
	}
}

func benchSign(b *testing.B, alg string) {
	m := benchManager(b)
	ctx := context.Background()
	claims := typicalClaims()
	headers := map[string]any{"typ": "at+jwt"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Sign(ctx, alg, claims, headers); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignRS256(b *testing.B) { benchSign(b, "RS256") }

func BenchmarkSignES256(b *testing.B) { benchSign(b, "ES256") }

func BenchmarkFositeGenerate(b *testing.B) {
	m := benchManager(b)
	s := m.FositeSigner()
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			ctx := keys.WithAlgorithm(context.Background(), alg)
			claims := jwt.MapClaims(typicalClaims())
			headers := &jwt.Headers{Extra: map[string]any{"typ": "at+jwt"}}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := s.Generate(ctx, claims, headers); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFositeDecode(b *testing.B) {
	m := benchManager(b)
	s := m.FositeSigner()
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			ctx := keys.WithAlgorithm(context.Background(), alg)
			token, _, err := s.Generate(ctx, jwt.MapClaims(typicalClaims()), &jwt.Headers{})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Decode(ctx, token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	m := benchManager(b)
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			token, err := m.Sign(context.Background(), alg, typicalClaims(), nil)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := m.Verify(token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkJWKS(b *testing.B) {
	m := benchManager(b)
	b.ReportAllocs()
	for b.Loop() {
		if len(m.JWKS()) == 0 {
			b.Fatal("empty JWKS")
		}
	}
}

// BenchmarkRawRSASign2048 is the baseline: one PKCS#1 v1.5 signature of a
// SHA-256 digest with a 2048-bit key, nothing else.
func BenchmarkRawRSASign2048(b *testing.B) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("header.payload"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, digest[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawECDSASignP256 is the ES256 baseline.
func BenchmarkRawECDSASignP256(b *testing.B) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("header.payload"))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ecdsa.Sign(rand.Reader, k, digest[:]); err != nil {
			b.Fatal(err)
		}
	}
}
