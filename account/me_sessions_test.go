package account_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

func TestSessionsListAndRevoke(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		ctx := context.Background()
		ada := srv.CreateUser(t, "ada@acme.test")
		bob := srv.CreateUser(t, "bob@acme.test")
		phone := signInWith(t, srv, ada.Email, uaSafariPhone)
		laptop := signInWith(t, srv, ada.Email, uaChromeMac)
		here := signInWith(t, srv, ada.Email, uaFirefoxLinux)
		bobs := signInWith(t, srv, bob.Email, uaChromeMac)
		app := thirdPartyApp(t, srv, "Notes")
		laptopToken, _ := connect(t, srv, laptop, app)
		hereToken, _ := connect(t, srv, here, app)

		sessionOf := map[string]string{} // user agent → session id
		sessions, err := srv.Identity.ListSessions(ctx, ada.ID, true)
		if err != nil || len(sessions) != 3 {
			t.Fatalf("Ada's sessions: %d, %v; want 3", len(sessions), err)
		}
		for _, s := range sessions {
			sessionOf[s.UserAgent] = s.ID
		}
		bobSession := activeSession(t, srv, bob.ID)

		page := here.Get(srv.Issuer + "/account/sessions")
		wantStatus(t, "sessions page", page, http.StatusOK)
		rows := sessionRows(t, page.Body)
		if len(rows) != 3 {
			t.Fatalf("sessions listed = %d, want 3:\n%s", len(rows), text(t, page.Body))
		}
		if rows[0].id != sessionOf[uaFirefoxLinux] || !rows[0].current || !strings.Contains(rows[0].text, "Firefox on Linux") || !strings.Contains(rows[0].text, "This browser") {
			t.Errorf("first row = %+v, want this browser (Firefox on Linux), marked", rows[0])
		}
		for _, row := range rows[1:] {
			if row.current || !hasForm(t, page.Body, "/account/sessions/"+row.id+"/revoke") {
				t.Errorf("row %+v: want another session with a revoke form", row)
			}
		}
		txt := text(t, page.Body)
		for _, want := range []string{"Chrome on macOS", "Safari on iPhone", "127.0.0.1", "last active"} {
			if !strings.Contains(txt, want) {
				t.Errorf("sessions page does not say %q:\n%s", want, txt)
			}
		}
		if strings.Contains(page.Body, bobSession.ID) {
			t.Error("Ada's sessions page shows Bob's session")
		}
		if !hasForm(t, page.Body, "/account/sessions/revoke-others") {
			t.Error("sessions page lacks the form that signs out everywhere else")
		}

		for _, tc := range []struct{ name, id string }{
			{"another user's session", bobSession.ID},
			{"unknown session", "sess_doesnotexist"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := here.PostForm(srv.Issuer+"/account/sessions/"+tc.id+"/revoke", nil)
				wantStatus(t, tc.name, r, http.StatusNotFound)
			})
		}
		wantSignedIn(t, srv, "Bob after Ada tried to revoke his session", bobs)

		// Revoking the laptop ends it and its tokens; the rest stays.
		r := here.PostForm(srv.Issuer+"/account/sessions/"+sessionOf[uaChromeMac]+"/revoke", nil)
		wantRedirect(t, "revoke", r, "/account/sessions?notice=session_revoked")
		if s, _ := srv.Identity.GetSession(ctx, sessionOf[uaChromeMac]); s.Status != identity.SessionRevoked {
			t.Errorf("revoked session status = %s, want %s", s.Status, identity.SessionRevoked)
		}
		wantSignedOut(t, srv, "the revoked browser", laptop)
		wantRefresh(t, "the revoked session's refresh token", app, laptopToken.RefreshToken, "invalid_grant")
		hereRefresh := wantRefresh(t, "this session's refresh token", app, hereToken.RefreshToken, "")
		wantSignedIn(t, srv, "the phone", phone)
		if txt := text(t, here.Get(srv.Issuer+r.Location.RequestURI()).Body); !strings.Contains(txt, "Session signed out") || strings.Contains(txt, "Chrome on macOS") {
			t.Errorf("page after revoking lacks the notice or still lists the laptop:\n%s", txt)
		}

		// Revoking it again is a no-op, still the user's own session.
		r = here.PostForm(srv.Issuer+"/account/sessions/"+sessionOf[uaChromeMac]+"/revoke", nil)
		wantRedirect(t, "revoke again", r, "/account/sessions?notice=session_revoked")

		// Sign out everywhere else: the phone goes, this browser and Bob stay.
		signInWith(t, srv, ada.Email, uaChromeMac)
		r = here.PostForm(srv.Issuer+"/account/sessions/revoke-others", nil)
		wantRedirect(t, "sign out everywhere else", r, "/account/sessions?notice=others_signed_out")
		wantSignedOut(t, srv, "the phone", phone)
		wantSignedIn(t, srv, "this browser", here)
		wantSignedIn(t, srv, "Bob", bobs)
		if left, _ := srv.Identity.ListSessions(ctx, ada.ID, true); len(left) != 1 || left[0].ID != sessionOf[uaFirefoxLinux] {
			t.Errorf("Ada's active sessions after signing out everywhere else = %d, want only this one", len(left))
		}
		wantRefresh(t, "this session's refresh token after signing out the others", app, hereRefresh, "")
		page = here.Get(srv.Issuer + "/account/sessions")
		if hasForm(t, page.Body, "/account/sessions/revoke-others") {
			t.Error("with no other session the page still offers to sign out everywhere else")
		}

		// Revoking this browser's own session signs it out.
		r = here.PostForm(srv.Issuer+"/account/sessions/"+sessionOf[uaFirefoxLinux]+"/revoke", nil)
		wantRedirect(t, "revoke own session", r, oidc.SignInURL("/account/sessions"))
		wantSignedOut(t, srv, "this browser after revoking its own session", here)
	})
}

// sessionRow is one listed session.
type sessionRow struct {
	id, text string
	current  bool
}

// sessionRows lists the rows of the sessions page in order.
func sessionRows(t *testing.T, page string) []sessionRow {
	t.Helper()
	var rows []sessionRow
	walkElements(t, page, func(n *html.Node) {
		if n.Data == "li" && attrOf(n, "data-session-id") != "" {
			rows = append(rows, sessionRow{id: attrOf(n, "data-session-id"), text: nodeText(n), current: attrOf(n, "aria-current") == "true"})
		}
	})
	return rows
}
