package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/storage"
)

// UserIdentity is an identity a user holds at an upstream provider (a
// "connected account").
type UserIdentity struct {
	ID           string
	ProviderID   string
	ProviderSlug string
	ProviderName string
	Subject      string
	// Email is the provider's address for the identity, for showing.
	Email         string
	EmailVerified bool
	CreatedAt     time.Time
	LastSignInAt  time.Time // zero: never
}

type identityRow struct {
	bun.BaseModel `bun:"table:user_identities"`

	ID            string    `bun:"id,pk"`
	ProviderID    string    `bun:"provider_id"`
	Subject       string    `bun:"subject"`
	UserID        string    `bun:"user_id"`
	Email         string    `bun:"email"`
	EmailVerified bool      `bun:"email_verified"`
	CreatedAt     time.Time `bun:"created_at"`
	LastSignInAt  time.Time `bun:"last_sign_in_at,nullzero"`
}

// resolveUpstream finds, links or creates the user of a verified upstream
// identity, in one transaction (see FinishUpstreamSignIn).
func (s *Service) resolveUpstream(ctx context.Context, prov *providerRow, c *UpstreamClaims, linkUserID string, allowSignUp bool) (user *User, created, linked bool, err error) {
	if c.Subject == "" {
		return nil, false, false, fmt.Errorf("%w: no subject", ErrUpstreamFailed)
	}
	now := s.clock()
	err = storage.InTx(ctx, s.db, func(ctx context.Context) error {
		conn := storage.Conn(ctx, s.db)
		ident := new(identityRow)
		err := conn.NewSelect().Model(ident).Where("provider_id = ?", prov.ID).Where("subject = ?", safeText(c.Subject)).Scan(ctx)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			ident = nil
		case err != nil:
			return err
		}

		switch {
		case ident != nil && linkUserID != "" && ident.UserID != linkUserID:
			return ErrIdentityTaken
		case ident != nil:
			if user, err = s.signInUser(ctx, ident.UserID, now); err != nil {
				return err
			}
			_, err = conn.NewUpdate().Model((*identityRow)(nil)).
				Set("email = ?", truncate(c.Email, maxEmailLength)).Set("email_verified = ?", c.EmailVerified).
				Set("last_sign_in_at = ?", now).Where("id = ?", ident.ID).Exec(ctx)
			return err
		case linkUserID != "":
			if user, err = s.GetUser(ctx, linkUserID); err != nil {
				return err
			}
			linked = true
			return s.linkIdentity(ctx, user.ID, prov.ID, c, now)
		}

		if c.Email == "" || validateEmail(c.Email) != nil {
			return fmt.Errorf("%w: no usable email address", ErrUpstreamEmailUnverified)
		}
		local, err := s.loadUserRow(ctx, conn, true, "email_normalized = ?", normalizeEmail(c.Email))
		switch {
		case errors.Is(err, storage.ErrNotFound):
			local = nil
		case err != nil:
			return err
		}
		switch {
		case !c.EmailVerified:
			return ErrUpstreamEmailUnverified
		case local != nil && !local.EmailVerified:
			return ErrUpstreamAccountExists
		case local != nil:
			if user, err = s.signInUser(ctx, local.ID, now); err != nil {
				return err
			}
			linked = true
			return s.linkIdentity(ctx, user.ID, prov.ID, c, now)
		case !allowSignUp:
			return ErrSignUpDisabled
		}
		row, err := s.newUserRow(NewUser{Email: c.Email, FirstName: truncate(c.FirstName, maxNameLength),
			LastName: truncate(c.LastName, maxNameLength), EmailVerified: true})
		if err != nil {
			return fmt.Errorf("%w: %v", ErrUpstreamFailed, err)
		}
		if validateURL("image_url", c.ImageURL) == nil && len(c.ImageURL) <= maxURLLength {
			row.ImageURL = c.ImageURL
		}
		row.LastSignInAt = now
		if user, err = s.insertUser(ctx, row); err != nil {
			return err
		}
		created = true
		return s.insertIdentity(ctx, user.ID, prov.ID, c, now)
	})
	if err != nil {
		return nil, false, false, fmt.Errorf("upstream sign-in with %s: %w", prov.Slug, err)
	}
	return user, created, linked, nil
}

// signInUser records a sign-in of a user who may sign in.
func (s *Service) signInUser(ctx context.Context, userID string, now time.Time) (*User, error) {
	u, err := s.GetUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	if u.Banned || u.Locked {
		return nil, ErrInvalidCredentials
	}
	if _, err := storage.Conn(ctx, s.db).NewUpdate().Model((*userRow)(nil)).
		Set("last_sign_in_at = ?", now).Where("id = ?", u.ID).Exec(ctx); err != nil {
		return nil, err
	}
	u.LastSignInAt = now
	return u, nil
}

// linkIdentity connects an identity to an existing user and records
// "user.updated".
func (s *Service) linkIdentity(ctx context.Context, userID, providerID string, c *UpstreamClaims, now time.Time) error {
	if err := s.insertIdentity(ctx, userID, providerID, c, now); err != nil {
		return err
	}
	_, err := s.changeUserIf(ctx, userID, "connect identity", func(*userRow) (bool, error) { return true, nil })
	return err
}

func (s *Service) insertIdentity(ctx context.Context, userID, providerID string, c *UpstreamClaims, now time.Time) error {
	row := &identityRow{
		ID: id.NewAt("eac", now), ProviderID: providerID, Subject: safeText(c.Subject), UserID: userID,
		Email: truncate(c.Email, maxEmailLength), EmailVerified: c.EmailVerified, CreatedAt: now, LastSignInAt: now,
	}
	if _, err := storage.Conn(ctx, s.db).NewInsert().Model(row).Exec(ctx); err != nil {
		if storage.IsUniqueViolation(err) {
			return ErrIdentityTaken
		}
		return fmt.Errorf("store identity: %w", err)
	}
	return nil
}

// UserIdentities lists the identities a user holds at upstream providers.
func (s *Service) UserIdentities(ctx context.Context, userID string) ([]*UserIdentity, error) {
	var rows []struct {
		identityRow  `bun:",extend"`
		ProviderSlug string `bun:"provider_slug"`
		ProviderName string `bun:"provider_name"`
	}
	err := storage.Conn(ctx, s.db).NewSelect().Model(&rows).
		ColumnExpr("ui.*").ColumnExpr("p.slug AS provider_slug").ColumnExpr("p.name AS provider_name").
		ModelTableExpr("user_identities AS ui").
		Join("JOIN identity_providers AS p ON p.id = ui.provider_id").
		Where("ui.user_id = ?", userID).OrderExpr("ui.created_at, ui.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list identities of user %q: %w", userID, err)
	}
	out := make([]*UserIdentity, len(rows))
	for i, r := range rows {
		out[i] = &UserIdentity{
			ID: r.ID, ProviderID: r.ProviderID, ProviderSlug: r.ProviderSlug, ProviderName: r.ProviderName,
			Subject: r.Subject, Email: r.Email, EmailVerified: r.EmailVerified,
			CreatedAt: utc(r.CreatedAt), LastSignInAt: utc(r.LastSignInAt),
		}
	}
	return out, nil
}

// DisconnectIdentity removes one of the user's identities and records
// "user.updated"; another user's identity is storage.ErrNotFound.
func (s *Service) DisconnectIdentity(ctx context.Context, userID, identityID string) error {
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		res, err := storage.Conn(ctx, s.db).NewDelete().Model((*identityRow)(nil)).
			Where("id = ?", safeText(identityID)).Where("user_id = ?", userID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return storage.ErrNotFound
		}
		_, err = s.changeUserIf(ctx, userID, "disconnect identity", func(*userRow) (bool, error) { return true, nil })
		return err
	})
	if err != nil {
		return fmt.Errorf("disconnect identity %q of user %q: %w", identityID, userID, err)
	}
	return nil
}
