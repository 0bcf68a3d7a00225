package oidc

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/mail"
)

// emailLinkForm describes a page that asks for an email address and mails
// a link to its account (magic link, password reset).
type emailLinkForm struct {
	template, heading            string // ui template and title key
	unavailable, unavailableHint string // error page keys when no mailer is configured
	method                       string // sign-in metrics label; "" counts nothing
	what                         string // for the log
	landing                      string // where the mailed link points
	// request issues the link; nil link and nil error: no such account.
	request func(ctx context.Context, email, browser, clientIP string) (*identity.EmailLink, error)
	mail    func(lang, to, link string) mail.Message
}

// emailLinkPage runs such a page. The answer is the same page, in the same
// time, whether or not the address has an account: the lookup costs the
// same, the mail leaves in the background.
func (p *Provider) emailLinkPage(w http.ResponseWriter, r *http.Request, f emailLinkForm) {
	if p.mailer == nil {
		p.renderError(w, r, http.StatusNotFound, f.unavailable, f.unavailableHint, "")
		return
	}
	ctx, c, ok := p.loadSignInContext(w, r)
	if !ok {
		return
	}
	data := map[string]any{}
	if r.Method == http.MethodGet {
		data["Email"] = hintedEmail(c)
		p.renderSignInPage(ctx, w, r, c, http.StatusOK, f.template, f.heading, data)
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	data["Email"] = email
	if email == "" {
		data["Error"] = "common.enter_email"
		p.renderSignInPage(ctx, w, r, c, http.StatusBadRequest, f.template, f.heading, data)
		return
	}
	link, err := f.request(ctx, email, p.browserID(w, r), clientIP(r))
	var throttled *identity.ThrottledError
	switch {
	case errors.As(err, &throttled):
		if f.method != "" {
			p.metrics.signIns.WithLabelValues(f.method, "throttled").Inc()
		}
		data["Error"] = throttledMessage(w, throttled)
		p.renderSignInPage(ctx, w, r, c, http.StatusTooManyRequests, f.template, f.heading, data)
		return
	case err != nil:
		p.serverError(ctx, w, r, f.what, err)
		return
	}
	if link != nil {
		p.sendMail(ctx, f.mail(p.pageLang(r, c), link.User.Email, p.cfg.Issuer+c.url(f.landing, "token", link.Token)))
	}
	data["Sent"] = true
	p.renderSignInPage(ctx, w, r, c, http.StatusOK, f.template, "common.check_email", data)
}
