package account_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/storage/storagetest"
)

// The user profile in a real browser: Ada signs in on /account, edits her
// name, signs out a session on another device, and removes an
// application's access — whose refresh token stops working.
func TestBrowserUserProfile(t *testing.T) {
	browser := startChromium(t)
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		ctx := context.Background()
		ada := srv.CreateUser(t, "ada@acme.test")
		app := thirdPartyApp(t, srv, "Notes")
		laptop := signInWith(t, srv, ada.Email, uaChromeMac)
		phone := signInWith(t, srv, ada.Email, uaSafariPhone)
		tok, _ := connect(t, srv, phone, app)
		sessionOf := map[string]string{}
		sessions, err := srv.Identity.ListSessions(ctx, ada.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sessions {
			sessionOf[s.UserAgent] = s.ID
		}

		a := newTab(t, browser, "Ada")
		wantPath(t, "signed out", a.open(srv.Issuer+"/account"), "/sign-in")
		wantPath(t, "after sign-in", a.signIn(ada.Email, servertest.Password), "/account")

		// The profile.
		a.do("edit the names",
			chromedp.SetValue(chromedp.ID("first-name"), "Augusta Ada"),
			chromedp.SetValue(chromedp.ID("last-name"), "King"),
		)
		wantPath(t, "saved", a.submit(`#update-profile button[type=submit]`), "/account?notice=profile_saved")
		if txt := a.pageText(); !strings.Contains(txt, "Profile saved") || !strings.Contains(txt, "Augusta Ada King") {
			t.Fatalf("profile after saving:\n%s", txt)
		}
		if u, err := srv.Identity.GetUser(ctx, ada.ID); err != nil || u.FirstName != "Augusta Ada" || u.LastName != "King" {
			t.Fatalf("user after saving = %+v, %v", u, err)
		}

		// The laptop's session.
		wantPath(t, "sessions", a.open(srv.Issuer+"/account/sessions"), "/account/sessions")
		if txt := a.pageText(); !strings.Contains(txt, "Chrome on macOS") || !strings.Contains(txt, "Safari on iPhone") || !strings.Contains(txt, "This browser") {
			t.Fatalf("sessions page:\n%s", txt)
		}
		laptopButton := fmt.Sprintf(`li[data-session-id=%q] button[type=submit]`, sessionOf[uaChromeMac])
		wantPath(t, "revoked", a.submit(laptopButton), "/account/sessions?notice=session_revoked")
		if txt := a.pageText(); strings.Contains(txt, "Chrome on macOS") {
			t.Errorf("the revoked session is still listed:\n%s", txt)
		}
		if s, _ := srv.Identity.GetSession(ctx, sessionOf[uaChromeMac]); s.Status != identity.SessionRevoked {
			t.Errorf("laptop session status = %s, want revoked", s.Status)
		}
		wantSignedOut(t, srv, "the laptop", laptop)

		// The application.
		wantPath(t, "applications", a.open(srv.Issuer+"/account/applications"), "/account/applications")
		if txt := a.pageText(); !strings.Contains(txt, "Notes") || !strings.Contains(txt, "Your email address") {
			t.Fatalf("applications page:\n%s", txt)
		}
		notesButton := fmt.Sprintf(`li[data-client-id=%q] button[type=submit]`, app.ClientID)
		wantPath(t, "removed", a.submit(notesButton), "/account/applications?notice=application_removed")
		if txt := a.pageText(); !strings.Contains(txt, "No application has access") {
			t.Errorf("applications page after removing Notes:\n%s", txt)
		}
		wantRefresh(t, "Notes after its access was removed", app, tok.RefreshToken, "invalid_grant")
		wantSignedIn(t, srv, "the phone, whose session removing an application leaves alone", phone)
	})
}
