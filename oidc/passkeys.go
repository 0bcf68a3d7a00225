package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/storage"
)

// Passkey endpoints: the JSON options the page script fetches before it
// asks the browser for a credential, and the form the script submits with
// the credential.
const (
	PathPasskeySignIn          = "/sign-in/passkey"
	PathPasskeySignInOptions   = "/sign-in/passkey/options"
	PathPasskeyRegisterOptions = "/account/security/passkeys/options"
)

// scriptCSP is the Content-Security-Policy of the pages that run the
// passkey script: the pages' policy, plus scripts and fetches from this
// origin only (no inline script, nothing from elsewhere). Like the pages'
// policy it has no form-action: browsers apply that to the redirects
// after a post too, and a sign-in ends redirected to the application.
const scriptCSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' https: data:; frame-ancestors 'none'; base-uri 'none'"

// withScriptCSP lets a page rendered by ui.Renderer (which sets the
// script-free policy) load /assets/passkeys.js.
type withScriptCSP struct{ http.ResponseWriter }

func (w withScriptCSP) WriteHeader(status int) {
	w.Header().Set("Content-Security-Policy", scriptCSP)
	w.ResponseWriter.WriteHeader(status)
}

// passkeyOptions is what the options endpoints answer.
type passkeyOptions struct {
	Handle  string          `json:"handle"`
	Options json.RawMessage `json:"options"`
}

// passkeySignInOptions starts a passkey sign-in ceremony in this browser.
func (p *Provider) passkeySignInOptions(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	handle, options, err := p.identity.BeginPasskeySignIn(ctx, p.browserID(w, r))
	if errors.Is(err, identity.ErrPasskeysDisabled) {
		writeJSONError(w, http.StatusNotFound, "not_found", p.pages.Text(uiLang(r), "passkey.error.unavailable"), "")
		return
	}
	if err != nil {
		p.log.ErrorContext(ctx, "begin passkey sign-in", "error", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", p.pages.Text(uiLang(r), "error.try_again"), "")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, passkeyOptions{Handle: handle, Options: options})
}

// passkeySignIn finishes a passkey sign-in: the form carries the ceremony
// handle and the credential the browser returned.
func (p *Provider) passkeySignIn(w http.ResponseWriter, r *http.Request) {
	ctx, c, ok := p.loadSignInContext(w, r)
	if !ok {
		return
	}
	user, amr, err := p.identity.FinishPasskeySignIn(ctx, p.browserID(w, r), r.PostFormValue("handle"),
		[]byte(r.PostFormValue("credential")), clientIP(r))
	var throttled *identity.ThrottledError
	switch {
	case errors.As(err, &throttled):
		p.metrics.signIns.WithLabelValues(methodPasskey, "throttled").Inc()
		p.renderSignIn(ctx, w, r, c, http.StatusTooManyRequests, "", throttledMessage(w, throttled))
		return
	case errors.Is(err, identity.ErrPasskeyCeremony):
		p.renderSignIn(ctx, w, r, c, http.StatusBadRequest, "", "passkey.error.expired")
		return
	case errors.Is(err, identity.ErrInvalidCredentials), errors.Is(err, identity.ErrPasskeysDisabled):
		p.metrics.signIns.WithLabelValues(methodPasskey, "invalid_credentials").Inc()
		p.renderSignIn(ctx, w, r, c, http.StatusUnauthorized, "", "passkey.error.not_usable")
		return
	case err != nil:
		p.metrics.signIns.WithLabelValues(methodPasskey, "error").Inc()
		p.serverError(ctx, w, r, "passkey sign-in", err)
		return
	}
	p.firstFactorDone(ctx, w, r, c, user, amr, methodPasskey)
}

// passkeyRegisterOptions starts adding a passkey for the signed-in user,
// who must have signed in recently.
func (p *Provider) passkeyRegisterOptions(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess, user, err := p.currentUser(ctx, r)
	if err != nil {
		p.log.ErrorContext(ctx, "passkey registration", "error", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", p.pages.Text(uiLang(r), "error.try_again"), "")
		return
	}
	if sess == nil || p.now().Sub(sess.AuthTime) > reauthWindow {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "reauthenticate",
			"location": PathSignIn + "?" + url.Values{"return_to": {PathAccountSecurity}, "notice": {"reauthenticate"}}.Encode()})
		return
	}
	handle, options, err := p.identity.BeginPasskeyRegistration(ctx, user.ID, p.browserID(w, r))
	if errors.Is(err, identity.ErrPasskeysDisabled) {
		writeJSONError(w, http.StatusNotFound, "not_found", p.pages.Text(uiLang(r), "passkey.error.unavailable"), "")
		return
	}
	if err != nil {
		p.log.ErrorContext(ctx, "begin passkey registration", "error", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", p.pages.Text(uiLang(r), "error.try_again"), "")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, passkeyOptions{Handle: handle, Options: options})
}

// passkeyAction handles the passkey actions of the security page (the
// caller checked for a recent sign-in); false means action is not one.
func (p *Provider) passkeyAction(ctx context.Context, w http.ResponseWriter, r *http.Request, user *identity.User, action string) bool {
	switch action {
	case "passkey-add":
		_, err := p.identity.FinishPasskeyRegistration(ctx, user.ID, p.browserID(w, r), r.PostFormValue("handle"),
			r.PostFormValue("name"), []byte(r.PostFormValue("credential")))
		switch {
		case errors.Is(err, identity.ErrPasskeyInvalid), errors.Is(err, identity.ErrPasskeyCeremony), errors.Is(err, identity.ErrPasskeysDisabled):
			p.renderSecurity(ctx, w, r, user, http.StatusBadRequest, map[string]any{"Error": "security.error.passkey_add"})
		case err != nil:
			p.serverError(ctx, w, r, "add passkey", err)
		default:
			p.sendMail(ctx, p.securityNoticeMail(uiLang(r), user.Email, "mail.security.passkey_added"))
			http.Redirect(w, r, PathAccountSecurity+"?notice=passkey-added", http.StatusSeeOther)
		}
	case "passkey-delete":
		err := p.identity.DeletePasskey(ctx, user.ID, r.PostFormValue("passkey_id"))
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			p.serverError(ctx, w, r, "delete passkey", err)
			return true
		}
		http.Redirect(w, r, PathAccountSecurity+"?notice=passkey-removed", http.StatusSeeOther)
	default:
		return false
	}
	return true
}

// passkeyData adds the user's passkeys to the security page.
func (p *Provider) passkeyData(ctx context.Context, user *identity.User, data map[string]any) error {
	if !p.identity.PasskeysEnabled() {
		return nil
	}
	keys, err := p.identity.Passkeys(ctx, user.ID)
	if err != nil {
		return err
	}
	data["PasskeysEnabled"] = true
	data["PasskeyList"] = keys
	data["PasskeyOptionsURL"] = PathPasskeyRegisterOptions
	return nil
}

// renderPage renders a hosted page, with the passkey script allowed when
// script is true.
func (p *Provider) renderPage(w http.ResponseWriter, script bool, status int, page, title, lang string, data any, titleArgs ...any) {
	if script {
		w = withScriptCSP{w}
	}
	p.pages.Render(w, status, page, title, lang, data, titleArgs...)
}
