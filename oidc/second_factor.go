package oidc

import (
	"context"
	"errors"
	"net/http"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/ui"
)

// acrMultiFactor is the acr of a session signed in with two factors;
// discovery lists it beside acrPassword.
const acrMultiFactor = identity.ACRMultiFactor

// methodSecondFactor labels sign-ins completed on the second-factor page.
const methodSecondFactor = "second_factor"

// firstFactorDone continues a sign-in whose first factor succeeded. A
// user with a second factor goes to the second-factor page: the sign-in
// waits there, server-side and bound to this browser, and no session
// exists until the second factor is checked.
func (p *Provider) firstFactorDone(ctx context.Context, w http.ResponseWriter, r *http.Request, c signInContext, user *identity.User, amr []string, method string) {
	if !identity.NeedsSecondFactor(user, amr) {
		p.finishSignIn(ctx, w, r, c, user, amr, method)
		return
	}
	pending, err := p.identity.BeginSecondFactor(ctx, user.ID, amr, p.browserID(w, r))
	if err != nil {
		p.metrics.signIns.WithLabelValues(method, "error").Inc()
		p.serverError(ctx, w, r, "begin second factor", err)
		return
	}
	p.metrics.signIns.WithLabelValues(method, "second_factor_required").Inc()
	// 303: the browser must not repeat a POST that carried credentials.
	http.Redirect(w, r, c.url(PathSecondFactor, "attempt", pending), http.StatusSeeOther)
}

// secondFactorPage asks for a TOTP or recovery code (GET) and completes
// the waiting sign-in with it (POST).
func (p *Provider) secondFactorPage(w http.ResponseWriter, r *http.Request) {
	ctx, c, ok := p.loadSignInContext(w, r)
	if !ok {
		return
	}
	attempt := r.URL.Query().Get("attempt")
	if r.Method == http.MethodPost {
		attempt = r.PostFormValue("attempt")
	}
	binding := p.browserID(w, r)
	expired := func(status int, message any) {
		p.renderSignInPage(ctx, w, r, c, status, "second-factor", "second_factor.expired_heading", map[string]any{"Expired": true, "Error": message})
	}
	if r.Method == http.MethodGet {
		if _, err := p.identity.PendingSecondFactor(ctx, attempt, binding); err != nil {
			if !errors.Is(err, identity.ErrNoPendingSignIn) {
				p.serverError(ctx, w, r, "second factor", err)
				return
			}
			expired(http.StatusBadRequest, "")
			return
		}
		p.renderSecondFactor(ctx, w, r, c, http.StatusOK, attempt, "")
		return
	}

	user, amr, err := p.identity.CompleteSecondFactor(ctx, attempt, binding, r.PostFormValue("code"), clientIP(r))
	var wrong *identity.CodeError
	var throttled *identity.ThrottledError
	switch {
	case errors.As(err, &wrong) && wrong.Remaining > 0:
		p.metrics.signIns.WithLabelValues(methodSecondFactor, "invalid_credentials").Inc()
		p.renderSecondFactor(ctx, w, r, c, http.StatusUnauthorized, attempt,
			ui.PluralMsg("second_factor.error.incorrect", wrong.Remaining))
		return
	case errors.As(err, &wrong), errors.Is(err, identity.ErrTooManyAttempts):
		p.metrics.signIns.WithLabelValues(methodSecondFactor, "invalid_credentials").Inc()
		expired(http.StatusUnauthorized, "second_factor.error.too_many")
		return
	case errors.As(err, &throttled):
		p.metrics.signIns.WithLabelValues(methodSecondFactor, "throttled").Inc()
		p.renderSecondFactor(ctx, w, r, c, http.StatusTooManyRequests, attempt, throttledMessage(w, throttled))
		return
	case errors.Is(err, identity.ErrNoPendingSignIn), errors.Is(err, identity.ErrInvalidCredentials):
		expired(http.StatusBadRequest, "")
		return
	case err != nil:
		p.metrics.signIns.WithLabelValues(methodSecondFactor, "error").Inc()
		p.serverError(ctx, w, r, "second factor", err)
		return
	}
	p.finishSignIn(ctx, w, r, c, user, amr, methodSecondFactor)
}

// renderSecondFactor renders the code form; message is a message key or a
// ui.Message ("" for none).
func (p *Provider) renderSecondFactor(ctx context.Context, w http.ResponseWriter, r *http.Request, c signInContext, status int, attempt string, message any) {
	p.renderSignInPage(ctx, w, r, c, status, "second-factor", "second_factor.heading", map[string]any{
		"Attempt": attempt, "Error": message, "Action": PathSecondFactor,
	})
}
