package oidc

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/returnto"
)

// signInPage renders the hosted sign-in form (GET) and checks credentials
// (POST). The form contract is public: inputs identifier and password, a
// hidden flow. Unknown users and wrong passwords get the same answer; the
// identity package makes them take the same time.
func (p *Provider) signInPage(w http.ResponseWriter, r *http.Request) {
	ctx := withClientCache(r.Context())
	flowID := r.URL.Query().Get("flow")
	if r.Method == http.MethodPost {
		flowID = r.PostFormValue("flow")
	}
	var f *flow
	if flowID != "" {
		var err error
		if f, err = p.loadFlow(ctx, flowID, p.browserID(w, r)); err != nil {
			p.flowError(ctx, w, r, err)
			return
		}
	}
	if r.Method == http.MethodGet {
		identifier := ""
		if f != nil {
			identifier = f.form().Get("login_hint")
		}
		p.renderSignIn(ctx, w, r, f, http.StatusOK, identifier, "")
		return
	}

	identifier := strings.TrimSpace(r.PostFormValue("identifier"))
	password := r.PostFormValue("password")
	if identifier == "" || password == "" {
		p.renderSignIn(ctx, w, r, f, http.StatusBadRequest, identifier, "Enter your email address and password.")
		return
	}
	user, err := p.identity.Authenticate(ctx, identifier, password, clientIP(r))
	var throttled *identity.ThrottledError
	switch {
	case errors.As(err, &throttled):
		p.metrics.signIns.WithLabelValues("throttled").Inc()
		minutes := int(math.Ceil(throttled.RetryAfter.Minutes()))
		w.Header().Set("Retry-After", fmt.Sprint(int(math.Ceil(throttled.RetryAfter.Seconds()))))
		p.renderSignIn(ctx, w, r, f, http.StatusTooManyRequests, identifier,
			fmt.Sprintf("Too many attempts. Try again in %d minute(s).", max(minutes, 1)))
		return
	case errors.Is(err, identity.ErrInvalidCredentials):
		p.metrics.signIns.WithLabelValues("invalid_credentials").Inc()
		p.renderSignIn(ctx, w, r, f, http.StatusUnauthorized, identifier, "Incorrect email address or password.")
		return
	case err != nil:
		p.metrics.signIns.WithLabelValues("error").Inc()
		p.log.ErrorContext(ctx, "sign-in", "error", err)
		p.renderError(w, r, http.StatusInternalServerError, "Something went wrong", "Please try again.", "server_error")
		return
	}

	sid, err := p.startSession(ctx, w, r, user, []string{"pwd"})
	if err != nil {
		p.metrics.signIns.WithLabelValues("error").Inc()
		p.log.ErrorContext(ctx, "start session", "error", err)
		p.renderError(w, r, http.StatusInternalServerError, "Something went wrong", "Please try again.", "server_error")
		return
	}
	p.metrics.signIns.WithLabelValues("success").Inc()
	// Organizations whose verified domain enrolls by automatic invitation
	// invite the user now; the chooser and switcher show the invitations.
	if _, err := p.tenancy.EnrollByDomain(ctx, user.ID); err != nil {
		p.log.WarnContext(ctx, "enroll by verified domain", "error", err)
	}
	if f == nil {
		http.Redirect(w, r, localPath(r.PostFormValue("return_to")), http.StatusSeeOther)
		return
	}
	now := p.now()
	f.LoginAt, f.SessionID = &now, &sid
	if err := p.saveFlow(ctx, f, "login_at", "session_id"); err != nil {
		p.flowError(ctx, w, r, err)
		return
	}
	// 303: the browser must not repeat the POST with the credentials.
	http.Redirect(w, r, flowURL(PathResume, f), http.StatusSeeOther)
}

func (p *Provider) renderSignIn(ctx context.Context, w http.ResponseWriter, r *http.Request, f *flow, status int, identifier, message string) {
	clientName := ""
	if f != nil {
		if c, err := p.clients.Get(ctx, f.ClientID); err == nil {
			clientName = c.Name
		}
	}
	flowID := ""
	if f != nil {
		flowID = f.id
	}
	lang := uiLang(r)
	if f != nil {
		if l := f.form().Get("ui_locales"); l != "" {
			lang = splitSpace(l)[0]
		}
	}
	returnTo := ""
	if f == nil {
		returnTo = r.FormValue("return_to")
		if localPath(returnTo) == defaultUIPathHome {
			returnTo = ""
		}
	}
	p.pages.Render(w, status, "sign-in", "Sign in", lang, map[string]any{
		"ClientName": clientName, "Error": message, "Identifier": identifier, "Flow": flowID, "Action": PathSignIn,
		"ReturnTo": returnTo,
	})
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
		p.renderError(w, r, http.StatusInternalServerError, "Something went wrong", "Please try again.", "server_error")
		return
	}
	if len(frames) > 0 {
		p.renderSignedOutFrames(w, r, frames, "")
		return
	}
	p.pages.Render(w, http.StatusOK, "signed-out", "Signed out", uiLang(r), nil)
}

func (p *Provider) home(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		p.renderError(w, r, http.StatusNotFound, "Not found", "There is no page at this address.", "")
		return
	}
	_, user, err := p.currentUser(r.Context(), r)
	if err != nil {
		p.renderError(w, r, http.StatusInternalServerError, "Something went wrong", "Please try again.", "server_error")
		return
	}
	email := ""
	if user != nil {
		email = user.Email
	}
	p.pages.Render(w, http.StatusOK, "home", p.cfg.Issuer, uiLang(r), map[string]any{"Email": email})
}

// clientIP is the peer address. orgid does not trust X-Forwarded-For by
// default: a spoofed header would let anyone dodge the per-IP throttle.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
