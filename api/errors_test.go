package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/templates"
	"github.com/orgid/orgid/tenancy"
	"github.com/orgid/orgid/webhook"
)

func TestToAPIError(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		code   string
		param  string
		long   string // a substring of long_message
	}{
		{&identity.ValidationError{Field: "username", Message: "Too short."}, 422, "form_param_format_invalid", "username", "Too short."},
		{fmt.Errorf("create user: %w", identity.ErrEmailTaken), 409, "form_identifier_exists", "email_address", ""},
		{fmt.Errorf("x: %w", tenancy.ErrSlugTaken), 409, "form_identifier_exists", "slug", ""},
		{fmt.Errorf("update organization: %w: image_url %q must be an absolute http(s) URL", tenancy.ErrInvalid, "x"), 422, "form_param_format_invalid", "", `image_url "x" must be`},
		{fmt.Errorf("create role: %w", rbac.ErrRoleInUse), 409, "role_in_use", "", ""},
		{fmt.Errorf("delete role: %w", rbac.ErrSystem), 403, "resource_forbidden", "", ""},
		{fmt.Errorf("update: %w", templates.ErrPreset), 403, "resource_forbidden", "", ""},
		{&templates.ValidationError{Errors: []templates.Error{{Path: "claims.a", Column: 3, Message: "unknown shortcode"}}}, 422, "form_param_format_invalid", "claims.a", "unknown shortcode"},
		{fmt.Errorf("create endpoint: %w: url has no host", webhook.ErrInvalid), 422, "form_param_format_invalid", "", "url has no host"},
		{fmt.Errorf("revoke: %w", tenancy.ErrInvitationRevoked), 409, "organization_invitation_not_pending", "", "revoked"},
		{fmt.Errorf("x: %w", tenancy.ErrLastOwner), 409, "organization_minimum_owners", "", ""},
		{fmt.Errorf("load user %q: %w", "user_x", storage.ErrNotFound), 404, "resource_not_found", "", ""},
		{fmt.Errorf("rotate: %w", storage.ErrConflict), 409, "duplicate_record", "", ""},
		{errors.New(`pq: relation "secret_table" does not exist`), 500, "internal_server_error", "", ""},
	} {
		t.Run(tc.err.Error(), func(t *testing.T) {
			ae := toAPIError(tc.err)
			if ae.status != tc.status || ae.errs[0].Code != tc.code {
				t.Fatalf("got %d %s, want %d %s", ae.status, ae.errs[0].Code, tc.status, tc.code)
			}
			if got, _ := ae.errs[0].Meta["param_name"].(string); got != tc.param {
				t.Errorf("param_name %q, want %q", got, tc.param)
			}
			if !strings.Contains(ae.errs[0].LongMessage, tc.long) {
				t.Errorf("long_message %q, want it to contain %q", ae.errs[0].LongMessage, tc.long)
			}
			if tc.status == http.StatusInternalServerError {
				if strings.Contains(ae.errs[0].LongMessage, "secret_table") || ae.cause == nil {
					t.Errorf("internal error: %+v; want no detail shown and the cause kept for the log", ae)
				}
			}
		})
	}
	if errInternal.cause != nil {
		t.Error("toAPIError modified the shared internal error")
	}
}
