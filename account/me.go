package account

import (
	"context"
	"net/http"
	"net/url"

	"github.com/orgid/orgid/internal/clientip"
	"github.com/orgid/orgid/oidc"
)

// The signed-in user's own pages (Clerk's UserProfile): profile, password
// and account deletion on /account, browser sessions on /account/sessions,
// connected applications on /account/applications. Second factors,
// passkeys and the like live under /account/security, which another
// package serves; these pages only link to it.

// Paths of the user's pages.
const (
	PathAccount              = "/account"
	PathAccountProfile       = "/account/profile"
	PathAccountPassword      = "/account/password"
	PathAccountDelete        = "/account/delete"
	PathAccountSecurity      = "/account/security"
	PathAccountSessions      = "/account/sessions"
	PathAccountSignOutOthers = "/account/sessions/revoke-others"
	PathAccountApplications  = "/account/applications"
	PathAccountRemoveApp     = "/account/applications/revoke"
)

// sessionRevokePath is the form that revokes one session.
func sessionRevokePath(sessionID string) string {
	return PathAccountSessions + "/" + url.PathEscape(sessionID) + "/revoke"
}

// Applications are the third-party applications a user allowed, as package
// oidc remembers them; *oidc.Provider satisfies it.
type Applications interface {
	Consents(ctx context.Context, userID string) ([]oidc.Consent, error)
	RevokeApplication(ctx context.Context, userID, clientID string) error
}

var _ Applications = (*oidc.Provider)(nil)

// userPages serves the user's pages. It shares the organization pages'
// collaborators; apps is nil when the session provider keeps no consents
// (then the applications page says so).
type userPages struct {
	*Handler
	apps Applications
}

// newUserPages returns the user's pages. The provider that keeps the
// browser session also remembers consent, so Applications comes from the
// same value as Sessions.
func newUserPages(h *Handler) *userPages {
	apps, _ := h.sessions.(Applications)
	return &userPages{Handler: h, apps: apps}
}

// routes mounts the pages through handle, which guards every route against
// cross-origin posts and names it for metrics.
func (u *userPages) routes(handle func(path, name string, fn http.HandlerFunc, methods ...string)) {
	get, post := http.MethodGet, http.MethodPost
	handle(PathAccount, "account", u.profilePage, get)
	handle(PathAccountProfile, "account_profile_update", u.updateProfile, post)
	handle(PathAccountPassword, "account_password", u.changePassword, post)
	handle(PathAccountDelete, "account_delete", u.deleteAccount, post)
	handle(PathAccountSessions, "account_sessions", u.sessionsPage, get)
	handle(PathAccountSignOutOthers, "account_sessions_revoke_others", u.signOutOthers, post)
	handle(PathAccountSessions+"/{session}/revoke", "account_session_revoke", u.revokeSession, post)
	handle(PathAccountApplications, "account_applications", u.applicationsPage, get)
	handle(PathAccountRemoveApp, "account_application_revoke", u.removeApplication, post)
}

// After a successful form the browser is redirected (303) with
// ?notice=<key>; only these fixed keys are shown (see notices.go).
const (
	noticeProfileSaved      = "profile_saved"
	noticePasswordChanged   = "password_changed"
	noticeSessionRevoked    = "session_revoked"
	noticeOthersSignedOut   = "others_signed_out"
	noticeApplicationRemove = "application_removed"
)

// userNoticeText is the message key (package ui's catalogs) of a notice
// on the user's own pages.
func userNoticeText(key string) string {
	switch key {
	case noticeProfileSaved:
		return "account.notice.profile_saved"
	case noticePasswordChanged:
		return "account.notice.password_changed"
	case noticeSessionRevoked:
		return "account.notice.session_revoked"
	case noticeOthersSignedOut:
		return "account.notice.others_revoked"
	case noticeApplicationRemove:
		return "account.notice.access_removed"
	}
	return ""
}

// userNav is what the navigation of the user's pages shows (each template
// marks its own link as the current page).
type userNav struct {
	Email string
}

// clientIP is the client's address, for the sign-in throttle: the peer,
// or what trusted proxies forwarded (package clientip).
func clientIP(r *http.Request) string { return clientip.From(r) }

// notFoundSession is the answer for a session that is not the user's,
// whether it exists or not.
func (u *userPages) notFoundSession(w http.ResponseWriter, r *http.Request) {
	u.errorPage(w, r, http.StatusNotFound, "account.sessions.not_found", "account.sessions.not_found_message")
}
