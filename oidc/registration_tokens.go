package oidc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/storage"
)

// Initial access tokens (RFC 7591 §3) for --registration token: the
// operator creates one (orgid registration-tokens create) and gives it to
// whoever may register clients, who sends it as a bearer token to the
// registration endpoint. Only its keyed hash is stored; it works until it
// expires or is revoked, for any number of registrations.

// RegistrationTokens manages initial access tokens.
type RegistrationTokens struct {
	db   *bun.DB
	keys *secret.Keyring
	now  func() time.Time
}

// NewRegistrationTokens returns the initial access tokens on db.
func NewRegistrationTokens(db *bun.DB, keys *secret.Keyring, now func() time.Time) *RegistrationTokens {
	if now == nil {
		now = time.Now
	}
	return &RegistrationTokens{db: db, keys: keys, now: now}
}

// RegistrationToken describes an initial access token; the token itself
// is returned once, by Create.
type RegistrationToken struct {
	ID          string
	Description string
	CreatedAt   time.Time
	ExpiresAt   *time.Time
	RevokedAt   *time.Time
	LastUsedAt  *time.Time
}

// RegistrationTokenJSON is the token's management form.
type RegistrationTokenJSON struct {
	Object      string `json:"object"`
	ID          string `json:"id"`
	Description string `json:"description"`
	CreatedAt   int64  `json:"created_at"`
	ExpiresAt   *int64 `json:"expires_at"`
	RevokedAt   *int64 `json:"revoked_at"`
	LastUsedAt  *int64 `json:"last_used_at"`
}

// JSON returns the management form.
func (t *RegistrationToken) JSON() RegistrationTokenJSON {
	ms := func(p *time.Time) *int64 {
		if p == nil {
			return nil
		}
		v := p.UnixMilli()
		return &v
	}
	return RegistrationTokenJSON{Object: "registration_token", ID: t.ID, Description: t.Description,
		CreatedAt: t.CreatedAt.UnixMilli(), ExpiresAt: ms(t.ExpiresAt), RevokedAt: ms(t.RevokedAt), LastUsedAt: ms(t.LastUsedAt)}
}

type registrationTokenRow struct {
	bun.BaseModel `bun:"table:oauth2_registration_tokens"`
	ID            string     `bun:"id,pk"`
	TokenHash     string     `bun:"token_hash"`
	Description   string     `bun:"description"`
	CreatedAt     time.Time  `bun:"created_at"`
	ExpiresAt     *time.Time `bun:"expires_at"`
	RevokedAt     *time.Time `bun:"revoked_at"`
	LastUsedAt    *time.Time `bun:"last_used_at"`
}

func (r *registrationTokenRow) token() *RegistrationToken {
	utcp := func(p *time.Time) *time.Time {
		if p == nil {
			return nil
		}
		t := p.UTC()
		return &t
	}
	return &RegistrationToken{ID: r.ID, Description: r.Description, CreatedAt: r.CreatedAt.UTC(),
		ExpiresAt: utcp(r.ExpiresAt), RevokedAt: utcp(r.RevokedAt), LastUsedAt: utcp(r.LastUsedAt)}
}

// ErrInvalidRegistrationToken is an unknown, expired or revoked initial
// access token.
var ErrInvalidRegistrationToken = errors.New("invalid initial access token")

// Create makes an initial access token valid for ttl (0: until revoked)
// and returns it with the token, which is shown this once.
func (rt *RegistrationTokens) Create(ctx context.Context, description string, ttl time.Duration) (*RegistrationToken, string, error) {
	if ttl < 0 {
		return nil, "", &ValidationError{"expires_in", "must not be negative"}
	}
	plain := secret.Token("irt_")
	now := rt.now().UTC().Truncate(time.Microsecond)
	row := &registrationTokenRow{ID: id.New("regtok"), TokenHash: rt.keys.Hash(plain),
		Description: strings.TrimSpace(description), CreatedAt: now}
	if ttl > 0 {
		exp := now.Add(ttl)
		row.ExpiresAt = &exp
	}
	if _, err := storage.Conn(ctx, rt.db).NewInsert().Model(row).Exec(ctx); err != nil {
		return nil, "", fmt.Errorf("create registration token: %w", err)
	}
	return row.token(), plain, nil
}

// List returns every initial access token, newest first.
func (rt *RegistrationTokens) List(ctx context.Context) ([]*RegistrationToken, error) {
	var rows []registrationTokenRow
	if err := storage.Conn(ctx, rt.db).NewSelect().Model(&rows).Order("created_at DESC", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list registration tokens: %w", err)
	}
	out := make([]*RegistrationToken, len(rows))
	for i := range rows {
		out[i] = rows[i].token()
	}
	return out, nil
}

// Revoke makes a token unusable; storage.ErrNotFound when there is none.
func (rt *RegistrationTokens) Revoke(ctx context.Context, tokenID string) error {
	now := rt.now().UTC().Truncate(time.Microsecond)
	res, err := storage.Conn(ctx, rt.db).NewUpdate().Model((*registrationTokenRow)(nil)).
		Set("revoked_at = COALESCE(revoked_at, ?)", now).Where("id = ?", tokenID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke registration token %q: %w", tokenID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("registration token %q: %w", tokenID, storage.ErrNotFound)
	}
	return nil
}

// Verify accepts a live token and records its use.
func (rt *RegistrationTokens) Verify(ctx context.Context, plain string) error {
	if plain == "" {
		return ErrInvalidRegistrationToken
	}
	var row registrationTokenRow
	err := storage.Conn(ctx, rt.db).NewSelect().Model(&row).Where("token_hash = ?", rt.keys.Hash(plain)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrInvalidRegistrationToken
	}
	if err != nil {
		return fmt.Errorf("check registration token: %w", err)
	}
	now := rt.now().UTC().Truncate(time.Microsecond)
	if row.RevokedAt != nil || (row.ExpiresAt != nil && !row.ExpiresAt.After(now)) {
		return ErrInvalidRegistrationToken
	}
	if _, err := storage.Conn(ctx, rt.db).NewUpdate().Model((*registrationTokenRow)(nil)).
		Set("last_used_at = ?", now).Where("id = ?", row.ID).Exec(ctx); err != nil {
		return fmt.Errorf("record registration token use: %w", err)
	}
	return nil
}
