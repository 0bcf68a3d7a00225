package oidc

import (
	"context"
	"errors"
	"net/http"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/ui"
)

// verifyEmailPage is where an emailed 6-digit code is entered: the code of
// a pending sign-up (which creates the account and signs in) or of a
// signed-in user's unverified address. Without a pending verification it
// offers a signed-in user with an unverified address to send a code.
//
// POST actions: verify (default; the code), resend (a new code for the
// pending verification), send (start one for the signed-in user).
func (p *Provider) verifyEmailPage(w http.ResponseWriter, r *http.Request) {
	ctx, c, ok := p.loadSignInContext(w, r)
	if !ok {
		return
	}
	verification := r.URL.Query().Get("verification")
	if r.Method == http.MethodPost {
		verification = r.PostFormValue("verification")
	}
	binding := p.browserID(w, r)

	if r.Method == http.MethodPost {
		switch r.PostFormValue("action") {
		case "send":
			p.sendVerificationCode(ctx, w, r, c, binding)
			return
		case "resend":
			p.resendVerificationCode(ctx, w, r, c, verification, binding)
			return
		}
	}
	if verification == "" {
		p.verifyOwnEmail(ctx, w, r, c)
		return
	}
	v, err := p.identity.PendingEmailVerification(ctx, verification, binding)
	if errors.Is(err, identity.ErrVerificationNotFound) {
		p.renderVerifyEmail(ctx, w, r, c, http.StatusBadRequest, map[string]any{"Gone": true})
		return
	}
	if err != nil {
		p.serverError(ctx, w, r, "load email verification", err)
		return
	}
	data := map[string]any{"Verification": verification, "Email": v.Email, "SignUp": v.Purpose == identity.VerifySignUp}
	if r.Method == http.MethodGet {
		if r.URL.Query().Get("notice") == "resent" {
			data["Notice"] = "verify_email.notice.resent"
		}
		p.renderVerifyEmail(ctx, w, r, c, http.StatusOK, data)
		return
	}

	user, created, err := p.identity.CompleteEmailVerification(ctx, verification, binding, r.PostFormValue("code"), clientIP(r))
	var wrong *identity.CodeError
	var throttled *identity.ThrottledError
	switch {
	case errors.As(err, &wrong):
		data["Error"] = ui.PluralMsg("verify_email.error.incorrect", wrong.Remaining)
		if wrong.Remaining == 0 {
			data["Error"] = "verify_email.error.incorrect_resend"
		}
		p.renderVerifyEmail(ctx, w, r, c, http.StatusBadRequest, data)
		return
	case errors.Is(err, identity.ErrTooManyAttempts):
		data["Error"] = "verify_email.error.too_many"
		p.renderVerifyEmail(ctx, w, r, c, http.StatusBadRequest, data)
		return
	case errors.Is(err, identity.ErrCodeExpired):
		data["Error"] = "verify_email.error.expired"
		p.renderVerifyEmail(ctx, w, r, c, http.StatusBadRequest, data)
		return
	case errors.As(err, &throttled):
		data["Error"] = throttledMessage(w, throttled)
		p.renderVerifyEmail(ctx, w, r, c, http.StatusTooManyRequests, data)
		return
	case errors.Is(err, identity.ErrVerificationNotFound):
		p.renderVerifyEmail(ctx, w, r, c, http.StatusBadRequest, map[string]any{"Gone": true})
		return
	case errors.Is(err, identity.ErrEmailTaken):
		// Only whoever read the code gets here: the address's owner, who
		// signed up twice at once.
		data["Error"] = "verify_email.error.taken"
		p.renderVerifyEmail(ctx, w, r, c, http.StatusConflict, data)
		return
	case err != nil:
		p.serverError(ctx, w, r, "verify email", err)
		return
	}
	if created {
		p.finishSignIn(ctx, w, r, c, user, []string{identity.AMRPassword}, methodSignUp)
		return
	}
	p.enrollByDomain(ctx, user)
	if c.flow != nil {
		// Verifying an address is not signing in: the flow decides again
		// with the session it has.
		http.Redirect(w, r, flowURL(PathResume, c.flow), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, c.url(PathVerifyEmail, "notice", "verified"), http.StatusSeeOther)
}

// verifyOwnEmail shows a signed-in user the state of their address, with
// a button that sends a code when it is unverified.
func (p *Provider) verifyOwnEmail(ctx context.Context, w http.ResponseWriter, r *http.Request, c signInContext) {
	_, user, err := p.currentUser(ctx, r)
	if err != nil {
		p.serverError(ctx, w, r, "verify email", err)
		return
	}
	if user == nil {
		http.Redirect(w, r, SignInURL(PathVerifyEmail), http.StatusSeeOther)
		return
	}
	data := map[string]any{"Email": user.Email, "Verified": user.EmailVerified, "Send": !user.EmailVerified,
		"ContinueURL": localPath(c.returnTo)}
	if r.URL.Query().Get("notice") == "verified" {
		data["Notice"] = "verify_email.notice.verified"
	}
	p.renderVerifyEmail(ctx, w, r, c, http.StatusOK, data)
}

// sendVerificationCode mails a code to the signed-in user's address.
func (p *Provider) sendVerificationCode(ctx context.Context, w http.ResponseWriter, r *http.Request, c signInContext, binding string) {
	_, user, err := p.currentUser(ctx, r)
	if err != nil {
		p.serverError(ctx, w, r, "verify email", err)
		return
	}
	if user == nil {
		http.Redirect(w, r, SignInURL(PathVerifyEmail), http.StatusSeeOther)
		return
	}
	v, err := p.identity.StartEmailVerification(ctx, user.ID, binding, clientIP(r))
	var throttled *identity.ThrottledError
	switch {
	case errors.Is(err, identity.ErrAlreadyVerified):
		http.Redirect(w, r, c.url(PathVerifyEmail), http.StatusSeeOther)
		return
	case errors.As(err, &throttled):
		p.renderVerifyEmail(ctx, w, r, c, http.StatusTooManyRequests, map[string]any{
			"Email": user.Email, "Send": true, "Error": throttledMessage(w, throttled)})
		return
	case err != nil:
		p.serverError(ctx, w, r, "start email verification", err)
		return
	}
	p.sendMail(ctx, p.verificationCodeMail(p.pageLang(r, c), v.Email, v.Code))
	http.Redirect(w, r, c.url(PathVerifyEmail, "verification", v.ID), http.StatusSeeOther)
}

// resendVerificationCode mails a new code for a pending verification.
func (p *Provider) resendVerificationCode(ctx context.Context, w http.ResponseWriter, r *http.Request, c signInContext, verification, binding string) {
	v, err := p.identity.ResendEmailVerification(ctx, verification, binding, clientIP(r))
	var throttled *identity.ThrottledError
	switch {
	case errors.Is(err, identity.ErrVerificationNotFound):
		p.renderVerifyEmail(ctx, w, r, c, http.StatusBadRequest, map[string]any{"Gone": true})
		return
	case errors.As(err, &throttled):
		data := map[string]any{"Verification": verification, "Error": "verify_email.error.wait"}
		if pending, err := p.identity.PendingEmailVerification(ctx, verification, binding); err == nil {
			data["Email"], data["SignUp"] = pending.Email, pending.Purpose == identity.VerifySignUp
		}
		throttledMessage(w, throttled)
		p.renderVerifyEmail(ctx, w, r, c, http.StatusTooManyRequests, data)
		return
	case err != nil:
		p.serverError(ctx, w, r, "resend email verification", err)
		return
	}
	if v.AccountExists {
		p.sendMail(ctx, p.accountExistsMail(p.pageLang(r, c), v.Email))
	} else {
		p.sendMail(ctx, p.verificationCodeMail(p.pageLang(r, c), v.Email, v.Code))
	}
	http.Redirect(w, r, c.url(PathVerifyEmail, "verification", verification, "notice", "resent"), http.StatusSeeOther)
}

func (p *Provider) renderVerifyEmail(ctx context.Context, w http.ResponseWriter, r *http.Request, c signInContext, status int, data map[string]any) {
	data["Action"] = PathVerifyEmail
	if p.signUpAvailable() {
		data["SignUpURL"] = c.url(PathSignUp)
	}
	p.renderSignInPage(ctx, w, r, c, status, "verify-email", "verify_email.heading", data)
}
