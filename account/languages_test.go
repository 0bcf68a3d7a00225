package account_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/tenancy"
)

// The account pages speak the page's language (ui_locales, else
// Accept-Language) in what Go code composes too: devices, dates and the
// messages of refused forms.
func TestAccountPagesInThePagesLanguage(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		ctx := context.Background()
		ada := srv.CreateUser(t, "ada@acme.test")
		acme := createOrg(t, srv, ada.ID, "Acme") // Ada is its only owner
		if _, err := srv.Tenancy.CreateInvitation(ctx, tenancy.Operator(), acme.ID, tenancy.NewInvitation{EmailAddress: "new@acme.test"}); err != nil {
			t.Fatal(err)
		}
		b := signInWith(t, srv, ada.Email, uaFirefoxLinux)
		in := func(path, lang string) string {
			return srv.Issuer + path + "?" + url.Values{"ui_locales": {lang}}.Encode()
		}

		germanMoment := regexp.MustCompile(`\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2} UTC`)
		for _, tc := range []struct {
			name, path, lang string
			form             url.Values // nil: GET
			status           int
			want             []string
			wantMoment       *regexp.Regexp
		}{
			{"sessions", "/account/sessions", "de", nil, http.StatusOK,
				[]string{"Firefox unter Linux", "Dieser Browser"}, germanMoment},
			{"invitations", "/organizations/" + acme.Slug, "de", nil, http.StatusOK,
				[]string{"new@acme.test"}, germanMoment},
			{"sessions in English", "/account/sessions", "en", nil, http.StatusOK,
				[]string{"Firefox on Linux"}, regexp.MustCompile(`\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2} UTC`)},
			{"account deletion unconfirmed", "/account/delete", "fr", url.Values{"confirm_email": {"someone@else.test"}}, http.StatusBadRequest,
				[]string{"Pour supprimer votre compte, saisissez votre adresse e-mail, ada@acme.test, dans le champ de confirmation."}, nil},
			{"account deletion blocked", "/account/delete", "es", url.Values{"confirm_email": {ada.Email}}, http.StatusConflict,
				[]string{"No se ha eliminado tu cuenta: eres el último propietario de Acme."}, nil},
			{"organization deletion unconfirmed", "/organizations/" + acme.Slug + "/delete", "de", url.Values{"confirm": {"nope"}}, http.StatusBadRequest,
				[]string{"Um die Organisation zu löschen, geben Sie ihren Kurznamen " + acme.Slug + " in das Bestätigungsfeld ein."}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var page *servertest.Response
				if tc.form == nil {
					page = b.Get(in(tc.path, tc.lang))
				} else {
					page = b.PostForm(in(tc.path, tc.lang), tc.form)
				}
				wantStatus(t, tc.name, page, tc.status)
				if !strings.Contains(page.Body, `<html lang="`+tc.lang+`">`) {
					t.Errorf("the page is not in %s", tc.lang)
				}
				txt := text(t, page.Body)
				for _, want := range tc.want {
					if !strings.Contains(txt, want) {
						t.Errorf("the page does not say %q:\n%s", want, txt)
					}
				}
				if tc.wantMoment != nil && !tc.wantMoment.MatchString(txt) {
					t.Errorf("no moment written like %s on the page:\n%s", tc.wantMoment, txt)
				}
			})
		}
	})
}
