package oidc

import (
	"context"
	"net/http"
	"net/url"

	"github.com/orgid/orgid/ui"
)

// Hosted sign-in pages beyond the password form. Paths are public
// contract, like PathSignIn.
const (
	PathSignUp          = "/sign-up"
	PathVerifyEmail     = "/verify-email"
	PathForgotPassword  = "/forgot-password"
	PathResetPassword   = "/reset-password"
	PathMagicLink       = "/magic-link"
	PathMagicLinkVerify = "/magic-link/verify"
	PathSecondFactor    = "/sign-in/second-factor"
	PathAccountSecurity = "/account/security"
)

// signInContext is what the sign-in pages hand on from page to page: the
// authorization flow being signed in for, or, outside a flow, the local
// path to return to afterwards. Pages carry it in the query (GET) and in
// hidden fields (POST).
type signInContext struct {
	flow     *flow
	returnTo string
}

// flowID is the raw flow id, or "".
func (c signInContext) flowID() string {
	if c.flow == nil {
		return ""
	}
	return c.flow.id
}

// url is a hosted page's address carrying the context, with extra query
// parameters (name, value pairs).
func (c signInContext) url(path string, extra ...string) string {
	q := url.Values{}
	if c.flow != nil {
		q.Set("flow", c.flow.id)
	} else if c.returnTo != "" && localPath(c.returnTo) != defaultUIPathHome {
		q.Set("return_to", localPath(c.returnTo))
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] != "" {
			q.Set(extra[i], extra[i+1])
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// fields are the template data every sign-in page form needs for its
// hidden inputs.
func (c signInContext) fields() map[string]any {
	rt := ""
	if c.flow == nil && localPath(c.returnTo) != defaultUIPathHome {
		rt = localPath(c.returnTo)
	}
	return map[string]any{"Flow": c.flowID(), "ReturnTo": rt}
}

// loadSignInContext reads the flow (query on GET, form on POST) and
// return_to of a sign-in page request. A flow that is unknown, expired or
// another browser's is answered with an error page (ok false).
func (p *Provider) loadSignInContext(w http.ResponseWriter, r *http.Request) (context.Context, signInContext, bool) {
	ctx := withClientCache(r.Context())
	flowID := r.URL.Query().Get("flow")
	returnTo := r.URL.Query().Get("return_to")
	if r.Method == http.MethodPost {
		flowID, returnTo = r.PostFormValue("flow"), r.PostFormValue("return_to")
	}
	c := signInContext{returnTo: returnTo}
	if flowID != "" {
		f, err := p.loadFlow(ctx, flowID, p.browserID(w, r))
		if err != nil {
			p.flowError(ctx, w, r, err)
			return ctx, c, false
		}
		c.flow = f
	}
	return ctx, c, true
}

// pageLang is the language of a sign-in page: the flow's ui_locales, else
// the browser's.
func (p *Provider) pageLang(r *http.Request, c signInContext) string {
	if c.flow != nil {
		if l := c.flow.form().Get("ui_locales"); l != "" {
			return ui.Language(l, r.Header.Get("Accept-Language"))
		}
	}
	return uiLang(r)
}

// renderSignInPage renders one of the sign-in pages with the context's
// hidden fields, the client's name and data.
func (p *Provider) renderSignInPage(ctx context.Context, w http.ResponseWriter, r *http.Request, c signInContext, status int, page, title string, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	for k, v := range c.fields() {
		data[k] = v
	}
	if c.flow != nil {
		if cl, err := p.clients.Get(ctx, c.flow.ClientID); err == nil {
			data["ClientName"] = cl.Name
		}
	}
	data["SignInURL"] = c.url(PathSignIn)
	script, _ := data["Passkeys"].(bool)
	p.renderPage(w, script, status, page, title, p.pageLang(r, c), data)
}
