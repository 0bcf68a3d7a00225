package identity

import (
	"errors"
	"fmt"
)

var (
	// ErrVerificationNotFound means the handle names no pending email
	// verification for this browser: unknown, finished, expired past
	// clean-up, or started in another browser. Start again.
	ErrVerificationNotFound = errors.New("no pending email verification")
	// ErrCodeInvalid is a wrong code; errors.As gives a *CodeError with the
	// attempts left.
	ErrCodeInvalid = errors.New("incorrect code")
	// ErrCodeExpired means the code's lifetime ended: send a new one.
	ErrCodeExpired = errors.New("the code has expired")
	// ErrTooManyAttempts means the code allowed no more tries: send a new
	// one (email codes) or sign in again (second factor).
	ErrTooManyAttempts = errors.New("too many incorrect codes")
	// ErrAlreadyVerified is StartEmailVerification for a verified address.
	ErrAlreadyVerified = errors.New("email address is already verified")
	// ErrLinkInvalid is the one answer for an emailed link that is unknown,
	// used or expired.
	ErrLinkInvalid = errors.New("the link is invalid or has expired")
	// ErrLinkOtherBrowser is a magic link opened in a browser other than the
	// one that asked for it; the link stays usable there.
	ErrLinkOtherBrowser = errors.New("the link was requested in another browser")
	// ErrNoPendingSignIn means the half-finished sign-in awaiting a second
	// factor is unknown, expired, finished or another browser's.
	ErrNoPendingSignIn = errors.New("no sign-in is waiting for a second factor")
	// ErrNoSecondFactor is a second-factor operation for a user without one.
	ErrNoSecondFactor = errors.New("no second factor is enrolled")
)

// CodeError is ErrCodeInvalid with the number of attempts left.
type CodeError struct {
	Remaining int
}

func (e *CodeError) Error() string {
	return fmt.Sprintf("%v (%d attempts left)", ErrCodeInvalid, e.Remaining)
}

// Is makes errors.Is(err, ErrCodeInvalid) true.
func (e *CodeError) Is(target error) bool { return target == ErrCodeInvalid }
