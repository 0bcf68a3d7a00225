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
