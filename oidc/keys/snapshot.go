package keys

import (
	"encoding/json"
	"fmt"
	"slices"

	jose "github.com/go-jose/go-jose/v4"
)

// emptyJWKS is served before the first load.
var emptyJWKS = []byte(`{"keys":[]}`)

// snapshot is an immutable view of the published keys. Readers load it
// through an atomic pointer; Reload builds a new one and swaps it in.
type snapshot struct {
	byKID   map[string]*Key
	active  map[string]*Key // by algorithm
	jwks    []byte
	version string
}

// newSnapshot indexes keys and marshals the JWK Set once. Keys are listed
// active first (the default algorithm's first), then next, then retired,
// newest retirement first: libraries that pick the first key of a JWKS then
// pick the one that signs.
func newSnapshot(keys []*Key, defaultAlg, version string) (*snapshot, error) {
	s := &snapshot{byKID: make(map[string]*Key, len(keys)), active: map[string]*Key{}, version: version}
	for _, k := range keys {
		s.byKID[k.KID] = k
		if k.State == StateActive {
			if other := s.active[k.Algorithm]; other != nil {
				// The unique index makes this impossible; refuse rather than
				// sign with an arbitrary one.
				return nil, fmt.Errorf("keys: two active %s keys (%s, %s)", k.Algorithm, other.KID, k.KID)
			}
			s.active[k.Algorithm] = k
		}
	}
	ordered := slices.Clone(keys)
	rank := map[State]int{StateActive: 0, StateNext: 1, StateRetired: 2}
	slices.SortStableFunc(ordered, func(a, b *Key) int {
		if d := rank[a.State] - rank[b.State]; d != 0 {
			return d
		}
		if a.State == StateRetired {
			return b.PublishUntil.Compare(a.PublishUntil)
		}
		switch {
		case a.Algorithm == defaultAlg && b.Algorithm != defaultAlg:
			return -1
		case b.Algorithm == defaultAlg && a.Algorithm != defaultAlg:
			return 1
		}
		return 0
	})
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, len(ordered))}
	for i, k := range ordered {
		set.Keys[i] = k.jwk
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("keys: marshal JWKS: %w", err)
	}
	s.jwks = b
	return s, nil
}

func (s *snapshot) activeKIDs() map[string]string {
	out := make(map[string]string, len(s.active))
	for alg, k := range s.active {
		out[alg] = k.KID
	}
	return out
}
