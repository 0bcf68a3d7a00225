package keys

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/storage"
)

// DefaultMaxTokenLifetime is used when Options.MaxTokenLifetime is zero.
const DefaultMaxTokenLifetime = 24 * time.Hour

// Options configure a Manager. The zero value holds RS256 and ES256 keys,
// signs with RS256 and keeps retired keys published for a day.
type Options struct {
	// DefaultAlgorithm signs when a caller names no algorithm ("RS256").
	DefaultAlgorithm string
	// Algorithms orgid holds keys for (default RS256 and ES256). It must
	// include DefaultAlgorithm.
	Algorithms []string
	// MaxTokenLifetime is how long a retired key stays published: at least
	// the longest lifetime of anything it signed (ID tokens, access tokens,
	// logout and template tokens) plus the interval at which other replicas
	// Reload, because they keep signing with a retired key until then.
	MaxTokenLifetime time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives key lifecycle events, never key material.
	Logger *slog.Logger
}

// Manager holds the signing keys of one process. Create it with NewManager,
// call Init once at start-up, then Reload periodically. All methods are safe
// for concurrent use; the read path (JWKS, Signer, Lookup, Sign, Verify)
// takes no lock and touches no database.
type Manager struct {
	db          *bun.DB
	store       store
	kr          *secret.Keyring
	algs        []string
	defaultAlg  string
	maxLifetime time.Duration
	now         func() time.Time
	log         *slog.Logger
	optErr      error

	// snap is the current immutable snapshot; nil before the first load.
	snap atomic.Pointer[snapshot]
	// reloadMu serialises loads, so that a slow load cannot replace the
	// snapshot of a newer one.
	reloadMu sync.Mutex
}

// NewManager returns a Manager for the keys stored in db, sealed with kr.
// Invalid options are reported by Init.
func NewManager(db *bun.DB, kr *secret.Keyring, opts Options) *Manager {
	m := &Manager{
		db:          db,
		store:       store{db: db},
		kr:          kr,
		algs:        slices.Clone(opts.Algorithms),
		defaultAlg:  opts.DefaultAlgorithm,
		maxLifetime: opts.MaxTokenLifetime,
		now:         opts.Now,
		log:         opts.Logger,
	}
	if len(m.algs) == 0 {
		m.algs = slices.Clone(supported)
	}
	if m.defaultAlg == "" {
		m.defaultAlg = RS256
	}
	if m.maxLifetime == 0 {
		m.maxLifetime = DefaultMaxTokenLifetime
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	var errs []error
	for _, a := range m.algs {
		if !isSupported(a) {
			errs = append(errs, fmt.Errorf("algorithm %q is not supported (want RS256 or ES256)", a))
		}
	}
	if !slices.Contains(m.algs, m.defaultAlg) {
		errs = append(errs, fmt.Errorf("default algorithm %q is not among the algorithms %v", m.defaultAlg, m.algs))
	}
	if m.maxLifetime < 0 {
		errs = append(errs, errors.New("max token lifetime must not be negative"))
	}
	if kr == nil {
		errs = append(errs, errors.New("a keyring is required"))
	}
	if err := errors.Join(errs...); err != nil {
		m.optErr = fmt.Errorf("keys: invalid options: %w", err)
	}
	return m
}

// Algorithms returns the configured algorithms, default first, for the
// discovery document's *_signing_alg_values_supported.
func (m *Manager) Algorithms() []string {
	out := []string{m.defaultAlg}
	for _, a := range m.algs {
		if a != m.defaultAlg {
			out = append(out, a)
		}
	}
	return out
}

// DefaultAlgorithm is the algorithm used when a caller names none.
func (m *Manager) DefaultAlgorithm() string { return m.defaultAlg }

// Init makes sure that every configured algorithm has an active and a next
// key, generating the missing ones, and loads the keys. Several processes
// may run it at once on one database: the unique indexes let one of them
// insert, the others retry and find its keys. Like Rotate, it manages its
// own transactions: do not call it inside a caller's storage.InTx.
func (m *Manager) Init(ctx context.Context) error {
	if m.optErr != nil {
		return m.optErr
	}
	for _, alg := range m.algs {
		if err := m.ensure(ctx, alg); err != nil {
			return err
		}
	}
	return m.Reload(ctx)
}

// ensureAttempts bounds the retries after losing an insert race; one retry
// finds the winner's keys, more only guard against pathological churn.
const ensureAttempts = 5

// ensure creates the active and next keys of alg if they are missing.
func (m *Manager) ensure(ctx context.Context, alg string) error {
	for attempt := 1; ; attempt++ {
		live, err := m.store.live(ctx, alg)
		if err != nil {
			return err
		}
		var missing []State
		for _, st := range []State{StateActive, StateNext} {
			if _, ok := live[st]; !ok {
				missing = append(missing, st)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		// Generate outside the transaction: an RSA key takes long enough to
		// matter to SQLite's single writer.
		fresh := make(map[State]sealedKey, len(missing))
		for _, st := range missing {
			k, err := newSealedKey(m.kr, alg)
			if err != nil {
				return err
			}
			fresh[st] = k
		}
		var created []string
		err = storage.InTx(ctx, m.db, func(ctx context.Context) error {
			created = created[:0]
			live, err := m.store.live(ctx, alg)
			if err != nil {
				return err
			}
			now := m.clock()
			for _, st := range missing {
				if _, ok := live[st]; ok {
					continue // another process made it meanwhile
				}
				if err := m.store.insert(ctx, fresh[st], st, now); err != nil {
					return err
				}
				created = append(created, string(st)+" "+fresh[st].kid)
			}
			return nil
		})
		switch {
		case err == nil:
			if len(created) > 0 {
				m.log.Info("generated signing keys", "algorithm", alg, "keys", created)
			}
			return nil
		case storage.IsUniqueViolation(err) && attempt < ensureAttempts:
			// A concurrent Init won the race; look again.
			continue
		default:
			return fmt.Errorf("initialise %s signing keys: %w", alg, err)
		}
	}
}

// Reload replaces the in-memory keys with the published keys in the
// database: it picks up rotations made by other processes and drops retired
// keys whose publish_until has passed. When the set of keys and states is
// unchanged it keeps the current snapshot; only keys new to this process
// are decrypted.
func (m *Manager) Reload(ctx context.Context) error {
	if m.optErr != nil {
		return m.optErr
	}
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()

	rows, err := m.store.published(ctx, m.clock())
	if err != nil {
		return err
	}
	version := versionOf(rows)
	cur := m.snap.Load()
	if cur != nil && cur.version == version {
		return nil
	}
	var unknown []string
	for _, r := range rows {
		if cur == nil || cur.byKID[r.KID] == nil {
			unknown = append(unknown, r.KID)
		}
	}
	sealed, err := m.store.sealedKeys(ctx, unknown)
	if err != nil {
		return err
	}
	keys := make([]*Key, 0, len(rows))
	for _, r := range rows {
		var k *Key
		if cur != nil && cur.byKID[r.KID] != nil {
			old := *cur.byKID[r.KID]
			k = &old
		} else {
			ciphertext, ok := sealed[r.KID]
			if !ok {
				continue // pruned between the two queries
			}
			signer, err := openKey(m.kr, r.KID, r.Algorithm, ciphertext)
			if err != nil {
				return err
			}
			k = newKey(r.KID, r.Algorithm, signer)
		}
		k.State = r.State
		k.PublishUntil = utc(r.PublishUntil)
		keys = append(keys, k)
	}
	next, err := newSnapshot(keys, m.defaultAlg, version)
	if err != nil {
		return err
	}
	m.snap.Store(next)
	m.log.Info("signing keys loaded", "active", next.activeKIDs(), "published", len(keys))
	return nil
}

// versionOf identifies a set of keys and their states. Everything else
// about a published key is immutable.
func versionOf(rows []keyRow) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(r.KID)
		b.WriteByte(':')
		b.WriteString(string(r.State))
		b.WriteByte(',')
	}
	return b.String()
}

// Ready reports whether every configured algorithm has an active key in
// memory, for the readiness probe.
func (m *Manager) Ready() bool {
	s := m.snap.Load()
	if s == nil {
		return false
	}
	for _, a := range m.algs {
		if s.active[a] == nil {
			return false
		}
	}
	return true
}

// JWKS returns the public JWK Set of every published key (next, active and
// retired-but-published), marshalled once per snapshot. Callers must not
// modify the returned bytes.
func (m *Manager) JWKS() []byte {
	if s := m.snap.Load(); s != nil {
		return s.jwks
	}
	return emptyJWKS
}

// Signer returns the active key of alg ("" = the default algorithm).
func (m *Manager) Signer(alg string) (*Key, error) {
	if alg == "" {
		alg = m.defaultAlg
	}
	s := m.snap.Load()
	if s == nil || s.active[alg] == nil {
		return nil, fmt.Errorf("%w for %s", ErrNoKey, alg)
	}
	return s.active[alg], nil
}

// Lookup returns the published key with the given kid, whatever its state,
// for verification.
func (m *Manager) Lookup(kid string) (*Key, bool) {
	s := m.snap.Load()
	if s == nil {
		return nil, false
	}
	k, ok := s.byKID[kid]
	return k, ok
}

// List returns every stored key, including retired keys past their
// publish_until that no rotation has pruned yet.
func (m *Manager) List(ctx context.Context) ([]KeyInfo, error) {
	rows, err := m.store.all(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]KeyInfo, len(rows))
	for i := range rows {
		out[i] = rows[i].info()
	}
	return out, nil
}

// clock returns the current time in UTC, truncated to the microsecond
// precision both databases store, so that values compare equal after a
// round trip.
func (m *Manager) clock() time.Time { return m.now().UTC().Truncate(time.Microsecond) }
