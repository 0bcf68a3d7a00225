package conformance

import (
	"slices"
	"strings"
)

func userInfoModule(name, description string, method UserInfoMethod) Module {
	return module(name, description, func(t *T) {
		f, ok := t.codeFlow(t.Env.NewBrowser(), FlowOptions{})
		if !ok {
			return
		}
		if method != UserInfoPostBody {
			t.userInfoClaims(f, method)
			return
		}
		resp, err := t.Env.UserInfo(t.Ctx, f.Tokens.AccessToken, method)
		if err != nil {
			t.Failf("userinfo %s: %v", method, err)
			return
		}
		if resp.Status < 200 || resp.Status > 299 {
			t.Warnf("userinfo %s: HTTP %d; the token in the body is optional (RFC 6750 2.2)", method, resp.Status)
			return
		}
		t.checkUserInfo(f, resp, method)
	})
}

func moduleUserInfoGet() Module {
	return userInfoModule("oidcc-userinfo-get",
		"UserInfo by GET with the bearer token in the header: HTTP 200, JSON, sub equal to the ID token's, standard claims of the right types.",
		UserInfoGet)
}

func moduleUserInfoPostHeader() Module {
	return userInfoModule("oidcc-userinfo-post-header",
		"UserInfo by POST with the bearer token in the header.", UserInfoPostHeader)
}

func moduleUserInfoPostBody() Module {
	return userInfoModule("oidcc-userinfo-post-body",
		"UserInfo by POST with the token in the form body; a refusal is only a warning (RFC 6750 2.2 is optional), a wrong answer fails.",
		UserInfoPostBody)
}

// scopeModule requests scope and checks the UserInfo claims against it.
func scopeModule(name, description, scope string, reversed bool) Module {
	return module(name, description, func(t *T) {
		p, ok := t.provider()
		if !ok {
			return
		}
		for _, s := range strings.Fields(scope) {
			if s != "openid" && p.Metadata.ScopesSupported != nil && !slices.Contains(p.Metadata.ScopesSupported, s) {
				t.Skipf("scopes_supported does not list %s", s)
				return
			}
		}
		opt := FlowOptions{Scope: scope}
		if reversed {
			words := strings.Fields(scope)
			slices.Reverse(words)
			opt.Scope = strings.Join(words, " ")
			opt.Customize = func(ar *AuthRequest) { ar.Params = ar.Params.Reversed() }
		}
		f, ok := t.codeFlow(t.Env.NewBrowser(), opt)
		if !ok {
			return
		}
		claims := t.userInfoClaims(f, UserInfoGet)
		if claims == nil {
			return
		}
		t.checkScopeClaims(opt.Scope, claims, "userinfo")
		if slices.Contains(strings.Fields(scope), "email") && f.IDToken != nil {
			if _, ok := f.IDToken.Claims["email"]; ok {
				t.Warnf("the ID token carries email although an access token was issued to fetch it (OIDC Core 5.4)")
			}
		}
	})
}

func moduleScopeProfile() Module {
	return scopeModule("oidcc-scope-profile", "Scope profile returns the user's profile claims from UserInfo.", "openid profile", false)
}

func moduleScopeEmail() Module {
	return scopeModule("oidcc-scope-email", "Scope email returns email and email_verified from UserInfo.", "openid email", false)
}

func moduleScopeAddress() Module {
	return scopeModule("oidcc-scope-address", "Scope address returns the address object from UserInfo.", "openid address", false)
}

func moduleScopePhone() Module {
	return scopeModule("oidcc-scope-phone", "Scope phone returns phone_number and phone_number_verified from UserInfo.", "openid phone", false)
}

func moduleScopeAll() Module {
	return scopeModule("oidcc-scope-all", "Scopes profile, email, address and phone together.", "openid profile email address phone", false)
}

func moduleAlternateHappyFlow() Module {
	return scopeModule("oidcc-alternate-happy-flow",
		"The email flow with the scope values and the request parameters in reverse order: order must not matter (RFC 6749 3.3).",
		"openid email", true)
}

func moduleClaimsEssential() Module {
	return module("oidcc-claims-essential",
		"The claims parameter asks for name as an essential UserInfo claim; the request succeeds, and name is returned when the provider supports the claims parameter and the user has a name (otherwise a warning).",
		func(t *T) {
			p, ok := t.provider()
			if !ok {
				return
			}
			claimsParam := `{"userinfo":{"name":{"essential":true}}}`
			f, ok := t.codeFlow(t.Env.NewBrowser(), FlowOptions{Extra: Params{{"claims", claimsParam}}})
			if !ok {
				return
			}
			claims := t.userInfoClaims(f, UserInfoGet)
			if claims == nil {
				return
			}
			t.checkScopeClaims("openid", claims, "userinfo", "name")
			if _, ok := claims["name"]; !ok {
				_, userHasName := t.Env.Config.User.Claims["name"]
				supported := p.Metadata.ClaimsParameterSupported != nil && *p.Metadata.ClaimsParameterSupported
				if userHasName && supported {
					t.Failf("userinfo lacks the essential claim name, although claims_parameter_supported is true and the user has a name")
				} else {
					t.Warnf("userinfo lacks the requested essential claim name")
				}
			}
			if f.IDToken != nil {
				if _, ok := f.IDToken.Claims["name"]; ok {
					t.Warnf("the ID token carries name although it was requested for UserInfo only")
				}
			}
		})
}
