package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/ui"
)

// Upstream sign-in: the sign-in page's provider buttons post to
// PathUpstream, which redirects to the provider; the provider redirects
// back to PathUpstreamCallback (the redirect URI to register there).
const (
	PathUpstream         = "/sign-in/idp"
	PathUpstreamCallback = "/sign-in/idp/callback"
)

// upstreamButton is a provider on the sign-in page.
type upstreamButton struct {
	Slug, Name, Action string
}

// upstreamButtons are the enabled providers.
func (p *Provider) upstreamButtons(ctx context.Context) []upstreamButton {
	providers, err := p.identity.ListIdentityProviders(ctx, true)
	if err != nil {
		p.log.WarnContext(ctx, "list identity providers", "error", err)
		return nil
	}
	out := make([]upstreamButton, len(providers))
	for i, prov := range providers {
		out[i] = upstreamButton{Slug: prov.Slug, Name: prov.Name, Action: PathUpstream}
	}
	return out
}

// upstreamStart sends the browser to the chosen provider. The sign-in's
// context (flow or return_to) waits server-side, sealed, with the state.
func (p *Provider) upstreamStart(w http.ResponseWriter, r *http.Request) {
	ctx, c, ok := p.loadSignInContext(w, r)
	if !ok {
		return
	}
	authURL, err := p.identity.BeginUpstreamSignIn(ctx, r.PostFormValue("provider"), p.browserID(w, r),
		p.cfg.Issuer+PathUpstreamCallback, "", encodeSignInContext(c))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		p.renderSignIn(ctx, w, r, c, http.StatusBadRequest, "", "sign_in.error.option_unavailable")
		return
	case err != nil:
		p.metrics.signIns.WithLabelValues(methodUpstream, "error").Inc()
		p.log.WarnContext(ctx, "begin upstream sign-in", "error", err)
		p.renderSignIn(ctx, w, r, c, http.StatusBadGateway, "", "sign_in.error.provider_unreachable")
		return
	}
	http.Redirect(w, r, authURL, http.StatusSeeOther)
}

func encodeSignInContext(c signInContext) []byte {
	return []byte(url.Values{"flow": {c.flowID()}, "return_to": {c.returnTo}}.Encode())
}

// decodeSignInContext restores the context of an upstream sign-in; the
// flow must still be live in this browser.
func (p *Provider) decodeSignInContext(ctx context.Context, w http.ResponseWriter, r *http.Request, data []byte) (signInContext, error) {
	v, _ := url.ParseQuery(string(data))
	c := signInContext{returnTo: v.Get("return_to")}
	if id := v.Get("flow"); id != "" {
		f, err := p.loadFlow(ctx, id, p.browserID(w, r))
		if err != nil {
			return c, err
		}
		c.flow = f
	}
	return c, nil
}

// upstreamCallback is where providers send the browser back.
func (p *Provider) upstreamCallback(w http.ResponseWriter, r *http.Request) {
	ctx := withClientCache(r.Context())
	q := r.URL.Query()
	binding := p.browserID(w, r)
	if q.Get("error") != "" {
		// The user cancelled or the provider refused: back to where the
		// sign-in started, if the state is this browser's.
		data, err := p.identity.UpstreamReturnData(ctx, q.Get("state"), binding)
		if err != nil {
			p.upstreamExpired(w, r)
			return
		}
		c, err := p.decodeSignInContext(ctx, w, r, data)
		if err != nil {
			p.flowError(ctx, w, r, err)
			return
		}
		p.metrics.signIns.WithLabelValues(methodUpstream, "cancelled").Inc()
		p.renderSignIn(ctx, w, r, c, http.StatusUnauthorized, "", "sign_in.error.provider_cancelled")
		return
	}
	res, err := p.identity.FinishUpstreamSignIn(ctx, q.Get("state"), q.Get("code"), binding,
		p.cfg.Issuer+PathUpstreamCallback, !p.cfg.DisableSignUp)
	if res == nil {
		if !errors.Is(err, identity.ErrUpstreamLogin) {
			p.log.ErrorContext(ctx, "upstream sign-in", "error", err)
		}
		p.upstreamExpired(w, r)
		return
	}
	if res.LinkUserID != "" {
		p.upstreamConnected(ctx, w, r, res, err)
		return
	}
	c, cerr := p.decodeSignInContext(ctx, w, r, res.ReturnData)
	if cerr != nil {
		p.flowError(ctx, w, r, cerr)
		return
	}
	if err != nil {
		status, message := upstreamErrorMessage(res.Provider, err)
		if status == http.StatusBadGateway {
			p.log.WarnContext(ctx, "upstream sign-in failed", "provider", res.Provider.Slug, "error", err)
		}
		p.metrics.signIns.WithLabelValues(methodUpstream, "refused").Inc()
		p.renderSignIn(ctx, w, r, c, status, "", message)
		return
	}
	p.firstFactorDone(ctx, w, r, c, res.User, []string{identity.AMRFederated}, methodUpstream)
}

// upstreamErrorMessage says why an upstream sign-in did not sign in: a
// message naming the provider. prov is nil only when the provider could
// not be loaded (removed during the sign-in), which is a failure with no
// name to give.
func upstreamErrorMessage(prov *identity.IdentityProvider, err error) (int, any) {
	if errors.Is(err, identity.ErrInvalidCredentials) {
		return http.StatusUnauthorized, "sign_in.error.upstream_refused"
	}
	if prov == nil {
		return http.StatusBadGateway, "sign_in.error.upstream_failed_unknown"
	}
	var status int
	var key string
	switch {
	case errors.Is(err, identity.ErrUpstreamEmailUnverified):
		status, key = http.StatusUnauthorized, "sign_in.error.upstream_unverified"
	case errors.Is(err, identity.ErrUpstreamAccountExists):
		status, key = http.StatusConflict, "sign_in.error.upstream_exists"
	case errors.Is(err, identity.ErrSignUpDisabled):
		status, key = http.StatusUnauthorized, "sign_in.error.upstream_no_account"
	default:
		status, key = http.StatusBadGateway, "sign_in.error.upstream_failed"
	}
	return status, ui.Msg(key, "provider", prov.Name)
}

func (p *Provider) upstreamExpired(w http.ResponseWriter, r *http.Request) {
	p.renderError(w, r, http.StatusBadRequest, "error.sign_in_expired",
		"error.go_back_sign_in", "invalid_request")
}

// upstreamConnected ends connecting a provider from the security page.
func (p *Provider) upstreamConnected(ctx context.Context, w http.ResponseWriter, r *http.Request, res *identity.UpstreamResult, err error) {
	sess, user, cerr := p.currentUser(ctx, r)
	if cerr != nil || sess == nil || user.ID != res.LinkUserID {
		http.Redirect(w, r, SignInURL(PathAccountSecurity), http.StatusSeeOther)
		return
	}
	switch {
	case errors.Is(err, identity.ErrIdentityTaken):
		p.renderSecurity(ctx, w, r, user, http.StatusConflict, map[string]any{"Error": ui.Msg("security.error.connected_elsewhere", "provider", res.Provider.Name)})
	case err != nil:
		p.log.WarnContext(ctx, "connect upstream identity", "provider", res.Provider.Slug, "error", err)
		p.renderSecurity(ctx, w, r, user, http.StatusBadGateway, map[string]any{"Error": ui.Msg("security.error.connect_failed", "provider", res.Provider.Name)})
	default:
		p.sendMail(ctx, p.securityNoticeMail(uiLang(r), user.Email, ui.Msg("mail.security.connected", "provider", res.Provider.Name)))
		http.Redirect(w, r, PathAccountSecurity+"?notice=connected", http.StatusSeeOther)
	}
}

// upstreamAction handles the connected-account actions of the security
// page (recent sign-in checked by the caller); false: not one of them.
func (p *Provider) upstreamAction(ctx context.Context, w http.ResponseWriter, r *http.Request, user *identity.User, action string) bool {
	switch action {
	case "idp-connect":
		authURL, err := p.identity.BeginUpstreamSignIn(ctx, r.PostFormValue("provider"), p.browserID(w, r),
			p.cfg.Issuer+PathUpstreamCallback, user.ID, nil)
		if err != nil {
			p.log.WarnContext(ctx, "begin connecting upstream identity", "error", err)
			p.renderSecurity(ctx, w, r, user, http.StatusBadGateway, map[string]any{"Error": "security.error.provider_unreachable"})
			return true
		}
		http.Redirect(w, r, authURL, http.StatusSeeOther)
	case "idp-disconnect":
		err := p.identity.DisconnectIdentity(ctx, user.ID, r.PostFormValue("identity_id"))
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			p.serverError(ctx, w, r, "disconnect identity", err)
			return true
		}
		http.Redirect(w, r, PathAccountSecurity+"?notice=disconnected", http.StatusSeeOther)
	default:
		return false
	}
	return true
}

// upstreamData adds connected accounts and the providers still to
// connect to the security page.
func (p *Provider) upstreamData(ctx context.Context, user *identity.User, data map[string]any) error {
	providers, err := p.identity.ListIdentityProviders(ctx, true)
	if err != nil || len(providers) == 0 {
		return err
	}
	ids, err := p.identity.UserIdentities(ctx, user.ID)
	if err != nil {
		return err
	}
	connected := map[string]bool{}
	for _, id := range ids {
		connected[id.ProviderID] = true
	}
	var connectable []*identity.IdentityProvider
	for _, prov := range providers {
		if !connected[prov.ID] {
			connectable = append(connectable, prov)
		}
	}
	data["UpstreamEnabled"] = true
	data["Identities"] = ids
	data["Connectable"] = connectable
	return nil
}
