package account_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/mail"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/tenancy"
)

// signIn returns a browser signed in as email through the hosted sign-in
// page.
func signIn(t *testing.T, srv *servertest.Server, email string) *servertest.Browser {
	t.Helper()
	b := servertest.NewBrowser(t)
	resp := b.PostForm(srv.Issuer+"/sign-in", url.Values{"identifier": {email}, "password": {servertest.Password}})
	if resp.Status != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %v", email, resp)
	}
	return b
}

// createOrg creates an organization owned by ownerID, as the operator.
func createOrg(t *testing.T, srv *servertest.Server, ownerID, name string) *tenancy.Organization {
	t.Helper()
	org, err := srv.Tenancy.CreateOrganization(context.Background(), tenancy.Operator(), tenancy.NewOrganization{Name: name, CreatedBy: ownerID})
	if err != nil {
		t.Fatalf("create organization %q: %v", name, err)
	}
	return org
}

// addMember makes userID a member of org with role, as the operator.
func addMember(t *testing.T, srv *servertest.Server, org *tenancy.Organization, userID, role string) {
	t.Helper()
	if _, err := srv.Tenancy.AddMembership(context.Background(), tenancy.Operator(), org.ID, userID, role); err != nil {
		t.Fatalf("add %s to %s as %s: %v", userID, org.Slug, role, err)
	}
}

// outbox reads the mail the server sent to the development outbox.
func outbox(t *testing.T, srv *servertest.Server) []mail.Message {
	t.Helper()
	msgs, err := mail.ReadOutbox(mail.DefaultOutboxPath(srv.Base.Config.DataDir))
	if err != nil {
		t.Fatalf("read outbox: %v", err)
	}
	return msgs
}

var acceptLink = regexp.MustCompile(`https?://[^\s"<>]+/invitations/accept\?token=[A-Za-z0-9_\-%.~]+`)

// acceptURL is the accept link of the last invitation mailed to email.
func acceptURL(t *testing.T, srv *servertest.Server, email string) string {
	t.Helper()
	msgs := outbox(t, srv)
	for i := len(msgs) - 1; i >= 0; i-- {
		if strings.EqualFold(msgs[i].To, email) {
			if link := acceptLink.FindString(msgs[i].Text); link != "" {
				return link
			}
		}
	}
	t.Fatalf("no invitation mail to %s in %d messages", email, len(msgs))
	return ""
}

// activeSession is the user's only active browser session.
func activeSession(t *testing.T, srv *servertest.Server, userID string) *identity.Session {
	t.Helper()
	sessions, err := srv.Identity.ListSessions(context.Background(), userID, true)
	if err != nil || len(sessions) != 1 {
		t.Fatalf("sessions of %s: %d, %v; want exactly one", userID, len(sessions), err)
	}
	return sessions[0]
}

// crossSitePost posts a form the way a browser does from another site.
func crossSitePost(t *testing.T, b *servertest.Browser, rawURL string, form url.Values, headers map[string]string) *servertest.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := b.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	return &servertest.Response{Status: resp.StatusCode, Header: resp.Header}
}

// formActions lists the action attribute of every form on a page.
func formActions(t *testing.T, page string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "form" {
			for _, a := range n.Attr {
				if a.Key == "action" {
					out = append(out, a.Val)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

// hasForm reports whether the page has a form posting to action.
func hasForm(t *testing.T, page, action string) bool {
	t.Helper()
	for _, a := range formActions(t, page) {
		if a == action {
			return true
		}
	}
	return false
}

// text is the page's visible text, whitespace collapsed.
func text(t *testing.T, page string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "script" || n.Data == "style" || n.Data == "head") {
			return
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return strings.Join(strings.Fields(b.String()), " ")
}

// wantStatus fails when r does not have status.
func wantStatus(t *testing.T, what string, r *servertest.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status = %d, want %d (%v)", what, r.Status, status, r)
	}
}

// wantRedirect fails when r is not a 303 to path (compared with its query).
func wantRedirect(t *testing.T, what string, r *servertest.Response, path string) {
	t.Helper()
	if r.Status != http.StatusSeeOther || r.Location == nil || r.Location.RequestURI() != path {
		t.Fatalf("%s: got %v, want 303 to %s", what, r, path)
	}
}
