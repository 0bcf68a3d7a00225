package oidc

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/clientip"
	"github.com/orgid/orgid/internal/returnto"
	"github.com/orgid/orgid/ui"
)

// signInPage renders the hosted sign-in form (GET) and checks credentials
// (POST). The form contract is public: inputs identifier and password, a
// hidden flow. Unknown users and wrong passwords get the same answer; the
// identity package makes them take the same time.
func (p *Provider) signInPage(w http.ResponseWriter, r *http.Request) {
	ctx, c, ok := p.loadSignInContext(w, r)
	if !ok {
		return
	}
	if r.Method == http.MethodGet {
		identifier := ""
		if c.flow != nil {
			identifier = c.flow.form().Get("login_hint")
		}
		p.renderSignIn(ctx, w, r, c, http.StatusOK, identifier, "")
		return
	}

	identifier := strings.TrimSpace(r.PostFormValue("identifier"))
	password := r.PostFormValue("password")
	if identifier == "" || password == "" {
		p.renderSignIn(ctx, w, r, c, http.StatusBadRequest, identifier, "sign_in.error.missing")
		return
	}
	user, err := p.identity.Authenticate(ctx, identifier, password, clientIP(r))
	var throttled *identity.ThrottledError
	switch {
	case errors.As(err, &throttled):
		p.metrics.signIns.WithLabelValues(methodPassword, "throttled").Inc()
		p.renderSignIn(ctx, w, r, c, http.StatusTooManyRequests, identifier, throttledMessage(w, throttled))
		return
	case errors.Is(err, identity.ErrInvalidCredentials):
		p.metrics.signIns.WithLabelValues(methodPassword, "invalid_credentials").Inc()
		p.renderSignIn(ctx, w, r, c, http.StatusUnauthorized, identifier, "sign_in.error.incorrect")
		return
	case err != nil:
		p.metrics.signIns.WithLabelValues(methodPassword, "error").Inc()
		p.serverError(ctx, w, r, "sign-in", err)
		return
	}
	p.firstFactorDone(ctx, w, r, c, user, []string{identity.AMRPassword}, methodPassword)
}

// Sign-in methods, the method label of orgid_sign_ins_total.
const (
	methodPassword  = "password"
	methodSignUp    = "sign_up"
	methodMagicLink = "magic_link"
	methodPasskey   = "passkey"
	methodUpstream  = "upstream"
)

// throttledMessage sets Retry-After and says how long to wait, in whole
// minutes (at least one).
func throttledMessage(w http.ResponseWriter, t *identity.ThrottledError) ui.Message {
	minutes := int(math.Ceil(t.RetryAfter.Minutes()))
	w.Header().Set("Retry-After", fmt.Sprint(max(int(math.Ceil(t.RetryAfter.Seconds())), 1)))
	return ui.PluralMsg("common.throttled", max(minutes, 1))
}

// serverError logs err and answers with the generic error page.
func (p *Provider) serverError(ctx context.Context, w http.ResponseWriter, r *http.Request, what string, err error) {
	p.log.ErrorContext(ctx, what, "error", err)
	p.renderError(w, r, http.StatusInternalServerError, "error.something_wrong", "error.try_again", "server_error")
}

// finishSignIn ends a successful sign-in by any method: it starts (or
// renews) the browser session with amr, enrolls the user in organizations
// whose verified domain matches their verified address, and continues
// the authorization flow or returns to the page that asked.
func (p *Provider) finishSignIn(ctx context.Context, w http.ResponseWriter, r *http.Request, c signInContext, user *identity.User, amr []string, method string) {
	sid, err := p.startSession(ctx, w, r, user, amr)
	if err != nil {
		p.metrics.signIns.WithLabelValues(method, "error").Inc()
		p.serverError(ctx, w, r, "start session", err)
		return
	}
	p.metrics.signIns.WithLabelValues(method, "success").Inc()
	p.enrollByDomain(ctx, user)
	p.continueSignedIn(ctx, w, r, c, sid)
}

// enrollByDomain invites the user to organizations whose verified domain
// enrolls by automatic invitation (the chooser and switcher show the
// invitations). It needs a verified address; failing is not failing the
// sign-in.
func (p *Provider) enrollByDomain(ctx context.Context, user *identity.User) {
	if !user.EmailVerified {
		return
	}
	if _, err := p.tenancy.EnrollByDomain(ctx, user.ID); err != nil {
		p.log.WarnContext(ctx, "enroll by verified domain", "error", err)
	}
}

// continueSignedIn resumes the flow the browser signed in for, recording
// the sign-in in it, or returns to the local page that asked.
func (p *Provider) continueSignedIn(ctx context.Context, w http.ResponseWriter, r *http.Request, c signInContext, sid string) {
	f := c.flow
	if f == nil {
		http.Redirect(w, r, localPath(c.returnTo), http.StatusSeeOther)
		return
	}
	now := p.now()
	f.LoginAt, f.SessionID = &now, &sid
	if err := p.saveFlow(ctx, f, "login_at", "session_id"); err != nil {
		p.flowError(ctx, w, r, err)
		return
	}
	// 303: the browser must not repeat a POST that carried credentials.
	http.Redirect(w, r, flowURL(PathResume, f), http.StatusSeeOther)
}

// renderSignIn renders the sign-in form; message is what went wrong: a
// message key or a ui.Message ("" for nothing).
func (p *Provider) renderSignIn(ctx context.Context, w http.ResponseWriter, r *http.Request, c signInContext, status int, identifier string, message any) {
	data := map[string]any{"Error": message, "Identifier": identifier, "Action": PathSignIn}
	if r.Method == http.MethodGet {
		switch r.URL.Query().Get("notice") {
		case "password_changed":
			data["Notice"] = "sign_in.notice.password_changed"
			if identifier == "" {
				data["Identifier"] = r.URL.Query().Get("login_hint")
			}
		case "reauthenticate":
			data["Notice"] = "sign_in.notice.reauthenticate"
			if _, u, err := p.currentUser(ctx, r); err == nil && u != nil && identifier == "" {
				data["Identifier"] = u.Email
			}
		}
	}
	for k, v := range p.signInLinks(ctx, c) {
		data[k] = v
	}
	p.renderSignInPage(ctx, w, r, c, status, "sign-in", "sign_in.heading", data)
}

// signInLinks are the other ways in that the sign-in page offers.
func (p *Provider) signInLinks(ctx context.Context, c signInContext) map[string]any {
	links := map[string]any{}
	if p.identity.PasskeysEnabled() {
		links["Passkeys"] = true
		links["PasskeyAction"] = PathPasskeySignIn
		links["PasskeyOptionsURL"] = PathPasskeySignInOptions
	}
	if buttons := p.upstreamButtons(ctx); len(buttons) > 0 {
		links["Providers"] = buttons
	}
	if p.mailer != nil {
		links["ForgotPasswordURL"] = c.url(PathForgotPassword)
		links["MagicLinkURL"] = c.url(PathMagicLink)
		if !p.cfg.DisableSignUp {
			links["SignUpURL"] = c.url(PathSignUp)
		}
	}
	return links
}

// localPath is a return_to on this server, else the home page.
func localPath(p string) string { return returnto.Local(p, defaultUIPathHome) }

// SignInURL is the hosted sign-in page that returns to returnTo (a local
// path) afterwards.
func SignInURL(returnTo string) string {
	return PathSignIn + "?return_to=" + url.QueryEscape(localPath(returnTo))
}

// CurrentUser returns the browser's session and user, or nils when it is
// signed out. Hosted pages of other packages use it.
func (p *Provider) CurrentUser(r *http.Request) (*identity.Session, *identity.User, error) {
	return p.currentUser(r.Context(), r)
}

// StartSession signs user in to this browser (sets the session cookie),
// for hosted pages that create an account, and returns the session id.
func (p *Provider) StartSession(ctx context.Context, w http.ResponseWriter, r *http.Request, user *identity.User, amr []string) (string, error) {
	return p.startSession(ctx, w, r, user, amr)
}

// startSession signs the user in to this browser. Re-authentication of the
// same user keeps the session (and its sid) but rotates the cookie token;
// a different user ends the previous session first.
func (p *Provider) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, user *identity.User, amr []string) (string, error) {
	prev, prevUser, err := p.currentUser(ctx, r)
	if err != nil {
		return "", err
	}
	if prev != nil && prevUser.ID == user.ID {
		token, err := p.identity.Reauthenticate(ctx, prev.ID, amr)
		if err != nil {
			return "", err
		}
		p.setSessionCookie(w, token)
		return prev.ID, nil
	}
	if prev != nil {
		if err := p.identity.EndSession(ctx, prev.ID, identity.EndSignOut); err != nil {
			return "", err
		}
	}
	sess, token, err := p.identity.CreateSession(ctx, user.ID, amr, identity.SessionMeta{UserAgent: r.UserAgent(), IP: clientIP(r)})
	if err != nil {
		return "", err
	}
	p.setSessionCookie(w, token)
	return sess.ID, nil
}

func (p *Provider) setSessionCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieSession, Value: token, Path: "/", HttpOnly: true,
		Secure: p.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

func (p *Provider) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieSession, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: p.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

// signOut ends the browser session (POST from the hosted pages).
func (p *Provider) signOut(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sess, _, err := p.currentUser(ctx, r)
	var frames []string
	if err == nil && sess != nil {
		frames, err = p.endBrowserSessionNotifying(ctx, w, sess)
	} else if err == nil {
		p.clearSessionCookie(w)
	}
	if err != nil {
		p.log.ErrorContext(ctx, "sign out", "error", err)
		p.renderError(w, r, http.StatusInternalServerError, "error.something_wrong", "error.try_again", "server_error")
		return
	}
	if len(frames) > 0 {
		p.renderSignedOutFrames(w, r, frames, "")
		return
	}
	p.pages.Render(w, http.StatusOK, "signed-out", "signed_out.heading", uiLang(r), nil)
}

func (p *Provider) home(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		p.renderError(w, r, http.StatusNotFound, "error.not_found", "error.no_page", "")
		return
	}
	_, user, err := p.currentUser(r.Context(), r)
	if err != nil {
		p.renderError(w, r, http.StatusInternalServerError, "error.something_wrong", "error.try_again", "server_error")
		return
	}
	email := ""
	if user != nil {
		email = user.Email
	}
	p.pages.Render(w, http.StatusOK, "home", "home.title", uiLang(r), map[string]any{"Email": email})
}

// clientIP is the client's address: the peer, or what trusted proxies
// forwarded (package clientip).
func clientIP(r *http.Request) string { return clientip.From(r) }
