package identity

import (
	"errors"
	"fmt"
	"time"

	"github.com/orgid/orgid/storage"
)

var (
	// ErrInvalidCredentials is the one answer to a failed sign-in: unknown
	// user, wrong password, no password, banned or locked. Callers show one
	// message for all of them so that nobody learns which accounts exist.
	ErrInvalidCredentials = errors.New("invalid credentials")
	// ErrThrottled means too many failed sign-ins for the identifier or the
	// client address; errors.As gives a *ThrottledError with the wait.
	ErrThrottled = errors.New("too many failed sign-in attempts")
	// ErrNoSession means the session token or id names no usable session:
	// unknown, ended, revoked or expired.
	ErrNoSession = errors.New("no active session")
	// ErrEmailTaken and ErrUsernameTaken wrap storage.ErrConflict.
	ErrEmailTaken    = fmt.Errorf("email address is taken: %w", storage.ErrConflict)
	ErrUsernameTaken = fmt.Errorf("username is taken: %w", storage.ErrConflict)
)

// ValidationError names the input field that was refused and says why, in
// words fit to show the user.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

// ThrottledError is ErrThrottled with the time until another attempt may
// succeed (for a Retry-After header).
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v; retry after %v", ErrThrottled, e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }
