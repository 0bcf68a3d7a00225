package conformance

import (
	"slices"
	"strings"
)

// paramModule sends extra request parameters that must not break the flow
// (OIDC Core 3.1.2.1 and 15.1: the minimum support is not failing); check,
// if set, looks at the finished flow.
func paramModule(name, description string, params func(t *T) Params, check func(t *T, f *Flow)) Module {
	return module(name, description, func(t *T) {
		if _, ok := t.provider(); !ok {
			return
		}
		f, ok := t.codeFlow(t.Env.NewBrowser(), FlowOptions{Extra: params(t)})
		if !ok {
			return
		}
		t.userInfoClaims(f, UserInfoGet)
		if check != nil {
			check(t, f)
		}
	})
}

func fixed(params ...Param) func(*T) Params {
	return func(*T) Params { return params }
}

func moduleDisplayPage() Module {
	return paramModule("oidcc-display-page", "display=page must not cause an error.", fixed(Param{"display", "page"}), nil)
}

func moduleDisplayPopup() Module {
	return paramModule("oidcc-display-popup", "display=popup must not cause an error.", fixed(Param{"display", "popup"}), nil)
}

func moduleUnknownParameter() Module {
	return paramModule("oidcc-ensure-request-with-unknown-parameter-succeeds",
		"An unknown parameter (extra=foobar) is ignored (RFC 6749 3.1).", fixed(Param{"extra", "foobar"}), nil)
}

func moduleUILocales() Module {
	return paramModule("oidcc-ui-locales", "ui_locales (default se) must not cause an error.",
		func(t *T) Params { return Params{{"ui_locales", t.Env.Config.UILocales}} }, nil)
}

func moduleClaimsLocales() Module {
	return paramModule("oidcc-claims-locales", "claims_locales (default se) must not cause an error.",
		func(t *T) Params { return Params{{"claims_locales", t.Env.Config.ClaimsLocales}} }, nil)
}

func moduleLoginHint() Module {
	return paramModule("oidcc-login-hint",
		"login_hint (default: the test user's identifier) must not cause an error; a warning when the sign-in form was not prefilled with it.",
		func(t *T) Params { return Params{{"login_hint", t.Env.Config.LoginHint}} },
		func(t *T, f *Flow) {
			if f.Outcome.LoginShown && f.Outcome.LoginPrefill != t.Env.Config.LoginHint {
				t.Warnf("the sign-in form's %s field was not prefilled with the login_hint", t.Env.Config.Login.IdentifierField)
			}
		})
}

// acrValues is what the acr_values module sends: the configured values,
// else the provider's acr_values_supported, else "1 2" (as the OpenID
// Foundation suite does).
func acrValues(t *T) string {
	if v := t.Env.Config.ACRValues; v != "" {
		return v
	}
	if list := t.Env.Provider.Metadata.ACRValuesSupported; len(list) > 0 {
		return strings.Join(list, " ")
	}
	return "1 2"
}

func moduleACRValues() Module {
	return paramModule("oidcc-ensure-request-with-acr-values-succeeds",
		"acr_values must not cause an error; the ID token should carry one of the requested values as acr (a warning otherwise).",
		func(t *T) Params { return Params{{"acr_values", acrValues(t)}} },
		func(t *T, f *Flow) {
			if f.IDToken == nil {
				return
			}
			requested := strings.Fields(f.Req.Params.Get("acr_values"))
			if acr := f.IDToken.Str("acr"); !slices.Contains(requested, acr) {
				t.Warnf("the ID token's acr %q is not one of the requested %v", acr, requested)
			}
		})
}
