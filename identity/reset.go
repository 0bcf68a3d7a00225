package identity

import (
	"context"
	"fmt"
	"time"

	"github.com/orgid/orgid/storage"
)

// PasswordResetLifetime is how long an emailed reset link works.
const PasswordResetLifetime = 30 * time.Minute

// RequestPasswordReset issues a single-use reset link (a 256-bit token
// valid for PasswordResetLifetime) for the account of email. For an
// unknown address, or a banned or locked account, it returns a nil link
// and a nil error after the same checks and counter writes: the caller
// answers identically and sends nothing. Too many requests for the
// address or from clientIP give a *ThrottledError, whether or not the
// address has an account.
func (s *Service) RequestPasswordReset(ctx context.Context, email, clientIP string) (*EmailLink, error) {
	return s.requestLink(ctx, linkPasswordReset, email, "", clientIP, PasswordResetLifetime)
}

// PasswordResetUser returns the user a live reset token belongs to,
// without using it, or ErrLinkInvalid.
func (s *Service) PasswordResetUser(ctx context.Context, token string) (*User, error) {
	row, err := s.loadLink(ctx, linkPasswordReset, token)
	if err != nil {
		return nil, err
	}
	return s.loadActiveUser(ctx, row.UserID)
}

// ResetPassword sets a new password with a reset token. A password the
// policy refuses gives a *ValidationError and leaves the token usable.
// Otherwise, in one transaction: the token is used (of concurrent uses
// one wins, the others get ErrLinkInvalid), the password is replaced, the
// address is marked verified (the link reached it), every other reset
// link of the user stops working, and every session of the user ends
// (ASVS 7.4.3), revoking its tokens. The failed sign-in counters of the
// user's identifiers are cleared. The caller does not sign the user in:
// signing in afterwards asks for the second factor as usual.
func (s *Service) ResetPassword(ctx context.Context, token, newPassword string) (*User, error) {
	link, err := s.loadLink(ctx, linkPasswordReset, token)
	if err != nil {
		return nil, err
	}
	u, err := s.loadActiveUser(ctx, link.UserID)
	if err != nil {
		return nil, err
	}
	if err := CheckPassword(newPassword, u.Email); err != nil {
		return nil, err
	}
	hash, err := s.hashPassword(ctx, newPassword)
	if err != nil {
		return nil, fmt.Errorf("reset password: %w", err)
	}
	err = storage.InTx(ctx, s.db, func(ctx context.Context) error {
		if err := s.useLink(ctx, link); err != nil {
			return err
		}
		if u, err = s.changeUserIf(ctx, u.ID, "reset password", func(row *userRow) (bool, error) {
			row.PasswordHash, row.EmailVerified = hash, true
			return true, nil
		}, "password_hash", "email_verified"); err != nil {
			return err
		}
		if _, err := storage.Conn(ctx, s.db).NewUpdate().Model((*linkRow)(nil)).
			Set("used_at = ?", s.clock()).
			Where("user_id = ?", u.ID).Where("purpose = ?", linkPasswordReset).Where("used_at IS NULL").
			Exec(ctx); err != nil {
			return err
		}
		if err := s.EndUserSessions(ctx, u.ID, EndPasswordChanged); err != nil {
			return err
		}
		keys := []string{s.identifierKey(u.Email)}
		if u.Username != "" {
			keys = append(keys, s.identifierKey(u.Username))
		}
		return s.resetThrottle(ctx, keys...)
	})
	if err != nil {
		return nil, fmt.Errorf("reset password: %w", err)
	}
	return u, nil
}
