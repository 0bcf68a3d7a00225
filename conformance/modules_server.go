package conformance

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// serverModule is the happy code flow of a client: authorization, token
// request, ID token validation, UserInfo (oidcc-server,
// oidcc-server-client-secret-post).
func serverModule(name, description string, pick func(*Env) ClientAuth) Module {
	return module(name, description, func(t *T) {
		client := pick(t.Env)
		if !client.Configured() {
			t.Skipf("no %s client is configured", client.Method)
			return
		}
		if !t.checkAuthMethodAdvertised(client.Method) {
			return
		}
		f, ok := t.codeFlow(t.Env.NewBrowser(), FlowOptions{Client: client})
		if !ok {
			return
		}
		t.checkNoUnrequestedClaims(f)
		t.userInfoClaims(f, UserInfoGet)
	})
}

// checkAuthMethodAdvertised checks token_endpoint_auth_methods_supported
// lists the method (absent means client_secret_basic only, OIDC Discovery 3).
func (t *T) checkAuthMethodAdvertised(method string) bool {
	p, ok := t.provider()
	if !ok {
		return false
	}
	if method == AuthNone {
		return true
	}
	if !Supports(p.Metadata.TokenEndpointAuthMethodsSupported, method, method == AuthSecretBasic) {
		t.Failf("token_endpoint_auth_methods_supported %v does not list %s", p.Metadata.TokenEndpointAuthMethodsSupported, method)
	}
	return !t.Failed()
}

func moduleServer() Module {
	return serverModule("oidcc-server",
		"Code flow with client_secret_basic: the response (state, iss, code), the token response, every ID token check (iss, aud, azp, exp, iat, nonce, signature and kid against the JWKS, at_hash/c_hash when present) and a UserInfo call.",
		(*Env).BasicClient)
}

func moduleServerClientSecretPost() Module {
	return serverModule("oidcc-server-client-secret-post",
		"The same code flow with the client_secret_post client.",
		(*Env).PostClient)
}

func moduleResponseTypeMissing() Module {
	return module("oidcc-response-type-missing",
		"An authorization request without response_type must be refused: an invalid_request or unsupported_response_type error to the redirect URI, or an error page (RFC 6749 3.1.1).",
		func(t *T) {
			f := t.authorize(t.Env.NewBrowser(), FlowOptions{Customize: func(ar *AuthRequest) { ar.Params.Del("response_type") }})
			if f == nil {
				return
			}
			if f.Outcome.Stop != nil {
				t.expectErrorPage(f.Outcome.Stop, "without response_type")
				return
			}
			params := t.responseParams(f.Req, f.Outcome)
			if params == nil {
				return
			}
			t.checkErrorResponse(f.Req, params, "invalid_request", "unsupported_response_type")
		})
}

func moduleIDTokenSignature() Module {
	return module("oidcc-idtoken-signature",
		"The ID token carries a kid naming a key of the JWKS and verifies with it; without a registered alg the default is RS256 (a warning otherwise, since static clients may have registered another).",
		func(t *T) {
			f, ok := t.codeFlow(t.Env.NewBrowser(), FlowOptions{})
			if !ok || f.IDToken == nil {
				return
			}
			if f.IDToken.Kid == "" {
				t.Failf("the ID token header has no kid (OIDC Core 10.1; required by the OpenID Foundation suite)")
			}
			if f.IDToken.Alg != "RS256" {
				t.Warnf("the ID token is signed with %s; RS256 is the default when the client registered none", f.IDToken.Alg)
			}
		})
}

func moduleIDTokenUnsigned() Module {
	return module("oidcc-idtoken-unsigned",
		"The provider never hands an unsigned (alg none) ID token to a client that did not register for one. Skipped when discovery advertises none: testing that needs a client registered with id_token_signed_response_alg=none.",
		func(t *T) {
			p, ok := t.provider()
			if !ok {
				return
			}
			f, ok := t.codeFlow(t.Env.NewBrowser(), FlowOptions{})
			if !ok || f.IDToken == nil {
				return
			}
			if slices.Contains(p.Metadata.IDTokenSigningAlgValuesSupported, "none") {
				t.Skipf("id_token_signing_alg_values_supported lists none; unsigned ID tokens need a client registered for them (dynamic registration)")
			}
		})
}

func moduleNoNonce() Module {
	return module("oidcc-ensure-request-without-nonce-succeeds-for-code-flow",
		"A code-flow request without nonce succeeds (nonce is optional for the code flow), and the ID token then carries no nonce.",
		func(t *T) {
			f, ok := t.codeFlow(t.Env.NewBrowser(), FlowOptions{Customize: (*AuthRequest).DropNonce})
			if ok {
				t.userInfoClaims(f, UserInfoGet)
			}
		})
}

func modulePostRequest() Module {
	return module("oidcc-ensure-post-request-succeeds",
		"The authorization request sent as a form POST to the authorization endpoint succeeds (OIDC Core 3.1.2.1: GET and POST must be supported).",
		func(t *T) {
			f, ok := t.codeFlow(t.Env.NewBrowser(), FlowOptions{Customize: func(ar *AuthRequest) { ar.Method = http.MethodPost }})
			if ok {
				t.userInfoClaims(f, UserInfoGet)
			}
		})
}

func modulePKCE() Module {
	return module("oidcc-ensure-request-with-valid-pkce-succeeds",
		"A request with a valid S256 PKCE challenge succeeds (RFC 6749 3.1: unknown parameters are ignored, so this must work even without PKCE support). Beyond the OpenID Foundation module: when S256 is advertised a wrong code_verifier must be refused, and the public client, when configured, completes the flow with PKCE and no secret.",
		func(t *T) {
			p, ok := t.provider()
			if !ok {
				return
			}
			b := t.Env.NewBrowser()
			f, ok := t.codeFlow(b, FlowOptions{Customize: (*AuthRequest).AddPKCE})
			if !ok {
				return
			}
			t.userInfoClaims(f, UserInfoGet)
			if Supports(p.Metadata.CodeChallengeMethodsSupported, "S256", false) {
				g := t.authorize(b, FlowOptions{Customize: (*AuthRequest).AddPKCE})
				if !t.expectCode(g) {
					return
				}
				form := url.Values{"grant_type": {"authorization_code"}, "code": {g.Code},
					"redirect_uri": {g.Req.RedirectURI}, "code_verifier": {randomValue(48)}}
				tr, err := t.Env.TokenRequest(t.Ctx, g.Req.Client, form)
				if err != nil {
					t.Failf("%v", err)
					return
				}
				t.checkTokenError(tr, "token request with a wrong code_verifier (RFC 7636 4.6)", "invalid_grant")
			}
			if pub := t.Env.PublicClient(); pub.Configured() {
				pf, ok := t.codeFlow(b, FlowOptions{Client: pub, Customize: (*AuthRequest).AddPKCE})
				if ok {
					t.userInfoClaims(pf, UserInfoGet)
				}
			}
		})
}

// errorPageWords are what an error page says in one form or another.
var errorPageWords = []string{"error", "invalid", "not registered", "unregistered", "not allowed", "redirect_uri", "response_type", "unsupported", "bad request"}

// expectErrorPage passes when the provider showed an error page instead of
// redirecting: an HTTP error status, or a page that says it is an error.
func (t *T) expectErrorPage(stop *Stop, when string) {
	if stop.LoginPage {
		t.Failf("%s: the browser could not get past the login page: %s", when, stop.Describe())
		return
	}
	if stop.Status >= 400 && stop.Status < 600 {
		return
	}
	text := strings.ToLower(stop.Title + " " + stop.Text)
	for _, w := range errorPageWords {
		if strings.Contains(text, w) {
			return
		}
	}
	t.Failf("%s: want an error response or an error page; the browser stopped at %s", when, stop.Describe())
}
