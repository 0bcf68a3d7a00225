package api

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/storage"
)

// KeyPrefix starts every secret key, as Clerk's production secret keys do,
// so that leaked keys are recognisable and SDKs accept them.
const KeyPrefix = "sk_live_"

// keyLength is the length of a well-formed secret key: the prefix and 256
// bits in base64url without padding.
var keyLength = len(secret.Token(KeyPrefix))

// keyHashDomain separates API-key hashes from the keyed hashes of other
// machine secrets made with the same keyring.
const keyHashDomain = "orgid/api-key:"

// touchInterval is how stale last_used_at may get before a use writes it:
// a busy backend would otherwise write on every request.
const touchInterval = time.Minute

// maxKeyNameLength bounds a key's name.
const maxKeyNameLength = 100

var (
	// ErrInvalidKey is the one answer to a failed authentication: a
	// malformed, unknown or revoked key.
	ErrInvalidKey = errors.New("invalid or revoked secret key")
	// ErrInvalidName: a key's name is empty, too long or not text.
	ErrInvalidName = errors.New("a key name must be 1 to 100 characters of text")
)

// Key is a management API secret key, without its secret.
type Key struct {
	ID         string // "ak_…"
	Name       string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never used
	RevokedAt  time.Time // zero: active
}

// Revoked reports whether the key was revoked.
func (k *Key) Revoked() bool { return !k.RevokedAt.IsZero() }

// KeyJSON is a key's JSON form (CLI output).
type KeyJSON struct {
	Object     string `json:"object"` // "api_key"
	ID         string `json:"id"`
	Name       string `json:"name"`
	Revoked    bool   `json:"revoked"`
	CreatedAt  int64  `json:"created_at"`
	LastUsedAt *int64 `json:"last_used_at"`
	RevokedAt  *int64 `json:"revoked_at"`
}

// JSON returns k's JSON form; timestamps are Unix milliseconds.
func (k *Key) JSON() KeyJSON {
	return KeyJSON{Object: "api_key", ID: k.ID, Name: k.Name, Revoked: k.Revoked(),
		CreatedAt: k.CreatedAt.UnixMilli(), LastUsedAt: msOrNil(k.LastUsedAt), RevokedAt: msOrNil(k.RevokedAt)}
}

func msOrNil(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	ms := t.UnixMilli()
	return &ms
}

type keyRow struct {
	bun.BaseModel `bun:"table:api_keys"`

	ID         string    `bun:"id,pk"`
	Name       string    `bun:"name"`
	SecretHash string    `bun:"secret_hash"`
	CreatedAt  time.Time `bun:"created_at"`
	LastUsedAt time.Time `bun:"last_used_at,nullzero"`
	RevokedAt  time.Time `bun:"revoked_at,nullzero"`
}

func (r *keyRow) key() *Key {
	return &Key{ID: r.ID, Name: r.Name, CreatedAt: utc(r.CreatedAt), LastUsedAt: utc(r.LastUsedAt), RevokedAt: utc(r.RevokedAt)}
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// KeysOptions configures Keys.
type KeysOptions struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives failures that do not fail a call (recording a key's
	// last use); nil discards them.
	Logger *slog.Logger
}

// Keys stores and checks management API secret keys. It is safe for
// concurrent use.
type Keys struct {
	db   *bun.DB
	kr   *secret.Keyring
	now  func() time.Time
	log  *slog.Logger
	hash func(secret string) string
}

// NewKeys returns the key store on db, hashing secrets with kr.
func NewKeys(db *bun.DB, kr *secret.Keyring, opts KeysOptions) *Keys {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Keys{db: db, kr: kr, now: opts.Now, log: opts.Logger,
		hash: func(s string) string { return kr.Hash(keyHashDomain + s) }}
}

func (ks *Keys) clock() time.Time { return ks.now().UTC().Truncate(time.Microsecond) }

// Create makes a key and returns it with its secret, which is shown this
// once: only its keyed hash is stored.
func (ks *Keys) Create(ctx context.Context, name string) (*Key, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxKeyNameLength || !printable(name) {
		return nil, "", ErrInvalidName
	}
	sec := secret.Token(KeyPrefix)
	now := ks.clock()
	row := &keyRow{ID: id.NewAt("ak", now), Name: name, SecretHash: ks.hash(sec), CreatedAt: now}
	if _, err := storage.Conn(ctx, ks.db).NewInsert().Model(row).Exec(ctx); err != nil {
		return nil, "", fmt.Errorf("create API key: %w", err)
	}
	return row.key(), sec, nil
}

// printable reports whether s is valid text without control characters.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// List returns every key, revoked ones included, newest first.
func (ks *Keys) List(ctx context.Context) ([]*Key, error) {
	var rows []keyRow
	if err := storage.Conn(ctx, ks.db).NewSelect().Model(&rows).OrderExpr("created_at DESC, id DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	out := make([]*Key, len(rows))
	for i := range rows {
		out[i] = rows[i].key()
	}
	return out, nil
}

// Revoke revokes a key at once: the next request with it fails. Revoking a
// revoked key changes nothing; an unknown id wraps storage.ErrNotFound.
func (ks *Keys) Revoke(ctx context.Context, keyID string) (*Key, error) {
	var out *Key
	err := storage.InTx(ctx, ks.db, func(ctx context.Context) error {
		conn := storage.Conn(ctx, ks.db)
		if _, err := conn.NewUpdate().Model((*keyRow)(nil)).Set("revoked_at = ?", ks.clock()).
			Where("id = ?", keyID).Where("revoked_at IS NULL").Exec(ctx); err != nil {
			return err
		}
		row := new(keyRow)
		if err := conn.NewSelect().Model(row).Where("id = ?", keyID).Scan(ctx); err != nil {
			return storage.NotFound(err, "load API key")
		}
		out = row.key()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("revoke API key %q: %w", keyID, err)
	}
	return out, nil
}

// Authenticate returns the active key whose secret is sec, or
// ErrInvalidKey. It records the use, at most once a minute per key.
func (ks *Keys) Authenticate(ctx context.Context, sec string) (*Key, error) {
	if len(sec) != keyLength || !strings.HasPrefix(sec, KeyPrefix) {
		return nil, ErrInvalidKey
	}
	hash := ks.hash(sec)
	row := new(keyRow)
	// The lookup goes through the unique index on the keyed hash, which an
	// attacker can neither predict nor steer; the constant-time comparison
	// after it guards against a lookup that matched loosely.
	err := storage.Conn(ctx, ks.db).NewSelect().Model(row).Where("secret_hash = ?", hash).Scan(ctx)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrInvalidKey
		}
		return nil, fmt.Errorf("look up API key: %w", err)
	}
	if !secret.Equal(row.SecretHash, hash) || !row.RevokedAt.IsZero() {
		return nil, ErrInvalidKey
	}
	now := ks.clock()
	if row.LastUsedAt.IsZero() || now.Sub(row.LastUsedAt) >= touchInterval {
		ks.touch(ctx, row.ID, now)
		row.LastUsedAt = now
	}
	return row.key(), nil
}

// touch records a use. The condition keeps concurrent requests, on any
// replica, from writing more than about once a minute; a failure is logged
// and does not fail the request it belongs to.
func (ks *Keys) touch(ctx context.Context, keyID string, now time.Time) {
	_, err := storage.Conn(ctx, ks.db).NewUpdate().Model((*keyRow)(nil)).Set("last_used_at = ?", now).
		Where("id = ?", keyID).
		WhereGroup(" AND ", func(q *bun.UpdateQuery) *bun.UpdateQuery {
			return q.Where("last_used_at IS NULL").WhereOr("last_used_at <= ?", now.Add(-touchInterval))
		}).Exec(ctx)
	if err != nil {
		ks.log.WarnContext(ctx, "api: record key use", "key_id", keyID, "error", err)
	}
}
