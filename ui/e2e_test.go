package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

// The whole server, on both databases: the language of the hosted pages
// follows the authorization request's ui_locales through the flow (also
// on a page rendered after a POST), then the browser's Accept-Language,
// then English; the operator's brand shows on every page and in
// /theme.css.

const redirectURI = "http://127.0.0.1:9/callback"

func brandConfig(c *server.Config) {
	c.BrandName = "Acme ID"
	c.BrandAccentColor = "#ffd400"
	c.BrandBackgroundColor = "#101018"
}

// authorizeURL is an authorization request of a registered client, with
// extra parameters.
func authorizeURL(t *testing.T, srv *servertest.Server, extra url.Values) string {
	t.Helper()
	client, _ := srv.CreateClient(t, oidc.NewClient{
		Name: "Language test app", FirstParty: true,
		Metadata: oidc.ClientMetadata{
			RedirectURIs: []string{redirectURI},
			GrantTypes:   []string{oidc.GrantAuthorizationCode},
			Scopes:       []string{"openid", "email"},
		},
	})
	q := url.Values{
		"client_id": {client.ID}, "redirect_uri": {redirectURI}, "response_type": {"code"},
		"scope": {"openid email"}, "state": {"state-1234567890"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		q[k] = v
	}
	return srv.Issuer + "/oauth2/authorize?" + q.Encode()
}

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

func browser(t *testing.T, lang string) *servertest.Browser {
	b := servertest.NewBrowser(t)
	if lang != "" {
		b.Transport = acceptLanguage{lang: lang, next: http.DefaultTransport}
	}
	return b
}

// page is what a test reads of a hosted page.
type page struct {
	lang, title, h1, wordmark, errorText string
	labels                               map[string]string // input id → label text
}

func readPage(t *testing.T, resp *servertest.Response) page {
	t.Helper()
	if resp.Status != http.StatusOK && resp.Status != http.StatusUnauthorized {
		t.Fatalf("want a page, got %v", resp)
	}
	doc, err := html.Parse(strings.NewReader(resp.Body))
	if err != nil {
		t.Fatal(err)
	}
	p := page{labels: map[string]string{}}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch {
			case n.Data == "html":
				p.lang = attr(n, "lang")
			case n.Data == "title":
				p.title = text(n)
			case n.Data == "h1":
				p.h1 = text(n)
			case attr(n, "class") == "wordmark":
				p.wordmark = text(n)
			case attr(n, "class") == "error":
				p.errorText = text(n)
			case n.Data == "label":
				p.labels[attr(n, "for")] = strings.TrimSpace(text(n))
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return p
}

func TestPagesFollowUILocalesThenAcceptLanguage(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL, servertest.WithConfig(brandConfig))
		user := srv.CreateUser(t, "ada@example.com")

		for _, tc := range []struct {
			name, uiLocales, acceptLanguage                         string
			wantLang, wantH1, wantEmailLabel, wantError, wantOrgsH1 string
		}{
			{"ui_locales de", "de", "", "de", "Anmelden", "E-Mail-Adresse", "E-Mail-Adresse oder Passwort ist falsch.", "Ihre Organisationen"},
			{"ui_locales beats Accept-Language", "es-MX fr", "de", "es", "Iniciar sesión", "Correo electrónico", "El correo electrónico o la contraseña no son correctos.", "Tus organizaciones"},
			{"unsupported ui_locales, then Accept-Language", "ja", "fr-CA, de;q=0.5", "fr", "Connexion", "Adresse e-mail", "Adresse e-mail ou mot de passe incorrect.", "Vos organisations"},
			{"English by default", "", "", "en", "Sign in", "Email address", "Incorrect email address or password.", "Your organizations"},
			{"nothing supported", "pt-BR", "it", "en", "Sign in", "Email address", "Incorrect email address or password.", "Your organizations"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				extra := url.Values{}
				if tc.uiLocales != "" {
					extra.Set("ui_locales", tc.uiLocales)
				}
				b := browser(t, tc.acceptLanguage)
				signInPage := b.Follow(b.Get(authorizeURL(t, srv, extra)), srv.Issuer)
				got := readPage(t, signInPage)
				if got.lang != tc.wantLang || got.h1 != tc.wantH1 || got.labels["identifier"] != tc.wantEmailLabel {
					t.Errorf("sign-in page: lang %q, h1 %q, identifier label %q; want %q, %q, %q",
						got.lang, got.h1, got.labels["identifier"], tc.wantLang, tc.wantH1, tc.wantEmailLabel)
				}
				if got.title != tc.wantH1+" · Acme ID" || got.wordmark != "Acme ID" {
					t.Errorf("sign-in page: title %q, wordmark %q; want the brand Acme ID", got.title, got.wordmark)
				}

				// A wrong password: the page after the POST keeps the
				// flow's language, and its error is a translated key.
				form, action, err := servertest.FindForm(signInPage.Body, "identifier")
				if err != nil {
					t.Fatal(err)
				}
				form.Set("identifier", user.Email)
				form.Set("password", "not the password")
				failed := readPage(t, b.PostForm(srv.Issuer+action, form))
				if failed.lang != tc.wantLang || failed.errorText != tc.wantError {
					t.Errorf("failed sign-in: lang %q, error %q; want %q, %q", failed.lang, failed.errorText, tc.wantLang, tc.wantError)
				}

				// Signed in, the organization pages (package account)
				// speak the browser's language, or the ui_locales they
				// are linked with.
				if out := b.SignIn(signInPage, srv.Issuer, user.Email, servertest.Password); out.Location == nil || !strings.HasPrefix(out.Location.String(), redirectURI) {
					t.Fatalf("sign in: %v, want the client's redirect", out)
				}
				orgsURL := srv.Issuer + "/organizations"
				if tc.uiLocales != "" {
					orgsURL += "?" + url.Values{"ui_locales": {tc.uiLocales}}.Encode()
				}
				orgs := readPage(t, b.Get(orgsURL))
				if orgs.lang != tc.wantLang || orgs.h1 != tc.wantOrgsH1 {
					t.Errorf("/organizations: lang %q, h1 %q; want %q, %q", orgs.lang, orgs.h1, tc.wantLang, tc.wantOrgsH1)
				}
			})
		}
	})
}

func TestThemeStylesheetCarriesTheBrand(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL, servertest.WithConfig(brandConfig))
		resp := servertest.NewBrowser(t).Get(srv.Issuer + "/theme.css")
		if resp.Status != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
			t.Fatalf("/theme.css: %v", resp)
		}
		// Yellow is too light for white text or for links on the white card.
		for _, want := range []string{"--accent: #ffd400;", "--on-accent: #1c1c28;", "--page-bg: #101018;"} {
			if !strings.Contains(resp.Body, want) {
				t.Errorf("/theme.css lacks %q:\n%s", want, resp.Body)
			}
		}
		if m := regexp.MustCompile(`--link: (#[0-9a-f]{6});`).FindStringSubmatch(resp.Body); m == nil || m[1] == "#ffd400" {
			t.Errorf("/theme.css: links on the light card are %v, want a darker shade than the yellow accent:\n%s", m, resp.Body)
		}
	})
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
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
	return strings.TrimSpace(b.String())
}
