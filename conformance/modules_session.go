package conformance

import (
	"strconv"
	"time"
)

func modulePromptLogin() Module {
	return module("oidcc-prompt-login",
		"After a first sign-in, a request with prompt=login must make the user sign in again, and a second auth_time (if present) must be later than the first.",
		func(t *T) {
			b := t.Env.NewBrowser()
			first, ok := t.codeFlow(b, FlowOptions{})
			if !ok {
				return
			}
			// One second apart, so that the second auth_time differs.
			if !t.wait(time.Second) {
				return
			}
			second := t.authorize(b, FlowOptions{Extra: Params{{"prompt", "login"}}})
			if second == nil {
				return
			}
			if second.Outcome.Callback != nil && second.Outcome.Logins == 0 {
				t.Failf("prompt=login: %s", describeNoLogin(second))
				return
			}
			if !t.expectCode(second) || !t.exchange(second) {
				return
			}
			a1, ok1 := authTime(first)
			a2, ok2 := authTime(second)
			if ok1 && ok2 && a2 <= a1 {
				t.Failf("prompt=login: the second auth_time %d is not later than the first %d", a2, a1)
			}
		})
}

func modulePromptNoneNotLoggedIn() Module {
	return module("oidcc-prompt-none-not-logged-in",
		"prompt=none without a session must not show a page: the provider redirects with login_required, interaction_required, account_selection_required or consent_required, and returns a long state intact.",
		func(t *T) {
			f := t.authorize(t.Env.NewBrowser(), FlowOptions{
				Extra:         Params{{"prompt", "none"}},
				NoInteraction: true,
				Customize: func(ar *AuthRequest) {
					ar.State = randomValue(96) // 128 characters
					ar.Params.Set("state", ar.State)
				},
			})
			if f == nil {
				return
			}
			if s := f.Outcome.Stop; s != nil {
				t.Failf("prompt=none must not show a page (OIDC Core 3.1.2.1): %s", s.Describe())
				return
			}
			params := t.responseParams(f.Req, f.Outcome)
			if params == nil {
				return
			}
			t.checkErrorResponse(f.Req, params, "login_required", "interaction_required", "account_selection_required", "consent_required")
		})
}

// sameAuthModule signs in, then sends a second request that must not show
// any page and must come from the same authentication: same sub, same
// auth_time when both tokens carry one.
func sameAuthModule(name, description string, first FlowOptions, second func(first *Flow) FlowOptions, requireAuthTime bool) Module {
	return module(name, description, func(t *T) {
		b := t.Env.NewBrowser()
		f1, ok := t.codeFlow(b, first)
		if !ok {
			return
		}
		opt := second(f1)
		opt.NoInteraction = true
		f2 := t.authorize(b, opt)
		if f2 == nil {
			return
		}
		if s := f2.Outcome.Stop; s != nil {
			t.Failf("the second request must complete without any page: %s", s.Describe())
			return
		}
		if !t.expectCode(f2) || !t.exchange(f2) {
			return
		}
		if f1.IDToken == nil || f2.IDToken == nil {
			return
		}
		if f1.IDToken.Str("sub") != f2.IDToken.Str("sub") {
			t.Failf("the second ID token's sub differs from the first's")
		}
		a1, ok1 := authTime(f1)
		a2, ok2 := authTime(f2)
		if requireAuthTime && !ok1 {
			t.Failf("the first ID token has no auth_time although max_age was requested")
		}
		if ok1 && ok2 && a1 != a2 {
			t.Failf("auth_time changed from %d to %d without a new sign-in", a1, a2)
		}
	})
}

func modulePromptNoneLoggedIn() Module {
	return sameAuthModule("oidcc-prompt-none-logged-in",
		"After a sign-in, prompt=none must return a code without any page, for the same user and authentication.",
		FlowOptions{},
		func(*Flow) FlowOptions { return FlowOptions{Extra: Params{{"prompt", "none"}}} },
		false)
}

func moduleIDTokenHint() Module {
	return sameAuthModule("oidcc-id-token-hint",
		"After a sign-in, prompt=none with the first ID token as id_token_hint must return a code without any page, for the same user.",
		FlowOptions{},
		func(first *Flow) FlowOptions {
			return FlowOptions{Extra: Params{{"prompt", "none"}, {"id_token_hint", first.Tokens.IDToken}}}
		},
		false)
}

func moduleMaxAge10000() Module {
	return sameAuthModule("oidcc-max-age-10000",
		"A sign-in with max_age=15000, then max_age=10000: the second must not ask to sign in, both ID tokens carry auth_time, and it is the same.",
		FlowOptions{Extra: Params{{"max_age", "15000"}}},
		func(*Flow) FlowOptions { return FlowOptions{Extra: Params{{"max_age", "10000"}}} },
		true)
}

func moduleMaxAge1() Module {
	return module("oidcc-max-age-1",
		"A sign-in, two seconds' wait, then max_age=1: the user must sign in again, and the second ID token carries a recent auth_time later than the first.",
		func(t *T) {
			b := t.Env.NewBrowser()
			first, ok := t.codeFlow(b, FlowOptions{})
			if !ok {
				return
			}
			if !t.wait(2 * time.Second) {
				return
			}
			second := t.authorize(b, FlowOptions{Extra: Params{{"max_age", strconv.Itoa(1)}}})
			if second == nil {
				return
			}
			if second.Outcome.Callback != nil && second.Outcome.Logins == 0 {
				t.Failf("max_age=1 two seconds after signing in: %s", describeNoLogin(second))
				return
			}
			if !t.expectCode(second) || !t.exchange(second) {
				return
			}
			a2, ok2 := authTime(second)
			if !ok2 {
				return // exchange already failed the module: max_age requires auth_time
			}
			if a1, ok1 := authTime(first); ok1 && a2 <= a1 {
				t.Failf("the second auth_time %d is not later than the first %d", a2, a1)
			}
			if time.Unix(a2, 0).Before(t.Env.Now().Add(-clockSkew - time.Second)) {
				t.Failf("the second auth_time is not recent")
			}
		})
}
