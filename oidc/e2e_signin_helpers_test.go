package oidc_test

import (
	"context"
	"html"
	"regexp"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/mail"
	"github.com/orgid/orgid/internal/servertest"
)

// mailTo returns the messages sent to address so far, oldest first, after
// the mail being sent in the background went out.
func mailTo(t *testing.T, srv *servertest.Server, address string) []mail.Message {
	t.Helper()
	srv.Provider.FlushMail()
	msgs, err := mail.ReadOutbox(mail.DefaultOutboxPath(srv.Base.Config.DataDir))
	if err != nil {
		t.Fatalf("read outbox: %v", err)
	}
	var out []mail.Message
	for _, m := range msgs {
		if strings.EqualFold(m.To, address) {
			out = append(out, m)
		}
	}
	return out
}

// lastMail is the newest message to address.
func lastMail(t *testing.T, srv *servertest.Server, address string) mail.Message {
	t.Helper()
	msgs := mailTo(t, srv, address)
	if len(msgs) == 0 {
		t.Fatalf("no mail to %s", address)
	}
	return msgs[len(msgs)-1]
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

// mailedCode is the 6-digit code in the newest message to address that
// has one (mail leaves in the background, notices may come in between).
func mailedCode(t *testing.T, srv *servertest.Server, address string) string {
	t.Helper()
	msgs := mailTo(t, srv, address)
	for i := len(msgs) - 1; i >= 0; i-- {
		if code := sixDigits.FindString(msgs[i].Text); code != "" {
			return code
		}
	}
	t.Fatalf("no code in the %d mails to %s", len(msgs), address)
	return ""
}

// mailedLink is the newest link to path on this server mailed to address.
func mailedLink(t *testing.T, srv *servertest.Server, address, path string) string {
	t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(srv.Issuer+path) + `\?[^\s"<>]+`)
	msgs := mailTo(t, srv, address)
	for i := len(msgs) - 1; i >= 0; i-- {
		if link := re.FindString(msgs[i].Text); link != "" {
			return link
		}
	}
	t.Fatalf("no %s link in the %d mails to %s", path, len(msgs), address)
	return ""
}

// pageLink is the href of the first link on page whose path is path.
func pageLink(t *testing.T, page *servertest.Response, path string) string {
	t.Helper()
	m := regexp.MustCompile(`href="(` + regexp.QuoteMeta(path) + `(\?[^"]*)?)"`).FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("no link to %s on the page: %v", path, page)
	}
	return html.UnescapeString(m[1])
}

// submit posts the first form on page that has field, with values set,
// and follows orgid's redirects.
func submit(t *testing.T, b *servertest.Browser, srv *servertest.Server, page *servertest.Response, field string, values map[string]string) *servertest.Response {
	t.Helper()
	form, action, err := servertest.FindForm(page.Body, field)
	if err != nil {
		t.Fatalf("%v on page: %v", err, page)
	}
	for k, v := range values {
		form.Set(k, v)
	}
	return b.Follow(b.PostForm(srv.Issuer+action, form), srv.Issuer)
}

// startAuthorization sends the browser to the authorization endpoint and
// follows orgid's redirects to the first page it shows.
func (r *rp) startAuthorization(b *servertest.Browser, opts ...oauth2.AuthCodeOption) (*servertest.Response, string) {
	r.t.Helper()
	verifier := oauth2.GenerateVerifier()
	opts = append(opts, oauth2.S256ChallengeOption(verifier), gooidc.Nonce("nonce-1234567890"))
	return b.Follow(b.Get(r.config.AuthCodeURL("state-1234567890", opts...)), r.srv.Issuer), verifier
}

// finish exchanges the code of the client redirect resp and returns the
// verified ID token's claims.
func (r *rp) finish(resp *servertest.Response, verifier string) map[string]any {
	r.t.Helper()
	if resp.Location == nil || !strings.HasPrefix(resp.Location.String(), redirectURI) {
		r.t.Fatalf("the flow did not return to the client: %v", resp)
	}
	q := resp.Location.Query()
	if q.Get("error") != "" {
		r.t.Fatalf("authorization error: %v", q)
	}
	ctx := context.Background()
	tok, err := r.config.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		r.t.Fatalf("exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := r.verifier.Verify(ctx, rawID)
	if err != nil {
		r.t.Fatalf("verify the ID token: %v", err)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		r.t.Fatal(err)
	}
	return claims
}

// wantTitle fails unless resp is a page (not a redirect) titled title.
func wantTitle(t *testing.T, what string, resp *servertest.Response, title string) {
	t.Helper()
	if resp.Location != nil || !strings.Contains(resp.Body, "<title>"+title+" ·") {
		t.Fatalf("%s: want the page %q, got %v", what, title, resp)
	}
}
