package oidc

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/mail"
)

// forgotPasswordPage asks for an address (GET) and mails a reset link to
// its account (POST).
func (p *Provider) forgotPasswordPage(w http.ResponseWriter, r *http.Request) {
	p.emailLinkPage(w, r, emailLinkForm{
		template: "forgot-password", heading: "forgot_password.heading",
		unavailable: "error.reset_unavailable", unavailableHint: "error.reset_unavailable_hint",
		what: "request password reset", landing: PathResetPassword,
		request: func(ctx context.Context, email, _, ip string) (*identity.EmailLink, error) {
			return p.identity.RequestPasswordReset(ctx, email, ip)
		},
		mail: func(lang, to, link string) mail.Message {
			return p.passwordResetMail(lang, to, link, identity.PasswordResetLifetime)
		},
	})
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
