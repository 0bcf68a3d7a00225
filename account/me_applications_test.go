package account_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/storage/storagetest"
)

func TestConnectedApplications(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		ctx := context.Background()
		ada := srv.CreateUser(t, "ada@acme.test")
		eve := srv.CreateUser(t, "eve@acme.test")
		notes := thirdPartyApp(t, srv, "Notes")
		calendar := thirdPartyApp(t, srv, "Calendar")
		b := signIn(t, srv, ada.Email)
		e := signIn(t, srv, eve.Email)

		page := b.Get(srv.Issuer + "/account/applications")
		wantStatus(t, "no applications", page, http.StatusOK)
		if txt := text(t, page.Body); !strings.Contains(txt, "No application has access") {
			t.Errorf("empty applications page:\n%s", txt)
		}

		notesToken, consented := connect(t, srv, b, notes)
		if !consented {
			t.Fatal("a third-party application was not asked for consent")
		}
		calendarToken, _ := connect(t, srv, b, calendar)
		eveCalendarToken, _ := connect(t, srv, e, calendar)

		page = b.Get(srv.Issuer + "/account/applications")
		apps := applicationRows(t, page.Body)
		if len(apps) != 2 || apps[notes.ClientID] == "" || apps[calendar.ClientID] == "" {
			t.Fatalf("applications listed = %v, want Notes and Calendar", apps)
		}
		for _, want := range []string{"Notes", "Your email address", "Stay signed in to the application", "allowed"} {
			if !strings.Contains(apps[notes.ClientID], want) {
				t.Errorf("Notes row %q does not say %q", apps[notes.ClientID], want)
			}
		}
		if !hasForm(t, page.Body, "/account/applications/revoke") {
			t.Error("applications page lacks the remove form")
		}

		for _, tc := range []struct {
			name     string
			b        *servertest.Browser
			clientID string
		}{
			{"an application the user never allowed", e, notes.ClientID},
			{"an unknown application", b, "client_doesnotexist"},
			{"no application", b, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := tc.b.PostForm(srv.Issuer+"/account/applications/revoke", url.Values{"client_id": {tc.clientID}})
				wantStatus(t, tc.name, r, http.StatusNotFound)
			})
		}
		notesRefresh := wantRefresh(t, "Notes after Eve's attempt", notes, notesToken.RefreshToken, "")

		r := b.PostForm(srv.Issuer+"/account/applications/revoke", url.Values{"client_id": {notes.ClientID}})
		wantRedirect(t, "remove Notes", r, "/account/applications?notice=application_removed")
		wantRefresh(t, "Notes after its access was removed", notes, notesRefresh, "invalid_grant")
		wantRefresh(t, "Calendar of the same user", calendar, calendarToken.RefreshToken, "")
		wantRefresh(t, "Calendar of another user", calendar, eveCalendarToken.RefreshToken, "")
		wantSignedIn(t, srv, "the browser, which removing an application leaves signed in", b)

		page = b.Get(srv.Issuer + r.Location.RequestURI())
		if apps := applicationRows(t, page.Body); len(apps) != 1 || apps[calendar.ClientID] == "" {
			t.Errorf("applications after removing Notes = %v, want only Calendar", apps)
		}
		if txt := text(t, page.Body); !strings.Contains(txt, "Access removed") {
			t.Errorf("page after removing lacks the notice:\n%s", txt)
		}
		if consents, err := srv.Provider.Consents(ctx, ada.ID); err != nil || len(consents) != 1 {
			t.Errorf("consents after removing Notes = %v, %v", consents, err)
		}

		// The next authorization asks again.
		if _, consented := connect(t, srv, b, notes); !consented {
			t.Error("Notes was not asked for consent again after its access was removed")
		}
	})
}

// applicationRows maps the client id of each listed application to the
// row's text.
func applicationRows(t *testing.T, page string) map[string]string {
	t.Helper()
	out := map[string]string{}
	walkElements(t, page, func(n *html.Node) {
		if n.Data == "li" && attrOf(n, "data-client-id") != "" {
			out[attrOf(n, "data-client-id")] = nodeText(n)
		}
	})
	return out
}
