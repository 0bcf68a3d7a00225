package account

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/tenancy"
)

// problem is an error the user can read: the HTTP status and a message,
// a key of package ui's catalogs or a ui.Message (translated when the page
// is rendered), or text that is no key (a validation message of identity
// or tenancy), shown as it is.
type problem struct {
	status  int
	message any
}

// pageError is a refusal decided by the pages themselves (a missing
// confirmation, a personal account where none is allowed).
type pageError problem

func (e *pageError) Error() string { return fmt.Sprint(e.message) }

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
		return problem{http.StatusConflict, "org.error.email_taken"}, true
	case errors.Is(err, tenancy.ErrInvalid):
		return problem{http.StatusBadRequest, invalidMessage(err)}, true
	case errors.Is(err, tenancy.ErrForbidden):
		return problem{http.StatusForbidden, "org.error.forbidden"}, true
	case errors.Is(err, tenancy.ErrLastOwner):
		return problem{http.StatusConflict, "org.error.last_owner"}, true
	case errors.Is(err, tenancy.ErrMembershipLimit):
		return problem{http.StatusConflict, "org.error.membership_limit"}, true
	case errors.Is(err, tenancy.ErrAlreadyMember):
		return problem{http.StatusConflict, "org.error.already_member"}, true
	case errors.Is(err, tenancy.ErrSlugTaken):
		return problem{http.StatusConflict, "org.error.slug_taken"}, true
	case errors.Is(err, tenancy.ErrAlreadyInvited):
		return problem{http.StatusConflict, "org.error.already_invited"}, true
	case errors.Is(err, tenancy.ErrInvitationExpired):
		return problem{http.StatusGone, "org.error.invitation_expired"}, true
	case errors.Is(err, tenancy.ErrInvitationRevoked):
		return problem{http.StatusGone, "org.error.invitation_revoked"}, true
	case errors.Is(err, tenancy.ErrInvitationAccepted):
		return problem{http.StatusGone, "org.error.invitation_accepted"}, true
	case errors.Is(err, tenancy.ErrEmailNotVerified):
		return problem{http.StatusForbidden, "org.error.email_not_verified"}, true
	case errors.Is(err, tenancy.ErrEmailMismatch):
		return problem{http.StatusForbidden, "org.error.email_mismatch"}, true
	case errors.Is(err, tenancy.ErrPublicDomain):
		return problem{http.StatusBadRequest, "org.error.public_domain"}, true
	case errors.Is(err, tenancy.ErrDomainLimit):
		return problem{http.StatusConflict, "org.error.domain_limit"}, true
	case errors.Is(err, tenancy.ErrNoVerificationPending):
		return problem{http.StatusBadRequest, "org.error.no_verification_pending"}, true
	case errors.Is(err, tenancy.ErrCodeExpired):
		return problem{http.StatusBadRequest, "org.error.code_expired"}, true
	case errors.Is(err, tenancy.ErrCodeInvalid):
		return problem{http.StatusBadRequest, "org.error.code_invalid"}, true
	case errors.Is(err, tenancy.ErrTooManyAttempts):
		return problem{http.StatusTooManyRequests, "org.error.too_many_attempts"}, true
	case errors.Is(err, tenancy.ErrCodeCooldown):
		return problem{http.StatusTooManyRequests, "org.error.code_cooldown"}, true
	case errors.Is(err, tenancy.ErrMailNotSent):
		return problem{http.StatusBadGateway, "org.error.mail_not_sent"}, true
	case errors.Is(err, storage.ErrNotFound):
		return problem{http.StatusNotFound, "org.error.not_found"}, true
	case errors.Is(err, storage.ErrConflict):
		return problem{http.StatusConflict, "org.error.conflict"}, true
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
		return "error.input_invalid"
	}
	return string(unicode.ToUpper(r)) + msg[size:] + "."
}
