package oidc

import (
	"errors"
	"net/http"
	"strings"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/ui"
)

// signUpAvailable reports whether the hosted sign-up page is on: the
// operator did not disable it, and mail can carry the code.
func (p *Provider) signUpAvailable() bool { return !p.cfg.DisableSignUp && p.mailer != nil }

// signUpPage renders the sign-up form (GET) and starts a sign-up (POST):
// the account is created only when the code mailed to the address is
// entered on PathVerifyEmail, which then signs the user in and continues
// the authorization flow like the sign-in page does. A taken address gets
// the same answer as a free one (its owner is mailed a notice instead of
// a code), so the page tells nobody which addresses have accounts.
func (p *Provider) signUpPage(w http.ResponseWriter, r *http.Request) {
	if !p.signUpAvailable() {
		p.renderError(w, r, http.StatusNotFound, "error.sign_up_unavailable", "error.sign_up_unavailable_hint", "")
		return
	}
	ctx, c, ok := p.loadSignInContext(w, r)
	if !ok {
		return
	}
	form := map[string]any{"ErrorField": ""}
	if r.Method == http.MethodGet {
		if c.flow != nil {
			if hint := c.flow.form().Get("login_hint"); strings.Contains(hint, "@") {
				form["Email"] = hint
			}
		}
		p.renderSignInPage(ctx, w, r, c, http.StatusOK, "sign-up", "common.sign_up", form)
		return
	}

	req := identity.SignUpRequest{
		Email:     strings.TrimSpace(r.PostFormValue("email")),
		Password:  r.PostFormValue("password"),
		FirstName: strings.TrimSpace(r.PostFormValue("first_name")),
		LastName:  strings.TrimSpace(r.PostFormValue("last_name")),
		Binding:   p.browserID(w, r),
		ClientIP:  clientIP(r),
	}
	form["Email"], form["FirstName"], form["LastName"] = req.Email, req.FirstName, req.LastName
	v, err := p.identity.StartSignUp(ctx, req)
	var invalid *identity.ValidationError
	var throttled *identity.ThrottledError
	switch {
	case errors.As(err, &invalid):
		form["Error"], form["ErrorField"] = signUpFieldMessage(invalid), invalid.Field
		p.renderSignInPage(ctx, w, r, c, http.StatusBadRequest, "sign-up", "common.sign_up", form)
		return
	case errors.As(err, &throttled):
		p.metrics.signIns.WithLabelValues(methodSignUp, "throttled").Inc()
		form["Error"] = throttledMessage(w, throttled)
		p.renderSignInPage(ctx, w, r, c, http.StatusTooManyRequests, "sign-up", "common.sign_up", form)
		return
	case err != nil:
		p.serverError(ctx, w, r, "start sign-up", err)
		return
	}
	if v.AccountExists {
		p.sendMail(ctx, p.accountExistsMail(p.pageLang(r, c), v.Email))
	} else {
		p.sendMail(ctx, p.verificationCodeMail(p.pageLang(r, c), v.Email, v.Code))
	}
	http.Redirect(w, r, c.url(PathVerifyEmail, "verification", v.ID), http.StatusSeeOther)
}

// signUpFieldMessage is a validation message in the sign-up form's words:
// the names' messages say which name they are about, with the form's own
// label. (identity's messages themselves are English text.)
func signUpFieldMessage(e *identity.ValidationError) any {
	switch e.Field {
	case "first_name":
		return ui.Msg("sign_up.error.field", "field", ui.Msg("common.first_name"), "message", e.Message)
	case "last_name":
		return ui.Msg("sign_up.error.field", "field", ui.Msg("common.last_name"), "message", e.Message)
	}
	return e.Message
}
