package account

import (
	"errors"
	"net/http"
	"strings"

	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/ui"
)

// applicationItem is one row of account-applications.html.
type applicationItem struct {
	ClientID, Name, ClientURI string
	Access                    []string // what the application may see: message keys, or a scope's name
	Granted                   stamp
}

// userApplicationsView is the data of account-applications.html.
type userApplicationsView struct {
	Nav           userNav
	Notice, Error string
	Applications  []applicationItem
	// Unavailable: the server keeps no consents this page can reach.
	Unavailable bool
}

// applicationsPage lists the applications the user allowed to access their
// account (third-party clients; first-party ones never ask).
func (u *userPages) applicationsPage(w http.ResponseWriter, r *http.Request) {
	_, user, ok := u.signedIn(w, r, PathAccountApplications)
	if !ok {
		return
	}
	v := userApplicationsView{
		Nav:    userNav{Email: user.Email},
		Notice: userNoticeText(r.URL.Query().Get("notice")),
	}
	if u.apps == nil {
		v.Unavailable = true
		u.render(w, r, http.StatusOK, "account-applications", "account.nav.applications", v)
		return
	}
	consents, err := u.apps.Consents(r.Context(), user.ID)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	for _, c := range consents {
		v.Applications = append(v.Applications, applicationItem{
			ClientID: c.ClientID, Name: c.ClientName, ClientURI: c.ClientURI,
			Access: c.ScopeDescriptions, Granted: stampOf(ui.RequestLanguage(r), c.GrantedAt),
		})
	}
	u.render(w, r, http.StatusOK, "account-applications", "account.nav.applications", v)
}

// removeApplication takes back an application's access: package oidc
// forgets the consent and revokes the application's tokens for the user in
// one transaction. An application the user never allowed is 404.
func (u *userPages) removeApplication(w http.ResponseWriter, r *http.Request) {
	_, user, ok := u.signedIn(w, r, PathAccountApplications)
	if !ok {
		return
	}
	clientID := strings.TrimSpace(r.PostFormValue("client_id"))
	if u.apps == nil || clientID == "" {
		u.notFoundApplication(w, r)
		return
	}
	err := u.apps.RevokeApplication(r.Context(), user.ID, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		u.notFoundApplication(w, r)
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	http.Redirect(w, r, withNotice(PathAccountApplications, noticeApplicationRemove), http.StatusSeeOther)
}

func (u *userPages) notFoundApplication(w http.ResponseWriter, r *http.Request) {
	u.errorPage(w, r, http.StatusNotFound, "account.applications.not_found", "account.applications.not_found_message")
}
