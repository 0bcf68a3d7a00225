package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/orgid/orgid/storage"
)

// errAuthenticateInTx guards a misuse: see Authenticate.
var errAuthenticateInTx = errors.New("identity: Authenticate must not run inside a transaction")

// Authenticate checks a password sign-in. identifier is an email address
// (it contains "@") or a username. The answer is ErrInvalidCredentials for
// an unknown identifier, a wrong or missing password, and a banned or
// locked user alike, and takes about the same time in each case, since an
// unknown user costs a password verification too. Too many failures for the
// identifier or clientIP give a *ThrottledError (errors.Is ErrThrottled),
// before the password is looked at; the identifier's counter is keyed on
// the string, so throttling says nothing about whether the account exists.
// Success clears the identifier's counter and upgrades a hash made with old
// parameters.
//
// Authenticate writes its counters outside any caller transaction, so that
// a failed attempt counts even when the caller rolls back; calling it with
// a transaction in ctx is an error.
func (s *Service) Authenticate(ctx context.Context, identifier, password, clientIP string) (*User, error) {
	if _, ok := storage.TxFrom(ctx); ok {
		return nil, errAuthenticateInTx
	}
	now := s.clock()
	idKey := s.identifierKey(identifier)
	ipKey := ""
	if clientIP != "" {
		ipKey = s.ipKey(clientIP)
	}
	if err := s.checkThrottle(ctx, s.db, now, idKey, ipKey); err != nil {
		return nil, err
	}

	where, arg := "email_normalized = ?", normalizeEmail(identifier)
	if !strings.Contains(identifier, "@") {
		where, arg = "username = ?", normalizeUsername(identifier)
	}
	row, err := s.loadUserRow(ctx, s.db, false, where, arg)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	var stored string
	if row != nil {
		stored = row.PasswordHash
	}
	ok, err := s.verifyPassword(ctx, password, stored)
	if err != nil {
		// A stored hash this package cannot read, or ctx ended while
		// waiting for a hashing slot.
		return nil, fmt.Errorf("authenticate: verify password: %w", err)
	}
	if !ok || row.Banned || (!row.LockedUntil.IsZero() && now.Before(row.LockedUntil)) {
		if err := s.recordFailure(ctx, s.db, now, idKey, ipKey); err != nil {
			return nil, err
		}
		return nil, ErrInvalidCredentials
	}

	if err := s.resetThrottle(ctx, idKey); err != nil {
		return nil, err
	}
	row.LastSignInAt = now
	if _, err := s.db.NewUpdate().Model(row).Column("last_sign_in_at").WherePK().Exec(ctx); err != nil {
		return nil, fmt.Errorf("authenticate: record sign-in: %w", err)
	}
	if NeedsRehash(stored, s.params) {
		s.rehash(ctx, row.ID, stored, password)
	}
	return row.toUser(now)
}

// rehash stores a hash of password under the current parameters unless the
// password changed meanwhile. Failing to upgrade is not failing to sign in:
// the old hash still works, and the next sign-in tries again.
func (s *Service) rehash(ctx context.Context, userID, old, password string) {
	fresh, err := s.hashPassword(ctx, password)
	if err == nil {
		_, err = s.db.NewUpdate().Model((*userRow)(nil)).
			Set("password_hash = ?", fresh).
			Where("id = ?", userID).Where("password_hash = ?", old).
			Exec(ctx)
	}
	if err != nil {
		s.logger.WarnContext(ctx, "could not upgrade password hash", "user_id", userID, "error", err)
	}
}
