package conformance

import (
	"strings"
	"testing"
)

// basicModuleNames lists the Basic plan's module names.
func basicModuleNames() []string {
	var names []string
	for _, m := range basicModules() {
		names = append(names, m.Name)
	}
	return names
}

func without(names []string, drop ...string) []string {
	var out []string
	for _, n := range names {
		keep := true
		for _, d := range drop {
			keep = keep && n != d
		}
		if keep {
			out = append(out, n)
		}
	}
	return out
}

// failCases break the fake provider one way each and name the modules that
// must fail, with a word the reason of the first must contain.
var failCases = []struct {
	name   string
	faults []fault
	plan   string
	fail   []string
	reason string
}{
	{"ID token iss", []fault{faultWrongIss}, "basic", []string{"oidcc-server", "oidcc-userinfo-get", "oidcc-prompt-login"}, "iss"},
	{"ID token aud", []fault{faultWrongAud}, "basic", []string{"oidcc-server"}, "aud"},
	{"ID token without nonce", []fault{faultNoNonce}, "basic", []string{"oidcc-server", "oidcc-scope-email"}, "nonce"},
	{"bad signature", []fault{faultBadSignature}, "basic", []string{"oidcc-server", "oidcc-idtoken-signature"}, "signature does not verify"},
	{"unknown kid", []fault{faultWrongKid}, "basic", []string{"oidcc-idtoken-signature", "oidcc-server"}, "not in the provider's JWKS"},
	{"no kid", []fault{faultNoKid}, "basic", []string{"oidcc-idtoken-signature"}, "no kid"},
	{"unsigned ID token", []fault{faultAlgNone}, "basic", []string{"oidcc-idtoken-unsigned", "oidcc-server"}, "unsigned"},
	{"at_hash mismatch", []fault{faultBadAtHash}, "basic", []string{"oidcc-server"}, "at_hash"},
	{"token response cacheable", []fault{faultNoCacheControl}, "basic", []string{"oidcc-server"}, "no-store"},
	{"state dropped", []fault{faultStateDropped}, "basic", []string{"oidcc-server", "oidcc-response-type-missing", "oidcc-prompt-none-not-logged-in"}, "state"},
	{"wrong iss parameter", []fault{faultIssParamWrong}, "basic", []string{"oidcc-server"}, "RFC 9207"},
	{"code reusable", []fault{faultCodeReusable}, "basic", []string{"oidcc-codereuse", "oidcc-codereuse-30seconds"}, "accepted a second time"},
	{"unregistered redirect URI", []fault{faultRedirectUnregistered}, "basic", []string{"oidcc-ensure-registered-redirect-uri"}, "unregistered"},
	{"userinfo sub", []fault{faultUserinfoSubMismatch}, "basic", []string{"oidcc-userinfo-get", "oidcc-userinfo-post-header", "oidcc-userinfo-post-body"}, "sub differs"},
	{"claims missing for scope", []fault{faultMissingScopeClaims}, "basic",
		[]string{"oidcc-scope-profile", "oidcc-scope-email", "oidcc-scope-address", "oidcc-scope-phone", "oidcc-scope-all", "oidcc-alternate-happy-flow"}, "lacks claim"},
	{"missing response_type accepted", []fault{faultResponseTypeDefault}, "basic", []string{"oidcc-response-type-missing"}, "issued a code"},
	{"nonce required", []fault{faultNonceRequired}, "basic", []string{"oidcc-ensure-request-without-nonce-succeeds-for-code-flow"}, "invalid_request"},
	{"scope order matters", []fault{faultScopeOrderSensitive}, "basic", []string{"oidcc-alternate-happy-flow"}, "invalid_scope"},
	{"optional parameters refused", []fault{faultRejectOptionalParams}, "basic",
		[]string{"oidcc-display-page", "oidcc-display-popup", "oidcc-ensure-request-with-unknown-parameter-succeeds", "oidcc-id-token-hint",
			"oidcc-login-hint", "oidcc-ui-locales", "oidcc-claims-locales", "oidcc-ensure-request-with-acr-values-succeeds"}, "invalid_request"},
	{"prompt=none shows login", []fault{faultPromptNoneShowsLogin}, "basic", []string{"oidcc-prompt-none-not-logged-in"}, "must not show a page"},
	{"prompt=none ignores session", []fault{faultPromptNoneNoSession}, "basic", []string{"oidcc-prompt-none-logged-in", "oidcc-id-token-hint"}, "login_required"},
	{"prompt=login ignored", []fault{faultPromptLoginIgnored}, "basic", []string{"oidcc-prompt-login"}, "not asked to sign in"},
	{"max_age ignored", []fault{faultMaxAgeIgnored}, "basic", []string{"oidcc-max-age-1", "oidcc-max-age-10000"}, "not asked to sign in"},
	{"POST to authorization endpoint", []fault{faultPostAuthzUnsupported}, "basic", []string{"oidcc-ensure-post-request-succeeds"}, "405"},
	{"client_secret_post refused", []fault{faultSecretPostRefused}, "basic", []string{"oidcc-server-client-secret-post"}, "invalid_client"},
	{"request object ignored", []fault{faultRequestObjectIgnored}, "basic",
		[]string{"oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported", "oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported"}, "state"},
	{"request_not_supported to the registered URI", []fault{faultRequestObjectRefused}, "basic", []string{"oidcc-ensure-request-object-with-redirect-uri"}, "request_not_supported"},
	{"claims parameter ignored", []fault{faultClaimsParamIgnored}, "basic", []string{"oidcc-claims-essential"}, "essential claim name"},
	{"refresh token not bound to its client", []fault{faultRefreshNotBound}, "basic", []string{"oidcc-refresh-token"}, "was accepted from client"},
	{"PKCE verifier ignored", []fault{faultPKCEIgnored}, "basic", []string{"oidcc-ensure-request-with-valid-pkce-succeeds"}, "wrong code_verifier"},
	{"discovery issuer", []fault{faultDiscoveryIssuer}, "config", []string{"oidcc-discovery-endpoint-verification"}, "issuer"},
	{"discovery plain http endpoint", []fault{faultDiscoveryHTTPEndpoint}, "config", []string{"oidcc-discovery-endpoint-verification"}, "https"},
	{"discovery without RS256", []fault{faultDiscoveryNoRS256}, "config", []string{"oidcc-discovery-endpoint-verification", "jwks-verification"}, "RS256"},
	{"JWKS with a private key", []fault{faultJWKSPrivate}, "config", []string{"jwks-verification"}, "private"},
	{"JWKS key without use or alg", []fault{faultJWKSNoUse}, "config", []string{"jwks-verification"}, "neither use nor alg"},
	{"form_post missing state", []fault{faultFormPostMissingState}, "formpost", []string{"oidcc-server", "oidcc-prompt-none-not-logged-in"}, "state"},
	{"form_post form sent by GET", []fault{faultFormPostGet}, "formpost", without(basicModuleNames(), "oidcc-ensure-registered-redirect-uri"), "method"},
	{"form_post: unregistered redirect URI", []fault{faultRedirectUnregistered}, "formpost", []string{"oidcc-ensure-registered-redirect-uri"}, "unregistered"},

	// Dynamic registration, client authentication, keys.
	{"dynamic: no kid", []fault{faultNoKid}, "dynamic", []string{"oidcc-idtoken-rs256"}, "kid"},
	{"dynamic: unsigned ID tokens registered though not offered", []fault{faultRegAcceptsNone}, "dynamic", []string{"oidcc-idtoken-unsigned"}, "accepted"},
	{"dynamic: signed userinfo ignored", []fault{faultUserinfoUnsigned}, "dynamic", []string{"oidcc-userinfo-rs256"}, "application/jwt"},
	{"dynamic: missing redirect_uri defaulted", []fault{faultRedirectDefault}, "dynamic", []string{"oidcc-ensure-redirect-uri-in-authorization-request"}, "redirected"},
	{"dynamic: redirect URI query refused", []fault{faultRedirectQueryRefused}, "dynamic", []string{"oidcc-redirect-uri-query-OK"}, "redirect URI"},
	{"dynamic: redirect URI query ignored", []fault{faultRedirectIgnoresQuery}, "dynamic", []string{"oidcc-redirect-uri-query-mismatch", "oidcc-redirect-uri-query-added"}, "redirected"},
	{"dynamic: fragment registered", []fault{faultRegAcceptsFragment}, "dynamic", []string{"oidcc-redirect-uri-regfrag"}, "accepted"},
	{"dynamic: discovery issuer", []fault{faultDiscoveryIssuer}, "dynamic", []string{"oidcc-discovery-endpoint-verification"}, "issuer"},
	{"dynamic: ID token iss", []fault{faultWrongIss}, "dynamic", []string{"oidcc-server"}, "iss"},
	{"dynamic: registration drops URIs", []fault{faultRegDropsURIs}, "dynamic",
		[]string{"oidcc-registration-logo-uri", "oidcc-registration-policy-uri", "oidcc-registration-tos-uri"}, "does not return"},
	{"dynamic: jwks_uri ignored", []fault{faultJWKSURIIgnored}, "dynamic", []string{"oidcc-registration-jwks-uri", "oidcc-refresh-token-rp-key-rotation"}, "invalid_client"},
	{"dynamic: pairwise is public", []fault{faultPairwiseIsPublic}, "dynamic", []string{"oidcc-registration-sector-uri"}, "same sub"},
	{"dynamic: sector document not checked", []fault{faultSectorNotChecked}, "dynamic", []string{"oidcc-registration-sector-bad"}, "accepted"},
	{"dynamic: rotation drops the old key", []fault{faultRotationDropsOld}, "dynamic", []string{"oidcc-server-rotate-keys"}, "left the JWKS"},
	{"dynamic: rotation publishes no key", []fault{faultRotationNoNewKey}, "dynamic", []string{"oidcc-server-rotate-keys"}, "no new signing key"},
	{"dynamic: client jwks_uri never refetched", []fault{faultJWKSURINeverRefetched}, "dynamic", []string{"oidcc-refresh-token-rp-key-rotation"}, "invalid_client"},
	{"dynamic: request objects ignored", []fault{faultRequestObjectIgnored}, "dynamic",
		[]string{"oidcc-request-uri-unsigned", "oidcc-request-uri-signed-rs256"}, "state"},
	{"dynamic: signed request objects refused", []fault{faultSignedRequestIgnored}, "dynamic", []string{"oidcc-request-uri-signed-rs256"}, "invalid_request_object"},
	{"dynamic: request_not_supported to the registered URI", []fault{faultRequestObjectRefused}, "dynamic", []string{"oidcc-ensure-request-object-with-redirect-uri"}, "request_not_supported"},
	{"dynamic: refresh token not bound", []fault{faultRefreshNotBound}, "dynamic", []string{"oidcc-refresh-token"}, "was accepted from client"},
	{"dynamic: aud=issuer answered with the wrong error", []fault{faultAssertionAudError}, "dynamic", []string{"oidcc-ensure-client-assertion-with-iss-aud-succeeds"}, "invalid_request"},
	{"dynamic: client_secret_jwt refused", []fault{faultSecretJWTRefused}, "dynamic", []string{"oidcc-client-secret-jwt"}, "invalid_client"},
	{"dynamic: assertion replay accepted", []fault{faultAssertionReplay}, "dynamic", []string{"oidcc-client-assertion-replay"}, "accepted twice"},
	{"dynamic: management without token", []fault{faultManagementOpen}, "dynamic", []string{"oidcc-registration-management"}, "401"},

	// Logout.
	{"no end_session_endpoint", []fault{faultNoEndSession}, "rp-logout", []string{"oidcc-rp-initiated-logout-discovery-endpoint-verification",
		"oidcc-rp-initiated-logout", "oidcc-rp-initiated-logout-no-params", "oidcc-rp-initiated-logout-no-post-logout-redirect-uri",
		"oidcc-rp-initiated-logout-no-state", "oidcc-rp-initiated-logout-only-state"}, "end_session_endpoint"},
	{"logout state dropped", []fault{faultLogoutStateDropped}, "rp-logout", []string{"oidcc-rp-initiated-logout"}, "state"},
	{"logout state invented", []fault{faultLogoutStateAlways}, "rp-logout", []string{"oidcc-rp-initiated-logout-no-state"}, "state"},
	{"logout redirects anywhere", []fault{faultLogoutAnyRedirect}, "rp-logout",
		[]string{"oidcc-rp-initiated-logout-bad-post-logout-redirect-uri", "oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri"}, "redirected"},
	{"logout hint unverified", []fault{faultLogoutHintUnverified}, "rp-logout",
		[]string{"oidcc-rp-initiated-logout-modified-id-token-hint", "oidcc-rp-initiated-logout-bad-id-token-hint"}, "redirected"},
	{"logout without hint redirects", []fault{faultLogoutNoHintRedirects}, "rp-logout", []string{"oidcc-rp-initiated-logout-no-id-token-hint"}, "redirected"},
	{"logout keeps the session", []fault{faultLogoutKeepsSession}, "rp-logout", []string{"oidcc-rp-initiated-logout-no-params",
		"oidcc-rp-initiated-logout-no-post-logout-redirect-uri", "oidcc-rp-initiated-logout-only-state", "oidcc-rp-initiated-logout"}, "still returned a code"},
	{"no front-channel logout", []fault{faultNoFrontchannel}, "frontchannel-logout", []string{"oidcc-frontchannel-logout-discovery-endpoint-verification"}, "frontchannel_logout_supported"},
	{"front-channel iframe without sid", []fault{faultFrontchannelNoSID}, "frontchannel-logout", []string{"oidcc-frontchannel-rp-initiated-logout"}, "no iss"},
	{"front-channel iframe blocked by CSP", []fault{faultFrontchannelCSP}, "frontchannel-logout", []string{"oidcc-frontchannel-rp-initiated-logout"}, "Content-Security-Policy"},
	{"no back-channel logout", []fault{faultNoBackchannel}, "backchannel-logout", []string{"oidcc-backchannel-logout-discovery-endpoint-verification"}, "backchannel_logout_supported"},
	{"logout token with a nonce", []fault{faultLogoutTokenNonce}, "backchannel-logout", []string{"oidcc-backchannel-rp-initiated-logout"}, "nonce"},
	{"logout token typed JWT", []fault{faultLogoutTokenTyp}, "backchannel-logout", []string{"oidcc-backchannel-rp-initiated-logout"}, "typ"},
	{"back-channel logout never sent", []fault{faultNoBackchannelDelivery}, "backchannel-logout", []string{"oidcc-backchannel-rp-initiated-logout"}, "no back-channel logout request"},
	{"no registration endpoint", []fault{faultNoRegistrationEndpoint}, "backchannel-logout", []string{"oidcc-backchannel-rp-initiated-logout"}, "registration_endpoint"},
}

// TestModulesFailAgainstBrokenProvider shows every module failing against
// a provider broken in the way it checks, and finally that no module of any
// plan is left that no case makes fail.
func TestModulesFailAgainstBrokenProvider(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range failCases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, styleOrgid, tc.faults...)
			report, out := h.run(t, []Plan{planByName(t, tc.plan)}, tc.fail...)
			got := results(report)
			for i, name := range tc.fail {
				res, ok := got[tc.plan+"/"+name]
				if !ok {
					t.Errorf("%s: not run", name)
					continue
				}
				if res.Status != StatusFail {
					t.Errorf("%s with %v: status %s (%s), want FAIL", name, tc.faults, res.Status, res.Reason)
					continue
				}
				covered[tc.plan+"/"+name] = true
				if i == 0 && !strings.Contains(res.Reason, tc.reason) {
					t.Errorf("%s with %v: reason %q does not mention %q", name, tc.faults, res.Reason, tc.reason)
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
	for _, p := range Plans() {
		for _, m := range p.Modules {
			if !covered[p.Name+"/"+m.Name] {
				t.Errorf("%s/%s is never shown to fail: a module that cannot fail is a defect", p.Name, m.Name)
			}
		}
	}
}

// TestModulesSkipOrWarn covers the outcomes that are not failures: a
// provider that legitimately lacks a feature, or misses a SHOULD.
func TestModulesSkipOrWarn(t *testing.T) {
	tests := []struct {
		name      string
		faults    []fault
		configure func(*Config)
		module    string
		status    Status
		mention   string // in the reason (skip) or a warning (pass)
	}{
		{"request objects refused", []fault{faultRequestObjectRefused}, nil,
			"oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported", StatusSkip, "request_not_supported"},
		{"request_uri refused", []fault{faultRequestObjectRefused}, nil,
			"oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported", StatusSkip, "request_uri_not_supported"},
		{"no refresh tokens", []fault{faultNoRefresh}, nil, "oidcc-refresh-token", StatusSkip, "no refresh token"},
		{"none advertised", []fault{faultAdvertiseNone}, nil, "oidcc-idtoken-unsigned", StatusSkip, "lists none"},
		{"no client_secret_post client", nil, func(c *Config) { c.Clients.SecretPost = Client{} }, "oidcc-server-client-secret-post", StatusSkip, "no client_secret_post client"},
		{"refresh binding unchecked without second client", nil, func(c *Config) { c.Clients.SecretPost = Client{} }, "oidcc-refresh-token", StatusPass, "binding"},
		{"token in body refused", []fault{faultUserinfoBodyRefused}, nil, "oidcc-userinfo-post-body", StatusPass, "optional"},
		{"tokens not revoked on code reuse", []fault{faultCodeReuseNoRevoke}, nil, "oidcc-codereuse-30seconds", StatusPass, "SHOULD be revoked"},
		{"no claims for a scope, none expected", []fault{faultMissingScopeClaims}, func(c *Config) { c.User.Claims = nil }, "oidcc-scope-address", StatusPass, "none of the claims"},
		{"login_hint not prefilled", []fault{faultLoginHintIgnored}, nil, "oidcc-login-hint", StatusPass, "prefilled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, styleOrgid, tc.faults...)
			if tc.configure != nil {
				tc.configure(&h.cfg)
			}
			report, out := h.run(t, []Plan{BasicPlan()}, tc.module)
			res := results(report)["basic/"+tc.module]
			text := res.Reason + strings.Join(res.Warnings, " ")
			if res.Status != tc.status || !strings.Contains(text, tc.mention) {
				t.Errorf("%s: got %s %q warnings %q; want %s mentioning %q\n%s", tc.module, res.Status, res.Reason, res.Warnings, tc.status, tc.mention, out)
			}
		})
	}
}

// TestDynamicModulesSkipOrWarn covers the dynamic plan's outcomes that are
// not failures.
func TestDynamicModulesSkipOrWarn(t *testing.T) {
	tests := []struct {
		name     string
		faults   []fault
		noRotate bool
		module   string
		status   Status
		mention  string
	}{
		{"no pairwise", []fault{faultNoPairwise}, false, "oidcc-registration-sector-uri", StatusSkip, "pairwise"},
		{"no pairwise, bad sector", []fault{faultNoPairwise}, false, "oidcc-registration-sector-bad", StatusSkip, "pairwise"},
		{"no way to rotate", nil, true, "oidcc-server-rotate-keys", StatusSkip, "rotate_keys_command"},
		{"aud=issuer refused", []fault{faultAssertionAudInvalidClient}, false, "oidcc-ensure-client-assertion-with-iss-aud-succeeds", StatusPass, "recommends"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, styleOrgid, tc.faults...)
			if tc.noRotate {
				h.noRotate = true
			}
			report, out := h.run(t, []Plan{DynamicPlan()}, tc.module)
			res := results(report)["dynamic/"+tc.module]
			text := res.Reason + strings.Join(res.Warnings, " ")
			if res.Status != tc.status || !strings.Contains(text, tc.mention) {
				t.Errorf("%s: got %s %q warnings %q; want %s mentioning %q\n%s", tc.module, res.Status, res.Reason, res.Warnings, tc.status, tc.mention, out)
			}
		})
	}
}
