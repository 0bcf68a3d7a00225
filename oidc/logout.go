package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/orgid/orgid/identity"
)

// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) at
// PathEndSession, GET or POST. With a valid id_token_hint for the signed-in
// user the session ends at once; without one the user confirms on a page,
// so a third party cannot sign users out by linking them here. The browser
// goes back to the client only to a post_logout_redirect_uri the client
// registered, exactly.

// verifyIDTokenHint checks that hint is an ID token this provider signed,
// expired or not, and returns its claims.
func (p *Provider) verifyIDTokenHint(_ context.Context, hint string) (map[string]any, error) {
	payload, header, err := p.keys.Verify(hint)
	if err != nil {
		return nil, err
	}
	if typ, _ := header.ExtraHeaders["typ"].(string); typ != "" && typ != "JWT" {
		return nil, fmt.Errorf("id_token_hint: typ %q is not an ID token", typ)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, fmt.Errorf("id_token_hint: %w", err)
	}
	if iss, _ := claims["iss"].(string); iss != p.cfg.Issuer {
		return nil, errors.New("id_token_hint: issued by another provider")
	}
	return claims, nil
}

// audiences returns the aud claim as a list.
func audiences(claims map[string]any) []string {
	switch v := claims["aud"].(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func (p *Provider) endSession(w http.ResponseWriter, r *http.Request) {
	ctx := withClientCache(r.Context())
	if err := r.ParseForm(); err != nil {
		p.renderError(w, r, http.StatusBadRequest, "error.invalid_request", "logout.error.unreadable", "invalid_request")
		return
	}
	form := r.Form
	if r.Method == http.MethodPost {
		form = r.PostForm
	}
	hint := form.Get("id_token_hint")
	clientID := form.Get("client_id")
	redirect := form.Get("post_logout_redirect_uri")
	state := form.Get("state")

	var hintClaims map[string]any
	if hint != "" {
		claims, err := p.verifyIDTokenHint(ctx, hint)
		if err != nil {
			p.renderError(w, r, http.StatusBadRequest, "error.invalid_sign_out", "logout.error.foreign_token", "invalid_request")
			return
		}
		hintClaims = claims
		aud := audiences(claims)
		if clientID == "" && len(aud) > 0 {
			clientID = aud[0]
		} else if clientID != "" && !slices.Contains(aud, clientID) {
			p.renderError(w, r, http.StatusBadRequest, "error.invalid_sign_out", "logout.error.client_mismatch", "invalid_request")
			return
		}
	}

	var client *Client
	if clientID != "" {
		c, err := p.clients.Get(ctx, clientID)
		if err != nil {
			p.renderError(w, r, http.StatusBadRequest, "error.invalid_sign_out", "logout.error.unregistered", "invalid_request")
			return
		}
		client = c
	}
	if redirect != "" && (client == nil || !client.AllowsPostLogoutRedirect(redirect)) {
		p.renderError(w, r, http.StatusBadRequest, "error.invalid_sign_out",
			"logout.error.redirect_unregistered", "invalid_request")
		return
	}

	sess, _, err := p.currentUser(ctx, r)
	if err != nil {
		p.log.ErrorContext(ctx, "end session", "error", err)
		p.renderError(w, r, http.StatusInternalServerError, "error.something_wrong", "error.try_again", "server_error")
		return
	}

	confirmed := false
	switch {
	case sess == nil:
		confirmed = true // nothing to end
	case hintClaims != nil && p.hintMatches(ctx, hintClaims, sess):
		confirmed = true
	case r.Method == http.MethodPost && form.Get("action") != "":
		// The confirmation page answered; it must come from our own origin.
		if err := p.csrf.Check(r); err != nil {
			p.renderError(w, r, http.StatusForbidden, "error.request_refused", "logout.error.cross_site", "access_denied")
			return
		}
		if form.Get("action") != "logout" {
			http.Redirect(w, r, defaultUIPathHome, http.StatusSeeOther)
			return
		}
		confirmed = true
	}
	if !confirmed {
		hidden := map[string]string{}
		for _, k := range []string{"client_id", "post_logout_redirect_uri", "state", "ui_locales"} {
			if v := form.Get(k); v != "" {
				hidden[k] = v
			}
		}
		if clientID != "" {
			hidden["client_id"] = clientID
		}
		name := ""
		if client != nil {
			name = client.Name
		}
		p.pages.Render(w, http.StatusOK, "logout-confirm", "common.sign_out", uiLang(r), map[string]any{
			"ClientName": name, "Action": PathEndSession, "Hidden": hidden,
		})
		return
	}

	var frames []string
	if sess != nil {
		frames, err = p.endBrowserSessionNotifying(ctx, w, sess)
		if err != nil {
			p.log.ErrorContext(ctx, "end session", "error", err)
			p.renderError(w, r, http.StatusInternalServerError, "error.something_wrong", "error.try_again", "server_error")
			return
		}
	}
	continueTo := ""
	if redirect != "" {
		u, _ := url.Parse(redirect)
		if state != "" {
			q := u.Query()
			q.Set("state", state)
			u.RawQuery = q.Encode()
		}
		continueTo = u.String()
	}
	switch {
	case len(frames) > 0:
		p.renderSignedOutFrames(w, r, frames, continueTo)
	case continueTo != "":
		http.Redirect(w, r, continueTo, http.StatusSeeOther)
	default:
		p.pages.Render(w, http.StatusOK, "signed-out", "signed_out.heading", uiLang(r), nil)
	}
}

// endBrowserSessionNotifying ends the browser's session and clears its
// cookie. It returns the front-channel logout iframes of the session's
// clients; the back-channel notifications are queued by the session-end
// hook in the same transaction, and this process's worker is woken.
func (p *Provider) endBrowserSessionNotifying(ctx context.Context, w http.ResponseWriter, sess *identity.Session) ([]string, error) {
	frames, err := p.frontchannelFrames(ctx, sess.ID)
	if err != nil {
		return nil, err
	}
	p.clearSessionCookie(w)
	if err := p.identity.EndSession(ctx, sess.ID, identity.EndSignOut); err != nil {
		return nil, err
	}
	p.kickLogoutWorker()
	return frames, nil
}

// kickLogoutWorker wakes this process's back-channel logout worker (a
// session just ended here); it never blocks.
func (p *Provider) kickLogoutWorker() {
	select {
	case p.logoutKick <- struct{}{}:
	default:
	}
}

// hintMatches reports whether an id_token_hint names the browser's
// session (by sid, or by subject when the token has no sid).
func (p *Provider) hintMatches(ctx context.Context, claims map[string]any, sess *identity.Session) bool {
	if sid, _ := claims["sid"].(string); sid != "" {
		return sid == sess.ID
	}
	sub, _ := claims["sub"].(string)
	return sub == p.hintSubjectOf(ctx, claims, sess.UserID)
}
