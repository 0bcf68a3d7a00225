package account_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/browsertest"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage/storagetest"
)

// The whole path of issue 5 in a real browser: Ada signs in and creates an
// organization on the hosted pages, invites Bob, Bob accepts the mailed
// link in a browser of his own, and the organization claims of the tokens
// an OIDC client receives change when Bob switches organization on the
// hosted switcher (a silent prompt=none authorization) and again with a
// refresh_token grant that names an organization.

// stepTimeout bounds one browser step.
const stepTimeout = 30 * time.Second

// startChromium starts the browser (package browsertest).
func startChromium(t *testing.T) context.Context { return browsertest.Start(t) }

// tab is one user's browser: a browser context of its own (own cookies).
type tab struct {
	t    *testing.T
	name string
	ctx  context.Context
}

func newTab(t *testing.T, browser context.Context, name string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("%s: open tab: %v", name, err)
	}
	return &tab{t: t, name: name, ctx: ctx}
}

// do runs actions that need no navigation to finish.
func (b *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %s: %v\npage: %s", b.name, what, err, b.pageText())
	}
}

// open navigates to rawURL and returns where the browser ended up.
func (b *tab) open(rawURL string) *url.URL {
	b.t.Helper()
	b.do("open "+rawURL, chromedp.Navigate(rawURL))
	return b.location()
}

// submit clicks the button sel, waits for the page it leads to and returns
// where the browser ended up.
func (b *tab) submit(sel string) *url.URL {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)); err != nil {
		b.t.Fatalf("%s: submit %s: %v\npage: %s", b.name, sel, err, b.pageText())
	}
	return b.location()
}

func (b *tab) location() *url.URL {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("%s: location: %v", b.name, err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatalf("%s: location %q: %v", b.name, loc, err)
	}
	return u
}

// pageText is the visible text of the page, for failure messages.
func (b *tab) pageText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	txt, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return txt
}

// signIn fills the hosted sign-in page the browser is on.
func (b *tab) signIn(email, password string) *url.URL {
	b.t.Helper()
	b.do("fill the sign-in form",
		chromedp.WaitVisible(chromedp.ID("identifier")),
		chromedp.SendKeys(chromedp.ID("identifier"), email),
		chromedp.SendKeys(chromedp.ID("password"), password),
	)
	return b.submit(`form[action="/sign-in"] button[type=submit]`)
}

// wantPath fails unless u is on the server at path (and query, if given).
func wantPath(t *testing.T, what string, u *url.URL, path string) {
	t.Helper()
	got := u.Path
	if strings.Contains(path, "?") {
		got = u.RequestURI()
	}
	if got != path {
		t.Fatalf("%s: browser is at %s, want %s", what, u, path)
	}
}

// relyingParty is an OIDC client with its callback on a loopback server.
type relyingParty struct {
	t         *testing.T
	config    oauth2.Config
	verifier  *gooidc.IDTokenVerifier
	keys      *gooidc.RemoteKeySet
	callbacks chan url.Values
}

func newRelyingParty(t *testing.T, srv *servertest.Server) *relyingParty {
	t.Helper()
	rp := &relyingParty{t: t, callbacks: make(chan url.Values, 4)}
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		rp.callbacks <- r.URL.Query()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprint(w, `<!doctype html><title>App</title><h1 id="signed-in">Back in the app</h1>`)
	}))
	t.Cleanup(cb.Close)
	redirectURI := cb.URL + "/callback"
	client, secret := srv.CreateClient(t, oidc.NewClient{
		Name: "Browser test app", FirstParty: true,
		Metadata: oidc.ClientMetadata{
			RedirectURIs: []string{redirectURI},
			GrantTypes:   []string{oidc.GrantAuthorizationCode, oidc.GrantRefreshToken},
			Scopes:       []string{"openid", "profile", "email", "offline_access", oidc.ScopeOrganization},
		},
	})
	ctx := context.Background()
	provider, err := gooidc.NewProvider(ctx, srv.Issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	var meta struct {
		JWKSURI string   `json:"jwks_uri"`
		Scopes  []string `json:"scopes_supported"`
	}
	if err := provider.Claims(&meta); err != nil {
		t.Fatalf("discovery: %v", err)
	}
	if !slices.Contains(meta.Scopes, oidc.ScopeOrganization) {
		t.Errorf("discovery's scopes_supported = %v, want it to advertise %q (issue 5, item 5)", meta.Scopes, oidc.ScopeOrganization)
	}
	endpoint := provider.Endpoint()
	endpoint.AuthStyle = oauth2.AuthStyleInHeader
	rp.config = oauth2.Config{
		ClientID: client.ID, ClientSecret: secret, Endpoint: endpoint, RedirectURL: redirectURI,
		Scopes: []string{gooidc.ScopeOpenID, "profile", "email", gooidc.ScopeOfflineAccess, oidc.ScopeOrganization},
	}
	rp.verifier = provider.Verifier(&gooidc.Config{ClientID: client.ID})
	rp.keys = gooidc.NewRemoteKeySet(ctx, meta.JWKSURI)
	return rp
}

// tokens are what one grant issued, with the verified claims.
type tokens struct {
	oauth         *oauth2.Token
	id, access    map[string]any
	rawID, rawAcc string
}

// authorize starts an authorization in the browser; then (after the
// browser reached the callback, possibly through pages the caller drives)
// finish exchanges the code.
func (rp *relyingParty) authorize(b *tab, nonce string, opts ...oauth2.AuthCodeOption) (verifier string, at *url.URL) {
	rp.t.Helper()
	verifier = oauth2.GenerateVerifier()
	opts = append(opts, oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce))
	return verifier, b.open(rp.config.AuthCodeURL("state-"+nonce, opts...))
}

func (rp *relyingParty) finish(verifier, nonce string) tokens {
	rp.t.Helper()
	var q url.Values
	select {
	case q = <-rp.callbacks:
	case <-time.After(stepTimeout):
		rp.t.Fatal("the browser never reached the client's callback")
	}
	if q.Get("error") != "" || q.Get("state") != "state-"+nonce {
		rp.t.Fatalf("authorization response = %v", q)
	}
	tok, err := rp.config.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		rp.t.Fatalf("exchange the code: %v", err)
	}
	out := rp.verify(tok)
	if out.id["nonce"] != nonce {
		rp.t.Errorf("nonce = %v, want %s", out.id["nonce"], nonce)
	}
	return out
}

// verify checks the ID token (go-oidc, through discovery and JWKS) and the
// JWT access token's signature (JWKS), and decodes both.
func (rp *relyingParty) verify(tok *oauth2.Token) tokens {
	rp.t.Helper()
	ctx := context.Background()
	out := tokens{oauth: tok, rawAcc: tok.AccessToken}
	out.rawID, _ = tok.Extra("id_token").(string)
	idt, err := rp.verifier.Verify(ctx, out.rawID)
	if err != nil {
		rp.t.Fatalf("verify the ID token: %v", err)
	}
	if err := idt.Claims(&out.id); err != nil {
		rp.t.Fatal(err)
	}
	payload, err := rp.keys.VerifySignature(ctx, tok.AccessToken)
	if err != nil {
		rp.t.Fatalf("verify the access token against JWKS: %v", err)
	}
	if err := json.Unmarshal(payload, &out.access); err != nil {
		rp.t.Fatal(err)
	}
	return out
}

// refreshInto runs a refresh_token grant that switches organization (the
// organization parameter, which x/oauth2's TokenSource cannot send).
func (rp *relyingParty) refreshInto(refreshToken, organization string) tokens {
	rp.t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}, "organization": {organization}}
	req, err := http.NewRequest(http.MethodPost, rp.config.Endpoint.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		rp.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(rp.config.ClientID), url.QueryEscape(rp.config.ClientSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		rp.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		IDToken      string `json:"id_token"`
		Error        string `json:"error"`
		Description  string `json:"error_description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		rp.t.Fatalf("refresh into %s: status %d, %s %s (%v)", organization, resp.StatusCode, body.Error, body.Description, err)
	}
	tok := (&oauth2.Token{AccessToken: body.AccessToken, RefreshToken: body.RefreshToken}).WithExtra(map[string]any{"id_token": body.IDToken})
	return rp.verify(tok)
}

// orgClaims are the organization claims of a token.
type orgClaims struct {
	ID, Slug, Role string
	Permissions    []string
}

func orgClaimsOf(t *testing.T, claims map[string]any) orgClaims {
	t.Helper()
	var out orgClaims
	out.ID, _ = claims["org_id"].(string)
	out.Slug, _ = claims["org_slug"].(string)
	out.Role, _ = claims["org_role"].(string)
	perms, ok := claims["org_permissions"].([]any)
	if !ok {
		t.Fatalf("org_permissions = %#v, want a JSON array", claims["org_permissions"])
	}
	out.Permissions = []string{}
	for _, p := range perms {
		out.Permissions = append(out.Permissions, fmt.Sprint(p))
	}
	return out
}

// wantOrg checks the organization claims of both tokens.
func wantOrg(t *testing.T, what string, tok tokens, want orgClaims) {
	t.Helper()
	for name, claims := range map[string]map[string]any{"ID token": tok.id, "access token": tok.access} {
		if diff := cmp.Diff(want, orgClaimsOf(t, claims)); diff != "" {
			t.Errorf("%s: %s organization claims (-want +got):\n%s", what, name, diff)
		}
	}
	t.Logf("%s: ID token org claims %v %v %v %v; access token org claims %v %v %v %v", what,
		tok.id["org_id"], tok.id["org_slug"], tok.id["org_role"], tok.id["org_permissions"],
		tok.access["org_id"], tok.access["org_slug"], tok.access["org_role"], tok.access["org_permissions"])
}

func TestBrowserOrganizationJourney(t *testing.T) {
	browser := startChromium(t)
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		ctx := context.Background()
		ada := srv.CreateUser(t, "ada@acme.test")
		bob := srv.CreateUser(t, "bob@beta.test", func(nu *identity.NewUser) { nu.FirstName, nu.LastName = "Bob", "Builder" })
		// Custom permissions reach tokens; members may read projects,
		// owners also manage them.
		for _, key := range []string{"org:projects:read", "org:projects:manage"} {
			if _, err := srv.RBAC.CreatePermission(ctx, rbac.NewPermission{Key: key}); err != nil {
				t.Fatal(err)
			}
			if err := srv.RBAC.Grant(ctx, rbac.RoleOwner, key); err != nil {
				t.Fatal(err)
			}
		}
		if err := srv.RBAC.Grant(ctx, rbac.RoleMember, "org:projects:read"); err != nil {
			t.Fatal(err)
		}
		beta := createOrg(t, srv, bob.ID, "Beta Works")
		rp := newRelyingParty(t, srv)

		// Ada signs in on the hosted pages and creates an organization.
		a := newTab(t, browser, "Ada")
		wantPath(t, "signed out", a.open(srv.Issuer+"/organizations"), "/sign-in")
		wantPath(t, "after sign-in", a.signIn(ada.Email, servertest.Password), "/organizations")
		a.do("name the organization", chromedp.SendKeys(chromedp.ID("org-name"), "Acme Robotics"))
		wantPath(t, "created", a.submit(`#create-organization button[type=submit]`), "/organizations/acme-robotics?notice=created")
		acme, err := srv.Tenancy.MembershipOf(ctx, ada.ID, "acme-robotics")
		if err != nil || acme.Role != rbac.RoleOwner {
			t.Fatalf("Ada's membership = %+v, %v", acme, err)
		}

		// Ada invites Bob as a member.
		a.do("fill the invitation",
			chromedp.SendKeys(chromedp.ID("invite-email"), bob.Email),
			chromedp.SetValue(chromedp.ID("invite-role"), rbac.RoleMember),
		)
		wantPath(t, "invited", a.submit(`#invite button[type=submit]`), "/organizations/acme-robotics?notice=invited")
		if txt := a.pageText(); !strings.Contains(txt, bob.Email) {
			t.Fatalf("the pending invitation is not listed:\n%s", txt)
		}
		link := acceptURL(t, srv, bob.Email)

		// Bob opens the link in his own browser, signs in and joins.
		b := newTab(t, browser, "Bob")
		wantPath(t, "link while signed out", b.open(link), "/sign-in")
		wantPath(t, "back at the invitation", b.signIn(bob.Email, servertest.Password), "/invitations/accept")
		if txt := b.pageText(); !strings.Contains(txt, "Join Acme Robotics") {
			t.Fatalf("invitation page:\n%s", txt)
		}
		wantPath(t, "joined", b.submit(`#accept-invitation button[type=submit]`), "/organizations/acme-robotics?notice=joined")
		if txt := b.pageText(); !strings.Contains(txt, "You joined the organization") || !strings.Contains(txt, "your role: Member") {
			t.Fatalf("Bob's view of Acme Robotics:\n%s", txt)
		}

		// Before the switch: Bob signs in to the app and picks his own
		// organization on the chooser.
		verifier, at := rp.authorize(b, "before-switch-1")
		wantPath(t, "authorization", at, oidc.PathChooseOrganization)
		b.submit(fmt.Sprintf(`button[name="org_id"][value=%q]`, beta.ID))
		before := rp.finish(verifier, "before-switch-1")
		wantOrg(t, "before the switch", before, orgClaims{beta.ID, "beta-works", rbac.RoleOwner, []string{"org:projects:manage", "org:projects:read"}})
		if before.id["sub"] != bob.ID {
			t.Errorf("sub = %v, want %s", before.id["sub"], bob.ID)
		}

		// Bob switches to Acme Robotics on the hosted switcher.
		wantPath(t, "switcher", b.open(srv.Issuer+"/organizations/switch?return_to=%2Forganizations"), "/organizations/switch")
		wantPath(t, "switched", b.submit(fmt.Sprintf(`#switch button[name="org_id"][value=%q]`, acme.OrganizationID)), "/organizations")
		if active := activeSession(t, srv, bob.ID).ActiveOrganizationID; active != acme.OrganizationID {
			t.Fatalf("Bob's active organization = %q, want %q", active, acme.OrganizationID)
		}

		// After the switch: a silent authorization, as an SPA renews.
		verifier, _ = rp.authorize(b, "after-switch-2", oauth2.SetAuthURLParam("prompt", "none"))
		after := rp.finish(verifier, "after-switch-2")
		wantOrg(t, "after the switch", after, orgClaims{acme.OrganizationID, "acme-robotics", rbac.RoleMember, []string{"org:projects:read"}})
		if after.id["sid"] != before.id["sid"] {
			t.Errorf("sid changed from %v to %v: the switch must not sign Bob in again", before.id["sid"], after.id["sid"])
		}

		// And back with a refresh_token grant naming the organization.
		back := rp.refreshInto(after.oauth.RefreshToken, "beta-works")
		wantOrg(t, "refresh into Beta Works", back, orgClaims{beta.ID, "beta-works", rbac.RoleOwner, []string{"org:projects:manage", "org:projects:read"}})
	})
}
