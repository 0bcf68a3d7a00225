package account

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/ui"
)

// changePassword sets a new password under the sign-up policy. A user who
// has a password must give it first (ASVS 6.2.3), so that someone who finds
// a signed-in browser cannot take the account over; the check is a sign-in
// attempt, so their guesses count towards the sign-in page's throttle.
// Every other session of the user ends afterwards (ASVS 7.4.3); this one
// stays signed in. The new hash is stored first, in its own transaction
// (argon2id must not run while SQLite's write lock is held), so should
// ending the other sessions fail, the page reports an error and "Sign out
// everywhere else" finishes the job.
func (u *userPages) changePassword(w http.ResponseWriter, r *http.Request) {
	sess, user, ok := u.signedIn(w, r, PathAccount)
	if !ok {
		return
	}
	ctx := r.Context()
	current, next := r.PostFormValue("current_password"), r.PostFormValue("new_password")
	err := func() error {
		switch {
		case user.HasPassword && current == "":
			return refuse("current_password", "account.password.error.current_missing")
		case next == "":
			return refuse("new_password", "account.password.error.new_missing")
		case next != r.PostFormValue("confirm_password"):
			return refuse("confirm_password", "account.password.error.mismatch")
		}
		// The policy first: it costs nothing and uses no attempt.
		if err := identity.CheckPassword(next, user.Email); err != nil {
			return err
		}
		if user.HasPassword {
			if err := u.checkCurrentPassword(ctx, w, r, user, current); err != nil {
				return err
			}
		}
		if err := u.identity.SetPassword(ctx, user.ID, next); err != nil {
			return err
		}
		return u.endOtherSessions(ctx, user.ID, sess.ID)
	}()
	if err != nil {
		u.profileError(w, r, user, err, userProfileView{})
		return
	}
	http.Redirect(w, r, withNotice(PathAccount, noticePasswordChanged), http.StatusSeeOther)
}

// checkCurrentPassword checks password as a sign-in of user would, through
// identity's throttled check (which also records the sign-in).
func (u *userPages) checkCurrentPassword(ctx context.Context, w http.ResponseWriter, r *http.Request, user *identity.User, password string) error {
	got, err := u.identity.Authenticate(ctx, user.Email, password, clientIP(r))
	var throttled *identity.ThrottledError
	switch {
	case errors.As(err, &throttled):
		w.Header().Set("Retry-After", fmt.Sprint(int(math.Ceil(throttled.RetryAfter.Seconds()))))
		minutes := max(int(math.Ceil(throttled.RetryAfter.Minutes())), 1)
		return &pageError{http.StatusTooManyRequests, ui.PluralMsg("common.throttled", minutes)}
	case errors.Is(err, identity.ErrInvalidCredentials):
		return refuse("current_password", "account.password.error.current_wrong")
	case err != nil:
		return err
	case got.ID != user.ID:
		// The email address is unique, so this cannot happen; if it did,
		// the password proved nothing about this user.
		return refuse("current_password", "account.password.error.current_wrong")
	}
	return nil
}

// endOtherSessions ends every session of the user except keepID, as
// revoked (their tokens are revoked and back-channel logout is queued by
// the session-end hooks), in one transaction. Sessions past their timeouts
// that were not yet marked are ended too, so that their refresh tokens go
// now rather than at the next expiry sweep.
func (u *userPages) endOtherSessions(ctx context.Context, userID, keepID string) error {
	err := storage.InTx(ctx, u.db, func(ctx context.Context) error {
		sessions, err := u.identity.ListSessions(ctx, userID, false)
		if err != nil {
			return err
		}
		for _, s := range sessions {
			if s.ID == keepID || s.EndedAt != nil {
				continue
			}
			if err := u.identity.EndSession(ctx, s.ID, identity.EndRevoked); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("end other sessions of user %q: %w", userID, err)
	}
	return nil
}
