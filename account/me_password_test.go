package account_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/storage/storagetest"
)

func TestChangePassword(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		ctx := context.Background()
		ada := srv.CreateUser(t, "ada@acme.test")
		bob := srv.CreateUser(t, "bob@acme.test")
		here := signIn(t, srv, ada.Email)
		elsewhere := signIn(t, srv, ada.Email)
		bobs := signIn(t, srv, bob.Email)
		app := thirdPartyApp(t, srv, "Notes")
		tok, _ := connect(t, srv, elsewhere, app)
		const newPassword = "a sturdier passphrase of mine"

		passwordWorks := func(t *testing.T, password string) bool {
			t.Helper()
			_, err := srv.Identity.Authenticate(ctx, ada.Email, password, "")
			if err != nil && !errors.Is(err, identity.ErrInvalidCredentials) {
				t.Fatal(err)
			}
			return err == nil
		}

		form := func(current, next, confirm string) url.Values {
			return url.Values{"current_password": {current}, "new_password": {next}, "confirm_password": {confirm}}
		}
		for _, tc := range []struct {
			name   string
			form   url.Values
			status int
			field  string
			says   string
		}{
			{"no current password", form("", newPassword, newPassword), http.StatusBadRequest, "current_password", "Enter your current password"},
			{"wrong current password", form("not my password", newPassword, newPassword), http.StatusBadRequest, "current_password", "not correct"},
			{"too short", form(servertest.Password, "short", "short"), http.StatusBadRequest, "new_password", "too short"},
			{"commonly used", form(servertest.Password, "password123", "password123"), http.StatusBadRequest, "new_password", "commonly used"},
			{"the email address", form(servertest.Password, ada.Email, ada.Email), http.StatusBadRequest, "new_password", "must not be your email"},
			{"confirmation differs", form(servertest.Password, newPassword, newPassword+"!"), http.StatusBadRequest, "confirm_password", "not the same"},
			{"no new password", form(servertest.Password, "", ""), http.StatusBadRequest, "new_password", "Enter a new password"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := here.PostForm(srv.Issuer+"/account/password", tc.form)
				wantStatus(t, tc.name, r, tc.status)
				if msg := fieldError(t, r.Body, tc.field); !strings.Contains(msg, tc.says) {
					t.Errorf("error beside %s = %q, want it to say %q", tc.field, msg, tc.says)
				}
				if !passwordWorks(t, servertest.Password) {
					t.Error("a refused change changed the password")
				}
				wantSignedIn(t, srv, "the other browser after a refused change", elsewhere)
			})
		}

		r := here.PostForm(srv.Issuer+"/account/password", form(servertest.Password, newPassword, newPassword))
		wantRedirect(t, "change", r, "/account?notice=password_changed")
		if !passwordWorks(t, newPassword) || passwordWorks(t, servertest.Password) {
			t.Error("after the change the new password must work and the old one not")
		}
		wantSignedIn(t, srv, "this browser after the change", here)
		wantSignedOut(t, srv, "the other browser after the change", elsewhere)
		wantRefresh(t, "a refresh token of the other session", app, tok.RefreshToken, "invalid_grant")
		wantSignedIn(t, srv, "another user's browser", bobs)
		if txt := text(t, here.Get(srv.Issuer+r.Location.RequestURI()).Body); !strings.Contains(txt, "Password changed") {
			t.Errorf("page after the change lacks the notice:\n%s", txt)
		}
	})
}

func TestSetFirstPasswordAndThrottle(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		ctx := context.Background()
		ada := srv.CreateUser(t, "ada@acme.test")
		b := signIn(t, srv, ada.Email)

		// Ten wrong current passwords spend the sign-in throttle of the
		// address; then even the right one is refused for a while.
		wrong := url.Values{"current_password": {"not my password"}, "new_password": {"a sturdier passphrase"}, "confirm_password": {"a sturdier passphrase"}}
		for range 10 {
			wantStatus(t, "wrong current password", b.PostForm(srv.Issuer+"/account/password", wrong), http.StatusBadRequest)
		}
		right := url.Values{"current_password": {servertest.Password}, "new_password": {"a sturdier passphrase"}, "confirm_password": {"a sturdier passphrase"}}
		r := b.PostForm(srv.Issuer+"/account/password", right)
		wantStatus(t, "right password once throttled", r, http.StatusTooManyRequests)
		if r.Header.Get("Retry-After") == "" || !strings.Contains(text(t, r.Body), "Too many attempts") {
			t.Errorf("throttled answer lacks Retry-After or the message: %v", r)
		}

		// A user without a password (signed in by other means) sets one
		// without giving a current one.
		nopw := srv.CreateUser(t, "nopw@acme.test", func(nu *identity.NewUser) { nu.Password = "" })
		sess, token, err := srv.Identity.CreateSession(ctx, nopw.ID, []string{"otp"}, identity.SessionMeta{})
		if err != nil {
			t.Fatal(err)
		}
		// The session cookie, as oidc's sign-in sets it: this user has no
		// password to sign in with on the hosted page.
		c := servertest.NewBrowser(t)
		u, _ := url.Parse(srv.Issuer)
		c.Jar.SetCookies(u, []*http.Cookie{{Name: "orgid_session", Value: token, Path: "/"}})
		page := c.Get(srv.Issuer + "/account")
		wantStatus(t, "account without a password", page, http.StatusOK)
		if txt := text(t, page.Body); !strings.Contains(txt, "Set a password") || strings.Contains(page.Body, `name="current_password"`) {
			t.Errorf("page for a user without a password should offer to set one without the current one:\n%s", txt)
		}
		r = c.PostForm(srv.Issuer+"/account/password", url.Values{"new_password": {"my very first passphrase"}, "confirm_password": {"my very first passphrase"}})
		wantRedirect(t, "set first password", r, "/account?notice=password_changed")
		if _, err := srv.Identity.Authenticate(ctx, nopw.Email, "my very first passphrase", ""); err != nil {
			t.Errorf("the first password does not work: %v", err)
		}
		if s, _ := srv.Identity.GetSession(ctx, sess.ID); s.Status != identity.SessionActive {
			t.Errorf("the session that set the password is %s, want active", s.Status)
		}
	})
}
