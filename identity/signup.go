package identity

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/orgid/orgid/storage"
)

// SignUpRequest is what the hosted sign-up form collects.
type SignUpRequest struct {
	Email     string
	Password  string
	FirstName string
	LastName  string
	// Binding ties the pending sign-up to the browser that started it.
	Binding string
	// ClientIP is counted against the sign-up and mail limits.
	ClientIP string
}

// StartSignUp validates a sign-up and keeps it pending until the code
// mailed to the address is entered (CompleteEmailVerification creates the
// user then). The password is checked against the policy and hashed now,
// so that the code step needs no password again.
//
// For an address that already has an account the answer is the same
// (a pending sign-up with AccountExists set, no code), and costs the same
// (the password is hashed either way): the caller mails the owner a notice
// instead of a code, and nobody learns from the page whether the address
// has an account.
//
// Bad input gives a *ValidationError; too many sign-ups from clientIP, or
// mails to the address, a *ThrottledError.
func (s *Service) StartSignUp(ctx context.Context, req SignUpRequest) (*EmailVerification, error) {
	if req.Binding == "" {
		return nil, errNoBinding
	}
	row, err := s.newUserRow(NewUser{Email: req.Email, FirstName: req.FirstName, LastName: req.LastName})
	if err != nil {
		return nil, err
	}
	if err := CheckPassword(req.Password, req.Email); err != nil {
		return nil, err
	}
	limits := s.mailLimits(row.Email, req.ClientIP)
	if req.ClientIP != "" {
		limits = append(limits, rateLimit{s.limitKey(signUpIPKeyPrefix, ipBucket(req.ClientIP)), s.throttle.MaxSignUpsPerIP})
	}
	if err := s.spend(ctx, limits...); err != nil {
		return nil, err
	}
	hash, err := s.hashPassword(ctx, req.Password)
	if err != nil {
		return nil, fmt.Errorf("start sign-up: %w", err)
	}
	exists, err := storage.Conn(ctx, s.db).NewSelect().Model((*userRow)(nil)).
		Where("email_normalized = ?", row.EmailNormalized).Exists(ctx)
	if err != nil {
		return nil, fmt.Errorf("start sign-up: %w", err)
	}
	pending := "{}"
	if !exists {
		b, err := json.Marshal(pendingSignUp{FirstName: row.FirstName, LastName: row.LastName, PasswordHash: hash})
		if err != nil {
			return nil, err
		}
		pending = string(b)
	}
	return s.newVerification(ctx, &verificationRow{
		Purpose: VerifySignUp, Email: row.Email, EmailNormalized: row.EmailNormalized,
		AccountExists: exists, SignUp: pending,
	}, req.Binding)
}
