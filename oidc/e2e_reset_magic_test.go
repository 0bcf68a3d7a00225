package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

func TestPasswordResetFromMail(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		ctx := context.Background()
		user := srv.CreateUser(t, "ada@example.com")
		signedIn := servertest.NewBrowser(t)
		if resp := signedIn.PostForm(srv.Issuer+oidc.PathSignIn, url.Values{"identifier": {user.Email}, "password": {servertest.Password}}); resp.Status != http.StatusSeeOther {
			t.Fatalf("sign in: %v", resp)
		}

		// The same answer for an address with and without an account.
		b := servertest.NewBrowser(t)
		forgot := b.Get(srv.Issuer + oidc.PathForgotPassword)
		wantTitle(t, "forgot password", forgot, "Reset your password")
		known := submit(t, b, srv, forgot, "email", map[string]string{"email": user.Email})
		unknown := submit(t, b, srv, forgot, "email", map[string]string{"email": "nobody@example.com"})
		if known.Status != http.StatusOK || unknown.Status != http.StatusOK ||
			strings.ReplaceAll(known.Body, user.Email, "X") != strings.ReplaceAll(unknown.Body, "nobody@example.com", "X") {
			t.Fatalf("answers differ:\nknown   %v\nunknown %v", known, unknown)
		}
		if msgs := mailTo(t, srv, "nobody@example.com"); len(msgs) != 0 {
			t.Errorf("%d mails to an address without an account", len(msgs))
		}

		// The link works in another browser.
		link := mailedLink(t, srv, user.Email, oidc.PathResetPassword)
		other := servertest.NewBrowser(t)
		form := other.Get(link)
		wantTitle(t, "reset link", form, "Choose a new password")
		weak := submit(t, other, srv, form, "password", map[string]string{"password": "12345678"})
		if weak.Status != http.StatusBadRequest || !strings.Contains(weak.Body, "commonly used") {
			t.Fatalf("weak password: %v", weak)
		}
		const newPassword = "a brand new passphrase 99"
		formPost, action, err := servertest.FindForm(form.Body, "password")
		if err != nil {
			t.Fatal(err)
		}
		formPost.Set("password", newPassword)
		done := other.PostForm(srv.Issuer+action, formPost)
		if done.Status != http.StatusSeeOther || done.Location.Path != oidc.PathSignIn || done.Location.Query().Get("notice") != "password_changed" {
			t.Fatalf("after the reset: %v, want a redirect to sign in", done)
		}
		if notice := other.Get(done.Location.String()); !strings.Contains(notice.Body, "Your password has been changed") {
			t.Errorf("sign-in page after the reset: %v", notice)
		}

		if notice := lastMail(t, srv, user.Email); !strings.Contains(notice.Text, "Your password was changed") {
			t.Errorf("no security notice after the reset; last mail: %q", notice.Text)
		}
		if sessions, err := srv.Identity.ListSessions(ctx, user.ID, true); err != nil || len(sessions) != 0 {
			t.Errorf("active sessions after the reset = %d, %v; want none", len(sessions), err)
		}
		if home := signedIn.Get(srv.Issuer + "/"); strings.Contains(home.Body, user.Email) {
			t.Errorf("the other browser is still signed in after the reset")
		}
		for pw, want := range map[string]int{servertest.Password: http.StatusUnauthorized, newPassword: http.StatusSeeOther} {
			resp := servertest.NewBrowser(t).PostForm(srv.Issuer+oidc.PathSignIn, url.Values{"identifier": {user.Email}, "password": {pw}})
			if resp.Status != want {
				t.Errorf("sign in with %q after the reset: status %d, want %d", pw, resp.Status, want)
			}
		}
		if again := other.Get(link); again.Status != http.StatusBadRequest || !strings.Contains(again.Body, "expired") {
			t.Errorf("the link a second time: %v", again)
		}
	})
}

// A magic link asked for inside an authorization flow signs in only in the
// browser that asked, and continues the flow there.
func TestMagicLinkSignIn(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		user := srv.CreateUser(t, "lin@example.com", func(nu *identity.NewUser) { nu.EmailVerified = false })
		r := newRP(t, srv, false, true)
		b := servertest.NewBrowser(t)

		signIn, verifier := r.startAuthorization(b)
		ask := b.Get(srv.Issuer + pageLink(t, signIn, oidc.PathMagicLink))
		wantTitle(t, "magic link page", ask, "Email me a sign-in link")
		sent := submit(t, b, srv, ask, "email", map[string]string{"email": user.Email})
		wantTitle(t, "after asking", sent, "Check your email")
		nobody := submit(t, b, srv, ask, "email", map[string]string{"email": "ghost@example.com"})
		if strings.ReplaceAll(sent.Body, user.Email, "X") != strings.ReplaceAll(nobody.Body, "ghost@example.com", "X") {
			t.Errorf("the answers for a known and an unknown address differ")
		}
		link := mailedLink(t, srv, user.Email, oidc.PathMagicLinkVerify)

		// Another browser (or a mail scanner) gets nowhere and spends nothing.
		other := servertest.NewBrowser(t)
		confirm := other.Get(link)
		if confirm.Status != http.StatusOK || !strings.Contains(confirm.Body, "Continue signing in") {
			t.Fatalf("opening the link elsewhere: %v", confirm)
		}
		elsewhere := submit(t, other, srv, confirm, "token", nil)
		if elsewhere.Status != http.StatusForbidden || !strings.Contains(elsewhere.Body, "only in the browser where it was requested") {
			t.Fatalf("signing in elsewhere: %v", elsewhere)
		}

		claims := r.finish(submit(t, b, srv, b.Get(link), "token", nil), verifier)
		want := map[string]any{"sub": user.ID, "amr": []any{"email"}, "acr": "1", "email_verified": true}
		got := map[string]any{}
		for k := range want {
			got[k] = claims[k]
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ID token claims (-want +got):\n%s", diff)
		}
		if again := submit(t, b, srv, b.Get(link), "token", nil); again.Status != http.StatusBadRequest {
			t.Errorf("the link a second time: %v, want 400", again)
		}
	})
}
