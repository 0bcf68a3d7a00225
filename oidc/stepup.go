package oidc

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/ory/fosite"

	"github.com/orgid/orgid/identity"
)

// Step-up authentication with acr. A request asks for an authentication
// context class with acr_values (voluntary) or with the claims parameter
// (id_token.acr with value or values, essential or not). orgid knows two
// classes: "1", one factor, and "2", two (identity.ACRFor). A session
// satisfies the request when its class is at least the weakest class
// requested that orgid knows; unknown classes ask for nothing.
//
// When the session falls short, the user proves a second factor within
// the same flow: the TOTP page for users with an authenticator, the
// sign-in page (for a passkey) for users with passkeys only. prompt=none
// answers interaction_required instead. A user who has no second factor,
// or comes back from the step still short of it, gets the tokens with the
// class the session has — unless the request marked acr essential: then
// the answer is unmet_authentication_requirements (OpenID Connect Core
// Unmet Authentication Requirements 1.0).

// errUnmetAuthentication is the registered error for an essential acr the
// user cannot reach.
var errUnmetAuthentication = &fosite.RFC6749Error{
	ErrorField:       "unmet_authentication_requirements",
	DescriptionField: "The authentication requirements of the request cannot be met.",
	CodeField:        http.StatusBadRequest,
}

// acrLevels ranks the classes orgid issues.
var acrLevels = map[string]int{identity.ACRSingleFactor: 1, identity.ACRMultiFactor: 2}

// acrRequest is what a request asks of the authentication's class.
type acrRequest struct {
	level     int  // weakest known class requested; 0 asks nothing
	essential bool // claims parameter: id_token.acr essential
}

// requestedACR reads acr_values and the claims parameter's id_token.acr.
func requestedACR(form url.Values) acrRequest {
	var values []string
	var out acrRequest
	var claims struct {
		IDToken map[string]json.RawMessage `json:"id_token"`
	}
	if raw := form.Get("claims"); raw != "" && json.Unmarshal([]byte(raw), &claims) == nil {
		var acr struct {
			Essential bool     `json:"essential"`
			Value     string   `json:"value"`
			Values    []string `json:"values"`
		}
		if rawACR, ok := claims.IDToken["acr"]; ok && json.Unmarshal(rawACR, &acr) == nil {
			out.essential = acr.Essential
			values = append(values, acr.Values...)
			if acr.Value != "" {
				values = append(values, acr.Value)
			}
		}
	}
	if len(values) == 0 {
		values = splitSpace(form.Get("acr_values"))
	}
	for _, v := range values {
		if l, ok := acrLevels[v]; ok && (out.level == 0 || l < out.level) {
			out.level = l
		}
	}
	return out
}

// satisfiedBy reports whether a session of class acr meets the request.
func (a acrRequest) satisfiedBy(acr string) bool {
	return a.level == 0 || acrLevels[acr] >= a.level
}

// stepUp decides what to do with a session whose class falls short of
// the request: send the user to a second factor (handled true), or, when
// that is impossible or was tried, answer unmet_authentication_requirements
// for an essential request (handled true) or let the request go on with
// the session's class (handled false).
func (p *Provider) stepUp(ctx context.Context, w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, f *flow,
	requestedAt time.Time, want acrRequest, sess *identity.Session, user *identity.User) (handled bool) {
	if hasWord(ar.GetRequestForm().Get("prompt"), "none") {
		p.writeAuthorizeError(ctx, w, r, ar, fosite.ErrInteractionRequired.WithHint("The request needs a second factor."))
		return true
	}
	unmet := func() bool {
		if !want.essential {
			return false
		}
		p.writeAuthorizeError(ctx, w, r, ar, errUnmetAuthentication.WithHint(
			"The request requires two-factor authentication (acr 2), and the user has no second factor."))
		return true
	}
	if f != nil && f.StepUpAt != nil {
		return unmet() // stepped up already and still short
	}
	// One binding for the pending sign-in and the flow: a browser without
	// the cookie gets it set once.
	browser := p.browserID(w, r)
	page, attempt := "", ""
	switch {
	case user.TwoFactorEnabled:
		var err error
		attempt, err = p.identity.BeginSecondFactor(ctx, user.ID, sess.AMR, browser)
		if err != nil {
			p.writeAuthorizeError(ctx, w, r, ar, fosite.ErrServerError.WithWrap(err))
			return true
		}
		page = PathSecondFactor
	case p.identity.PasskeysEnabled():
		keys, err := p.identity.Passkeys(ctx, user.ID)
		if err != nil {
			p.writeAuthorizeError(ctx, w, r, ar, fosite.ErrServerError.WithWrap(err))
			return true
		}
		if len(keys) == 0 {
			return unmet()
		}
		page = PathSignIn
	default:
		return unmet()
	}
	if f == nil {
		var err error
		f, err = p.createFlow(ctx, browser, ar.GetClient().GetID(), ar.GetRequestForm(), requestedAt, pushedFrom(ctx))
		if err != nil {
			p.writeAuthorizeError(ctx, w, r, ar, fosite.ErrServerError.WithWrap(err))
			return true
		}
	}
	now := p.now()
	f.StepUpAt = &now
	if err := p.saveFlow(ctx, f, "step_up_at"); err != nil {
		p.writeAuthorizeError(ctx, w, r, ar, fosite.ErrServerError.WithWrap(err))
		return true
	}
	http.Redirect(w, r, signInContext{flow: f}.url(page, "attempt", attempt), http.StatusSeeOther)
	return true
}
