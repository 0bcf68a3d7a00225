package account_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
)

// User agents of the browsers the tests pretend to be.
const (
	uaFirefoxLinux = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	uaChromeMac    = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
	uaSafariPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

// userAgent sets the User-Agent of every request.
type userAgent struct {
	ua   string
	next http.RoundTripper
}

func (u userAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", u.ua)
	return u.next.RoundTrip(r)
}

// signInWith returns a browser that says it is ua, signed in as email.
func signInWith(t *testing.T, srv *servertest.Server, email, ua string) *servertest.Browser {
	t.Helper()
	b := servertest.NewBrowser(t)
	b.Client.Transport = userAgent{ua: ua, next: http.DefaultTransport}
	resp := b.PostForm(srv.Issuer+"/sign-in", url.Values{"identifier": {email}, "password": {servertest.Password}})
	if resp.Status != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %v", email, resp)
	}
	return b
}

// wantSignedOut fails unless b is sent to the sign-in page from /account.
func wantSignedOut(t *testing.T, srv *servertest.Server, what string, b *servertest.Browser) {
	t.Helper()
	wantRedirect(t, what, b.Get(srv.Issuer+"/account"), oidc.SignInURL("/account"))
}

// wantSignedIn fails unless b sees its account page.
func wantSignedIn(t *testing.T, srv *servertest.Server, what string, b *servertest.Browser) {
	t.Helper()
	wantStatus(t, what, b.Get(srv.Issuer+"/account"), http.StatusOK)
}

// appRedirectURI is where the test applications' authorizations end; it is
// never fetched.
const appRedirectURI = "http://127.0.0.1:9/callback"

// thirdPartyApp registers a confidential third-party client (users are
// asked for consent) that may get refresh tokens.
func thirdPartyApp(t *testing.T, srv *servertest.Server, name string) oauth2.Config {
	t.Helper()
	c, secret := srv.CreateClient(t, oidc.NewClient{
		Name: name,
		Metadata: oidc.ClientMetadata{
			RedirectURIs: []string{appRedirectURI},
			GrantTypes:   []string{oidc.GrantAuthorizationCode, oidc.GrantRefreshToken},
		},
	})
	return oauth2.Config{
		ClientID: c.ID, ClientSecret: secret, RedirectURL: appRedirectURI,
		Endpoint: oauth2.Endpoint{
			AuthURL: srv.Issuer + oidc.PathAuthorize, TokenURL: srv.Issuer + oidc.PathToken,
			AuthStyle: oauth2.AuthStyleInHeader,
		},
		Scopes: []string{"openid", "email", "offline_access"},
	}
}

// connect runs an authorization of app in b, whose user is signed in,
// allowing it on the consent page when asked, and returns the tokens.
// consented says whether the consent page was shown.
func connect(t *testing.T, srv *servertest.Server, b *servertest.Browser, app oauth2.Config) (tok *oauth2.Token, consented bool) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	page := b.Follow(b.Get(app.AuthCodeURL("state-1234567890", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("nonce", "nonce-1234567890"))), srv.Issuer)
	if page.Location == nil && strings.Contains(page.Body, `value="allow"`) {
		consented = true
		form, action, err := servertest.FindForm(page.Body, "flow")
		if err != nil {
			t.Fatalf("consent page: %v", err)
		}
		form.Set("action", "allow")
		page = b.Follow(b.PostForm(srv.Issuer+action, form), srv.Issuer)
	}
	if page.Location == nil || !strings.HasPrefix(page.Location.String(), appRedirectURI) {
		t.Fatalf("authorization of %s did not return to it: %v", app.ClientID, page)
	}
	code := page.Location.Query().Get("code")
	tok, err := app.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange the code of %s: %v", app.ClientID, err)
	}
	if tok.RefreshToken == "" {
		t.Fatalf("%s got no refresh token", app.ClientID)
	}
	return tok, consented
}

// refresh runs a refresh_token grant and returns the new refresh token, or
// the OAuth error code.
func refresh(t *testing.T, app oauth2.Config, refreshToken string) (string, string) {
	t.Helper()
	tok, err := app.TokenSource(context.Background(), &oauth2.Token{RefreshToken: refreshToken}).Token()
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return "", re.ErrorCode
	}
	if err != nil {
		t.Fatalf("refresh for %s: %v", app.ClientID, err)
	}
	return tok.RefreshToken, ""
}

// wantRefresh fails unless a refresh works (wantError "") or fails with
// wantError; it returns the rotated refresh token.
func wantRefresh(t *testing.T, what string, app oauth2.Config, refreshToken, wantError string) string {
	t.Helper()
	next, code := refresh(t, app, refreshToken)
	if code != wantError {
		t.Fatalf("%s: refresh error = %q, want %q", what, code, wantError)
	}
	return next
}
