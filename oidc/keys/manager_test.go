package keys_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/oidc/keys"
	"github.com/orgid/orgid/storage/storagetest"
)

var oneActiveOneNext = map[string]map[keys.State]int{
	"RS256": {keys.StateActive: 1, keys.StateNext: 1},
	"ES256": {keys.StateActive: 1, keys.StateNext: 1},
}

func TestInitTwiceKeepsOneActiveAndOneNextPerAlgorithm(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		m := newManager(t, db, nil)
		first := liveKIDs(t, m, keys.StateActive)
		if err := m.Init(context.Background()); err != nil {
			t.Fatalf("second Init: %v", err)
		}
		m2 := newManager(t, db, nil)
		if diff := cmp.Diff(oneActiveOneNext, stateCounts(t, m)); diff != "" {
			t.Errorf("keys after three Inits (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(first, liveKIDs(t, m2, keys.StateActive)); diff != "" {
			t.Errorf("a later Init replaced the active keys (-first +later):\n%s", diff)
		}
		for _, alg := range []string{"RS256", "ES256"} {
			if got, want := activeKID(t, m2, alg), first[alg]; got != want {
				t.Errorf("second manager signs %s with %s, want %s", alg, got, want)
			}
		}
		if !m.Ready() {
			t.Error("Ready() = false after Init")
		}
	})
}

func TestConcurrentInitOnOneDatabase(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		const replicas = 4
		managers := make([]*keys.Manager, replicas)
		for i := range managers {
			// One connection pool per manager, as separate processes have.
			managers[i] = keys.NewManager(storagetest.OpenURL(t, dbURL), testKeyring(t, testMaster), keys.Options{})
		}
		var wg sync.WaitGroup
		errs := make([]error, replicas)
		for i, m := range managers {
			wg.Go(func() { errs[i] = m.Init(context.Background()) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("Init of replica %d: %v", i, err)
			}
		}
		if diff := cmp.Diff(oneActiveOneNext, stateCounts(t, managers[0])); diff != "" {
			t.Errorf("keys after concurrent Inits (-want +got):\n%s", diff)
		}
		want := liveKIDs(t, managers[0], keys.StateActive)
		for i, m := range managers {
			for alg, kid := range want {
				if got := activeKID(t, m, alg); got != kid {
					t.Errorf("replica %d signs %s with %s, want %s", i, alg, got, kid)
				}
			}
		}
	})
}

func TestInvalidOptions(t *testing.T) {
	kr := testKeyring(t, testMaster)
	tests := []struct {
		name string
		opts keys.Options
		kr   *secret.Keyring
		want string
	}{
		{"unsupported algorithm", keys.Options{Algorithms: []string{"RS256", "HS256"}}, kr, `"HS256" is not supported`},
		{"default not held", keys.Options{DefaultAlgorithm: "ES256", Algorithms: []string{"RS256"}}, kr, `default algorithm "ES256"`},
		{"negative lifetime", keys.Options{MaxTokenLifetime: -1}, kr, "must not be negative"},
		{"no keyring", keys.Options{}, nil, "keyring is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The options are checked before the database is touched.
			m := keys.NewManager(nil, tt.kr, tt.opts)
			err := m.Init(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Init() = %v, want an error containing %q", err, tt.want)
			}
			if _, err := m.Rotate(context.Background()); err == nil {
				t.Error("Rotate() succeeded with invalid options")
			}
		})
	}
}

func TestAlgorithmsAndDefault(t *testing.T) {
	m := keys.NewManager(nil, testKeyring(t, testMaster), keys.Options{DefaultAlgorithm: "ES256"})
	if diff := cmp.Diff([]string{"ES256", "RS256"}, m.Algorithms()); diff != "" {
		t.Errorf("Algorithms() (-want +got):\n%s", diff)
	}
	if m.Ready() {
		t.Error("Ready() = true before Init")
	}
	if got := string(m.JWKS()); got != `{"keys":[]}` {
		t.Errorf("JWKS() before Init = %s, want an empty set", got)
	}
	if _, err := m.Signer(""); !errors.Is(err, keys.ErrNoKey) {
		t.Errorf("Signer before Init: err = %v, want ErrNoKey", err)
	}
}

// storedKey is the raw row, read around the package.
type storedKey struct {
	bun.BaseModel `bun:"table:signing_keys"`
	KID           string `bun:"kid"`
	Algorithm     string `bun:"algorithm"`
	PrivateKey    []byte `bun:"private_key"`
	PublicJWK     string `bun:"public_jwk"`
}

func TestPrivateKeysAreSealedAndBoundToTheirRow(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		m := newManager(t, db, nil)
		var rows []storedKey
		if err := db.NewSelect().Model(&rows).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if len(rows) != 4 {
			t.Fatalf("stored %d keys, want 4", len(rows))
		}
		right := testKeyring(t, testMaster)
		wrong := testKeyring(t, "another master secret, also long enough to use")
		for _, r := range rows {
			if _, err := x509.ParsePKCS8PrivateKey(r.PrivateKey); err == nil {
				t.Errorf("key %s is stored as plaintext PKCS#8", r.KID)
			}
			der, err := right.Open(r.PrivateKey, []byte("signing-key:"+r.KID))
			if err != nil {
				t.Fatalf("open key %s with the right keyring and aad: %v", r.KID, err)
			}
			priv, err := x509.ParsePKCS8PrivateKey(der)
			if err != nil {
				t.Fatalf("key %s does not decrypt to PKCS#8: %v", r.KID, err)
			}
			if strings.Contains(string(r.PrivateKey), string(der[len(der)-32:])) {
				t.Errorf("key %s: stored bytes contain the plaintext tail", r.KID)
			}
			k, ok := m.Lookup(r.KID)
			if !ok {
				t.Fatalf("key %s is not published", r.KID)
			}
			if pub := priv.(crypto.Signer).Public(); !k.PublicJWK().Key.(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
				t.Errorf("key %s: published public key does not match the stored private key", r.KID)
			}
			if _, err := wrong.Open(r.PrivateKey, []byte("signing-key:"+r.KID)); !errors.Is(err, secret.ErrDecrypt) {
				t.Errorf("key %s opened with another keyring: err = %v, want ErrDecrypt", r.KID, err)
			}
			if _, err := right.Open(r.PrivateKey, []byte("signing-key:someone-else")); !errors.Is(err, secret.ErrDecrypt) {
				t.Errorf("key %s opened with another row's aad: err = %v, want ErrDecrypt", r.KID, err)
			}
			if strings.Contains(r.PublicJWK, `"d"`) {
				t.Errorf("key %s: public_jwk holds a private member: %s", r.KID, r.PublicJWK)
			}
		}

		// A process with another master secret cannot load the keys.
		other := keys.NewManager(db, wrong, keys.Options{})
		if err := other.Init(ctx); !errors.Is(err, secret.ErrDecrypt) {
			t.Errorf("Init with the wrong master secret: err = %v, want ErrDecrypt", err)
		}

		// A ciphertext moved to another row does not open there.
		if _, err := db.NewUpdate().Model((*storedKey)(nil)).Set("private_key = ?", rows[1].PrivateKey).
			Where("kid = ?", rows[0].KID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		moved := keys.NewManager(db, right, keys.Options{})
		if err := moved.Init(ctx); !errors.Is(err, secret.ErrDecrypt) {
			t.Errorf("Init with a key moved between rows: err = %v, want ErrDecrypt", err)
		}
	})
}

func TestJWKSShape(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		m := newManager(t, db, nil)
		var doc struct {
			Keys []map[string]any `json:"keys"`
		}
		if err := json.Unmarshal(m.JWKS(), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Keys) != 4 {
			t.Fatalf("JWKS has %d keys, want 4 (active and next of two algorithms)", len(doc.Keys))
		}
		wantMembers := map[string][]string{
			"RS256": {"alg", "e", "kid", "kty", "n", "use"},
			"ES256": {"alg", "crv", "kid", "kty", "use", "x", "y"},
		}
		for i, k := range doc.Keys {
			alg, _ := k["alg"].(string)
			var members []string
			for name := range k {
				members = append(members, name)
			}
			if diff := cmp.Diff(wantMembers[alg], members, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
				t.Errorf("key %d (%s) members (-want +got):\n%s", i, alg, diff)
			}
			if k["use"] != "sig" {
				t.Errorf("key %d: use = %v, want sig", i, k["use"])
			}
		}
		// Libraries that take the first key get the default algorithm's
		// active key.
		if got, want := doc.Keys[0]["kid"], activeKID(t, m, "RS256"); got != want {
			t.Errorf("first JWKS key = %v, want the active RS256 key %s", got, want)
		}
		// Served from memory: the same bytes every time.
		if a, b := m.JWKS(), m.JWKS(); &a[0] != &b[0] {
			t.Error("JWKS() marshals on every call")
		}
	})
}
