package identity

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/storage"
)

// Email codes: 6 digits (ASVS 6.5.5: out-of-band codes live at most 10
// minutes), a few tries each, one resend per cooldown.
const (
	CodeLifetime       = 10 * time.Minute
	MaxCodeAttempts    = 5
	CodeResendCooldown = 30 * time.Second
)

// Verification purposes.
const (
	VerifySignUp = "sign_up"
	VerifyEmail  = "verify_email"
)

// EmailVerification is a code mailed to an address, waiting to be entered.
type EmailVerification struct {
	// ID is the handle the browser carries to the code page; only its
	// keyed hash is stored. Empty when read back by handle.
	ID string
	// Purpose is VerifySignUp or VerifyEmail.
	Purpose string
	Email   string
	// UserID is the user whose address is verified; "" for a sign-up.
	UserID string
	// Code is the 6-digit code to mail to Email. It is set only by the
	// calls that create or resend a code, and is "" when AccountExists.
	Code string
	// AccountExists: a sign-up for an address that already has an account.
	// Mail its owner a notice instead of a code and show the same page as
	// for any sign-up; no code completes it.
	AccountExists bool
	// ExpiresAt ends the code; ResendAfter is when another may be sent.
	ExpiresAt   time.Time
	ResendAfter time.Time
	// AttemptsLeft is how many codes may still be tried.
	AttemptsLeft int
}

// verificationRow is the email_verifications table.
type verificationRow struct {
	bun.BaseModel `bun:"table:email_verifications"`

	IDHash          string    `bun:"id_hash,pk"`
	Purpose         string    `bun:"purpose"`
	UserID          string    `bun:"user_id,nullzero"`
	Email           string    `bun:"email"`
	EmailNormalized string    `bun:"email_normalized"`
	AccountExists   bool      `bun:"account_exists"`
	SignUp          string    `bun:"sign_up"`
	CodeHash        string    `bun:"code_hash"`
	BindingHash     string    `bun:"binding_hash"`
	Attempts        int       `bun:"attempts"`
	SentAt          time.Time `bun:"sent_at"`
	ExpiresAt       time.Time `bun:"expires_at"`
	CreatedAt       time.Time `bun:"created_at"`
}

func (r *verificationRow) toVerification(id, code string) *EmailVerification {
	return &EmailVerification{
		ID: id, Purpose: r.Purpose, Email: r.Email, UserID: r.UserID, Code: code,
		AccountExists: r.AccountExists,
		ExpiresAt:     utc(r.ExpiresAt), ResendAfter: utc(r.SentAt).Add(CodeResendCooldown),
		AttemptsLeft: max(MaxCodeAttempts-r.Attempts, 0),
	}
}

// pendingSignUp is what a sign-up keeps until its code is entered.
type pendingSignUp struct {
	FirstName    string `json:"first_name,omitempty"`
	LastName     string `json:"last_name,omitempty"`
	PasswordHash string `json:"password_hash,omitempty"`
}

// newCode returns 6 random decimal digits.
func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic("identity: crypto/rand failed: " + err.Error())
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// codeHash binds a code to its verification, so that a code is worth
// nothing for another one.
func (s *Service) codeHash(idHash, code string) string {
	return s.keys.Hash("orgid/email-code:" + idHash + ":" + code)
}

// bindingHash is the stored form of a browser binding.
func (s *Service) bindingHash(binding string) string {
	return s.keys.Hash("orgid/binding:" + binding)
}

// errNoBinding guards a wiring mistake: every browser-bound step needs one.
var errNoBinding = errors.New("identity: a browser binding is required")

// newVerification inserts a verification row and returns it with its
// handle and code.
func (s *Service) newVerification(ctx context.Context, row *verificationRow, binding string) (*EmailVerification, error) {
	if binding == "" {
		return nil, errNoBinding
	}
	now := s.clock()
	id := secret.Token("")
	code := newCode()
	row.IDHash = s.keys.Hash("orgid/email-verification:" + id)
	row.CodeHash = s.codeHash(row.IDHash, code)
	row.BindingHash = s.bindingHash(binding)
	row.SentAt, row.CreatedAt, row.ExpiresAt = now, now, now.Add(CodeLifetime)
	if row.SignUp == "" {
		row.SignUp = "{}"
	}
	if _, err := storage.Conn(ctx, s.db).NewInsert().Model(row).Exec(ctx); err != nil {
		return nil, fmt.Errorf("store email verification: %w", err)
	}
	if row.AccountExists {
		code = ""
	}
	return row.toVerification(id, code), nil
}

// StartEmailVerification mails a new code to the unverified address of a
// user (the caller sends EmailVerification.Code), bound to the browser.
// A verified address gives ErrAlreadyVerified; too many mails to the
// address or from clientIP a *ThrottledError.
func (s *Service) StartEmailVerification(ctx context.Context, userID, binding, clientIP string) (*EmailVerification, error) {
	u, err := s.GetUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("start email verification: %w", err)
	}
	if u.EmailVerified {
		return nil, ErrAlreadyVerified
	}
	if err := s.spend(ctx, s.mailLimits(u.Email, clientIP)...); err != nil {
		return nil, err
	}
	return s.newVerification(ctx, &verificationRow{
		Purpose: VerifyEmail, UserID: u.ID, Email: u.Email, EmailNormalized: normalizeEmail(u.Email),
	}, binding)
}

// loadVerification finds the pending verification of handle id for this
// browser.
func (s *Service) loadVerification(ctx context.Context, id, binding string) (*verificationRow, error) {
	if id == "" || binding == "" {
		return nil, ErrVerificationNotFound
	}
	row := new(verificationRow)
	err := storage.Conn(ctx, s.db).NewSelect().Model(row).
		Where("id_hash = ?", s.keys.Hash("orgid/email-verification:"+safeText(id))).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrVerificationNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load email verification: %w", err)
	}
	if !secret.Equal(row.BindingHash, s.bindingHash(binding)) {
		return nil, ErrVerificationNotFound
	}
	return row, nil
}

// PendingEmailVerification returns the verification of handle id started
// in this browser (without its code), for showing the code page.
func (s *Service) PendingEmailVerification(ctx context.Context, id, binding string) (*EmailVerification, error) {
	row, err := s.loadVerification(ctx, id, binding)
	if err != nil {
		return nil, err
	}
	return row.toVerification(id, ""), nil
}

// ResendEmailVerification replaces the code of a pending verification
// with a new one, restarting its lifetime and attempts. Within
// CodeResendCooldown of the last code, or past the mail limits, it gives a
// *ThrottledError.
func (s *Service) ResendEmailVerification(ctx context.Context, id, binding, clientIP string) (*EmailVerification, error) {
	row, err := s.loadVerification(ctx, id, binding)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	if wait := row.SentAt.Add(CodeResendCooldown).Sub(now); wait > 0 {
		return nil, &ThrottledError{RetryAfter: wait}
	}
	if err := s.spend(ctx, s.mailLimits(row.Email, clientIP)...); err != nil {
		return nil, err
	}
	code := newCode()
	// The sent_at condition lets one of two concurrent resends win.
	res, err := storage.Conn(ctx, s.db).NewUpdate().Model((*verificationRow)(nil)).
		Set("code_hash = ?", s.codeHash(row.IDHash, code)).
		Set("attempts = 0").
		Set("sent_at = ?", now).
		Set("expires_at = ?", now.Add(CodeLifetime)).
		Where("id_hash = ?", row.IDHash).Where("sent_at = ?", row.SentAt).
		Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("resend email verification: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, &ThrottledError{RetryAfter: CodeResendCooldown}
	}
	row.SentAt, row.ExpiresAt, row.Attempts = now, now.Add(CodeLifetime), 0
	if row.AccountExists {
		code = ""
	}
	return row.toVerification(id, code), nil
}

// CompleteEmailVerification checks code against the pending verification
// of handle id in this browser. For a sign-up it creates the user, email
// verified (created is true; "user.created" is recorded); otherwise it
// marks the user's address verified ("user.updated"). A wrong code gives a
// *CodeError (errors.Is ErrCodeInvalid) and counts against the
// verification and against clientIP's failure limit; then ErrCodeExpired
// or ErrTooManyAttempts say that a new code is needed. A verification is
// used at most once, even by concurrent requests.
func (s *Service) CompleteEmailVerification(ctx context.Context, id, binding, code, clientIP string) (user *User, created bool, err error) {
	ipKey := ""
	if clientIP != "" {
		ipKey = s.ipKey(clientIP)
	}
	if err := s.checkThrottle(ctx, s.db, s.clock(), ipKey); err != nil {
		return nil, false, err
	}
	row, err := s.loadVerification(ctx, id, binding)
	if err != nil {
		return nil, false, err
	}
	now := s.clock()
	if !now.Before(row.ExpiresAt) {
		return nil, false, ErrCodeExpired
	}
	// Reserve an attempt first: of concurrent guesses no more than
	// MaxCodeAttempts are ever compared.
	res, err := s.db.NewUpdate().Model((*verificationRow)(nil)).
		Set("attempts = attempts + 1").
		Where("id_hash = ?", row.IDHash).Where("attempts < ?", MaxCodeAttempts).
		Exec(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("verify email: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, false, ErrTooManyAttempts
	}
	code = strings.TrimSpace(code)
	if row.AccountExists || !secret.Equal(s.codeHash(row.IDHash, code), row.CodeHash) {
		if err := s.recordFailure(ctx, s.db, now, ipKey); err != nil {
			return nil, false, err
		}
		return nil, false, &CodeError{Remaining: max(MaxCodeAttempts-row.Attempts-1, 0)}
	}

	err = storage.InTx(ctx, s.db, func(ctx context.Context) error {
		conn := storage.Conn(ctx, s.db)
		// Deleting decides concurrent correct codes: one request deletes.
		res, err := conn.NewDelete().Model((*verificationRow)(nil)).Where("id_hash = ?", row.IDHash).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrVerificationNotFound
		}
		switch row.Purpose {
		case VerifySignUp:
			user, err = s.completeSignUp(ctx, row)
			created = err == nil
			return err
		default:
			user, err = s.markEmailVerified(ctx, row.UserID, row.EmailNormalized)
			return err
		}
	})
	if err != nil {
		return nil, false, fmt.Errorf("verify email: %w", err)
	}
	return user, created, nil
}

// completeSignUp creates the user of a pending sign-up.
func (s *Service) completeSignUp(ctx context.Context, row *verificationRow) (*User, error) {
	var p pendingSignUp
	if err := json.Unmarshal([]byte(row.SignUp), &p); err != nil {
		return nil, fmt.Errorf("pending sign-up: %w", err)
	}
	nu, err := s.newUserRow(NewUser{Email: row.Email, FirstName: p.FirstName, LastName: p.LastName, EmailVerified: true})
	if err != nil {
		return nil, err
	}
	nu.PasswordHash = p.PasswordHash
	return s.insertUser(ctx, nu)
}

// markEmailVerified marks the user's address verified, provided it is
// still the address the code was sent to.
func (s *Service) markEmailVerified(ctx context.Context, userID, emailNormalized string) (*User, error) {
	var changed bool
	u, err := s.changeUserIf(ctx, userID, "verify email", func(row *userRow) (bool, error) {
		if row.EmailNormalized != emailNormalized {
			return false, ErrVerificationNotFound
		}
		changed = !row.EmailVerified
		row.EmailVerified = true
		return changed, nil
	}, "email_verified")
	return u, err
}

// changeUserIf is changeUser for a change that may decide it has nothing
// to do (no write, no event) or must fail.
func (s *Service) changeUserIf(ctx context.Context, userID, what string, change func(row *userRow) (bool, error), columns ...string) (*User, error) {
	var u *User
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		conn := storage.Conn(ctx, s.db)
		row, err := s.loadUserRow(ctx, conn, true, "id = ?", userID)
		if err != nil {
			return err
		}
		write, err := change(row)
		if err != nil {
			return err
		}
		if !write {
			u, err = row.toUser(s.clock())
			return err
		}
		row.UpdatedAt = s.clock()
		if _, err := conn.NewUpdate().Model(row).Column(append(columns, "updated_at")...).WherePK().Exec(ctx); err != nil {
			return err
		}
		if u, err = row.toUser(row.UpdatedAt); err != nil {
			return err
		}
		return s.emit(ctx, "user.updated", u.JSON())
	})
	if err != nil {
		return nil, fmt.Errorf("%s for user %q: %w", what, userID, err)
	}
	return u, nil
}

// PruneExpired deletes what only lives a short while once it is over:
// email verifications, emailed links (expired or used), sign-ins waiting
// for a second factor, passkey challenges and upstream sign-ins, and returns how many rows went. Run it now
// and then; such rows are refused anyway.
func (s *Service) PruneExpired(ctx context.Context) (int, error) {
	now := s.clock()
	conn := storage.Conn(ctx, s.db)
	res, err := conn.NewDelete().Model((*verificationRow)(nil)).Where("expires_at <= ?", now).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune email verifications: %w", err)
	}
	n1, _ := res.RowsAffected()
	res, err = conn.NewDelete().Model((*linkRow)(nil)).
		WhereGroup(" AND ", func(q *bun.DeleteQuery) *bun.DeleteQuery {
			return q.Where("expires_at <= ?", now).WhereOr("used_at IS NOT NULL")
		}).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune emailed links: %w", err)
	}
	n2, _ := res.RowsAffected()
	res, err = conn.NewDelete().Model((*pendingSignInRow)(nil)).Where("expires_at <= ?", now).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune pending sign-ins: %w", err)
	}
	n3, _ := res.RowsAffected()
	res, err = conn.NewDelete().Model((*challengeRow)(nil)).Where("expires_at <= ?", now).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune passkey challenges: %w", err)
	}
	n4, _ := res.RowsAffected()
	res, err = conn.NewDelete().Model((*upstreamLoginRow)(nil)).Where("expires_at <= ?", now).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune upstream sign-ins: %w", err)
	}
	n5, _ := res.RowsAffected()
	return int(n1 + n2 + n3 + n4 + n5), nil
}
