package conformance

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Modules of the dynamic plan about keys: the provider's key rotation, the
// client's, client assertions, request objects by reference.

// commandRotation runs the configured rotation command with sh -c.
func commandRotation(command string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		cmd := exec.CommandContext(ctx, "sh", "-c", command)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("rotate_keys_command: %w: %s", err, excerpt(out.Bytes()))
		}
		return nil
	}
}

// signingKids returns the kids of the signing keys of a JWKS.
func signingKids(set jose.JSONWebKeySet) []string {
	var out []string
	for _, k := range set.Keys {
		if k.Use == "" || k.Use == "sig" {
			out = append(out, k.KeyID)
		}
	}
	return out
}

func moduleServerRotateKeys() Module {
	return module("oidcc-server-rotate-keys",
		"The provider rotates its signing keys (rotate_keys_command): the JWKS gains a new signing key and keeps the one that signed a token issued before the rotation; that token still verifies and its access token still works; a token issued after verifies too, with a key the JWKS already published. Skipped without rotate_keys_command.",
		func(t *T) {
			p, ok := t.provider()
			if !ok {
				return
			}
			if t.Env.RotateKeys == nil {
				t.Skipf("no rotate_keys_command is configured: the runner cannot make the provider rotate its keys")
				return
			}
			b := t.Env.NewBrowser()
			before, ok := t.codeFlow(b, FlowOptions{})
			if !ok {
				return
			}
			old, err := p.fetchJWKS(t.Ctx)
			if err != nil {
				t.Failf("JWKS before the rotation: %v", err)
				return
			}
			oldKids := signingKids(old)
			if err := t.Env.RotateKeys(t.Ctx); err != nil {
				t.Failf("%v", err)
				return
			}
			deadline := t.Env.Now().Add(time.Duration(t.Env.Config.KeyRotationWait))
			var fresh jose.JSONWebKeySet
			for {
				if fresh, err = p.fetchJWKS(t.Ctx); err != nil {
					t.Failf("JWKS after the rotation: %v", err)
					return
				}
				if slices.ContainsFunc(signingKids(fresh), func(k string) bool { return !slices.Contains(oldKids, k) }) {
					break
				}
				if !t.Env.Now().Before(deadline) {
					t.Failf("the JWKS has no new signing key %s after the rotation (OIDC Core 10.1.1)", time.Duration(t.Env.Config.KeyRotationWait))
					return
				}
				if !t.wait(time.Second) {
					return
				}
			}
			newKids := signingKids(fresh)
			if !slices.Contains(newKids, before.IDToken.Kid) {
				t.Failf("the key %q that signed an ID token before the rotation left the JWKS: tokens in flight no longer verify", before.IDToken.Kid)
			}
			for _, k := range oldKids {
				if !slices.Contains(newKids, k) && k != before.IDToken.Kid {
					t.Warnf("key %q left the JWKS at the rotation; keep old keys published while their tokens may be in use", k)
				}
			}
			// The token issued before verifies against the JWKS as it is now.
			tok, err := parseIDToken(before.Tokens.IDToken)
			if err == nil {
				t.verifySignature(tok, before.Req.Client, func(format string, args ...any) {
					t.Failf("the ID token issued before the rotation: "+format, args...)
				})
			}
			if resp, err := t.Env.UserInfo(t.Ctx, before.Tokens.AccessToken, UserInfoGet); err != nil {
				t.Failf("userinfo after the rotation: %v", err)
			} else if resp.Status != http.StatusOK {
				t.Failf("the access token issued before the rotation is refused afterwards (HTTP %d)", resp.Status)
			}
			after, ok := t.codeFlow(b, FlowOptions{})
			if !ok {
				return
			}
			if !slices.Contains(newKids, after.IDToken.Kid) {
				t.Warnf("the ID token issued after the rotation is signed with key %q, which the JWKS did not publish yet: relying parties with a cached JWKS must fetch it again", after.IDToken.Kid)
			}
		})
}

func moduleRefreshTokenRPKeyRotation() Module {
	return module("oidcc-refresh-token-rp-key-rotation",
		"A private_key_jwt client with a jwks_uri gets a refresh token, then rotates its key (a new kid at the same jwks_uri) and waits jwks_refresh_delay: the refresh, authenticated with the new key, must succeed.",
		func(t *T) {
			p, ok := t.provider()
			if !ok {
				return
			}
			keys, err := NewClientKeys()
			if err != nil {
				t.Failf("%v", err)
				return
			}
			path := "/jwks/" + randomValue(8)
			remove := t.Env.Listener.Handle(path, keys)
			defer remove()
			m := t.Env.ClientMetadata("rp-key-rotation", AuthPrivateKey)
			m["jwks_uri"] = t.Env.Listener.URL(path)
			m["grant_types"] = []string{"authorization_code", "refresh_token"}
			m["scope"] = "openid offline_access"
			c, ok := t.registerClient(m, keys)
			if !ok {
				return
			}
			scope, extra := "openid", Params(nil)
			if Supports(p.Metadata.ScopesSupported, "offline_access", false) {
				scope, extra = "openid offline_access", Params{{"prompt", "consent"}}
			}
			f, ok := t.codeFlow(t.Env.NewBrowser(), FlowOptions{Client: c, Scope: scope, Extra: extra})
			if !ok {
				return
			}
			if f.Tokens.RefreshToken == "" {
				t.Failf("no refresh token was issued to a client registered for the refresh_token grant with offline_access (required by the dynamic profile)")
				return
			}
			if err := keys.Rotate(); err != nil {
				t.Failf("%v", err)
				return
			}
			if !t.wait(time.Duration(t.Env.Config.JWKSRefreshDelay)) {
				return
			}
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {f.Tokens.RefreshToken}}
			tr, err := t.Env.TokenRequest(t.Ctx, c, form)
			if err != nil {
				t.Failf("%v", err)
				return
			}
			if !t.checkTokenSuccess(tr, "refresh with an assertion signed by the rotated key") {
				return
			}
			if tr.IDToken != "" {
				t.verifyIDToken(tr.IDToken, "refreshed", IDTokenWant{Client: c, AccessToken: tr.AccessToken, IgnoreNonce: true})
			}
			t.userInfoClaims(&Flow{Req: f.Req, Tokens: tr, IDToken: f.IDToken}, UserInfoGet)
		})
}

// exchangeWith redeems a flow's code with a given client assertion.
func (t *T) exchangeWith(f *Flow, assertion string) (*TokenResponse, bool) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {f.Code}, "redirect_uri": {f.Req.RedirectURI}}
	setAssertion(form, f.Req.Client.ClientID, assertion)
	tr, err := t.Env.postToken(t.Ctx, form, "")
	if err != nil {
		t.Failf("%v", err)
		return nil, false
	}
	return tr, true
}

// assertionClient returns the plan's main client when it authenticates
// with a JWT, skipping otherwise.
func (t *T) assertionClient() (ClientAuth, bool) {
	c := t.Env.BasicClient()
	if c.Method != AuthPrivateKey && c.Method != AuthSecretJWT {
		t.Skipf("the main client authenticates with %s, not a client assertion", c.Method)
		return c, false
	}
	return c, true
}

func moduleClientAssertionIssAud() Module {
	return module("oidcc-ensure-client-assertion-with-iss-aud-succeeds",
		"A client assertion whose aud is the issuer rather than the token endpoint should be accepted (RFC 7523 3, OIDC Core 9); an invalid_client refusal is a warning, anything else fails.",
		func(t *T) {
			c, ok := t.assertionClient()
			if !ok {
				return
			}
			f := t.authorize(t.Env.NewBrowser(), FlowOptions{Client: c})
			if !t.expectCode(f) {
				return
			}
			assertion, err := clientAssertion(c, assertionClaims(c.ClientID, t.Env.Provider.Metadata.Issuer, t.Env.Now()))
			if err != nil {
				t.Failf("%v", err)
				return
			}
			tr, ok := t.exchangeWith(f, assertion)
			if !ok {
				return
			}
			if tr.Status >= 200 && tr.Status < 300 {
				t.checkTokenSuccess(tr, "token request with aud = issuer")
				return
			}
			if t.checkTokenError(tr, "token request with aud = issuer", "invalid_client") {
				t.Warnf("the provider refused a client assertion with the issuer as aud; RFC 7523 3 recommends accepting it")
			}
		})
}

func moduleClientAssertionReplay() Module {
	return module("oidcc-client-assertion-replay",
		"A client assertion used once is refused when sent again (its jti: OIDC Core 9, RFC 7523 3) with invalid_client, while a fresh one works. Not in the OpenID Foundation plan.",
		func(t *T) {
			c, ok := t.assertionClient()
			if !ok {
				return
			}
			b := t.Env.NewBrowser()
			first := t.authorize(b, FlowOptions{Client: c})
			if !t.expectCode(first) {
				return
			}
			assertion, err := clientAssertion(c, assertionClaims(c.ClientID, t.Env.Provider.Metadata.TokenEndpoint, t.Env.Now()))
			if err != nil {
				t.Failf("%v", err)
				return
			}
			tr, ok := t.exchangeWith(first, assertion)
			if !ok || !t.checkTokenSuccess(tr, "first use of the assertion") {
				return
			}
			second := t.authorize(b, FlowOptions{Client: c})
			if !t.expectCode(second) {
				return
			}
			tr, ok = t.exchangeWith(second, assertion)
			if !ok {
				return
			}
			if tr.Status >= 200 && tr.Status < 300 {
				t.Failf("the same client assertion (same jti) was accepted twice")
				return
			}
			t.checkTokenError(tr, "second use of the assertion", "invalid_client")
		})
}

func moduleClientSecretJWT() Module {
	return module("oidcc-client-secret-jwt",
		"A client registered with token_endpoint_auth_method=client_secret_jwt authenticates with an HS256 assertion keyed by its secret and completes a code flow. Skipped when not advertised. Not in the OpenID Foundation plan.",
		func(t *T) {
			p, ok := t.provider()
			if !ok {
				return
			}
			if !slices.Contains(p.Metadata.TokenEndpointAuthMethodsSupported, AuthSecretJWT) {
				t.Skipf("token_endpoint_auth_methods_supported does not list client_secret_jwt")
				return
			}
			m := t.Env.ClientMetadata("client-secret-jwt", AuthSecretJWT)
			m["token_endpoint_auth_signing_alg"] = "HS256"
			c, ok := t.registerClient(m, nil)
			if !ok {
				return
			}
			t.codeFlow(t.Env.NewBrowser(), FlowOptions{Client: c})
		})
}

func moduleRegistrationManagement() Module {
	return module("oidcc-registration-management",
		"RFC 7592: a registered client's configuration is read with its registration access token (not without, nor with another token), updated (the change is returned and kept) and deleted (the client then no longer authenticates). Skipped when registration returns no registration_client_uri. Not in the OpenID Foundation plan.",
		func(t *T) {
			c, ok := t.moduleClient("management", nil)
			if !ok {
				return
			}
			reg := c.Registration
			if reg == nil || reg.URI == "" {
				t.Skipf("the registration response has no registration_client_uri (RFC 7592 is optional)")
				return
			}
			get := func(token string) *RegistrationResult {
				res, err := t.Env.ManageRegistration(t.Ctx, http.MethodGet, reg.URI, token, nil)
				if err != nil {
					t.Failf("%v", err)
					return nil
				}
				return res
			}
			res := get(reg.Token)
			if res == nil {
				return
			}
			if res.Status != http.StatusOK || strOf(res.JSON, "client_id") != c.ClientID {
				t.Failf("read with the registration access token: HTTP %d, client_id %q (RFC 7592 2.1)", res.Status, strOf(res.JSON, "client_id"))
				return
			}
			for _, token := range []string{"", reg.Token + "x"} {
				if res := get(token); res != nil && res.Status != http.StatusUnauthorized {
					t.Failf("read with a missing or wrong registration access token: HTTP %d, want 401 (RFC 7592 2)", res.Status)
				}
			}
			update := map[string]any{}
			for k, v := range reg.Response {
				switch k {
				case "registration_access_token", "registration_client_uri", "client_secret_expires_at", "client_id_issued_at":
				default:
					update[k] = v
				}
			}
			update["client_name"] = "orgid conformance updated"
			res, err := t.Env.ManageRegistration(t.Ctx, http.MethodPut, reg.URI, reg.Token, update)
			if err != nil {
				t.Failf("%v", err)
				return
			}
			if res.Status != http.StatusOK || strOf(res.JSON, "client_name") != "orgid conformance updated" {
				t.Failf("update: HTTP %d (%s), client_name %q (RFC 7592 2.2)", res.Status, res.Error, strOf(res.JSON, "client_name"))
				return
			}
			if res := get(reg.Token); res != nil && strOf(res.JSON, "client_name") != "orgid conformance updated" {
				t.Failf("the update was not kept: client_name reads %q", strOf(res.JSON, "client_name"))
			}
			res, err = t.Env.ManageRegistration(t.Ctx, http.MethodDelete, reg.URI, reg.Token, nil)
			if err != nil {
				t.Failf("%v", err)
				return
			}
			if res.Status != http.StatusNoContent {
				t.Failf("delete: HTTP %d, want 204 (RFC 7592 2.3)", res.Status)
				return
			}
			if res := get(reg.Token); res != nil && res.Status != http.StatusUnauthorized {
				t.Failf("read after delete: HTTP %d, want 401 (RFC 7592 2.3)", res.Status)
			}
			tr, err := t.Env.TokenRequest(t.Ctx, c, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {t.Env.Listener.RedirectURI()}})
			if err != nil {
				t.Failf("%v", err)
				return
			}
			t.checkTokenError(tr, "token request of the deleted client", "invalid_client")
		})
}

// requestURIModule sends every parameter in a request object served by
// the runner and passed as request_uri; sign names the algorithm (or "")
// the client registered and signs with.
func requestURIModule(name, description, alg string) Module {
	return module(name, description, func(t *T) {
		p, ok := t.provider()
		if !ok {
			return
		}
		if s := p.Metadata.RequestURIParameterSupported; s != nil && !*s {
			t.Failf("request_uri_parameter_supported is false; the dynamic profile requires request_uri (OIDC Core 15.2)")
			return
		}
		if alg == "" && t.skipWithoutUnsignedRequestObjects() {
			return
		}
		if alg != "" && !slices.Contains(p.Metadata.RequestObjectSigningAlgValuesSupported, alg) {
			t.Failf("request_object_signing_alg_values_supported %v does not list %s", p.Metadata.RequestObjectSigningAlgValuesSupported, alg)
			return
		}
		path := "/request-objects/" + randomValue(10)
		// OIDC Core 6.2: a fragment pins the content; it is registered too.
		requestURI := t.Env.Listener.URL(path) + "#" + randomValue(6)
		c, ok := t.moduleClient("request-uri", func(m map[string]any) {
			m["request_uris"] = []string{requestURI}
			if alg != "" {
				m["request_object_signing_alg"] = alg
			}
		})
		if !ok {
			return
		}
		ar := t.Env.NewAuthRequest(c, "openid")
		claims := splitRequestObject(ar)
		var jwt string
		if alg == "" {
			jwt = unsignedJWT(claims)
		} else {
			if c.Keys == nil {
				t.Failf("the main client has no key to sign request objects with")
				return
			}
			claims["iss"], claims["aud"] = c.ClientID, p.Metadata.Issuer
			k := c.Keys.Signing()
			var err error
			if jwt, err = signJWT(k.Key, alg, k.KeyID, claims, "oauth-authz-req+jwt"); err != nil {
				t.Failf("%v", err)
				return
			}
		}
		_, remove := t.Env.Listener.Serve(path, "application/oauth-authz-req+jwt", []byte(jwt))
		defer remove()
		ar.Params.Set("request_uri", requestURI)
		f := t.send(t.Env.NewBrowser(), ar, Navigation{})
		if !t.expectCode(f) {
			return
		}
		if t.exchange(f) {
			t.userInfoClaims(f, UserInfoGet)
		}
	})
}

func moduleRequestURIUnsignedDynamic() Module {
	return requestURIModule("oidcc-request-uri-unsigned",
		"A client that registered request_uris passes every parameter in an unsigned request object by reference: the provider fetches it and completes the flow (request_uri is mandatory for dynamic OPs, OIDC Core 15.2). Skipped when none is not among the request object algorithms.",
		"")
}

func moduleRequestURISignedRS256() Module {
	return requestURIModule("oidcc-request-uri-signed-rs256",
		"A client registered with request_object_signing_alg=RS256 passes an RS256-signed request object (iss, aud) by reference: the provider verifies it with the client's keys and completes the flow.",
		"RS256")
}
