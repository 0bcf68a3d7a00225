package account

import (
	"errors"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/tenancy"
)

// problem is an error the user can read: the HTTP status and a message.
type problem struct {
	status  int
	message string
}

// pageError is a refusal decided by the pages themselves (a missing
// confirmation, a personal account where none is allowed).
type pageError problem

func (e *pageError) Error() string { return e.message }

// explain maps the sentinel errors of tenancy, identity and storage to a
// status and a message fit to show. ok is false for anything else: an
// internal error whose detail must not reach the page.
func explain(err error) (p problem, ok bool) {
	var page *pageError
	var invalid *identity.ValidationError
	switch {
	case errors.As(err, &page):
		return problem{page.status, page.message}, true
	case errors.As(err, &invalid):
		return problem{http.StatusBadRequest, invalid.Message}, true
	case errors.Is(err, identity.ErrEmailTaken):
		return problem{http.StatusConflict, "An account with this email address already exists. Sign in to continue."}, true
	case errors.Is(err, tenancy.ErrInvalid):
		return problem{http.StatusBadRequest, invalidMessage(err)}, true
	case errors.Is(err, tenancy.ErrForbidden):
		return problem{http.StatusForbidden, "You do not have permission to do that in this organization."}, true
	case errors.Is(err, tenancy.ErrLastOwner):
		return problem{http.StatusConflict, "An organization must keep at least one owner. Make someone else an owner first."}, true
	case errors.Is(err, tenancy.ErrMembershipLimit):
		return problem{http.StatusConflict, "The organization has reached its maximum number of members."}, true
	case errors.Is(err, tenancy.ErrAlreadyMember):
		return problem{http.StatusConflict, "That person is already a member of the organization."}, true
	case errors.Is(err, tenancy.ErrSlugTaken):
		return problem{http.StatusConflict, "That slug is taken. Choose another one."}, true
	case errors.Is(err, tenancy.ErrAlreadyInvited):
		return problem{http.StatusConflict, "A pending invitation for this email address exists already."}, true
	case errors.Is(err, tenancy.ErrInvitationExpired):
		return problem{http.StatusGone, "This invitation has expired. Ask for a new one."}, true
	case errors.Is(err, tenancy.ErrInvitationRevoked):
		return problem{http.StatusGone, "This invitation was revoked."}, true
	case errors.Is(err, tenancy.ErrInvitationAccepted):
		return problem{http.StatusGone, "This invitation was already accepted."}, true
	case errors.Is(err, tenancy.ErrEmailNotVerified):
		return problem{http.StatusForbidden, "Your email address is not verified. Verify it, then open the invitation again."}, true
	case errors.Is(err, tenancy.ErrEmailMismatch):
		return problem{http.StatusForbidden, "This invitation was sent to another email address."}, true
	case errors.Is(err, tenancy.ErrPublicDomain):
		return problem{http.StatusBadRequest, "Public email domains (such as gmail.com) cannot be added to an organization."}, true
	case errors.Is(err, tenancy.ErrDomainLimit):
		return problem{http.StatusConflict, "The organization has the maximum number of domains."}, true
	case errors.Is(err, tenancy.ErrNoVerificationPending):
		return problem{http.StatusBadRequest, "No verification code is pending for this domain. Send one first."}, true
	case errors.Is(err, tenancy.ErrCodeExpired):
		return problem{http.StatusBadRequest, "The verification code has expired. Send a new one."}, true
	case errors.Is(err, tenancy.ErrCodeInvalid):
		return problem{http.StatusBadRequest, "The verification code is wrong."}, true
	case errors.Is(err, tenancy.ErrTooManyAttempts):
		return problem{http.StatusTooManyRequests, "Too many wrong codes. Send a new code."}, true
	case errors.Is(err, tenancy.ErrCodeCooldown):
		return problem{http.StatusTooManyRequests, "A code was sent moments ago. Wait a little before asking for another."}, true
	case errors.Is(err, tenancy.ErrMailNotSent):
		return problem{http.StatusBadGateway, "The email could not be sent. Try again later."}, true
	case errors.Is(err, storage.ErrNotFound):
		return problem{http.StatusNotFound, "It does not exist, or you cannot see it."}, true
	case errors.Is(err, storage.ErrConflict):
		return problem{http.StatusConflict, "Someone changed this at the same time. Reload the page and try again."}, true
	}
	return problem{}, false
}

// invalidMessage turns "…: invalid: slug \"x\" must be …" into "Slug \"x\"
// must be …": tenancy's ErrInvalid messages say which rule broke, after the
// sentinel's own text.
func invalidMessage(err error) string {
	msg := err.Error()
	marker := tenancy.ErrInvalid.Error() + ": "
	if i := strings.LastIndex(msg, marker); i >= 0 {
		msg = msg[i+len(marker):]
	}
	r, size := utf8.DecodeRuneInString(msg)
	if msg == "" || r == utf8.RuneError {
		return "The input is not valid."
	}
	return string(unicode.ToUpper(r)) + msg[size:] + "."
}
