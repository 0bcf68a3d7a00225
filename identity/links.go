package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/storage"
)

// Emailed link purposes.
const (
	linkPasswordReset = "password_reset"
	linkMagic         = "magic_link"
)

// EmailLink is a single-use link to mail: the caller puts Token in a URL
// of its own and sends it to User.Email.
type EmailLink struct {
	Token     string
	User      *User
	ExpiresAt time.Time
}

// linkRow is the email_links table.
type linkRow struct {
	bun.BaseModel `bun:"table:email_links"`

	TokenHash   string    `bun:"token_hash,pk"`
	Purpose     string    `bun:"purpose"`
	UserID      string    `bun:"user_id"`
	BindingHash string    `bun:"binding_hash"`
	ExpiresAt   time.Time `bun:"expires_at"`
	UsedAt      time.Time `bun:"used_at,nullzero"`
	CreatedAt   time.Time `bun:"created_at"`
}

func (s *Service) linkHash(purpose, token string) string {
	return s.keys.Hash("orgid/email-link/" + purpose + ":" + token)
}

// requestLink issues a link of purpose for the account of email, counting
// the request against the mail limits first whether or not the account
// exists (so that the limits say nothing about it either). No account, or
// a banned or locked one, gives a nil link and a nil error: the caller
// answers exactly as if a link had been sent.
func (s *Service) requestLink(ctx context.Context, purpose, email, binding, clientIP string, lifetime time.Duration) (*EmailLink, error) {
	if err := s.spend(ctx, s.mailLimits(email, clientIP)...); err != nil {
		return nil, err
	}
	row, err := s.loadUserRow(ctx, storage.Conn(ctx, s.db), false, "email_normalized = ?", normalizeEmail(email))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("request %s link: %w", purpose, err)
	}
	now := s.clock()
	u, err := row.toUser(now)
	if err != nil {
		return nil, err
	}
	if u.Banned || u.Locked {
		return nil, nil
	}
	token := secret.Token("")
	link := &linkRow{
		TokenHash: s.linkHash(purpose, token), Purpose: purpose, UserID: u.ID,
		ExpiresAt: now.Add(lifetime), CreatedAt: now,
	}
	if binding != "" {
		link.BindingHash = s.bindingHash(binding)
	}
	if _, err := storage.Conn(ctx, s.db).NewInsert().Model(link).Exec(ctx); err != nil {
		return nil, fmt.Errorf("request %s link: %w", purpose, err)
	}
	return &EmailLink{Token: token, User: u, ExpiresAt: link.ExpiresAt}, nil
}

// loadLink returns the live (unused, unexpired) link of token, or
// ErrLinkInvalid.
func (s *Service) loadLink(ctx context.Context, purpose, token string) (*linkRow, error) {
	if token == "" {
		return nil, ErrLinkInvalid
	}
	row := new(linkRow)
	err := storage.Conn(ctx, s.db).NewSelect().Model(row).
		Where("token_hash = ?", s.linkHash(purpose, safeText(token))).Where("purpose = ?", purpose).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrLinkInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("load %s link: %w", purpose, err)
	}
	if !row.UsedAt.IsZero() || !s.clock().Before(row.ExpiresAt) {
		return nil, ErrLinkInvalid
	}
	return row, nil
}

// useLink marks a link used; of concurrent uses exactly one succeeds, the
// others get ErrLinkInvalid.
func (s *Service) useLink(ctx context.Context, row *linkRow) error {
	now := s.clock()
	res, err := storage.Conn(ctx, s.db).NewUpdate().Model((*linkRow)(nil)).
		Set("used_at = ?", now).
		Where("token_hash = ?", row.TokenHash).Where("used_at IS NULL").Where("expires_at > ?", now).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("use %s link: %w", row.Purpose, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrLinkInvalid
	}
	return nil
}

// loadActiveUser reads a user who may sign in now.
func (s *Service) loadActiveUser(ctx context.Context, userID string) (*User, error) {
	u, err := s.GetUser(ctx, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrLinkInvalid
	}
	if err != nil {
		return nil, err
	}
	if u.Banned || u.Locked {
		return nil, ErrLinkInvalid
	}
	return u, nil
}
