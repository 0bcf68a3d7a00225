package conformance

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Flow is one authorization: the request, where the browser ended, the
// response parameters, and the tokens it was exchanged for.
type Flow struct {
	Req      *AuthRequest
	Outcome  *Outcome
	Response url.Values
	Code     string
	Tokens   *TokenResponse
	IDToken  *IDToken
}

// FlowOptions change the standard code-flow request.
type FlowOptions struct {
	// Client defaults to the client_secret_basic client.
	Client ClientAuth
	// Scope defaults to "openid".
	Scope string
	// Extra parameters are appended to the request.
	Extra Params
	// Customize, if set, edits the request last.
	Customize func(*AuthRequest)
	// NoInteraction stops the browser at any login, consent or organization
	// page (prompt=none and friends).
	NoInteraction bool
}

// authorize sends an authorization request through the browser. It records
// a failure and returns nil on a transport error.
func (t *T) authorize(b *Browser, opt FlowOptions) *Flow {
	if _, ok := t.provider(); !ok {
		return nil
	}
	if opt.Client.ClientID == "" {
		opt.Client = t.Env.BasicClient()
	}
	if opt.Scope == "" {
		opt.Scope = "openid"
	}
	ar := t.Env.NewAuthRequest(opt.Client, opt.Scope)
	for _, kv := range opt.Extra {
		ar.Params.Set(kv.Key, kv.Value)
	}
	if opt.Customize != nil {
		opt.Customize(ar)
	}
	return t.send(b, ar, Navigation{NoInteraction: opt.NoInteraction})
}

// send sends a prepared request through the browser.
func (t *T) send(b *Browser, ar *AuthRequest, nav Navigation) *Flow {
	req, err := t.Env.HTTPRequest(ar)
	if err != nil {
		t.Failf("%v", err)
		return nil
	}
	out, err := b.Navigate(t.Ctx, req, nav)
	if err != nil {
		t.Failf("authorization request: %v", err)
		return nil
	}
	return &Flow{Req: ar, Outcome: out}
}

// expectCode checks that the flow ended with a successful code response.
func (t *T) expectCode(f *Flow) bool {
	if f == nil {
		return false
	}
	params := t.responseParams(f.Req, f.Outcome)
	if params == nil {
		return false
	}
	f.Response = params
	code, ok := t.checkSuccess(f.Req, params)
	f.Code = code
	return ok
}

// exchange redeems the flow's code and checks the token response and the
// ID token.
func (t *T) exchange(f *Flow) bool {
	form := url.Values{
		"grant_type":   {"authorization_code"},
		"code":         {f.Code},
		"redirect_uri": {f.Req.RedirectURI},
	}
	if f.Req.CodeVerifier != "" {
		form.Set("code_verifier", f.Req.CodeVerifier)
	}
	tr, err := t.Env.TokenRequest(t.Ctx, f.Req.Client, form)
	if err != nil {
		t.Failf("%v", err)
		return false
	}
	f.Tokens = tr
	if !t.checkTokenSuccess(tr, "token request") {
		return false
	}
	if tr.IDToken == "" {
		t.Failf("the token response has no id_token although scope openid was requested (OIDC Core 3.1.3.3)")
		return false
	}
	f.IDToken = t.verifyIDToken(tr.IDToken, "token endpoint", IDTokenWant{
		Client:          f.Req.Client,
		Nonce:           f.Req.Nonce,
		AccessToken:     tr.AccessToken,
		Code:            f.Code,
		RequireAuthTime: f.Req.Params.Has("max_age"),
	})
	return !t.Failed()
}

// codeFlow runs a whole code flow and returns it when every step passed.
func (t *T) codeFlow(b *Browser, opt FlowOptions) (*Flow, bool) {
	f := t.authorize(b, opt)
	if !t.expectCode(f) {
		return f, false
	}
	return f, t.exchange(f)
}

// checkNoUnrequestedClaims warns when the ID token carries profile, email,
// address or phone claims although only openid was requested and there is
// an access token to fetch them with (OIDC Core 5.4).
func (t *T) checkNoUnrequestedClaims(f *Flow) {
	if f.IDToken == nil || strings.TrimSpace(f.Req.Params.Get("scope")) != "openid" {
		return
	}
	var extra []string
	for claim := range f.IDToken.Claims {
		if claimScope(claim) != "" {
			extra = append(extra, claim)
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		t.Warnf("the ID token carries %s, which scope openid does not request", strings.Join(extra, ", "))
	}
}

// authTime returns the auth_time of a flow's ID token.
func authTime(f *Flow) (int64, bool) {
	if f == nil || f.IDToken == nil {
		return 0, false
	}
	return f.IDToken.Time("auth_time")
}

// describeNoLogin explains a flow that should have shown a login page and
// did not.
func describeNoLogin(f *Flow) string {
	return fmt.Sprintf("the browser was not asked to sign in (visited %s)", strings.Join(f.Outcome.Visited, " → "))
}
