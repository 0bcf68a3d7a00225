package oidc

import (
	"context"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/orgid/orgid/identity"
)

// reauthWindow is how recent a sign-in must be to change what protects
// the account (ASVS 7.5.1): older sessions sign in again first.
const reauthWindow = 10 * time.Minute

// securityPage is the signed-in user's page for what protects the
// account: the authenticator app (TOTP) with its recovery codes, and
// passkeys. Every change is a POST (action=…) and needs a recent sign-in.
func (p *Provider) securityPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess, user, err := p.currentUser(ctx, r)
	if err != nil {
		p.serverError(ctx, w, r, "account security", err)
		return
	}
	if sess == nil {
		http.Redirect(w, r, SignInURL(PathAccountSecurity), http.StatusSeeOther)
		return
	}
	if r.Method == http.MethodGet {
		p.renderSecurity(ctx, w, r, user, http.StatusOK, map[string]any{"Notice": securityNotice(r.URL.Query().Get("notice"))})
		return
	}
	if p.now().Sub(sess.AuthTime) > reauthWindow {
		http.Redirect(w, r, PathSignIn+"?"+url.Values{"return_to": {PathAccountSecurity}, "notice": {"reauthenticate"}}.Encode(), http.StatusSeeOther)
		return
	}
	action := r.PostFormValue("action")
	switch action {
	case "totp-begin":
		en, err := p.identity.BeginTOTPEnrollment(ctx, user.ID, p.brandName())
		if errors.Is(err, identity.ErrTOTPEnabled) {
			http.Redirect(w, r, PathAccountSecurity, http.StatusSeeOther)
			return
		}
		if err != nil {
			p.serverError(ctx, w, r, "begin TOTP enrollment", err)
			return
		}
		p.renderSecurity(ctx, w, r, user, http.StatusOK, enrollmentData(en, ""))
	case "totp-confirm":
		codes, err := p.identity.ConfirmTOTPEnrollment(ctx, user.ID, r.PostFormValue("code"))
		var throttled *identity.ThrottledError
		switch {
		case errors.Is(err, identity.ErrCodeInvalid), errors.As(err, &throttled):
			var message any = "security.error.totp_incorrect"
			if throttled != nil {
				message = throttledMessage(w, throttled)
			}
			en, perr := p.identity.PendingTOTPEnrollment(ctx, user.ID, p.brandName())
			if perr != nil {
				http.Redirect(w, r, PathAccountSecurity, http.StatusSeeOther)
				return
			}
			p.renderSecurity(ctx, w, r, user, http.StatusBadRequest, enrollmentData(en, message))
		case errors.Is(err, identity.ErrNoSecondFactor), errors.Is(err, identity.ErrTOTPEnabled):
			http.Redirect(w, r, PathAccountSecurity, http.StatusSeeOther)
		case err != nil:
			p.serverError(ctx, w, r, "confirm TOTP", err)
		default:
			p.sendMail(ctx, p.securityNoticeMail(uiLang(r), user.Email, "mail.security.totp_on"))
			p.renderSecurity(ctx, w, r, user, http.StatusOK, map[string]any{"Codes": codes, "Notice": "security.notice.totp_on"})
		}
	case "totp-disable":
		err := p.identity.DisableTOTP(ctx, user.ID)
		if err != nil && !errors.Is(err, identity.ErrNoSecondFactor) {
			p.serverError(ctx, w, r, "disable TOTP", err)
			return
		}
		if err == nil {
			p.sendMail(ctx, p.securityNoticeMail(uiLang(r), user.Email, "mail.security.totp_off"))
		}
		http.Redirect(w, r, PathAccountSecurity+"?notice=totp-disabled", http.StatusSeeOther)
	case "recovery-regenerate":
		codes, err := p.identity.RegenerateRecoveryCodes(ctx, user.ID)
		if errors.Is(err, identity.ErrNoSecondFactor) {
			http.Redirect(w, r, PathAccountSecurity, http.StatusSeeOther)
			return
		}
		if err != nil {
			p.serverError(ctx, w, r, "regenerate recovery codes", err)
			return
		}
		p.renderSecurity(ctx, w, r, user, http.StatusOK, map[string]any{"Codes": codes, "Notice": "security.notice.recovery_new"})
	default:
		if !p.passkeyAction(ctx, w, r, user, action) && !p.upstreamAction(ctx, w, r, user, action) {
			p.renderError(w, r, http.StatusBadRequest, "error.cannot_complete", "error.unknown_action", "invalid_request")
		}
	}
}

// securityNotice is the message key of a ?notice= of the security page,
// or "" for none. Only these fixed notices are shown, never text from the
// URL.
func securityNotice(notice string) string {
	switch notice {
	case "totp-disabled":
		return "security.notice.totp_removed"
	case "passkey-added":
		return "security.notice.passkey_added"
	case "passkey-removed":
		return "security.notice.passkey_removed"
	case "connected":
		return "security.notice.connected"
	case "disconnected":
		return "security.notice.disconnected"
	}
	return ""
}

// enrollmentData shows an authenticator being set up: its QR code (a data
// URL, which the pages' Content-Security-Policy allows for images) and
// its secret for typing.
func enrollmentData(en *identity.TOTPEnrollment, message any) map[string]any {
	return map[string]any{
		"Enroll":  true,
		"QRCode":  template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(en.QRCodePNG)),
		"Secret":  en.Secret,
		"OTPAuth": template.URL(en.URL),
		"Error":   message,
	}
}

func (p *Provider) renderSecurity(ctx context.Context, w http.ResponseWriter, r *http.Request, user *identity.User, status int, data map[string]any) {
	factors, err := p.identity.SecondFactors(ctx, user.ID)
	if err != nil {
		p.serverError(ctx, w, r, "account security", err)
		return
	}
	data["Email"] = user.Email
	data["Factors"] = factors
	data["Action"] = PathAccountSecurity
	if err := p.passkeyData(ctx, user, data); err != nil {
		p.serverError(ctx, w, r, "account security", err)
		return
	}
	if err := p.upstreamData(ctx, user, data); err != nil {
		p.serverError(ctx, w, r, "account security", err)
		return
	}
	script, _ := data["PasskeysEnabled"].(bool)
	p.renderPage(w, script, status, "security", "security.heading", uiLang(r), data)
}
