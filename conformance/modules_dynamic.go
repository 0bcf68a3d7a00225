package conformance

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Modules of the dynamic plan about registration, redirect URIs and
// signed responses. Each registers the client it needs, like the plan's
// main client (same authentication, same keys) with its own changes.

// moduleClient registers a fresh client like the plan's main client, with
// change applied to its metadata.
func (t *T) moduleClient(name string, change func(m map[string]any)) (ClientAuth, bool) {
	main := t.Env.BasicClient()
	method := main.Method
	if method == "" {
		method = AuthSecretBasic
	}
	m := t.Env.ClientMetadata(name, method)
	m["grant_types"] = []string{"authorization_code", "refresh_token"}
	m["scope"] = "openid profile email address phone offline_access"
	if method == AuthPrivateKey && main.Keys != nil {
		m["jwks"] = main.Keys.PublicSet()
	}
	if change != nil {
		change(m)
	}
	return t.registerClient(m, main.Keys)
}

func moduleIDTokenRS256() Module {
	return module("oidcc-idtoken-rs256",
		"A client registered with id_token_signed_response_alg=RS256 gets RS256 ID tokens with a kid, verified against the JWKS.",
		func(t *T) {
			c, ok := t.moduleClient("idtoken-rs256", func(m map[string]any) { m["id_token_signed_response_alg"] = "RS256" })
			if !ok {
				return
			}
			f, ok := t.codeFlow(t.Env.NewBrowser(), FlowOptions{Client: c})
			if !ok || f.IDToken == nil {
				return
			}
			if f.IDToken.Alg != "RS256" {
				t.Failf("the ID token is signed with %s; the client registered RS256 (OIDC Core 3.1.3.7)", f.IDToken.Alg)
			}
			if f.IDToken.Kid == "" {
				t.Failf("the ID token header has no kid (OIDC Core 10.1)")
			}
		})
}

func moduleIDTokenUnsignedDynamic() Module {
	return module("oidcc-idtoken-unsigned",
		"A client registering id_token_signed_response_alg=none: when discovery lists none, its code-flow ID tokens are unsigned (alg none, empty signature) and otherwise valid; when it does not, the registration must be refused (stricter than the OpenID Foundation module, which skips).",
		func(t *T) {
			p, ok := t.provider()
			if !ok {
				return
			}
			change := func(m map[string]any) { m["id_token_signed_response_alg"] = "none" }
			if !slices.Contains(p.Metadata.IDTokenSigningAlgValuesSupported, "none") {
				main := t.Env.BasicClient()
				m := t.Env.ClientMetadata("idtoken-none", main.Method)
				if main.Keys != nil {
					m["jwks"] = main.Keys.PublicSet()
				}
				change(m)
				t.expectRegistrationError(m, "asking for unsigned ID tokens, which discovery does not offer", "invalid_client_metadata")
				return
			}
			c, ok := t.moduleClient("idtoken-none", change)
			if !ok {
				return
			}
			f := t.authorize(t.Env.NewBrowser(), FlowOptions{Client: c})
			if !t.expectCode(f) {
				return
			}
			form := url.Values{"grant_type": {"authorization_code"}, "code": {f.Code}, "redirect_uri": {f.Req.RedirectURI}}
			tr, err := t.Env.TokenRequest(t.Ctx, c, form)
			if err != nil {
				t.Failf("%v", err)
				return
			}
			if !t.checkTokenSuccess(tr, "token request") {
				return
			}
			tok, err := parseIDToken(tr.IDToken)
			if err != nil {
				t.Failf("ID token: %v", err)
				return
			}
			if tok.Alg != "none" || !strings.HasSuffix(tok.Raw, ".") {
				t.Failf("the ID token's alg is %q; the client registered none", tok.Alg)
			}
			t.checkIDTokenClaims(tok, IDTokenWant{Client: c, Nonce: f.Req.Nonce, AccessToken: tr.AccessToken, Code: f.Code},
				func(format string, args ...any) { t.Failf("ID token: "+format, args...) })
		})
}

func moduleUserInfoRS256() Module {
	return module("oidcc-userinfo-rs256",
		"A client registered with userinfo_signed_response_alg=RS256 gets UserInfo as an RS256-signed JWT (application/jwt) that verifies against the JWKS, with the ID token's sub, the issuer as iss, the client in aud and no nonce; discovery lists RS256 in userinfo_signing_alg_values_supported.",
		func(t *T) {
			p, ok := t.provider()
			if !ok {
				return
			}
			if !slices.Contains(p.Metadata.UserinfoSigningAlgValuesSupported, "RS256") {
				t.Failf("userinfo_signing_alg_values_supported %v does not list RS256 (OIDC Discovery 3)", p.Metadata.UserinfoSigningAlgValuesSupported)
			}
			c, ok := t.moduleClient("userinfo-rs256", func(m map[string]any) { m["userinfo_signed_response_alg"] = "RS256" })
			if !ok {
				return
			}
			f, ok := t.codeFlow(t.Env.NewBrowser(), FlowOptions{Client: c, Scope: "openid email"})
			if !ok {
				return
			}
			resp, err := t.Env.UserInfo(t.Ctx, f.Tokens.AccessToken, UserInfoGet)
			if err != nil {
				t.Failf("userinfo: %v", err)
				return
			}
			t.checkSignedUserInfo(f, c, resp, "RS256")
		})
}

// checkSignedUserInfo checks a signed UserInfo response (OIDC Core 5.3.2).
func (t *T) checkSignedUserInfo(f *Flow, c ClientAuth, resp *Fetched, alg string) {
	if resp.Status != http.StatusOK {
		t.Failf("userinfo: HTTP %d, want 200 (%s)", resp.Status, excerpt(resp.Body))
		return
	}
	if mt, _, _ := mime.ParseMediaType(resp.ContentType); mt != "application/jwt" {
		t.Failf("userinfo: Content-Type %q, want application/jwt for a client that registered userinfo_signed_response_alg (OIDC Core 5.3.2)", resp.ContentType)
		return
	}
	fail := func(format string, args ...any) { t.Failf("signed userinfo: "+format, args...) }
	tok, err := parseIDToken(strings.TrimSpace(string(resp.Body)))
	if err != nil {
		fail("%v", err)
		return
	}
	if tok.Alg != alg {
		fail("alg is %s, the client registered %s", tok.Alg, alg)
	}
	t.verifySignature(tok, c, fail)
	if f.IDToken != nil && tok.Str("sub") != f.IDToken.Str("sub") {
		fail("sub differs from the ID token's sub (OIDC Core 5.3.2)")
	}
	if iss, present := tok.Claims["iss"]; !present {
		t.Warnf("signed userinfo: no iss (OIDC Core 5.3.2 says it SHOULD be there)")
	} else if iss != t.Env.Provider.Metadata.Issuer {
		fail("iss %v is not the issuer", iss)
	}
	if _, present := tok.Claims["aud"]; !present {
		t.Warnf("signed userinfo: no aud (OIDC Core 5.3.2 says it SHOULD be there)")
	} else if !slices.Contains(audienceOf(tok.Claims), c.ClientID) {
		fail("aud %v does not contain the client id", tok.Claims["aud"])
	}
	if _, present := tok.Claims["nonce"]; present {
		fail("it carries a nonce, which belongs in ID tokens only")
	}
	for _, p := range claimTypeProblems(tok.Claims) {
		fail("%s", p)
	}
}

// audienceOf returns aud as a list.
func audienceOf(claims map[string]any) []string {
	if s, ok := claims["aud"].(string); ok {
		return []string{s}
	}
	return strList(claims["aud"])
}

// expectNoRedirect checks a flow that must end on an error page, never at
// the client.
func (t *T) expectNoRedirect(f *Flow, when string) {
	if f == nil {
		return
	}
	if cb := f.Outcome.Callback; cb != nil {
		t.Failf("%s: the provider redirected to %s; it must show an error page instead (OIDC Core 3.1.2.1)", when, stripQuery(cb.URL))
		return
	}
	t.expectErrorPage(f.Outcome.Stop, when)
}

func moduleRedirectURIMissing() Module {
	return module("oidcc-ensure-redirect-uri-in-authorization-request",
		"A client with two registered redirect URIs sends a request without redirect_uri: the provider must show an error page, not pick one (OIDC Core 3.1.2.1).",
		func(t *T) {
			second := t.Env.Listener.URL("/callback-second")
			c, ok := t.moduleClient("two-redirects", func(m map[string]any) {
				m["redirect_uris"] = []string{t.Env.Listener.RedirectURI(), second}
			})
			if !ok {
				return
			}
			f := t.authorize(t.Env.NewBrowser(), FlowOptions{Client: c, Customize: func(ar *AuthRequest) { ar.Params.Del("redirect_uri") }})
			t.expectNoRedirect(f, "without redirect_uri")
		})
}

// withQuery returns the redirect URI with a query added.
func withQuery(uri, query string) string {
	if strings.Contains(uri, "?") {
		return uri + "&" + query
	}
	return uri + "?" + query
}

func moduleRedirectURIQueryOK() Module {
	return module("oidcc-redirect-uri-query-OK",
		"A redirect URI registered with a query component and requested exactly so: the flow completes, and the response keeps the query.",
		func(t *T) {
			redirect := withQuery(t.Env.Listener.RedirectURI(), "foo=bar")
			c, ok := t.moduleClient("redirect-query", func(m map[string]any) { m["redirect_uris"] = []string{redirect} })
			if !ok {
				return
			}
			t.codeFlow(t.Env.NewBrowser(), FlowOptions{Client: c, Customize: func(ar *AuthRequest) {
				ar.RedirectURI = redirect
				ar.Params.Set("redirect_uri", redirect)
			}})
		})
}

func moduleRedirectURIQueryMismatch() Module {
	return module("oidcc-redirect-uri-query-mismatch",
		"A redirect URI registered with ?foo=bar, requested with ?foo=baz: the provider must show an error page (exact matching, OIDC Core 3.1.2.1).",
		func(t *T) {
			registered := withQuery(t.Env.Listener.RedirectURI(), "foo=bar")
			c, ok := t.moduleClient("redirect-query-mismatch", func(m map[string]any) { m["redirect_uris"] = []string{registered} })
			if !ok {
				return
			}
			requested := withQuery(t.Env.Listener.RedirectURI(), "foo=baz")
			f := t.authorize(t.Env.NewBrowser(), FlowOptions{Client: c, Customize: func(ar *AuthRequest) {
				ar.RedirectURI = requested
				ar.Params.Set("redirect_uri", requested)
			}})
			t.expectNoRedirect(f, "with a redirect_uri whose query differs from the registered one")
		})
}

func moduleRedirectURIQueryAdded() Module {
	return module("oidcc-redirect-uri-query-added",
		"The main client's redirect URI (registered without a query) requested with ?foo=bar added: the provider must show an error page.",
		func(t *T) {
			requested := withQuery(t.Env.Listener.RedirectURI(), "foo=bar")
			f := t.authorize(t.Env.NewBrowser(), FlowOptions{Customize: func(ar *AuthRequest) {
				ar.RedirectURI = requested
				ar.Params.Set("redirect_uri", requested)
			}})
			t.expectNoRedirect(f, "with a query added to the registered redirect_uri")
		})
}

func moduleRedirectURIRegFrag() Module {
	return module("oidcc-redirect-uri-regfrag",
		"Registering a redirect URI with a fragment is refused: HTTP 400 with a JSON error, invalid_redirect_uri or invalid_client_metadata (RFC 6749 3.1.2, RFC 7591 3.2.2).",
		func(t *T) {
			main := t.Env.BasicClient()
			m := t.Env.ClientMetadata("redirect-fragment", main.Method)
			if main.Keys != nil {
				m["jwks"] = main.Keys.PublicSet()
			}
			m["redirect_uris"] = []string{t.Env.Listener.RedirectURI() + "#fragment"}
			t.expectRegistrationError(m, "with a redirect URI with a fragment", "invalid_redirect_uri", "invalid_client_metadata")
		})
}

// registrationURIModule registers a client with a URL shown to users
// (logo_uri, policy_uri, tos_uri), checks the registration echoes it and
// that the client completes a flow (the provider may show it).
func registrationURIModule(name, field, path string) Module {
	return module(name,
		"A client registering "+field+" is registered with it (the response returns it, RFC 7591 3.2.1) and completes a code flow; the OpenID Foundation asks for a screenshot of the page showing it.",
		func(t *T) {
			value, remove := t.Env.Listener.Serve(path+"-"+randomValue(6), "text/plain", []byte("orgid conformance"))
			defer remove()
			c, ok := t.moduleClient(field, func(m map[string]any) { m[field] = value })
			if !ok {
				return
			}
			switch got, present := c.Registration.Response[field]; {
			case !present:
				t.Failf("the registration response does not return %s (RFC 7591 3.2.1: all registered metadata)", field)
			case got != value:
				t.Failf("the registration response returns %s %v, the client registered %q", field, got, value)
			}
			t.codeFlow(t.Env.NewBrowser(), FlowOptions{Client: c})
		})
}

func moduleRegistrationJWKSURI() Module {
	return module("oidcc-registration-jwks-uri",
		"A private_key_jwt client registering a jwks_uri (served by the runner) instead of jwks: registration succeeds and the client authenticates with a key from that URI.",
		func(t *T) {
			keys, err := NewClientKeys()
			if err != nil {
				t.Failf("%v", err)
				return
			}
			path := "/jwks/" + randomValue(8)
			remove := t.Env.Listener.Handle(path, keys)
			defer remove()
			m := t.Env.ClientMetadata("jwks-uri", AuthPrivateKey)
			m["jwks_uri"] = t.Env.Listener.URL(path)
			c, ok := t.registerClient(m, keys)
			if !ok {
				return
			}
			t.codeFlow(t.Env.NewBrowser(), FlowOptions{Client: c})
		})
}

// sectorDocument serves a sector_identifier_uri document listing uris.
func (t *T) sectorDocument(uris []string) (string, func()) {
	b, _ := json.Marshal(uris) // strings always marshal
	return t.Env.Listener.Serve("/sector/"+randomValue(8)+".json", "application/json", b)
}

// skipWithoutPairwise skips when discovery does not offer pairwise subjects.
func (t *T) skipWithoutPairwise() bool {
	p, ok := t.provider()
	if !ok {
		return true
	}
	if !slices.Contains(p.Metadata.SubjectTypesSupported, "pairwise") {
		t.Skipf("subject_types_supported %v does not list pairwise", p.Metadata.SubjectTypesSupported)
		return true
	}
	return false
}

func moduleRegistrationSectorURI() Module {
	return module("oidcc-registration-sector-uri",
		"A pairwise client registering a sector_identifier_uri that lists its redirect URI is registered; beyond the OpenID Foundation module, its sub is stable across sign-ins and differs from the sub the public main client sees. Skipped without pairwise support.",
		func(t *T) {
			if t.skipWithoutPairwise() {
				return
			}
			sector, remove := t.sectorDocument([]string{t.Env.Listener.RedirectURI()})
			defer remove()
			c, ok := t.moduleClient("pairwise", func(m map[string]any) {
				m["subject_type"] = "pairwise"
				m["sector_identifier_uri"] = sector
			})
			if !ok {
				return
			}
			if st := c.Registration.Response["subject_type"]; st != nil && st != "pairwise" {
				t.Failf("the client registered subject_type pairwise, the response says %v", st)
				return
			}
			b := t.Env.NewBrowser()
			first, ok := t.codeFlow(b, FlowOptions{Client: c})
			if !ok {
				return
			}
			second, ok := t.codeFlow(b, FlowOptions{Client: c})
			if !ok {
				return
			}
			sub := first.IDToken.Str("sub")
			if second.IDToken.Str("sub") != sub {
				t.Failf("the pairwise sub changed between two sign-ins of the same user and client")
			}
			t.userInfoClaims(second, UserInfoGet)
			main := t.Env.BasicClient()
			if st := strOf(regResponse(main), "subject_type"); st == "pairwise" {
				return
			}
			public, ok := t.codeFlow(b, FlowOptions{Client: main})
			if ok && public.IDToken.Str("sub") == sub {
				t.Failf("the pairwise client sees the same sub as the public client: pairwise subjects must differ (OIDC Core 8.1)")
			}
		})
}

// regResponse is a registered client's registration response (nil for a
// static client).
func regResponse(c ClientAuth) map[string]any {
	if c.Registration == nil {
		return nil
	}
	return c.Registration.Response
}

func moduleRegistrationSectorBad() Module {
	return module("oidcc-registration-sector-bad",
		"A pairwise client registering a sector_identifier_uri whose document does not list its redirect URI is refused: HTTP 400, invalid_client_metadata (OIDC Registration 5). Skipped without pairwise support.",
		func(t *T) {
			if t.skipWithoutPairwise() {
				return
			}
			sector, remove := t.sectorDocument([]string{"https://elsewhere.example.com/callback"})
			defer remove()
			main := t.Env.BasicClient()
			m := t.Env.ClientMetadata("pairwise-bad-sector", main.Method)
			if main.Keys != nil {
				m["jwks"] = main.Keys.PublicSet()
			}
			m["subject_type"] = "pairwise"
			m["sector_identifier_uri"] = sector
			t.expectRegistrationError(m, "with a sector_identifier_uri that does not list the redirect URI", "invalid_client_metadata")
		})
}
