package conformance

// The logout plans register their clients (client_secret_basic, as the
// OpenID Foundation's plans do) with a post_logout_redirect_uri on the
// runner, and, for front- and back-channel logout, the runner's logout
// receivers with session_required, so that each request must carry sid.

// logoutMetadata is the client metadata of a logout plan; channels adds
// the front-channel and/or back-channel receivers.
func logoutMetadata(channels ...string) func(e *Env, method string) map[string]any {
	return func(e *Env, method string) map[string]any {
		m := e.ClientMetadata("logout "+method, method)
		m["post_logout_redirect_uris"] = []string{e.Listener.URL(pathPostLogout)}
		for _, ch := range channels {
			switch ch {
			case "front":
				m["frontchannel_logout_uri"] = e.Listener.URL(pathFrontchannel)
				m["frontchannel_logout_session_required"] = true
			case "back":
				m["backchannel_logout_uri"] = e.Listener.URL(pathBackchannel)
				m["backchannel_logout_session_required"] = true
			}
		}
		return m
	}
}

// RPLogoutPlan is modelled on the OpenID Foundation's
// oidcc-rp-initiated-logout-certification-test-plan.
func RPLogoutPlan() Plan {
	return Plan{
		Name:  "rp-logout",
		Title: "oidcc-rp-initiated-logout-certification-test-plan",
		Setup: registerPlanClients(logoutMetadata(), AuthSecretBasic),
		Modules: []Module{
			moduleRPLogoutDiscovery(),
			rpLogoutModule("oidcc-rp-initiated-logout",
				"Sign in, then end the session with id_token_hint, the registered post_logout_redirect_uri and a state: the provider returns to the post_logout_redirect_uri with that state, and prompt=none then fails (the user is signed out).",
				logoutCase{hint: hintGood, redirect: redirectRegistered, state: true, expect: expectRedirect}),
			rpLogoutModule("oidcc-rp-initiated-logout-bad-post-logout-redirect-uri",
				"An unregistered post_logout_redirect_uri: the provider must not redirect (an error page or a confirmation).",
				logoutCase{hint: hintGood, redirect: redirectUnregistered, state: true, expect: expectNoRedirect}),
			rpLogoutModule("oidcc-rp-initiated-logout-modified-id-token-hint",
				"An id_token_hint changed to alg none: the provider must not redirect (an error page or a confirmation).",
				logoutCase{hint: hintModified, redirect: redirectRegistered, state: true, expect: expectNoRedirect}),
			rpLogoutModule("oidcc-rp-initiated-logout-no-id-token-hint",
				"A post_logout_redirect_uri without id_token_hint: the provider cannot tell whose it is and must not redirect (an error page or a confirmation).",
				logoutCase{hint: hintNone, redirect: redirectRegistered, state: true, expect: expectNoRedirect}),
			rpLogoutModule("oidcc-rp-initiated-logout-no-params",
				"No parameters at all: the provider signs the user out, after a confirmation the runner gives, shows its signed-out page without redirecting, and prompt=none then fails.",
				logoutCase{hint: hintNone, redirect: redirectNone, expect: expectSignedOutPage}),
			rpLogoutModule("oidcc-rp-initiated-logout-no-post-logout-redirect-uri",
				"id_token_hint and state without post_logout_redirect_uri: the provider signs the user out and shows its signed-out page without redirecting; prompt=none then fails.",
				logoutCase{hint: hintGood, redirect: redirectNone, state: true, expect: expectSignedOutPage}),
			rpLogoutModule("oidcc-rp-initiated-logout-no-state",
				"id_token_hint and the registered post_logout_redirect_uri without state: the redirect carries no state; prompt=none then fails.",
				logoutCase{hint: hintGood, redirect: redirectRegistered, expect: expectRedirect}),
			rpLogoutModule("oidcc-rp-initiated-logout-only-state",
				"Only a state: the provider signs the user out (after a confirmation the runner gives) without redirecting; prompt=none then fails.",
				logoutCase{hint: hintNone, redirect: redirectNone, state: true, expect: expectSignedOutPage}),
			rpLogoutModule("oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri",
				"The registered post_logout_redirect_uri with ?foo=bar added: not registered, so the provider must not redirect.",
				logoutCase{hint: hintGood, redirect: redirectQueryAdded, state: true, expect: expectNoRedirect}),
			rpLogoutModule("oidcc-rp-initiated-logout-bad-id-token-hint",
				"An id_token_hint signed by the runner, not the provider: the provider must not redirect (an error page or a confirmation).",
				logoutCase{hint: hintForged, redirect: redirectRegistered, state: true, expect: expectNoRedirect}),
		},
	}
}

// FrontchannelLogoutPlan is modelled on the OpenID Foundation's
// oidcc-frontchannel-rp-initiated-logout-certification-test-plan.
func FrontchannelLogoutPlan() Plan {
	return Plan{
		Name:    "frontchannel-logout",
		Title:   "oidcc-frontchannel-rp-initiated-logout-certification-test-plan",
		Setup:   registerPlanClients(logoutMetadata("front"), AuthSecretBasic),
		Modules: []Module{moduleFrontchannelDiscovery(), moduleFrontchannelLogout()},
	}
}

// BackchannelLogoutPlan is modelled on the OpenID Foundation's
// oidcc-backchannel-rp-initiated-logout-certification-test-plan.
func BackchannelLogoutPlan() Plan {
	return Plan{
		Name:    "backchannel-logout",
		Title:   "oidcc-backchannel-rp-initiated-logout-certification-test-plan",
		Setup:   registerPlanClients(logoutMetadata("back"), AuthSecretBasic),
		Modules: []Module{moduleBackchannelDiscovery(), moduleBackchannelLogout()},
	}
}
