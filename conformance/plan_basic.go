package conformance

// BasicPlan is modelled on the OpenID Foundation's
// oidcc-basic-certification-test-plan (code flow, client_secret_basic,
// static clients), in the plan's order.
func BasicPlan() Plan {
	return Plan{
		Name:    "basic",
		Title:   "oidcc-basic-certification-test-plan",
		Modules: basicModules(),
	}
}

// basicModules are the Basic OP modules; the Form Post plan reuses them.
func basicModules() []Module {
	return []Module{
		moduleServer(),
		moduleResponseTypeMissing(),
		moduleIDTokenSignature(),
		moduleIDTokenUnsigned(),
		moduleUserInfoGet(),
		moduleUserInfoPostHeader(),
		moduleUserInfoPostBody(),
		moduleNoNonce(),
		moduleScopeProfile(),
		moduleScopeEmail(),
		moduleScopeAddress(),
		moduleScopePhone(),
		moduleScopeAll(),
		moduleAlternateHappyFlow(),
		moduleDisplayPage(),
		moduleDisplayPopup(),
		modulePromptLogin(),
		modulePromptNoneNotLoggedIn(),
		modulePromptNoneLoggedIn(),
		moduleMaxAge1(),
		moduleMaxAge10000(),
		moduleUnknownParameter(),
		moduleIDTokenHint(),
		moduleLoginHint(),
		moduleUILocales(),
		moduleClaimsLocales(),
		moduleACRValues(),
		moduleCodeReuse(),
		moduleCodeReuse30s(),
		moduleRegisteredRedirectURI(),
		modulePostRequest(),
		moduleServerClientSecretPost(),
		moduleRequestURI(),
		moduleRequestObject(),
		moduleClaimsEssential(),
		moduleRequestObjectRedirectURI(),
		moduleRefreshToken(),
		modulePKCE(),
	}
}
