package conformance

import (
	"net/url"
	"slices"
	"strings"
	"time"
)

// codeReuseWait is how long oidcc-codereuse-30seconds waits before reusing
// the code. The module's point is that a used code stays refused well after
// its first use, so the wait is not shortened for a faster run: it costs 30
// seconds per plan that includes the module.
const codeReuseWait = 30 * time.Second

func codeReuseModule(name, description string, wait time.Duration) Module {
	return module(name, description, func(t *T) {
		f, ok := t.codeFlow(t.Env.NewBrowser(), FlowOptions{})
		if !ok {
			return
		}
		if wait > 0 && !t.wait(wait) {
			return
		}
		form := url.Values{"grant_type": {"authorization_code"}, "code": {f.Code}, "redirect_uri": {f.Req.RedirectURI}}
		tr, err := t.Env.TokenRequest(t.Ctx, f.Req.Client, form)
		if err != nil {
			t.Failf("%v", err)
			return
		}
		if tr.Status >= 200 && tr.Status < 300 {
			t.Failf("the code was accepted a second time; the provider MUST deny it (RFC 6749 4.1.2)")
			return
		}
		t.checkTokenError(tr, "second use of the code", "invalid_grant")
		if wait == 0 {
			return
		}
		resp, err := t.Env.UserInfo(t.Ctx, f.Tokens.AccessToken, UserInfoGet)
		if err != nil {
			t.Failf("userinfo after the code's reuse: %v", err)
			return
		}
		if resp.Status < 400 || resp.Status > 499 {
			t.Warnf("the access token issued for the reused code still works (HTTP %d); RFC 6749 4.1.2 says it SHOULD be revoked", resp.Status)
		}
	})
}

func moduleCodeReuse() Module {
	return codeReuseModule("oidcc-codereuse",
		"A code used once is refused with invalid_grant on a second use right after. Stricter than the OpenID Foundation module, which only warns: RFC 6749 4.1.2 says MUST.",
		0)
}

func moduleCodeReuse30s() Module {
	return codeReuseModule("oidcc-codereuse-30seconds",
		"A code used once is still refused with invalid_grant 30 seconds later, and the tokens issued for it should then be revoked (a warning if the access token still works). Takes 30 seconds.",
		codeReuseWait)
}

func moduleRefreshToken() Module {
	return module("oidcc-refresh-token",
		"When refresh tokens are issued (with offline_access and prompt=consent if advertised): a refresh gives a new access token and an ID token consistent with the first, the new access token works at UserInfo, and a refresh token of another client is refused. Skipped when no refresh token is issued.",
		func(t *T) {
			p, ok := t.provider()
			if !ok {
				return
			}
			scope := "openid"
			var extra Params
			if Supports(p.Metadata.ScopesSupported, "offline_access", false) {
				scope += " offline_access"
				extra = Params{{"prompt", "consent"}}
			}
			b := t.Env.NewBrowser()
			f, ok := t.codeFlow(b, FlowOptions{Scope: scope, Extra: extra})
			if !ok {
				return
			}
			if f.Tokens.RefreshToken == "" {
				if slices.Contains(p.Metadata.GrantTypesSupported, "refresh_token") {
					t.Warnf("grant_types_supported lists refresh_token, yet none was issued")
				}
				t.Skipf("no refresh token was issued")
				return
			}
			if p.Metadata.GrantTypesSupported != nil && !slices.Contains(p.Metadata.GrantTypesSupported, "refresh_token") {
				t.Warnf("a refresh token was issued but grant_types_supported does not list refresh_token")
			}
			// One second apart, so that a new ID token has a new iat.
			if !t.wait(time.Second) {
				return
			}
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {f.Tokens.RefreshToken}, "scope": {scope}}
			tr, err := t.Env.TokenRequest(t.Ctx, f.Req.Client, form)
			if err != nil {
				t.Failf("%v", err)
				return
			}
			if !t.checkTokenSuccess(tr, "refresh request") {
				return
			}
			if tr.AccessToken == f.Tokens.AccessToken {
				t.Warnf("the refresh returned the same access token")
			}
			if tr.IDToken != "" {
				tok := t.verifyIDToken(tr.IDToken, "refreshed", IDTokenWant{Client: f.Req.Client, AccessToken: tr.AccessToken, IgnoreNonce: true})
				t.compareRefreshedIDToken(f.IDToken, tok)
			}
			refreshed := &Flow{Req: f.Req, Tokens: tr, IDToken: f.IDToken}
			t.userInfoClaims(refreshed, UserInfoGet)
			t.refreshTokenBinding(b, scope, extra)
		})
}

// compareRefreshedIDToken checks OIDC Core 12.2: same iss, sub, aud and
// auth_time as the original ID token.
func (t *T) compareRefreshedIDToken(orig, refreshed *IDToken) {
	if orig == nil || refreshed == nil {
		return
	}
	for _, claim := range []string{"iss", "sub", "azp"} {
		if a, b := orig.Claims[claim], refreshed.Claims[claim]; !sameJSON(a, b) {
			t.Failf("refreshed ID token: %s %v differs from the original's %v (OIDC Core 12.2)", claim, b, a)
		}
	}
	if !sameJSON(orig.Claims["aud"], refreshed.Claims["aud"]) {
		t.Failf("refreshed ID token: aud differs from the original's (OIDC Core 12.2)")
	}
	a1, ok1 := orig.Time("auth_time")
	a2, ok2 := refreshed.Time("auth_time")
	if ok1 && (!ok2 || a1 != a2) {
		t.Failf("refreshed ID token: auth_time must be the original's (OIDC Core 12.2)")
	}
}

// refreshTokenBinding gets a refresh token for the second client and
// checks the first client cannot use it (RFC 6749 6: bound to the client).
func (t *T) refreshTokenBinding(b *Browser, scope string, extra Params) {
	second := t.Env.PostClient()
	if !second.Configured() {
		t.Warnf("no client_secret_post client is configured, so the refresh token's binding to its client was not checked")
		return
	}
	f, ok := t.codeFlow(b, FlowOptions{Client: second, Scope: scope, Extra: extra})
	if !ok {
		return
	}
	if f.Tokens.RefreshToken == "" {
		t.Warnf("the second client got no refresh token, so the binding to its client was not checked")
		return
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {f.Tokens.RefreshToken}}
	tr, err := t.Env.TokenRequest(t.Ctx, t.Env.BasicClient(), form)
	if err != nil {
		t.Failf("%v", err)
		return
	}
	if tr.Status >= 200 && tr.Status < 300 {
		t.Failf("the refresh token of client %s was accepted from client %s", strings.TrimSpace(second.ClientID), t.Env.BasicClient().ClientID)
		return
	}
	t.checkTokenError(tr, "refresh with another client's refresh token", "invalid_grant")
}
