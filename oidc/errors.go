package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/ory/fosite"

	"github.com/orgid/orgid/ui"
)

// Error pages and protocol errors. Every surface has one writer:
// writeAuthorizeError for the authorization endpoint (a redirect to the
// client when its redirect URI is trusted, an HTML page otherwise),
// writeJSONError for token, userinfo, introspection and revocation, and
// renderError for the hosted pages. Internal causes are logged, never shown.

// writeAuthorizeError answers a failed authorization request. It redirects
// back to the client only when fosite validated the client and redirect URI;
// an unknown client or unregistered redirect URI gets an HTML page, so
// orgid can never be used as an open redirector. Redirected errors carry
// iss (RFC 9207) like successful responses.
func (p *Provider) writeAuthorizeError(ctx context.Context, w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, err error) {
	rfc := fosite.ErrorToRFC6749Error(err).WithExposeDebug(false)
	p.metrics.authorizeErrors.WithLabelValues(rfc.ErrorField).Inc()
	if rfc.ErrorField == fosite.ErrServerError.ErrorField {
		p.log.ErrorContext(ctx, "authorization request failed", "error", internalCause(rfc))
	}
	if ar == nil || !ar.IsRedirectURIValid() {
		p.renderError(w, r, rfc.CodeField, "error.cannot_complete", authorizeErrorMessage(rfc), rfc.ErrorField)
		return
	}
	redirect := ar.GetRedirectURI()
	redirect.Fragment = ""
	params := rfc.ToValues()
	if s := ar.GetState(); s != "" {
		params.Set("state", s)
	}
	params.Set("iss", p.cfg.Issuer)
	w.Header().Set("Cache-Control", "no-store")
	switch ar.GetResponseMode() {
	case fosite.ResponseModeFormPost:
		w.Header().Set("Content-Security-Policy", formPostCSP)
		w.Header().Set("Content-Type", "text/html;charset=UTF-8")
		fosite.WriteAuthorizeFormPostResponse(redirect.String(), params, formPostTemplate, w)
	case fosite.ResponseModeFragment:
		http.Redirect(w, r, redirect.String()+"#"+params.Encode(), http.StatusSeeOther)
	default:
		q := redirect.Query()
		for k, vs := range params {
			q[k] = vs
		}
		redirect.RawQuery = q.Encode()
		http.Redirect(w, r, redirect.String(), http.StatusSeeOther)
	}
}

// internalCause describes what went wrong inside, for the log only.
func internalCause(rfc *fosite.RFC6749Error) string {
	if c := rfc.Cause(); c != nil {
		if rfc.DebugField != "" && rfc.DebugField != c.Error() {
			return c.Error() + " (" + rfc.DebugField + ")"
		}
		return c.Error()
	}
	return rfc.DebugField
}

// authorizeErrorMessage explains to a person why their browser stopped
// here: a message key, a ui.Message, or — for the other protocol errors —
// the error's own description, which is protocol text in English, shown
// under the error code.
func authorizeErrorMessage(rfc *fosite.RFC6749Error) any {
	switch rfc.ErrorField {
	case fosite.ErrInvalidClient.ErrorField:
		return "error.unregistered_client"
	case fosite.ErrInvalidRequest.ErrorField:
		if rfc.HintField != "" {
			return ui.Msg("error.invalid_app_request_detail", "detail", rfc.HintField)
		}
		return "error.invalid_app_request"
	default:
		if rfc.HintField != "" {
			return rfc.DescriptionField + " " + rfc.HintField
		}
		return rfc.DescriptionField
	}
}

// renderError shows an HTML error page. heading is a message key; message
// is one too, or a ui.Message.
func (p *Provider) renderError(w http.ResponseWriter, r *http.Request, status int, heading string, message any, code string) {
	p.pages.Render(w, status, "error", heading, uiLang(r), map[string]any{"Heading": heading, "Message": message, "Code": code})
}

// oauthError is a JSON error body (RFC 6749 §5.2).
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// writeJSONError writes an OAuth error as JSON with no caching; 401s carry
// a WWW-Authenticate challenge (RFC 6749 §5.2, RFC 6750 §3).
func writeJSONError(w http.ResponseWriter, status int, code, description, challenge string) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	if status == http.StatusUnauthorized && challenge != "" {
		h.Set("WWW-Authenticate", challenge)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(oauthError{Error: code, Description: description})
}

// writeFositeJSONError renders a fosite error the way writeJSONError does,
// logging server errors.
func (p *Provider) writeFositeJSONError(ctx context.Context, w http.ResponseWriter, err error, challenge string) {
	rfc := fosite.ErrorToRFC6749Error(err)
	if rfc.ErrorField == fosite.ErrServerError.ErrorField {
		p.log.ErrorContext(ctx, "protocol request failed", "error", internalCause(rfc))
	}
	desc := rfc.DescriptionField
	if rfc.HintField != "" {
		desc += " " + rfc.HintField
	}
	writeJSONError(w, rfc.CodeField, rfc.ErrorField, desc, challenge)
}

// writeJSON writes v with no caching.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// uiLang picks the page language: the request's ui_locales, else its
// Accept-Language, else English (package ui has the catalogs).
func uiLang(r *http.Request) string {
	return ui.RequestLanguage(r)
}

var errFlowExpired = errors.New("the sign-in request expired or belongs to another browser")
