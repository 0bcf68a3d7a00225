package account

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/orgid/orgid/identity"
)

// userForm is what the forms of /account carry; after a refused form it
// shows what was typed rather than the stored values.
type userForm struct {
	FirstName, LastName, Username, ImageURL string
	ConfirmEmail                            string
}

// orgLink names an organization and links to its page.
type orgLink struct{ Name, Path string }

// userProfileView is the data of account-profile.html.
type userProfileView struct {
	Nav    userNav
	User   *identity.User
	Notice string
	// Error is a message key, a ui.Message or text shown as it is.
	Error any
	Form  userForm
	// FieldErrors are messages by input name (like Error), shown beside
	// the input.
	FieldErrors map[string]any
	// LastOwnerOf lists the organizations that keep the account from
	// being deleted.
	LastOwnerOf []orgLink
	// MinPasswordLength is the policy's, for the form's hint.
	MinPasswordLength int
}

// profilePage shows the user's profile with the forms that change it.
func (u *userPages) profilePage(w http.ResponseWriter, r *http.Request) {
	_, user, ok := u.signedIn(w, r, PathAccount)
	if !ok {
		return
	}
	u.renderUserProfile(w, r, user, http.StatusOK, userProfileView{Notice: userNoticeText(r.URL.Query().Get("notice"))}, false)
}

// renderUserProfile writes account-profile.html. posted keeps v.Form as
// the user typed it.
func (u *userPages) renderUserProfile(w http.ResponseWriter, r *http.Request, user *identity.User, status int, v userProfileView, posted bool) {
	v.Nav = userNav{Email: user.Email}
	v.User, v.MinPasswordLength = user, identity.MinPasswordLength
	if !posted {
		v.Form.FirstName, v.Form.LastName, v.Form.Username, v.Form.ImageURL = user.FirstName, user.LastName, user.Username, user.ImageURL
	}
	u.render(w, r, status, "account-profile", "account.profile.title", v)
}

// updateProfile saves names, username and image URL (only the fields that
// changed). A refused value is shown beside its input.
func (u *userPages) updateProfile(w http.ResponseWriter, r *http.Request) {
	_, user, ok := u.signedIn(w, r, PathAccount)
	if !ok {
		return
	}
	form := userForm{
		FirstName: strings.TrimSpace(r.PostFormValue("first_name")),
		LastName:  strings.TrimSpace(r.PostFormValue("last_name")),
		Username:  strings.TrimSpace(r.PostFormValue("username")),
		ImageURL:  strings.TrimSpace(r.PostFormValue("image_url")),
	}
	var up identity.UserUpdate
	changed := false
	set := func(dst **string, value, stored string) {
		if value != stored {
			v := value
			*dst, changed = &v, true
		}
	}
	set(&up.FirstName, form.FirstName, user.FirstName)
	set(&up.LastName, form.LastName, user.LastName)
	// Usernames are stored lowercased: "Ada" for "ada" is no change.
	set(&up.Username, strings.ToLower(form.Username), user.Username)
	set(&up.ImageURL, form.ImageURL, user.ImageURL)
	if changed {
		if _, err := u.identity.UpdateUser(r.Context(), user.ID, up); err != nil {
			u.profileError(w, r, user, err, userProfileView{Form: form})
			return
		}
	}
	http.Redirect(w, r, withNotice(PathAccount, noticeProfileSaved), http.StatusSeeOther)
}

// profileError shows /account again with err beside the input it concerns,
// or above the forms, or an error page when it is not the user's to fix.
func (u *userPages) profileError(w http.ResponseWriter, r *http.Request, user *identity.User, err error, v userProfileView) {
	field, message, status, ok := fieldProblem(err)
	if !ok {
		u.fail(w, r, err)
		return
	}
	if field != "" {
		v.FieldErrors = map[string]any{field: message}
	} else {
		v.Error = message
	}
	u.renderUserProfile(w, r, user, status, v, true)
}

// fieldProblem says which input err concerns ("" for none) and what to
// tell the user; ok is false for an internal error.
func fieldProblem(err error) (field string, message any, status int, ok bool) {
	var invalid *identity.ValidationError
	var refused *fieldError
	switch {
	case errors.As(err, &refused):
		return refused.field, refused.message, http.StatusBadRequest, true
	case errors.As(err, &invalid):
		field = invalid.Field
		if field == "password" {
			field = "new_password"
		}
		return field, invalid.Message, http.StatusBadRequest, true
	case errors.Is(err, identity.ErrUsernameTaken):
		return "username", "account.profile.error.username_taken", http.StatusConflict, true
	}
	p, ok := explain(err)
	return "", p.message, p.status, ok
}

// fieldError is a problem with one input of a form, found by the pages;
// message is a message key or a ui.Message.
type fieldError struct {
	field   string
	message any
}

func (e *fieldError) Error() string { return e.field + ": " + fmt.Sprint(e.message) }

// refuse is a problem with one input of a form, found by the pages.
func refuse(field string, message any) error {
	return &fieldError{field: field, message: message}
}
