package account

import (
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/ui"
)

// stamp is a moment as the pages show it, with its machine-readable form
// for <time datetime>.
type stamp struct{ Text, ISO string }

// stampOf is t written the way lang, the page's language, writes moments.
func stampOf(lang string, t time.Time) stamp {
	return stamp{Text: ui.FormatDateTime(lang, t), ISO: t.UTC().Format(time.RFC3339)}
}

// sessionItem is one row of account-sessions.html.
type sessionItem struct {
	ID, IP string
	// Device is describeDevice's message.
	Device              any
	Created, LastActive stamp
	Current             bool
	RevokePath          string
}

// userSessionsView is the data of account-sessions.html.
type userSessionsView struct {
	Nav           userNav
	Notice, Error string
	Sessions      []sessionItem
	// Others counts the sessions other than this browser's.
	Others int
}

// sessionsPage lists the user's active sessions, this browser's first.
func (u *userPages) sessionsPage(w http.ResponseWriter, r *http.Request) {
	sess, user, ok := u.signedIn(w, r, PathAccountSessions)
	if !ok {
		return
	}
	sessions, err := u.identity.ListSessions(r.Context(), user.ID, true)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	lang := ui.RequestLanguage(r)
	v := userSessionsView{
		Nav:    userNav{Email: user.Email},
		Notice: userNoticeText(r.URL.Query().Get("notice")),
	}
	for _, s := range sessions {
		item := sessionItem{
			ID: s.ID, Device: describeDevice(s.UserAgent), IP: s.IP,
			Created: stampOf(lang, s.CreatedAt), LastActive: stampOf(lang, s.LastActiveAt),
			Current: s.ID == sess.ID, RevokePath: sessionRevokePath(s.ID),
		}
		if item.Current {
			v.Sessions = append([]sessionItem{item}, v.Sessions...)
			continue
		}
		v.Sessions = append(v.Sessions, item)
		v.Others++
	}
	u.render(w, r, http.StatusOK, "account-sessions", "account.sessions.title", v)
}

// revokeSession ends one of the user's sessions (status revoked: its
// tokens are revoked and its applications notified through back-channel
// logout, by the session-end hooks). Another user's session is 404, as
// one that does not exist. Revoking this browser's own session signs it
// out.
func (u *userPages) revokeSession(w http.ResponseWriter, r *http.Request) {
	sess, user, ok := u.signedIn(w, r, PathAccountSessions)
	if !ok {
		return
	}
	ctx := r.Context()
	target, err := u.identity.GetSession(ctx, mux.Vars(r)["session"])
	if errors.Is(err, storage.ErrNotFound) || (err == nil && target.UserID != user.ID) {
		u.notFoundSession(w, r)
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if err := u.identity.EndSession(ctx, target.ID, identity.EndRevoked); err != nil {
		u.fail(w, r, err)
		return
	}
	if target.ID == sess.ID {
		http.Redirect(w, r, oidc.SignInURL(PathAccountSessions), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, withNotice(PathAccountSessions, noticeSessionRevoked), http.StatusSeeOther)
}

// signOutOthers ends every session of the user but this browser's.
func (u *userPages) signOutOthers(w http.ResponseWriter, r *http.Request) {
	sess, user, ok := u.signedIn(w, r, PathAccountSessions)
	if !ok {
		return
	}
	if err := u.endOtherSessions(r.Context(), user.ID, sess.ID); err != nil {
		u.fail(w, r, err)
		return
	}
	http.Redirect(w, r, withNotice(PathAccountSessions, noticeOthersSignedOut), http.StatusSeeOther)
}
