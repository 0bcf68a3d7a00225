package identity

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/storage"
)

// A pending sign-in waits this long for its second factor, and allows
// this many codes.
const (
	SecondFactorLifetime    = 10 * time.Minute
	MaxSecondFactorAttempts = 5
)

// pendingSignInRow is the pending_sign_ins table.
type pendingSignInRow struct {
	bun.BaseModel `bun:"table:pending_sign_ins"`

	IDHash      string    `bun:"id_hash,pk"`
	UserID      string    `bun:"user_id"`
	BindingHash string    `bun:"binding_hash"`
	AMR         string    `bun:"amr"`
	Attempts    int       `bun:"attempts"`
	ExpiresAt   time.Time `bun:"expires_at"`
	CreatedAt   time.Time `bun:"created_at"`
}

// NeedsSecondFactor reports whether a sign-in of user with the methods
// amr must still be completed by a second factor: the user has one, and
// amr is not already multi-factor (a user-verified passkey).
func NeedsSecondFactor(u *User, amr []string) bool {
	return u.TwoFactorEnabled && ACRFor(amr) != ACRMultiFactor
}

// BeginSecondFactor records a sign-in whose first factor (amr) succeeded
// and that now waits for the second, bound to the browser; no session is
// created until CompleteSecondFactor. It returns the handle the browser
// carries to the second-factor page (256 bits; only its hash is stored).
func (s *Service) BeginSecondFactor(ctx context.Context, userID string, amr []string, binding string) (string, error) {
	if binding == "" {
		return "", errNoBinding
	}
	amrJSON, err := encodeAMR(amr)
	if err != nil {
		return "", err
	}
	now := s.clock()
	id := secret.Token("")
	row := &pendingSignInRow{
		IDHash: s.pendingHash(id), UserID: userID, BindingHash: s.bindingHash(binding), AMR: amrJSON,
		ExpiresAt: now.Add(SecondFactorLifetime), CreatedAt: now,
	}
	if _, err := storage.Conn(ctx, s.db).NewInsert().Model(row).Exec(ctx); err != nil {
		return "", fmt.Errorf("begin second factor for user %q: %w", userID, err)
	}
	return id, nil
}

func (s *Service) pendingHash(id string) string { return s.keys.Hash("orgid/pending-sign-in:" + id) }

// loadPending finds a live pending sign-in of this browser.
func (s *Service) loadPending(ctx context.Context, id, binding string) (*pendingSignInRow, error) {
	if id == "" || binding == "" {
		return nil, ErrNoPendingSignIn
	}
	row := new(pendingSignInRow)
	err := storage.Conn(ctx, s.db).NewSelect().Model(row).Where("id_hash = ?", s.pendingHash(safeText(id))).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoPendingSignIn
	}
	if err != nil {
		return nil, fmt.Errorf("load pending sign-in: %w", err)
	}
	if !secret.Equal(row.BindingHash, s.bindingHash(binding)) || !s.clock().Before(row.ExpiresAt) {
		return nil, ErrNoPendingSignIn
	}
	return row, nil
}

// PendingSecondFactor returns the user of a pending sign-in of this
// browser (for showing the second-factor page), or ErrNoPendingSignIn.
func (s *Service) PendingSecondFactor(ctx context.Context, id, binding string) (*User, error) {
	row, err := s.loadPending(ctx, id, binding)
	if err != nil {
		return nil, err
	}
	return s.GetUser(ctx, row.UserID)
}

// CompleteSecondFactor checks a second factor for a pending sign-in of
// this browser: a current TOTP code (each code works once) or an unused
// recovery code. It returns the user and the amr to start the session with
// (the first factor's and "otp"); the pending sign-in is then gone.
//
// A wrong code gives a *CodeError and counts against the pending sign-in
// (MaxSecondFactorAttempts, then ErrTooManyAttempts and the sign-in must
// start over), the user (the identifier limit of ThrottlePolicy, across
// sign-ins, so that starting over does not buy more guesses) and clientIP.
// A user banned or locked meanwhile gets ErrInvalidCredentials.
func (s *Service) CompleteSecondFactor(ctx context.Context, id, binding, code, clientIP string) (*User, []string, error) {
	row, err := s.loadPending(ctx, id, binding)
	if err != nil {
		return nil, nil, err
	}
	now := s.clock()
	userKey := s.limitKey(secondFactorPrefix, row.UserID)
	ipKey := ""
	if clientIP != "" {
		ipKey = s.ipKey(clientIP)
	}
	if err := s.checkLimits(ctx, s.db, now,
		rateLimit{userKey, s.throttle.MaxFailuresPerIdentifier}, rateLimit{ipKey, s.throttle.MaxFailuresPerIP}); err != nil {
		return nil, nil, err
	}
	res, err := s.db.NewUpdate().Model((*pendingSignInRow)(nil)).
		Set("attempts = attempts + 1").
		Where("id_hash = ?", row.IDHash).Where("attempts < ?", MaxSecondFactorAttempts).
		Exec(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("second factor: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		s.deletePending(ctx, row.IDHash)
		return nil, nil, ErrTooManyAttempts
	}
	ok, err := s.checkSecondFactor(ctx, row.UserID, code)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		if err := s.recordFailure(ctx, s.db, now, userKey, ipKey); err != nil {
			return nil, nil, err
		}
		remaining := max(MaxSecondFactorAttempts-row.Attempts-1, 0)
		if remaining == 0 {
			s.deletePending(ctx, row.IDHash)
		}
		return nil, nil, &CodeError{Remaining: remaining}
	}
	res, err = s.db.NewDelete().Model((*pendingSignInRow)(nil)).Where("id_hash = ?", row.IDHash).Exec(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("second factor: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, nil, ErrNoPendingSignIn // completed by a concurrent request
	}
	u, err := s.GetUser(ctx, row.UserID)
	if err != nil {
		return nil, nil, err
	}
	if u.Banned || u.Locked {
		return nil, nil, ErrInvalidCredentials
	}
	var amr []string
	if err := json.Unmarshal([]byte(row.AMR), &amr); err != nil {
		return nil, nil, fmt.Errorf("pending sign-in amr: %w", err)
	}
	return u, append(amr, AMROTP), nil
}

// checkSecondFactor accepts a TOTP code (digits) or a recovery code.
func (s *Service) checkSecondFactor(ctx context.Context, userID, code string) (bool, error) {
	code = strings.TrimSpace(code)
	digits := strings.ReplaceAll(code, " ", "")
	if len(digits) == 6 && strings.Trim(digits, "0123456789") == "" {
		ok, err := s.useTOTP(ctx, userID, digits)
		if errors.Is(err, ErrNoSecondFactor) {
			return false, nil
		}
		return ok, err
	}
	if n := len(normalizeRecoveryCode(code)); n < 8 || n > 16 {
		return false, nil
	}
	return s.useRecoveryCode(ctx, userID, code)
}

func (s *Service) deletePending(ctx context.Context, idHash string) {
	if _, err := s.db.NewDelete().Model((*pendingSignInRow)(nil)).Where("id_hash = ?", idHash).Exec(ctx); err != nil {
		s.logger.WarnContext(ctx, "delete pending sign-in", "error", err)
	}
}
