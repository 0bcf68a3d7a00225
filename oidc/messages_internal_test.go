package oidc

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ory/fosite"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/ui"
)

// Go code puts message keys on pages, never English sentences; these
// tables pin which message each outcome shows (the ui package's tests
// check that every key exists in every catalog).

func TestUpstreamErrorMessage(t *testing.T) {
	acme := &identity.IdentityProvider{Name: "Acme SSO"}
	wrap := func(err error) error { return fmt.Errorf("finish upstream sign-in: %w", err) }
	for _, tc := range []struct {
		name       string
		prov       *identity.IdentityProvider
		err        error
		wantStatus int
		want       any
	}{
		{"unverified", acme, wrap(identity.ErrUpstreamEmailUnverified), http.StatusUnauthorized, ui.Msg("sign_in.error.upstream_unverified", "provider", "Acme SSO")},
		{"exists", acme, wrap(identity.ErrUpstreamAccountExists), http.StatusConflict, ui.Msg("sign_in.error.upstream_exists", "provider", "Acme SSO")},
		{"no sign-up", acme, wrap(identity.ErrSignUpDisabled), http.StatusUnauthorized, ui.Msg("sign_in.error.upstream_no_account", "provider", "Acme SSO")},
		{"refused", acme, wrap(identity.ErrInvalidCredentials), http.StatusUnauthorized, "sign_in.error.upstream_refused"},
		{"failed", acme, wrap(identity.ErrUpstreamFailed), http.StatusBadGateway, ui.Msg("sign_in.error.upstream_failed", "provider", "Acme SSO")},
		{"anything else", acme, errors.New("boom"), http.StatusBadGateway, ui.Msg("sign_in.error.upstream_failed", "provider", "Acme SSO")},
		{"provider gone", nil, wrap(identity.ErrUpstreamFailed), http.StatusBadGateway, "sign_in.error.upstream_failed_unknown"},
		{"provider gone, refused", nil, wrap(identity.ErrInvalidCredentials), http.StatusUnauthorized, "sign_in.error.upstream_refused"},
	} {
		status, got := upstreamErrorMessage(tc.prov, tc.err)
		if status != tc.wantStatus {
			t.Errorf("%s: status %d, want %d", tc.name, status, tc.wantStatus)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: message (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestAuthorizeErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  *fosite.RFC6749Error
		want any
	}{
		{"unknown client", fosite.ErrInvalidClient, "error.unregistered_client"},
		{"invalid request", &fosite.RFC6749Error{ErrorField: "invalid_request", CodeField: http.StatusBadRequest}, "error.invalid_app_request"},
		{"invalid request with a hint", fosite.ErrInvalidRequest.WithHint("The nonce is too short."),
			ui.Msg("error.invalid_app_request_detail", "detail", "The nonce is too short.")},
		// Other protocol errors show their own description, under the
		// error code.
		{"other", fosite.ErrUnsupportedResponseType, fosite.ErrUnsupportedResponseType.DescriptionField},
	} {
		if diff := cmp.Diff(tc.want, authorizeErrorMessage(tc.err)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestScopeDescriptionsAreKeys(t *testing.T) {
	got := describeScopes([]string{"openid", "profile", "email", "address", "phone", "offline_access", ScopeOrganization, "billing:read"})
	want := []string{"scope.openid", "scope.profile", "scope.email", "scope.address", "scope.phone", "scope.offline_access", "scope.organization", "billing:read"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("describeScopes (-want +got):\n%s", diff)
	}
}

func TestSecurityNoticesAreFixed(t *testing.T) {
	for notice, want := range map[string]string{
		"totp-disabled": "security.notice.totp_removed", "passkey-added": "security.notice.passkey_added",
		"passkey-removed": "security.notice.passkey_removed", "connected": "security.notice.connected",
		"disconnected": "security.notice.disconnected",
		// Anything else shows nothing: a link cannot put words on the page.
		"": "", "security.notice.connected": "", "<b>hi</b>": "",
	} {
		if got := securityNotice(notice); got != want {
			t.Errorf("securityNotice(%q) = %q, want %q", notice, got, want)
		}
	}
}
