package oidc_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

// The pages and mail of the sign-in flows speak the language the
// authorization request (ui_locales) or the browser (Accept-Language)
// asks for: the device page, the messages Go code puts on pages
// (throttling, wrong codes, scope descriptions) and the mail a page sends.

// acceptLanguage sends an Accept-Language header with every request, as a
// browser does.
type acceptLanguage struct {
	lang string
	next http.RoundTripper
}

func (a acceptLanguage) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept-Language", a.lang)
	return a.next.RoundTrip(r)
}

// browserIn is a browser that prefers lang.
func browserIn(t *testing.T, lang string) *servertest.Browser {
	t.Helper()
	b := servertest.NewBrowser(t)
	b.Transport = acceptLanguage{lang: lang, next: http.DefaultTransport}
	return b
}

var (
	htmlLang = regexp.MustCompile(`<html lang="([^"]+)">`)
	firstH1  = regexp.MustCompile(`(?s)<h1>(.*?)</h1>`)
)

// wantPage fails unless resp is a page in lang whose h1 is h1 and whose
// body has every one of texts.
func wantPage(t *testing.T, what string, resp *servertest.Response, lang, h1 string, texts ...string) {
	t.Helper()
	gotLang, gotH1 := "", ""
	if m := htmlLang.FindStringSubmatch(resp.Body); m != nil {
		gotLang = m[1]
	}
	if m := firstH1.FindStringSubmatch(resp.Body); m != nil {
		gotH1 = strings.TrimSpace(m[1])
	}
	if resp.Location != nil || gotLang != lang || gotH1 != h1 {
		t.Fatalf("%s: page in %q with h1 %q, want %q and %q: %v", what, gotLang, gotH1, lang, h1, resp)
	}
	for _, text := range texts {
		if !strings.Contains(resp.Body, text) {
			t.Errorf("%s: the page lacks %q: %v", what, text, resp)
		}
	}
}

func TestDiscoveryListsThePagesLanguages(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		resp, err := http.Get(srv.Issuer + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		doc := jsonObject(t, b)
		var got []string
		list, _ := doc["ui_locales_supported"].([]any)
		for _, v := range list {
			s, _ := v.(string)
			got = append(got, s)
		}
		if diff := cmp.Diff([]string{"en", "de", "fr", "es"}, got); diff != "" {
			t.Errorf("ui_locales_supported (-want +got):\n%s", diff)
		}
	})
}

func TestDevicePageInTheBrowsersLanguage(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		user := srv.CreateUser(t, "ada@example.com")
		tv, _ := srv.CreateClient(t, oidc.NewClient{Name: "Living-room TV", Public: true, Metadata: oidc.ClientMetadata{
			GrantTypes: []string{oidc.GrantDeviceCode},
		}})
		d := &device{t: t, srv: srv, clientID: tv.ID}

		t.Run("Accept-Language", func(t *testing.T) {
			b := browserIn(t, "de-CH, en;q=0.5")
			entry := b.Get(srv.Issuer + oidc.PathDevice)
			wantPage(t, "code entry", entry, "de", "Gerät verbinden", "<title>Gerät verbinden · ", `name="user_code"`)
			wrong := submit(t, b, srv, entry, "user_code", map[string]string{"user_code": "BCDF-GHJK"})
			if wrong.Status != http.StatusBadRequest {
				t.Errorf("unknown code: status %d, want 400", wrong.Status)
			}
			wantPage(t, "unknown code", wrong, "de", "Gerät verbinden", "Dieser Code ist ungültig.")
		})

		t.Run("ui_locales through the flow", func(t *testing.T) {
			_, auth := d.authorize("openid profile")
			code := auth["user_code"].(string)
			// The browser prefers German; the link asks for French, which
			// the form, the sign-in and the confirmation keep.
			b := browserIn(t, "de")
			entry := b.Get(srv.Issuer + oidc.PathDevice + "?ui_locales=fr")
			wantPage(t, "code entry", entry, "fr", "Connecter un appareil")
			wrong := submit(t, b, srv, entry, "user_code", map[string]string{"user_code": "BCDF-GHJK"})
			wantPage(t, "unknown code", wrong, "fr", "Connecter un appareil", "Ce code n’est pas valide.")

			signIn := submit(t, b, srv, wrong, "user_code", map[string]string{"user_code": code})
			wantPage(t, "sign-in", signIn, "fr", "Connexion")
			confirmation := b.SignIn(signIn, srv.Issuer, user.Email, servertest.Password)
			wantPage(t, "confirmation", confirmation, "fr", "Connecter Living-room TV\u202f?",
				"Confirmer votre identité", "Votre nom et votre profil", `name="action" value="allow"`)
			done := confirm(t, srv, b, confirmation, "allow")
			wantPage(t, "approval", done, "fr", "Appareil connecté", "Living-room TV")
		})
	})
}

func TestSignInPagesAndMailInTheFlowsLanguage(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		r := newRP(t, srv, false, true)

		// A sign-up from a Spanish authorization request: the code comes
		// in Spanish, a wrong code is counted in Spanish.
		b := browserIn(t, "de")
		signInPage, _ := r.startAuthorization(b, oauth2.SetAuthURLParam("ui_locales", "es"))
		wantPage(t, "sign-in", signInPage, "es", "Iniciar sesión")
		signUp := b.Get(srv.Issuer + pageLink(t, signInPage, oidc.PathSignUp))
		codePage := submit(t, b, srv, signUp, "email", map[string]string{
			"email": "grace@example.com", "first_name": "Grace", "password": servertest.Password})
		mail := lastMail(t, srv, "grace@example.com")
		code := mailedCode(t, srv, "grace@example.com")
		if !strings.HasPrefix(mail.Subject, code+" es tu código de verificación de ") || !strings.Contains(mail.Text, "Introduce este código") {
			t.Errorf("sign-up mail: subject %q, text %q; want Spanish", mail.Subject, mail.Text)
		}
		wrongCode := "000000"
		if code == wrongCode {
			wrongCode = "111111"
		}
		wrong := submit(t, b, srv, codePage, "code", map[string]string{"code": wrongCode})
		wantPage(t, "wrong code", wrong, "es", "Verifica tu correo electrónico", "Ese código no es correcto. Te quedan 4 intentos.")

		// Outside a flow, the browser's language: a French reset link, and
		// the security notice after the reset in French too.
		user := srv.CreateUser(t, "ada@example.com")
		fr := browserIn(t, "fr-CA")
		forgot := fr.Get(srv.Issuer + oidc.PathForgotPassword)
		empty := submit(t, fr, srv, forgot, "email", map[string]string{"email": " "})
		wantPage(t, "no address", empty, "fr", "Réinitialiser votre mot de passe", "Saisissez votre adresse e-mail.")
		submit(t, fr, srv, forgot, "email", map[string]string{"email": user.Email})
		reset := lastMail(t, srv, user.Email)
		if !strings.HasPrefix(reset.Subject, "Réinitialisez votre mot de passe ") || !strings.Contains(reset.Text, "Ouvrez ce lien") {
			t.Errorf("reset mail: subject %q, text %q; want French", reset.Subject, reset.Text)
		}
		form := fr.Get(mailedLink(t, srv, user.Email, oidc.PathResetPassword))
		fields, action, err := servertest.FindForm(form.Body, "password")
		if err != nil {
			t.Fatal(err)
		}
		fields.Set("password", "a brand new passphrase 99")
		if done := fr.PostForm(srv.Issuer+action, fields); done.Status != http.StatusSeeOther {
			t.Fatalf("reset: %v", done)
		}
		notice := lastMail(t, srv, user.Email)
		if !strings.Contains(notice.Subject, "Modification de sécurité") || !strings.HasPrefix(notice.Text, "Votre mot de passe a été modifié") {
			t.Errorf("security notice: subject %q, text %q; want French", notice.Subject, notice.Text)
		}
		// The sign-in page it leads to says why, in French.
		signIn := fr.Get(srv.Issuer + oidc.PathSignIn + "?" + url.Values{"notice": {"password_changed"}}.Encode())
		wantPage(t, "after the reset", signIn, "fr", "Connexion", "Votre mot de passe a été modifié")
	})
}
