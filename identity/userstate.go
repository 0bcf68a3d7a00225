package identity

import (
	"context"
	"fmt"
	"time"

	"github.com/orgid/orgid/storage"
)

// BanUser marks the user banned, which refuses every sign-in, and revokes
// all of the user's sessions (ASVS 7.4.2), in one transaction.
func (s *Service) BanUser(ctx context.Context, userID string) (*User, error) {
	var u *User
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		var err error
		u, err = s.changeUser(ctx, userID, "ban", func(row *userRow) { row.Banned = true }, "banned")
		if err != nil {
			return err
		}
		return s.EndUserSessions(ctx, userID, EndUserBanned)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// UnbanUser lifts a ban.
func (s *Service) UnbanUser(ctx context.Context, userID string) (*User, error) {
	return s.changeUser(ctx, userID, "unban", func(row *userRow) { row.Banned = false }, "banned")
}

// LockUser refuses the user's sign-ins until the given time. Existing
// sessions stay; use EndUserSessions to end them too.
func (s *Service) LockUser(ctx context.Context, userID string, until time.Time) (*User, error) {
	if !until.After(s.clock()) {
		return nil, &ValidationError{Field: "locked_until", Message: "Must be in the future."}
	}
	until = until.UTC().Truncate(time.Microsecond)
	return s.changeUser(ctx, userID, "lock", func(row *userRow) { row.LockedUntil = until }, "locked_until")
}

// UnlockUser lifts an operator's lock and clears the failed sign-in counters
// of the user's email address and username, so that a user throttled by
// someone guessing their password can sign in again at once.
func (s *Service) UnlockUser(ctx context.Context, userID string) (*User, error) {
	var u *User
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		var err error
		u, err = s.changeUser(ctx, userID, "unlock", func(row *userRow) { row.LockedUntil = time.Time{} }, "locked_until")
		if err != nil {
			return err
		}
		keys := []string{s.identifierKey(u.Email)}
		if u.Username != "" {
			keys = append(keys, s.identifierKey(u.Username))
		}
		if err := s.resetThrottle(ctx, keys...); err != nil {
			return fmt.Errorf("unlock user %q: %w", userID, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}
