package keys_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/oidc/keys"
)

// fakeClock is a settable clock shared by the managers of one test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const testMaster = "test master secret, at least thirty-two bytes long"

func testKeyring(t testing.TB, master string) *secret.Keyring {
	t.Helper()
	kr, err := secret.NewKeyring([]byte(master))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

const testLifetime = 2 * time.Hour

// newManager returns an initialised manager on db with the test keyring and
// clock (nil clock: real time).
func newManager(t testing.TB, db *bun.DB, clock *fakeClock) *keys.Manager {
	t.Helper()
	opts := keys.Options{MaxTokenLifetime: testLifetime}
	if clock != nil {
		opts.Now = clock.Now
	}
	m := keys.NewManager(db, testKeyring(t, testMaster), opts)
	if err := m.Init(context.Background()); err != nil {
		t.Fatalf("Init: %v", err)
	}
	return m
}

// jwksKIDs returns the kids of the manager's JWKS, in order.
func jwksKIDs(t testing.TB, m *keys.Manager) []string {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(m.JWKS(), &set); err != nil {
		t.Fatalf("JWKS is not a JWK Set: %v\n%s", err, m.JWKS())
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KeyID)
	}
	return kids
}

// stateCounts counts stored keys by algorithm and state.
func stateCounts(t testing.TB, m *keys.Manager) map[string]map[keys.State]int {
	t.Helper()
	list, err := m.List(context.Background())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	out := map[string]map[keys.State]int{}
	for _, k := range list {
		if out[k.Algorithm] == nil {
			out[k.Algorithm] = map[keys.State]int{}
		}
		out[k.Algorithm][k.State]++
	}
	return out
}

// liveKIDs returns the stored kid of each algorithm in the given state.
func liveKIDs(t testing.TB, m *keys.Manager, state keys.State) map[string]string {
	t.Helper()
	list, err := m.List(context.Background())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	out := map[string]string{}
	for _, k := range list {
		if k.State == state {
			if prev, dup := out[k.Algorithm]; dup {
				t.Fatalf("two %s %s keys: %s and %s", state, k.Algorithm, prev, k.KID)
			}
			out[k.Algorithm] = k.KID
		}
	}
	return out
}

func hasKID(t testing.TB, m *keys.Manager, kid string) bool {
	t.Helper()
	return slices.Contains(jwksKIDs(t, m), kid)
}

// activeKID is the kid the manager signs with for alg.
func activeKID(t testing.TB, m *keys.Manager, alg string) string {
	t.Helper()
	k, err := m.Signer(alg)
	if err != nil {
		t.Fatalf("Signer(%q): %v", alg, err)
	}
	return k.KID
}
