package oidc

import (
	"context"
	"errors"
	"net/http"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/mail"
)

// magicLinkPage asks for an address (GET) and mails a sign-in link to its
// account, bound to this browser (POST).
func (p *Provider) magicLinkPage(w http.ResponseWriter, r *http.Request) {
	p.emailLinkPage(w, r, emailLinkForm{
		template: "magic-link", heading: "magic_link.heading",
		unavailable: "error.magic_link_unavailable", unavailableHint: "error.magic_link_unavailable_hint",
		method: methodMagicLink, what: "request magic link", landing: PathMagicLinkVerify,
		request: func(ctx context.Context, email, browser, ip string) (*identity.EmailLink, error) {
			return p.identity.RequestMagicLink(ctx, email, browser, ip)
		},
		mail: func(lang, to, link string) mail.Message {
			return p.magicLinkMail(lang, to, link, identity.MagicLinkLifetime)
		},
	})
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
