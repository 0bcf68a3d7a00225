package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/templates"
	"github.com/orgid/orgid/tenancy"
	"github.com/orgid/orgid/webhook"
)

// ErrorsJSON is the body of every error response, in Clerk's envelope.
type ErrorsJSON struct {
	Errors []ErrorJSON `json:"errors" required:"true"`
	// ClerkTraceID is the request id (X-Request-Id), for support.
	ClerkTraceID string `json:"clerk_trace_id" required:"true" doc:"The request id (also in the X-Request-Id header)."`
}

// ErrorJSON is one error.
type ErrorJSON struct {
	Code        string         `json:"code" required:"true" doc:"Stable, machine-readable code, e.g. form_param_missing."`
	Message     string         `json:"message" required:"true" doc:"Short text."`
	LongMessage string         `json:"long_message" required:"true" doc:"Full explanation for people."`
	Meta        map[string]any `json:"meta" required:"true" doc:"param_name names the refused parameter when there is one."`
}

// apiError is an error the API answers with: a status and one or more
// error objects. cause, when set, is logged and never shown.
type apiError struct {
	status     int
	errs       []ErrorJSON
	retryAfter time.Duration
	cause      error
}

func (e *apiError) Error() string {
	if len(e.errs) == 0 {
		return http.StatusText(e.status)
	}
	return e.errs[0].Code + ": " + e.errs[0].LongMessage
}

func (e *apiError) Unwrap() error { return e.cause }

// newError builds a one-error apiError; param, when not empty, goes into
// meta.param_name.
func newError(status int, code, message, long, param string) *apiError {
	meta := map[string]any{}
	if param != "" {
		meta["param_name"] = param
	}
	return &apiError{status: status, errs: []ErrorJSON{{Code: code, Message: message, LongMessage: long, Meta: meta}}}
}

// Request-shape errors (400).
func errMissing(param string) *apiError {
	return newError(http.StatusBadRequest, "form_param_missing", param+" is missing",
		fmt.Sprintf("%s must be included.", param), param)
}

func errUnknownParam(param string) *apiError {
	return newError(http.StatusBadRequest, "form_param_unknown", param+" is not a valid parameter",
		fmt.Sprintf("%s is not a valid parameter for this request.", param), param)
}

func errFormat(param, long string) *apiError {
	return newError(http.StatusBadRequest, "form_param_format_invalid", param+" is invalid", long, param)
}

// errRefused is a value the owning package refused (422).
func errRefused(param, long string) *apiError {
	msg := "is invalid"
	if param != "" {
		msg = param + " is invalid"
	}
	return newError(http.StatusUnprocessableEntity, "form_param_format_invalid", msg, long, param)
}

var (
	errUnauthenticated = newError(http.StatusUnauthorized, "authentication_invalid", "Invalid authentication",
		"Unable to authenticate the request: send an active secret key as Authorization: Bearer sk_live_….", "")
	errNotFound = newError(http.StatusNotFound, "resource_not_found", "not found",
		"The requested resource was not found.", "")
	errMethod = newError(http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed",
		"This resource does not support the request's method.", "")
	errInternal = newError(http.StatusInternalServerError, "internal_server_error", "Internal error",
		"The request could not be completed. Try again; if it keeps failing, report the trace id.", "")
)

func errThrottled(retryAfter time.Duration) *apiError {
	e := newError(http.StatusTooManyRequests, "too_many_requests", "Too many requests",
		"Too many failed authentications from this address; wait before trying again.", "")
	e.retryAfter = retryAfter
	return e
}

// toAPIError maps an error from a handler or an owning package to what the
// client sees. Internal errors keep their cause for the log only.
func toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var idv *identity.ValidationError
	if errors.As(err, &idv) {
		return errRefused(idv.Field, idv.Message)
	}
	var cv *oidc.ValidationError
	if errors.As(err, &cv) {
		return errRefused(cv.Field, cv.Message)
	}
	var tv *templates.ValidationError
	if errors.As(err, &tv) {
		e := &apiError{status: http.StatusUnprocessableEntity}
		for _, p := range tv.Errors {
			meta := map[string]any{"param_name": p.Path}
			if p.Column > 0 {
				meta["column"] = p.Column
			}
			e.errs = append(e.errs, ErrorJSON{Code: "form_param_format_invalid", Message: p.Path + " is invalid", LongMessage: p.String(), Meta: meta})
		}
		if len(e.errs) == 0 {
			return errRefused("", "The template is invalid.")
		}
		return e
	}
	conflict := func(code, param, long string) *apiError {
		return newError(http.StatusConflict, code, "conflict", long, param)
	}
	forbidden := func(long string) *apiError {
		return newError(http.StatusForbidden, "resource_forbidden", "not allowed", long, "")
	}
	switch {
	case errors.Is(err, identity.ErrEmailTaken):
		return conflict("form_identifier_exists", "email_address", "That email address is taken.")
	case errors.Is(err, identity.ErrUsernameTaken):
		return conflict("form_identifier_exists", "username", "That username is taken.")
	case errors.Is(err, tenancy.ErrSlugTaken):
		return conflict("form_identifier_exists", "slug", "That organization slug is taken.")
	case errors.Is(err, tenancy.ErrAlreadyMember):
		return conflict("already_a_member_in_organization", "user_id", "The user is already a member of the organization.")
	case errors.Is(err, tenancy.ErrAlreadyInvited):
		return conflict("duplicate_record", "email_address", "A pending invitation for this email address exists.")
	case errors.Is(err, tenancy.ErrLastOwner):
		return conflict("organization_minimum_owners", "", "An organization must keep at least one owner: make another member an owner first.")
	case errors.Is(err, tenancy.ErrMembershipLimit):
		return conflict("organization_membership_quota_exceeded", "", "The organization has reached its maximum number of members.")
	case errors.Is(err, rbac.ErrRoleInUse):
		return conflict("role_in_use", "", "The role is assigned to members or pending invitations: reassign them first.")
	case errors.Is(err, tenancy.ErrInvitationAccepted), errors.Is(err, tenancy.ErrInvitationRevoked), errors.Is(err, tenancy.ErrInvitationExpired):
		return conflict("organization_invitation_not_pending", "", "The invitation is no longer pending: "+messageOf(err)+".")
	case errors.Is(err, rbac.ErrSystem):
		return forbidden("System roles and permissions cannot be changed this way.")
	case errors.Is(err, templates.ErrPreset):
		return forbidden("Built-in templates cannot be changed or deleted, and their names cannot be taken.")
	case errors.Is(err, tenancy.ErrForbidden):
		return forbidden("The operation is not allowed.")
	case errors.Is(err, tenancy.ErrInvalid): // also rbac.ErrInvalid
		return errRefused("", detail(err, tenancy.ErrInvalid))
	case errors.Is(err, webhook.ErrInvalid):
		return errRefused("", detail(err, webhook.ErrInvalid))
	case errors.Is(err, templates.ErrInvalid), errors.Is(err, templates.ErrTooLarge):
		return errRefused("", "The template is invalid: "+messageOf(err)+".")
	case errors.Is(err, identity.ErrThrottled):
		return newError(http.StatusTooManyRequests, "too_many_requests", "Too many requests", "Too many attempts; wait before trying again.", "")
	case errors.Is(err, storage.ErrNotFound):
		return errNotFound
	case errors.Is(err, storage.ErrConflict), storage.IsSerializationFailure(err):
		return conflict("duplicate_record", "", "The change conflicts with an existing record or a concurrent change.")
	}
	e := *errInternal
	e.cause = err
	return &e
}

// sentinelMessages are the texts of the sentinel errors messageOf looks for.
var sentinelMessages = []error{
	tenancy.ErrInvitationAccepted, tenancy.ErrInvitationRevoked, tenancy.ErrInvitationExpired,
	templates.ErrInvalid, templates.ErrTooLarge,
}

// messageOf returns the text of the first known sentinel err wraps.
func messageOf(err error) string {
	for _, s := range sentinelMessages {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "invalid"
}

// detail returns what an owning package said after its sentinel: for
// "update organization: invalid: slug must be …" it returns "slug must be …".
// Those packages write these texts for people; the wrapping context before
// the sentinel, which may name internals, is dropped.
func detail(err error, sentinel error) string {
	s := err.Error()
	marker := sentinel.Error() + ": "
	if i := strings.LastIndex(s, marker); i >= 0 {
		if d := strings.TrimSpace(s[i+len(marker):]); d != "" {
			return d
		}
	}
	return "The request is invalid."
}

// retryAfterHeader formats a wait for Retry-After, in whole seconds (at
// least one).
func retryAfterHeader(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}
