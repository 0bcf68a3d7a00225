package account_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

func TestAccountPagesSignedOutGoToSignIn(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		ada := srv.CreateUser(t, "ada@acme.test")
		sess := activeSessionAfterSignIn(t, srv, ada.Email)
		b := servertest.NewBrowser(t)

		form := url.Values{
			"first_name": {"Mallory"}, "current_password": {servertest.Password}, "new_password": {"a new and long passphrase"},
			"confirm_password": {"a new and long passphrase"}, "confirm_email": {ada.Email}, "client_id": {"any"},
		}
		for _, tc := range []struct{ method, path, returnTo string }{
			{http.MethodGet, "/account", "/account"},
			{http.MethodGet, "/account/sessions", "/account/sessions"},
			{http.MethodGet, "/account/applications", "/account/applications"},
			{http.MethodPost, "/account/profile", "/account"},
			{http.MethodPost, "/account/password", "/account"},
			{http.MethodPost, "/account/delete", "/account"},
			{http.MethodPost, "/account/sessions/" + sess.ID + "/revoke", "/account/sessions"},
			{http.MethodPost, "/account/sessions/revoke-others", "/account/sessions"},
			{http.MethodPost, "/account/applications/revoke", "/account/applications"},
		} {
			name := strings.Replace(tc.path, sess.ID, "{session}", 1)
			t.Run(tc.method+" "+name, func(t *testing.T) {
				var r *servertest.Response
				if tc.method == http.MethodGet {
					r = b.Get(srv.Issuer + tc.path)
				} else {
					r = b.PostForm(srv.Issuer+tc.path, form)
				}
				wantRedirect(t, tc.path, r, oidc.SignInURL(tc.returnTo))
			})
		}
		got, err := srv.Identity.GetUser(context.Background(), ada.ID)
		if err != nil || got.FirstName != ada.FirstName {
			t.Errorf("user after signed-out posts = %+v, %v; want unchanged", got, err)
		}
		if s, err := srv.Identity.GetSession(context.Background(), sess.ID); err != nil || s.Status != identity.SessionActive {
			t.Errorf("session after signed-out posts: %+v, %v; want active", s, err)
		}
	})
}

// activeSessionAfterSignIn signs email in on a browser of its own and
// returns that session.
func activeSessionAfterSignIn(t *testing.T, srv *servertest.Server, email string) *identity.Session {
	t.Helper()
	u, err := srv.Identity.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	signIn(t, srv, email)
	return activeSession(t, srv, u.ID)
}

func TestAccountFormsRefuseCrossSitePosts(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		ctx := context.Background()
		ada := srv.CreateUser(t, "ada@acme.test")
		app := thirdPartyApp(t, srv, "Notes")
		other := signIn(t, srv, ada.Email)
		_, _ = connect(t, srv, other, app)
		b := signIn(t, srv, ada.Email)
		sessions, err := srv.Identity.ListSessions(ctx, ada.ID, true)
		if err != nil || len(sessions) != 2 {
			t.Fatalf("sessions: %d, %v; want 2", len(sessions), err)
		}
		otherID := sessions[1].ID // oldest: the first sign-in

		for _, tc := range []struct {
			path string
			form url.Values
		}{
			{"/account/profile", url.Values{"first_name": {"Mallory"}}},
			{"/account/password", url.Values{"current_password": {servertest.Password}, "new_password": {"a new and long passphrase"}, "confirm_password": {"a new and long passphrase"}}},
			{"/account/delete", url.Values{"confirm_email": {ada.Email}}},
			{"/account/sessions/" + otherID + "/revoke", nil},
			{"/account/sessions/revoke-others", nil},
			{"/account/applications/revoke", url.Values{"client_id": {app.ClientID}}},
		} {
			for name, headers := range map[string]map[string]string{
				"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site": "cross-site"},
				"foreign Origin":            {"Origin": "https://evil.example"},
			} {
				t.Run(strings.Replace(tc.path, otherID, "{session}", 1)+" "+name, func(t *testing.T) {
					r := crossSitePost(t, b, srv.Issuer+tc.path, tc.form, headers)
					wantStatus(t, tc.path, r, http.StatusForbidden)
				})
			}
		}

		got, err := srv.Identity.GetUser(ctx, ada.ID)
		if err != nil || got.FirstName != ada.FirstName {
			t.Errorf("user after cross-site posts = %+v, %v; want unchanged", got, err)
		}
		if _, err := srv.Identity.Authenticate(ctx, ada.Email, servertest.Password, ""); err != nil {
			t.Errorf("the old password stopped working after cross-site posts: %v", err)
		}
		if n, _ := srv.Identity.ListSessions(ctx, ada.ID, true); len(n) != 2 {
			t.Errorf("active sessions after cross-site posts = %d, want 2", len(n))
		}
		apps, err := srv.Provider.Consents(ctx, ada.ID)
		if err != nil || len(apps) != 1 {
			t.Errorf("consents after cross-site posts = %v, %v; want Notes", apps, err)
		}
		if page := b.Get(srv.Issuer + "/account"); page.Status != http.StatusOK || !strings.Contains(page.Body, ada.Email) {
			t.Errorf("account page after cross-site posts: %v", page)
		}
	})
}
