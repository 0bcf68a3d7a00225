package oidc

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/orgid/orgid/identity"
)

// forgotPasswordPage asks for an address (GET) and mails a reset link to
// its account (POST). The answer is the same page, in the same time,
// whether or not the address has an account: the lookup costs the same,
// the mail leaves in the background.
func (p *Provider) forgotPasswordPage(w http.ResponseWriter, r *http.Request) {
	if p.mailer == nil {
		p.renderError(w, r, http.StatusNotFound, "error.reset_unavailable", "error.reset_unavailable_hint", "")
		return
	}
	ctx, c, ok := p.loadSignInContext(w, r)
	if !ok {
		return
	}
	data := map[string]any{}
	if r.Method == http.MethodGet {
		data["Email"] = hintedEmail(c)
		p.renderSignInPage(ctx, w, r, c, http.StatusOK, "forgot-password", "forgot_password.heading", data)
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	data["Email"] = email
	if email == "" {
		data["Error"] = "common.enter_email"
		p.renderSignInPage(ctx, w, r, c, http.StatusBadRequest, "forgot-password", "forgot_password.heading", data)
		return
	}
	link, err := p.identity.RequestPasswordReset(ctx, email, clientIP(r))
	var throttled *identity.ThrottledError
	switch {
	case errors.As(err, &throttled):
		data["Error"] = throttledMessage(w, throttled)
		p.renderSignInPage(ctx, w, r, c, http.StatusTooManyRequests, "forgot-password", "forgot_password.heading", data)
		return
	case err != nil:
		p.serverError(ctx, w, r, "request password reset", err)
		return
	}
	if link != nil {
		p.sendMail(ctx, p.passwordResetMail(p.pageLang(r, c), link.User.Email, p.cfg.Issuer+c.url(PathResetPassword, "token", link.Token), identity.PasswordResetLifetime))
	}
	data["Sent"] = true
	p.renderSignInPage(ctx, w, r, c, http.StatusOK, "forgot-password", "common.check_email", data)
}

// resetPasswordPage is where a reset link lands: a form for the new
// password (GET), which replaces the password, ends every session of the
// user and sends the browser to sign in (POST). It works in any browser;
// the flow in the link continues only in the browser that started it.
func (p *Provider) resetPasswordPage(w http.ResponseWriter, r *http.Request) {
	ctx, c := p.lenientSignInContext(w, r)
	token := r.URL.Query().Get("token")
	if r.Method == http.MethodPost {
		token = r.PostFormValue("token")
	}
	data := map[string]any{"Token": token, "Action": PathResetPassword, "ForgotPasswordURL": c.url(PathForgotPassword)}
	if r.Method == http.MethodGet {
		u, err := p.identity.PasswordResetUser(ctx, token)
		if errors.Is(err, identity.ErrLinkInvalid) {
			p.renderSignInPage(ctx, w, r, c, http.StatusBadRequest, "reset-password", "forgot_password.heading", map[string]any{
				"Invalid": true, "ForgotPasswordURL": c.url(PathForgotPassword)})
			return
		}
		if err != nil {
			p.serverError(ctx, w, r, "password reset", err)
			return
		}
		data["Email"] = u.Email
		p.renderSignInPage(ctx, w, r, c, http.StatusOK, "reset-password", "reset_password.heading", data)
		return
	}
	u, err := p.identity.ResetPassword(ctx, token, r.PostFormValue("password"))
	var invalid *identity.ValidationError
	switch {
	case errors.As(err, &invalid):
		if u, err := p.identity.PasswordResetUser(ctx, token); err == nil {
			data["Email"] = u.Email
		}
		data["Error"] = invalid.Message
		p.renderSignInPage(ctx, w, r, c, http.StatusBadRequest, "reset-password", "reset_password.heading", data)
		return
	case errors.Is(err, identity.ErrLinkInvalid):
		p.renderSignInPage(ctx, w, r, c, http.StatusBadRequest, "reset-password", "forgot_password.heading", map[string]any{
			"Invalid": true, "ForgotPasswordURL": c.url(PathForgotPassword)})
		return
	case err != nil:
		p.serverError(ctx, w, r, "reset password", err)
		return
	}
	p.sendMail(ctx, p.securityNoticeMail(p.pageLang(r, c), u.Email, "mail.security.password_changed"))
	// This browser's session (if any) ended with the others; a new one
	// needs a sign-in, with the second factor when the user has one.
	p.clearSessionCookie(w)
	http.Redirect(w, r, c.url(PathSignIn, "notice", "password_changed", "login_hint", u.Email), http.StatusSeeOther)
}

// lenientSignInContext is loadSignInContext for pages reached from mail,
// which may open in another browser than the one that started the flow:
// a flow that does not load is dropped instead of failing the page.
func (p *Provider) lenientSignInContext(w http.ResponseWriter, r *http.Request) (context.Context, signInContext) {
	ctx := withClientCache(r.Context())
	flowID, returnTo := r.URL.Query().Get("flow"), r.URL.Query().Get("return_to")
	if r.Method == http.MethodPost {
		flowID, returnTo = r.PostFormValue("flow"), r.PostFormValue("return_to")
	}
	c := signInContext{returnTo: returnTo}
	if flowID != "" {
		if f, err := p.loadFlow(ctx, flowID, p.browserID(w, r)); err == nil {
			c.flow = f
		} else if !errors.Is(err, errFlowExpired) {
			p.log.WarnContext(ctx, "load authorization flow", "error", err)
		}
	}
	return ctx, c
}

// hintedEmail is the flow's login_hint when it is an email address.
func hintedEmail(c signInContext) string {
	if c.flow != nil {
		if hint := c.flow.form().Get("login_hint"); strings.Contains(hint, "@") {
			return hint
		}
	}
	return ""
}
