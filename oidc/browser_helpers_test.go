package oidc_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/browsertest"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
)

// Real-browser tests drive Debian's chromium through chromedp. Without
// chromium they skip, unless ORGID_REQUIRE_BROWSER=1 (CI), which makes
// them fail: CI cannot pass by skipping.

const browserStep = 30 * time.Second

// chromium starts the browser (package browsertest).
func chromium(t *testing.T) context.Context { return browsertest.Start(t) }

// page is one browser context (its own cookies) on one tab.
type page struct {
	t   *testing.T
	ctx context.Context
}

func newPage(t *testing.T, browser context.Context) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	return &page{t: t, ctx: ctx}
}

// do runs actions that do not navigate.
func (p *page) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStep)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v\npage: %s", what, err, p.text())
	}
}

// open navigates and returns where the browser ended up.
func (p *page) open(rawURL string) *url.URL {
	p.t.Helper()
	p.do("open "+rawURL, chromedp.Navigate(rawURL))
	return p.location()
}

// click clicks sel and waits for the navigation it causes.
func (p *page) click(sel string) *url.URL {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStep)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)); err != nil {
		p.t.Fatalf("click %s: %v\npage: %s", sel, err, p.text())
	}
	return p.location()
}

// fill types text into the fields, by id.
func (p *page) fill(fields ...string) {
	p.t.Helper()
	var actions []chromedp.Action[chromedp.Void]
	for i := 0; i+1 < len(fields); i += 2 {
		actions = append(actions, chromedp.WaitVisible(chromedp.ID(fields[i])), chromedp.SendKeys(chromedp.ID(fields[i]), fields[i+1]))
	}
	p.do(fmt.Sprintf("fill %v", fields), actions...)
}

func (p *page) location() *url.URL {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserStep)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		p.t.Fatalf("location: %v", err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		p.t.Fatal(err)
	}
	return u
}

// text is the page's visible text, for failure messages and checks.
func (p *page) text() string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	txt, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return txt
}

// wantAt fails unless the browser is at path on the server.
func (p *page) wantAt(what string, u *url.URL, path string) {
	p.t.Helper()
	if u.Path != path {
		p.t.Fatalf("%s: browser at %s, want %s\npage: %s", what, u, path, p.text())
	}
}

// browserRP is a confidential first-party client whose callback is a real
// loopback server, for browser tests.
type browserRP struct {
	t         *testing.T
	config    oauth2.Config
	verifier  *gooidc.IDTokenVerifier
	callbacks chan url.Values
}

func newBrowserRP(t *testing.T, srv *servertest.Server) *browserRP {
	t.Helper()
	rp := &browserRP{t: t, callbacks: make(chan url.Values, 4)}
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp.callbacks <- r.URL.Query()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprint(w, `<!doctype html><title>App</title><h1>Back in the app</h1>`)
	}))
	t.Cleanup(cb.Close)
	c, secret := srv.CreateClient(t, oidc.NewClient{
		Name: "Browser app", FirstParty: true,
		Metadata: oidc.ClientMetadata{
			RedirectURIs: []string{cb.URL + "/callback"},
			GrantTypes:   []string{oidc.GrantAuthorizationCode},
		},
	})
	// The configured issuer: a test may serve on localhost rather than
	// 127.0.0.1 (passkeys need a host name).
	provider, err := gooidc.NewProvider(context.Background(), srv.Base.Config.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	endpoint := provider.Endpoint()
	endpoint.AuthStyle = oauth2.AuthStyleInHeader
	rp.config = oauth2.Config{ClientID: c.ID, ClientSecret: secret, Endpoint: endpoint, RedirectURL: cb.URL + "/callback",
		Scopes: []string{gooidc.ScopeOpenID, "profile", "email"}}
	rp.verifier = provider.Verifier(&gooidc.Config{ClientID: c.ID})
	return rp
}

// start opens the authorization request in the browser and returns the
// PKCE verifier and where the browser ended up.
func (rp *browserRP) start(p *page) (string, *url.URL) {
	rp.t.Helper()
	verifier := oauth2.GenerateVerifier()
	return verifier, p.open(rp.config.AuthCodeURL("state-browser-1", oauth2.S256ChallengeOption(verifier), gooidc.Nonce("nonce-browser-1")))
}

// claims waits for the callback, exchanges the code and returns the
// verified ID token's claims.
func (rp *browserRP) claims(verifier string) map[string]any {
	rp.t.Helper()
	var q url.Values
	select {
	case q = <-rp.callbacks:
	case <-time.After(browserStep):
		rp.t.Fatal("the browser never reached the client's callback")
	}
	if q.Get("error") != "" || q.Get("state") != "state-browser-1" {
		rp.t.Fatalf("authorization response = %v", q)
	}
	ctx := context.Background()
	tok, err := rp.config.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		rp.t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.verifier.Verify(ctx, raw)
	if err != nil {
		rp.t.Fatalf("verify ID token: %v", err)
	}
	var c map[string]any
	if err := idt.Claims(&c); err != nil {
		rp.t.Fatal(err)
	}
	return c
}

// contextWithTimeout bounds one step that reads from the page.
func contextWithTimeout(p *page) (context.Context, context.CancelFunc) {
	return context.WithTimeout(p.ctx, browserStep)
}
