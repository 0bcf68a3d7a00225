package account_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/storage/storagetest"
)

func TestAccountProfile(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		ctx := context.Background()
		ada := srv.CreateUser(t, "ada@acme.test")
		srv.CreateUser(t, "grace@acme.test", func(nu *identity.NewUser) { nu.Username = "grace" })
		unverified := srv.CreateUser(t, "new@acme.test", func(nu *identity.NewUser) { nu.EmailVerified = false })
		b := signIn(t, srv, ada.Email)

		page := b.Get(srv.Issuer + "/account")
		wantStatus(t, "profile", page, http.StatusOK)
		txt := text(t, page.Body)
		for _, want := range []string{"Ada Lovelace", ada.Email, "Verified", "Change password", "Delete account"} {
			if !strings.Contains(txt, want) {
				t.Errorf("profile page does not say %q:\n%s", want, txt)
			}
		}
		for _, link := range []string{"/account/security", "/account/sessions", "/account/applications", "/organizations"} {
			if !strings.Contains(page.Body, `href="`+link+`"`) {
				t.Errorf("profile page lacks a link to %s", link)
			}
		}
		for _, action := range []string{"/account/profile", "/account/password", "/account/delete", "/sign-out"} {
			if !hasForm(t, page.Body, action) {
				t.Errorf("profile page lacks the form posting to %s", action)
			}
		}
		if got := inputValues(t, page.Body); got["first_name"] != "Ada" || got["last_name"] != "Lovelace" {
			t.Errorf("form values = %v, want the stored names", got)
		}
		if txt := text(t, signIn(t, srv, unverified.Email).Get(srv.Issuer+"/account").Body); !strings.Contains(txt, "Not verified") {
			t.Errorf("an unverified address is not marked so:\n%s", txt)
		}

		r := b.PostForm(srv.Issuer+"/account/profile", url.Values{
			"first_name": {" Augusta Ada "}, "last_name": {"King"}, "username": {"Countess"}, "image_url": {"https://img.example/ada.png"},
		})
		wantRedirect(t, "save", r, "/account?notice=profile_saved")
		got, err := srv.Identity.GetUser(ctx, ada.ID)
		if err != nil {
			t.Fatal(err)
		}
		type names struct{ First, Last, Username, Image string }
		want := names{"Augusta Ada", "King", "countess", "https://img.example/ada.png"}
		if diff := cmp.Diff(want, names{got.FirstName, got.LastName, got.Username, got.ImageURL}); diff != "" {
			t.Errorf("user after save (-want +got):\n%s", diff)
		}
		page = b.Get(srv.Issuer + r.Location.RequestURI())
		if txt := text(t, page.Body); !strings.Contains(txt, "Profile saved") || !strings.Contains(txt, "Augusta Ada King") {
			t.Errorf("page after save lacks the notice or the new name:\n%s", txt)
		}
		if !strings.Contains(page.Body, `src="https://img.example/ada.png"`) {
			t.Error("page after save does not show the profile image")
		}

		// Saving unchanged values changes nothing, not even updated_at.
		r = b.PostForm(srv.Issuer+"/account/profile", url.Values{
			"first_name": {"Augusta Ada"}, "last_name": {"King"}, "username": {"COUNTESS"}, "image_url": {"https://img.example/ada.png"},
		})
		wantRedirect(t, "save unchanged", r, "/account?notice=profile_saved")
		if again, _ := srv.Identity.GetUser(ctx, ada.ID); !again.UpdatedAt.Equal(got.UpdatedAt) {
			t.Errorf("updated_at moved from %v to %v on an unchanged save", got.UpdatedAt, again.UpdatedAt)
		}

		for _, tc := range []struct {
			name   string
			form   url.Values
			status int
			field  string // the input the error is shown beside
			says   string
		}{
			{"image URL not http", url.Values{"first_name": {"Eve"}, "image_url": {"javascript:alert(1)"}}, http.StatusBadRequest, "image_url", "absolute http or https URL"},
			{"username too short", url.Values{"first_name": {"Eve"}, "username": {"ab"}}, http.StatusBadRequest, "username", "Username must be 3 to 64 characters"},
			{"username with @", url.Values{"first_name": {"Eve"}, "username": {"eve@x"}}, http.StatusBadRequest, "username", "Username must be"},
			{"username taken", url.Values{"first_name": {"Eve"}, "username": {"Grace"}}, http.StatusConflict, "username", "That username is taken"},
			{"name too long", url.Values{"first_name": {strings.Repeat("x", 257)}}, http.StatusBadRequest, "first_name", "at most 256 characters"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := b.PostForm(srv.Issuer+"/account/profile", tc.form)
				wantStatus(t, tc.name, r, tc.status)
				if msg := fieldError(t, r.Body, tc.field); !strings.Contains(msg, tc.says) {
					t.Errorf("error beside %s = %q, want it to say %q", tc.field, msg, tc.says)
				}
				if got := inputValues(t, r.Body)["first_name"]; got != tc.form.Get("first_name") {
					t.Errorf("first_name refilled with %q, want what was typed, %q", got, tc.form.Get("first_name"))
				}
				after, _ := srv.Identity.GetUser(ctx, ada.ID)
				if after.FirstName != "Augusta Ada" || after.Username != "countess" {
					t.Errorf("a refused save changed the user: %+v", after)
				}
			})
		}
	})
}

// inputValues maps the name of every input on a page to its value.
func inputValues(t *testing.T, page string) map[string]string {
	t.Helper()
	out := map[string]string{}
	walkElements(t, page, func(n *html.Node) {
		if n.Data == "input" && attrOf(n, "name") != "" {
			out[attrOf(n, "name")] = attrOf(n, "value")
		}
	})
	return out
}

// fieldError is the error shown beside the input named field: the text of
// the element its aria-describedby names with class field-error.
func fieldError(t *testing.T, page, field string) string {
	t.Helper()
	var ids []string
	walkElements(t, page, func(n *html.Node) {
		if n.Data == "input" && attrOf(n, "name") == field && attrOf(n, "aria-invalid") == "true" {
			ids = strings.Fields(attrOf(n, "aria-describedby"))
		}
	})
	msg := ""
	walkElements(t, page, func(n *html.Node) {
		for _, id := range ids {
			if attrOf(n, "id") == id && strings.Contains(attrOf(n, "class"), "field-error") {
				msg = nodeText(n)
			}
		}
	})
	return msg
}

func walkElements(t *testing.T, page string, fn func(*html.Node)) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			fn(n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func nodeText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}
