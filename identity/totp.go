package identity

import (
	"bytes"
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"strconv"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/storage"
)

// TOTP parameters: what every authenticator app understands (RFC 6238
// defaults). One step of clock skew either way is accepted.
const (
	totpPeriod     = 30
	totpDigits     = otp.DigitsSix
	totpSkew       = 1
	totpSecretSize = 20 // 160 bits, RFC 4226's recommendation for SHA-1
)

// ErrTOTPEnabled is BeginTOTPEnrollment for a user whose authenticator is
// already confirmed: disable it first.
var ErrTOTPEnabled = errors.New("an authenticator app is already enabled")

// TOTPEnrollment is an authenticator being set up: show the QR code (or
// the secret, for typing) and ask for a code to confirm it.
type TOTPEnrollment struct {
	// Secret is the base32 secret; URL the otpauth:// URL of the QR code.
	Secret string
	URL    string
	// QRCodePNG is the URL as a QR code image.
	QRCodePNG []byte
}

// totpRow is the user_totp table.
type totpRow struct {
	bun.BaseModel `bun:"table:user_totp"`

	UserID       string    `bun:"user_id,pk"`
	Secret       []byte    `bun:"secret"`
	ConfirmedAt  time.Time `bun:"confirmed_at,nullzero"`
	LastUsedStep int64     `bun:"last_used_step"`
	CreatedAt    time.Time `bun:"created_at"`
}

// totpAAD binds a sealed secret to its user, so that a secret copied into
// another user's row does not open.
func totpAAD(userID string) []byte { return []byte("orgid/totp-secret:" + userID) }

// BeginTOTPEnrollment creates a new TOTP secret for the user, replacing an
// unconfirmed one, and returns what the user scans. It is not used for
// sign-in until ConfirmTOTPEnrollment. issuer names this service in the
// user's app; the account name is the user's email address.
func (s *Service) BeginTOTPEnrollment(ctx context.Context, userID, issuer string) (*TOTPEnrollment, error) {
	u, err := s.GetUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("begin TOTP enrollment: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: issuer, AccountName: u.Email, Period: totpPeriod, SecretSize: totpSecretSize,
		Digits: totpDigits, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, fmt.Errorf("begin TOTP enrollment: %w", err)
	}
	now := s.clock()
	row := &totpRow{UserID: u.ID, Secret: s.keys.Seal([]byte(key.Secret()), totpAAD(u.ID)), CreatedAt: now}
	err = storage.InTx(ctx, s.db, func(ctx context.Context) error {
		conn := storage.Conn(ctx, s.db)
		existing, err := s.loadTOTP(ctx, conn, u.ID)
		if err != nil && !errors.Is(err, ErrNoSecondFactor) {
			return err
		}
		if existing != nil && !existing.ConfirmedAt.IsZero() {
			return ErrTOTPEnabled
		}
		_, err = conn.NewInsert().Model(row).
			On("CONFLICT (user_id) DO UPDATE").
			Set("secret = EXCLUDED.secret").Set("created_at = EXCLUDED.created_at").
			Set("confirmed_at = NULL").Set("last_used_step = 0").
			Exec(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("begin TOTP enrollment for user %q: %w", userID, err)
	}
	return enrollmentOf(key)
}

// PendingTOTPEnrollment returns the unconfirmed authenticator of the user
// again (to show its QR code after a wrong confirmation code), or
// ErrNoSecondFactor when none is being set up.
func (s *Service) PendingTOTPEnrollment(ctx context.Context, userID, issuer string) (*TOTPEnrollment, error) {
	u, err := s.GetUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	row, err := s.loadTOTP(ctx, storage.Conn(ctx, s.db), userID)
	if err != nil {
		return nil, err
	}
	if !row.ConfirmedAt.IsZero() {
		return nil, ErrTOTPEnabled
	}
	secret, err := s.keys.Open(row.Secret, totpAAD(userID))
	if err != nil {
		return nil, fmt.Errorf("open TOTP secret of user %q: %w", userID, err)
	}
	key, err := otp.NewKeyFromURL(totpURL(issuer, u.Email, string(secret)))
	if err != nil {
		return nil, err
	}
	return enrollmentOf(key)
}

// totpURL is the otpauth:// URL of a secret, as Google's Key Uri Format
// describes it (the form totp.Generate writes).
func totpURL(issuer, account, secret string) string {
	q := url.Values{}
	q.Set("secret", secret)
	q.Set("issuer", issuer)
	q.Set("period", strconv.Itoa(totpPeriod))
	q.Set("digits", "6")
	q.Set("algorithm", "SHA1")
	return (&url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account, RawQuery: q.Encode()}).String()
}

func enrollmentOf(key *otp.Key) (*TOTPEnrollment, error) {
	img, err := key.Image(240, 240)
	if err != nil {
		return nil, fmt.Errorf("TOTP QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("TOTP QR code: %w", err)
	}
	return &TOTPEnrollment{Secret: key.Secret(), URL: key.URL(), QRCodePNG: buf.Bytes()}, nil
}

// ConfirmTOTPEnrollment checks a code from the app being set up and, when
// it matches, enables the authenticator, replaces the user's recovery
// codes with RecoveryCodeCount new ones (returned, shown once) and records
// "user.updated" (two_factor_enabled), in one transaction. A wrong code
// gives ErrCodeInvalid and counts against the user's second-factor limit.
func (s *Service) ConfirmTOTPEnrollment(ctx context.Context, userID, code string) ([]string, error) {
	limitKey := s.limitKey(secondFactorPrefix, userID)
	now := s.clock()
	if err := s.checkLimits(ctx, s.db, now, rateLimit{limitKey, s.throttle.MaxFailuresPerIdentifier}); err != nil {
		return nil, err
	}
	row, err := s.loadTOTP(ctx, storage.Conn(ctx, s.db), userID)
	if err != nil {
		return nil, err
	}
	if !row.ConfirmedAt.IsZero() {
		return nil, ErrTOTPEnabled
	}
	step, ok, err := s.matchTOTP(row, code, now)
	if err != nil {
		return nil, err
	}
	if !ok {
		if err := s.recordFailure(ctx, s.db, now, limitKey); err != nil {
			return nil, err
		}
		return nil, ErrCodeInvalid
	}
	var codes []string
	err = storage.InTx(ctx, s.db, func(ctx context.Context) error {
		res, err := storage.Conn(ctx, s.db).NewUpdate().Model((*totpRow)(nil)).
			Set("confirmed_at = ?", now).Set("last_used_step = ?", step).
			Where("user_id = ?", userID).Where("confirmed_at IS NULL").Where("secret = ?", row.Secret).
			Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrNoSecondFactor // replaced or confirmed meanwhile
		}
		if codes, err = s.replaceRecoveryCodes(ctx, userID); err != nil {
			return err
		}
		_, err = s.changeUserIf(ctx, userID, "enable TOTP", func(u *userRow) (bool, error) {
			u.TwoFactorEnabled = true
			return true, nil
		}, "two_factor_enabled")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("confirm TOTP for user %q: %w", userID, err)
	}
	return codes, nil
}

// DisableTOTP removes the user's authenticator and recovery codes and
// records "user.updated". A user without one gets ErrNoSecondFactor.
func (s *Service) DisableTOTP(ctx context.Context, userID string) error {
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		conn := storage.Conn(ctx, s.db)
		res, err := conn.NewDelete().Model((*totpRow)(nil)).Where("user_id = ?", userID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNoSecondFactor
		}
		if _, err := conn.NewDelete().Model((*recoveryCodeRow)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
			return err
		}
		_, err = s.changeUserIf(ctx, userID, "disable TOTP", func(u *userRow) (bool, error) {
			if !u.TwoFactorEnabled {
				return false, nil
			}
			u.TwoFactorEnabled = false
			return true, nil
		}, "two_factor_enabled")
		return err
	})
	if err != nil {
		return fmt.Errorf("disable TOTP for user %q: %w", userID, err)
	}
	return nil
}

func (s *Service) loadTOTP(ctx context.Context, conn bun.IDB, userID string) (*totpRow, error) {
	row := new(totpRow)
	err := conn.NewSelect().Model(row).Where("user_id = ?", safeText(userID)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoSecondFactor
	}
	if err != nil {
		return nil, fmt.Errorf("load TOTP of user %q: %w", userID, err)
	}
	return row, nil
}

// matchTOTP compares code with the codes of the current step and one step
// either side, in constant time each, and returns the matching step. A
// step at or before the last one used never matches: a code works once.
func (s *Service) matchTOTP(row *totpRow, code string, now time.Time) (int64, bool, error) {
	secret, err := s.keys.Open(row.Secret, totpAAD(row.UserID))
	if err != nil {
		return 0, false, fmt.Errorf("open TOTP secret of user %q: %w", row.UserID, err)
	}
	opts := totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1}
	current := now.Unix() / totpPeriod
	var matched int64
	for step := current - totpSkew; step <= current+totpSkew; step++ {
		want, err := totp.GenerateCodeCustom(string(secret), time.Unix(step*totpPeriod, 0), opts)
		if err != nil {
			return 0, false, fmt.Errorf("TOTP code: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && step > row.LastUsedStep {
			matched = step
		}
	}
	return matched, matched != 0, nil
}

// useTOTP accepts code for a confirmed authenticator and records its step,
// so that the same code (or an earlier one) is refused afterwards, even by
// a concurrent request.
func (s *Service) useTOTP(ctx context.Context, userID, code string) (bool, error) {
	conn := storage.Conn(ctx, s.db)
	row, err := s.loadTOTP(ctx, conn, userID)
	if err != nil {
		return false, err
	}
	if row.ConfirmedAt.IsZero() {
		return false, ErrNoSecondFactor
	}
	step, ok, err := s.matchTOTP(row, code, s.clock())
	if err != nil || !ok {
		return false, err
	}
	res, err := conn.NewUpdate().Model((*totpRow)(nil)).
		Set("last_used_step = ?", step).
		Where("user_id = ?", userID).Where("last_used_step < ?", step).
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("record TOTP use: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
