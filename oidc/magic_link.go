package oidc

import (
	"errors"
	"net/http"
	"strings"

	"github.com/orgid/orgid/identity"
)

// magicLinkPage asks for an address (GET) and mails a sign-in link to its
// account, bound to this browser (POST); the answer does not depend on
// whether the address has an account.
func (p *Provider) magicLinkPage(w http.ResponseWriter, r *http.Request) {
	if p.mailer == nil {
		p.renderError(w, r, http.StatusNotFound, "error.magic_link_unavailable", "error.magic_link_unavailable_hint", "")
		return
	}
	ctx, c, ok := p.loadSignInContext(w, r)
	if !ok {
		return
	}
	data := map[string]any{}
	if r.Method == http.MethodGet {
		data["Email"] = hintedEmail(c)
		p.renderSignInPage(ctx, w, r, c, http.StatusOK, "magic-link", "magic_link.heading", data)
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	data["Email"] = email
	if email == "" {
		data["Error"] = "common.enter_email"
		p.renderSignInPage(ctx, w, r, c, http.StatusBadRequest, "magic-link", "magic_link.heading", data)
		return
	}
	link, err := p.identity.RequestMagicLink(ctx, email, p.browserID(w, r), clientIP(r))
	var throttled *identity.ThrottledError
	switch {
	case errors.As(err, &throttled):
		p.metrics.signIns.WithLabelValues(methodMagicLink, "throttled").Inc()
		data["Error"] = throttledMessage(w, throttled)
		p.renderSignInPage(ctx, w, r, c, http.StatusTooManyRequests, "magic-link", "magic_link.heading", data)
		return
	case err != nil:
		p.serverError(ctx, w, r, "request magic link", err)
		return
	}
	if link != nil {
		p.sendMail(ctx, p.magicLinkMail(p.pageLang(r, c), link.User.Email, p.cfg.Issuer+c.url(PathMagicLinkVerify, "token", link.Token), identity.MagicLinkLifetime))
	}
	data["Sent"] = true
	p.renderSignInPage(ctx, w, r, c, http.StatusOK, "magic-link", "common.check_email", data)
}

// magicLinkVerifyPage is where a sign-in link lands. Opening it (GET)
// signs nobody in — mail scanners and link previews open links too — it
// shows a button that does (POST), in the browser that asked for the link
// only: elsewhere it says where to open it and leaves the link unspent.
func (p *Provider) magicLinkVerifyPage(w http.ResponseWriter, r *http.Request) {
	ctx, c := p.lenientSignInContext(w, r)
	token := r.URL.Query().Get("token")
	if r.Method == http.MethodPost {
		token = r.PostFormValue("token")
	}
	data := map[string]any{"Token": token, "Action": PathMagicLinkVerify, "MagicLinkURL": c.url(PathMagicLink)}
	if r.Method == http.MethodGet {
		p.renderSignInPage(ctx, w, r, c, http.StatusOK, "magic-link-verify", "sign_in.heading", data)
		return
	}
	user, err := p.identity.RedeemMagicLink(ctx, token, p.browserID(w, r), clientIP(r))
	var throttled *identity.ThrottledError
	switch {
	case errors.Is(err, identity.ErrLinkOtherBrowser):
		p.metrics.signIns.WithLabelValues(methodMagicLink, "other_browser").Inc()
		data["OtherBrowser"] = true
		p.renderSignInPage(ctx, w, r, c, http.StatusForbidden, "magic-link-verify", "magic_link.other_browser_heading", data)
		return
	case errors.Is(err, identity.ErrLinkInvalid):
		p.metrics.signIns.WithLabelValues(methodMagicLink, "invalid_credentials").Inc()
		data["Invalid"] = true
		p.renderSignInPage(ctx, w, r, c, http.StatusBadRequest, "magic-link-verify", "common.link_expired", data)
		return
	case errors.As(err, &throttled):
		p.metrics.signIns.WithLabelValues(methodMagicLink, "throttled").Inc()
		data["Error"] = throttledMessage(w, throttled)
		p.renderSignInPage(ctx, w, r, c, http.StatusTooManyRequests, "magic-link-verify", "sign_in.heading", data)
		return
	case err != nil:
		p.metrics.signIns.WithLabelValues(methodMagicLink, "error").Inc()
		p.serverError(ctx, w, r, "redeem magic link", err)
		return
	}
	p.firstFactorDone(ctx, w, r, c, user, []string{identity.AMREmail}, methodMagicLink)
}
