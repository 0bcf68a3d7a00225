package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/ory/fosite"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/oidc/keys"
	"github.com/orgid/orgid/storage"
)

// The authorization endpoint runs in fixed phases: fosite parses and
// validates the request (client, redirect URI, response type, scopes,
// PKCE); orgid decides whether the user must sign in, consent or choose,
// sending the browser to a hosted page with a flow when so (or failing with
// login_required / consent_required under prompt=none); then fosite issues
// the response. A hosted page resumes the flow at PathResume, which
// re-validates the stored request and runs the same decision again.

func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	ctx := withClientCache(r.Context())
	if err := r.ParseForm(); err != nil {
		p.renderError(w, r, http.StatusBadRequest, "error.cannot_complete", "error.unreadable", "invalid_request")
		return
	}
	form, parHash, objErr := p.authorizationParameters(ctx, r.Form)
	if objErr != nil {
		// Validate the rest first: only a known client's registered
		// redirect URI may receive the error.
		form = url.Values{}
		for k, vs := range r.Form {
			if k != "request" && k != "request_uri" {
				form[k] = vs
			}
		}
	}
	ar, err := p.oauth.NewAuthorizeRequest(ctx, requestWithForm(r, form))
	if objErr != nil && ar != nil && ar.IsRedirectURIValid() {
		// The object's error wins over what its absence caused (a state
		// that was only inside it, say).
		err = objErr
	}
	if err != nil {
		p.writeAuthorizeError(ctx, w, r, ar, err)
		return
	}
	if parHash == "" && p.parRequired(ar.GetClient().(*Client)) {
		p.writeAuthorizeError(ctx, w, r, ar, fosite.ErrInvalidRequest.WithHint("This client must push its authorization requests to "+PathPAR+" (RFC 9126)."))
		return
	}
	p.decide(withPushed(ctx, parHash), w, r, ar, nil)
}

// authorizationParameters are an authorization request's parameters: a
// pushed request's (with its key), or the query's with a request object
// merged in.
func (p *Provider) authorizationParameters(ctx context.Context, query url.Values) (url.Values, string, error) {
	if isPushedRequestURI(query.Get("request_uri")) {
		return p.pushedParameters(ctx, query)
	}
	form, err := p.expandRequestObject(ctx, query)
	return form, "", err
}

// resume continues a flow after a hosted page.
func (p *Provider) resume(w http.ResponseWriter, r *http.Request) {
	ctx := withClientCache(r.Context())
	f, err := p.loadFlow(ctx, r.URL.Query().Get("flow"), p.browserID(w, r))
	if err != nil {
		p.flowError(ctx, w, r, err)
		return
	}
	if f.DeviceHash != nil {
		p.resumeDevice(ctx, w, r, f)
		return
	}
	ar, err := p.storedRequest(ctx, r, f)
	if err != nil {
		p.deleteFlow(ctx, f)
		p.writeAuthorizeError(ctx, w, r, ar, err)
		return
	}
	if f.ParHash != nil {
		ctx = withPushed(ctx, *f.ParHash)
	}
	p.decide(ctx, w, r, ar, f)
}

// storedRequest re-parses a flow's authorization request, as if the
// browser sent it again: every validation runs anew.
func (p *Provider) storedRequest(ctx context.Context, r *http.Request, f *flow) (fosite.AuthorizeRequester, error) {
	return p.oauth.NewAuthorizeRequest(ctx, requestWithForm(r.WithContext(ctx), f.form()))
}

// flowError answers a missing, expired or foreign flow with a page that
// sends the user back to the application.
func (p *Provider) flowError(ctx context.Context, w http.ResponseWriter, r *http.Request, err error) {
	if !errors.Is(err, errFlowExpired) {
		p.log.ErrorContext(ctx, "authorization flow", "error", err)
		p.renderError(w, r, http.StatusInternalServerError, "error.something_wrong", "error.return_and_retry", "server_error")
		return
	}
	p.renderError(w, r, http.StatusBadRequest, "error.sign_in_request_expired",
		"error.return_and_sign_in", "invalid_request")
}

// decide runs the interaction checks and either sends the browser to a
// hosted page or issues the response.
func (p *Provider) decide(ctx context.Context, w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, f *flow) {
	client := ar.GetClient().(*Client)
	form := ar.GetRequestForm()
	prompt := form.Get("prompt")
	promptNone := hasWord(prompt, "none")
	// A device authorization (RFC 8628) has no redirect URI and no PKCE;
	// its user confirms every time, and it ends in approveDevice.
	device := f != nil && f.DeviceHash != nil

	// OpenID Connect requires redirect_uri (fosite lets a client with one
	// registered URI omit it).
	if !device && ar.GetRequestedScopes().Has("openid") && form.Get("redirect_uri") == "" {
		p.renderError(w, r, http.StatusBadRequest, "error.cannot_complete",
			"error.redirect_uri_required", "invalid_request")
		return
	}

	// PKCE is checked again by fosite when the code is issued; checking it
	// here too answers a bad request before the user is asked to sign in.
	if !device {
		if err := checkPKCERequest(client, form); err != nil {
			p.writeAuthorizeError(ctx, w, r, ar, err)
			return
		}
	}
	if !validClaimsRequest(form.Get("claims")) {
		p.writeAuthorizeError(ctx, w, r, ar, fosite.ErrInvalidRequest.WithHint("The claims parameter is not a valid JSON object."))
		return
	}

	requestedAt := p.now().Truncate(time.Second)
	if f != nil {
		requestedAt = f.RequestedAt
	}

	sess, user, err := p.currentUser(ctx, r)
	if err != nil {
		p.writeAuthorizeError(ctx, w, r, ar, fosite.ErrServerError.WithWrap(err))
		return
	}

	if reason := p.needsLogin(ctx, client, form, sess, f); reason != "" {
		if promptNone {
			p.writeAuthorizeError(ctx, w, r, ar, fosite.ErrLoginRequired.WithHint(reason))
			return
		}
		p.interact(ctx, w, r, ar, f, requestedAt, PathSignIn)
		return
	}
	if want := requestedACR(form); !want.satisfiedBy(acrOf(sess)) {
		if p.stepUp(ctx, w, r, ar, f, requestedAt, want, sess, user) {
			return
		}
	}

	if device && f.ConsentAt == nil {
		p.interact(ctx, w, r, ar, f, requestedAt, PathDevice)
		return
	}
	if !device && !client.FirstParty && !(f != nil && f.ConsentAt != nil) {
		granted, err := p.consentedScopes(ctx, user.ID, client.ID)
		if err != nil {
			p.writeAuthorizeError(ctx, w, r, ar, fosite.ErrServerError.WithWrap(err))
			return
		}
		if hasWord(prompt, "consent") || !covers(granted, ar.GetRequestedScopes()) {
			if promptNone {
				p.writeAuthorizeError(ctx, w, r, ar, fosite.ErrConsentRequired.WithHint("The user has not consented to this application."))
				return
			}
			p.interact(ctx, w, r, ar, f, requestedAt, PathConsent)
			return
		}
	}

	orgID, ok := p.organizationFor(ctx, w, r, ar, f, sess, user)
	if !ok {
		return
	}
	if device {
		p.approveDevice(ctx, w, r, ar, sess, user, requestedAt, f, orgID)
		return
	}
	p.issue(ctx, w, r, ar, sess, user, requestedAt, f, orgID)
}

// needsLogin returns why the user must (re)authenticate, or "".
func (p *Provider) needsLogin(ctx context.Context, client *Client, form url.Values, sess *identity.Session, f *flow) string {
	if sess == nil {
		return "The user is not signed in."
	}
	if f != nil && f.loggedInWith(sess.ID) {
		return ""
	}
	prompt := form.Get("prompt")
	if hasWord(prompt, "login") || hasWord(prompt, "select_account") {
		return "The client asked the user to sign in again."
	}
	maxAge := form.Get("max_age")
	if maxAge == "" && client.Metadata.DefaultMaxAge > 0 {
		maxAge = strconv.Itoa(client.Metadata.DefaultMaxAge)
	}
	if maxAge != "" {
		if n, err := strconv.ParseInt(maxAge, 10, 64); err == nil && n >= 0 &&
			p.now().After(sess.AuthTime.Add(time.Duration(n)*time.Second)) {
			return "The user's authentication is older than max_age."
		}
	}
	if hint := form.Get("id_token_hint"); hint != "" {
		if !p.hintIsFor(ctx, hint, sess) {
			return "The signed-in user is not the user of id_token_hint."
		}
	}
	return ""
}

// hintIsFor reports whether an ID token this provider issued (expired or
// not: OpenID Connect Core §3.1.2.1) names the session's user, comparing
// its sub with the subject its audience knows the user by (pairwise
// clients see another sub). A hint that does not verify is ignored here;
// fosite refuses it.
func (p *Provider) hintIsFor(ctx context.Context, hint string, sess *identity.Session) bool {
	claims, err := p.verifyIDTokenHint(ctx, hint)
	if err != nil {
		return true
	}
	sub, _ := claims["sub"].(string)
	return sub == p.hintSubjectOf(ctx, claims, sess.UserID)
}

// hintSubjectOf is the sub an ID token's audience knows userID by.
func (p *Provider) hintSubjectOf(ctx context.Context, claims map[string]any, userID string) string {
	aud := audiences(claims)
	if len(aud) == 0 {
		return userID
	}
	c, err := p.clients.Get(ctx, aud[0])
	if err != nil {
		return userID
	}
	return p.subjectFor(c, userID)
}

// interact stores (or reuses) the flow and sends the browser to a page.
// requestedAt is the request's original time (kept by an existing flow).
func (p *Provider) interact(ctx context.Context, w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, f *flow, requestedAt time.Time, page string) {
	if f == nil {
		var err error
		f, err = p.createFlow(ctx, p.browserID(w, r), ar.GetClient().GetID(), ar.GetRequestForm(), requestedAt, pushedFrom(ctx))
		if err != nil {
			p.writeAuthorizeError(ctx, w, r, ar, fosite.ErrServerError.WithWrap(err))
			return
		}
	}
	http.Redirect(w, r, flowURL(page, f), http.StatusSeeOther)
}

// currentUser returns the browser's session and its user, or nils when
// the browser is signed out (or its user was banned or deleted).
func (p *Provider) currentUser(ctx context.Context, r *http.Request) (*identity.Session, *identity.User, error) {
	c, err := r.Cookie(cookieSession)
	if err != nil || c.Value == "" {
		return nil, nil, nil
	}
	sess, err := p.identity.SessionByToken(ctx, c.Value)
	if errors.Is(err, identity.ErrNoSession) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	user, err := p.identity.GetUser(ctx, sess.UserID)
	if err != nil || user.Banned {
		return nil, nil, nil
	}
	return sess, user, nil
}

// issue grants what the user approved and writes the authorization
// response, with iss (RFC 9207).
func (p *Provider) issue(ctx context.Context, w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester,
	sess *identity.Session, user *identity.User, requestedAt time.Time, f *flow, orgID string) {
	client := ar.GetClient().(*Client)
	for _, sc := range ar.GetRequestedScopes() {
		ar.GrantScope(sc)
	}
	for _, a := range ar.GetRequestedAudience() {
		ar.GrantAudience(a)
	}
	session, err := p.userSession(ctx, grant{client: client, user: user, sess: sess, scopes: ar.GetGrantedScopes(),
		orgRef: orgID, claimsRequest: ar.GetRequestForm().Get("claims")}, requestedAt)
	if err != nil {
		p.writeAuthorizeError(ctx, w, r, ar, fosite.ErrServerError.WithWrap(err))
		return
	}
	// Logout notifies every client the session issued to; recorded first,
	// so that no client holds tokens of a session it would not hear end.
	if err := p.recordSessionClient(ctx, sess.ID, client.ID, session.ClientSubject()); err != nil {
		p.writeAuthorizeError(ctx, w, r, ar, fosite.ErrServerError.WithWrap(err))
		return
	}
	if client.Metadata.IDTokenSignedResponseAlg != "" {
		ctx = keys.WithAlgorithm(ctx, client.Metadata.IDTokenSignedResponseAlg)
	}
	var resp fosite.AuthorizeResponder
	if hash := pushedFrom(ctx); hash != "" {
		// The pushed request is used up with the code it produced, or
		// stays usable if issuing fails.
		err = storage.InTx(ctx, p.store.db, func(ctx context.Context) error {
			if err := p.usePushed(ctx, hash); err != nil {
				return err
			}
			resp, err = p.oauth.NewAuthorizeResponse(ctx, ar, session)
			return err
		})
	} else {
		resp, err = p.oauth.NewAuthorizeResponse(ctx, ar, session)
	}
	if err != nil {
		p.writeAuthorizeError(ctx, w, r, ar, err)
		return
	}
	resp.AddParameter("iss", p.cfg.Issuer)
	if ar.GetResponseMode() == fosite.ResponseModeFormPost {
		resp.AddHeader("Content-Security-Policy", formPostCSP)
	}
	p.deleteFlow(ctx, f)
	p.metrics.authorizations.Inc()
	p.oauth.WriteAuthorizeResponse(ctx, w, ar, resp)
}

// checkPKCERequest enforces orgid's PKCE policy on an authorization
// request: S256 only, and required for public clients.
func checkPKCERequest(client *Client, form url.Values) error {
	challenge, method := form.Get("code_challenge"), form.Get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		return fosite.ErrInvalidRequest.WithHint("code_challenge_method was sent without code_challenge.")
	case challenge == "" && client.Public:
		return fosite.ErrInvalidRequest.WithHint("Public clients must use PKCE (code_challenge with S256).")
	case challenge != "" && method != "S256":
		return fosite.ErrInvalidRequest.WithHint("Only the S256 code_challenge_method is supported.")
	case challenge != "" && (len(challenge) < 43 || len(challenge) > 128):
		return fosite.ErrInvalidRequest.WithHint("code_challenge must have 43 to 128 characters.")
	}
	return nil
}

// covers reports whether every requested scope was granted before.
func covers(granted []string, requested fosite.Arguments) bool {
	set := make(map[string]bool, len(granted))
	for _, g := range granted {
		set[g] = true
	}
	for _, s := range requested {
		if !set[s] {
			return false
		}
	}
	return true
}
