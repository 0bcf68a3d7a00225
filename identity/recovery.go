package identity

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/storage"
)

// RecoveryCodeCount is how many recovery codes a user gets at a time.
const RecoveryCodeCount = 10

// recoveryAlphabet has no letters that read alike (0/o, 1/l/i).
const recoveryAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"

// recoveryCodeRow is the user_recovery_codes table.
type recoveryCodeRow struct {
	bun.BaseModel `bun:"table:user_recovery_codes"`

	CodeHash  string    `bun:"code_hash,pk"`
	UserID    string    `bun:"user_id"`
	UsedAt    time.Time `bun:"used_at,nullzero"`
	CreatedAt time.Time `bun:"created_at"`
}

// newRecoveryCode is 10 random characters of a 31-letter alphabet (about
// 50 bits), shown as xxxxx-xxxxx.
func newRecoveryCode() string {
	b := make([]byte, 10)
	limit := byte(256 - 256%len(recoveryAlphabet)) // reject above it to avoid bias
	for i := 0; i < len(b); {
		var r [1]byte
		if _, err := rand.Read(r[:]); err != nil {
			panic("identity: crypto/rand failed: " + err.Error())
		}
		if r[0] < limit {
			b[i] = recoveryAlphabet[int(r[0])%len(recoveryAlphabet)]
			i++
		}
	}
	return string(b[:5]) + "-" + string(b[5:])
}

// normalizeRecoveryCode forgives case, spaces and dashes.
func normalizeRecoveryCode(code string) string {
	return strings.NewReplacer("-", "", " ", "").Replace(strings.ToLower(strings.TrimSpace(code)))
}

func (s *Service) recoveryHash(userID, code string) string {
	return s.keys.Hash("orgid/recovery-code:" + userID + ":" + normalizeRecoveryCode(code))
}

// replaceRecoveryCodes deletes the user's recovery codes and stores
// RecoveryCodeCount new ones, returned in the clear for showing once.
func (s *Service) replaceRecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	conn := storage.Conn(ctx, s.db)
	if _, err := conn.NewDelete().Model((*recoveryCodeRow)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
		return nil, fmt.Errorf("replace recovery codes: %w", err)
	}
	now := s.clock()
	codes := make([]string, RecoveryCodeCount)
	rows := make([]recoveryCodeRow, RecoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
		rows[i] = recoveryCodeRow{CodeHash: s.recoveryHash(userID, codes[i]), UserID: userID, CreatedAt: now}
	}
	if _, err := conn.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return nil, fmt.Errorf("replace recovery codes: %w", err)
	}
	return codes, nil
}

// RegenerateRecoveryCodes replaces the user's recovery codes with new ones
// (the old ones stop working). A user without an authenticator gets
// ErrNoSecondFactor.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	var codes []string
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		row, err := s.loadTOTP(ctx, storage.Conn(ctx, s.db), userID)
		if err != nil {
			return err
		}
		if row.ConfirmedAt.IsZero() {
			return ErrNoSecondFactor
		}
		codes, err = s.replaceRecoveryCodes(ctx, userID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("regenerate recovery codes of user %q: %w", userID, err)
	}
	return codes, nil
}

// useRecoveryCode spends one of the user's recovery codes; of concurrent
// uses of one code exactly one succeeds.
func (s *Service) useRecoveryCode(ctx context.Context, userID, code string) (bool, error) {
	res, err := storage.Conn(ctx, s.db).NewUpdate().Model((*recoveryCodeRow)(nil)).
		Set("used_at = ?", s.clock()).
		Where("code_hash = ?", s.recoveryHash(userID, code)).Where("user_id = ?", userID).Where("used_at IS NULL").
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("use recovery code: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// SecondFactorStatus says which second factors a user has.
type SecondFactorStatus struct {
	// TOTP: a confirmed authenticator app; TOTPPending: one being set up.
	TOTP        bool
	TOTPPending bool
	TOTPSince   time.Time
	// RecoveryCodesLeft counts the unused recovery codes.
	RecoveryCodesLeft int
}

// SecondFactors returns the user's second-factor status.
func (s *Service) SecondFactors(ctx context.Context, userID string) (*SecondFactorStatus, error) {
	conn := storage.Conn(ctx, s.db)
	out := &SecondFactorStatus{}
	row, err := s.loadTOTP(ctx, conn, userID)
	switch {
	case err == nil:
		out.TOTP, out.TOTPPending = !row.ConfirmedAt.IsZero(), row.ConfirmedAt.IsZero()
		out.TOTPSince = utc(row.ConfirmedAt)
	case !errors.Is(err, ErrNoSecondFactor):
		return nil, err
	}
	n, err := conn.NewSelect().Model((*recoveryCodeRow)(nil)).Where("user_id = ?", userID).Where("used_at IS NULL").Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("count recovery codes of user %q: %w", userID, err)
	}
	out.RecoveryCodesLeft = int(n)
	return out, nil
}
