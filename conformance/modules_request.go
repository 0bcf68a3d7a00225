package conformance

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
)

func moduleRegisteredRedirectURI() Module {
	return module("oidcc-ensure-registered-redirect-uri",
		"A request with an unregistered redirect_uri must never be redirected — neither there nor to a registered URI: the provider shows an error page (OIDC Core 3.1.2.1).",
		func(t *T) {
			if _, ok := t.provider(); !ok {
				return
			}
			bad, _ := url.Parse(t.Env.Listener.RedirectURI())
			bad.Path += "/unregistered-" + randomValue(6)
			f := t.authorize(t.Env.NewBrowser(), FlowOptions{Customize: func(ar *AuthRequest) {
				ar.RedirectURI = bad.String()
				ar.Params.Set("redirect_uri", ar.RedirectURI)
			}})
			if f == nil {
				return
			}
			if cb := f.Outcome.Callback; cb != nil {
				if sameEndpoint(cb.URL, bad) {
					t.Failf("the provider redirected to the unregistered redirect URI")
				} else {
					t.Failf("the provider redirected to %s although the request's redirect_uri was not registered", stripQuery(cb.URL))
				}
				return
			}
			t.expectErrorPage(f.Outcome.Stop, "with an unregistered redirect_uri")
		})
}

// requestObjectClaims turns request parameters into request object claims:
// max_age as a number and claims as an object, the rest as strings.
func requestObjectClaims(params Params) map[string]any {
	claims := map[string]any{}
	for _, kv := range params {
		switch kv.Key {
		case "max_age":
			if n, err := strconv.Atoi(kv.Value); err == nil {
				claims[kv.Key] = n
				continue
			}
		case "claims":
			var obj map[string]any
			if json.Unmarshal([]byte(kv.Value), &obj) == nil {
				claims[kv.Key] = obj
				continue
			}
		}
		claims[kv.Key] = kv.Value
	}
	return claims
}

// unsignedJWT serialises claims as a JWT with alg none (OIDC Core 6.1).
func unsignedJWT(claims map[string]any) string {
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`))
	body, _ := json.Marshal(claims) // maps of strings, numbers and decoded JSON always encode
	return header + "." + base64.RawURLEncoding.EncodeToString(body) + "."
}

// outerParams are the parameters that stay outside a request object: OAuth
// requires response_type and client_id, OIDC requires scope with openid,
// and RFC 6749 3.1.2.3 redirect_uri (OIDC Core 6.1). response_mode stays
// too, so that a provider refusing the object answers in the mode the
// plan expects (inside the object it takes precedence anyway).
var outerParams = []string{"response_type", "client_id", "scope", "redirect_uri", "response_mode"}

// moveIntoRequestObject replaces the request's parameters by the outer ones
// and returns the request object holding them all.
func moveIntoRequestObject(ar *AuthRequest) string {
	return unsignedJWT(splitRequestObject(ar))
}

// splitRequestObject replaces the request's parameters by the outer ones
// and returns the claims of a request object holding them all.
func splitRequestObject(ar *AuthRequest) map[string]any {
	claims := requestObjectClaims(ar.Params)
	var outer Params
	for _, kv := range ar.Params {
		if slices.Contains(outerParams, kv.Key) {
			outer = append(outer, kv)
		}
	}
	ar.Params = outer
	return claims
}

// skipWithoutUnsignedRequestObjects skips when discovery lists the request
// object algorithms and none is not among them.
func (t *T) skipWithoutUnsignedRequestObjects() bool {
	p, ok := t.provider()
	if !ok {
		return true
	}
	if list := p.Metadata.RequestObjectSigningAlgValuesSupported; list != nil && !slices.Contains(list, "none") {
		t.Skipf("request_object_signing_alg_values_supported %v does not list none", list)
		return true
	}
	return false
}

// requestObjectModule sends every parameter inside an unsigned request
// object, by value or by reference; the provider must process it (the
// state and nonce are only inside) or refuse it as unsupported.
func requestObjectModule(name, description string, byReference bool) Module {
	return module(name, description, func(t *T) {
		if t.skipWithoutUnsignedRequestObjects() {
			return
		}
		p := t.Env.Provider
		ar := t.Env.NewAuthRequest(t.Env.BasicClient(), "openid")
		jwt := moveIntoRequestObject(ar)
		unsupported, param, advertised := "request_not_supported", "request", p.Metadata.RequestParameterSupported
		if byReference {
			uri, remove := t.Env.Listener.Serve("/request-objects/"+randomValue(12), "application/oauth-authz-req+jwt", []byte(jwt))
			defer remove()
			ar.Params.Set("request_uri", uri)
			unsupported, param, advertised = "request_uri_not_supported", "request_uri", p.Metadata.RequestURIParameterSupported
		} else {
			ar.Params.Set("request", jwt)
		}
		f := t.send(t.Env.NewBrowser(), ar, Navigation{})
		if f == nil {
			return
		}
		params := t.responseParams(ar, f.Outcome)
		if params == nil {
			return
		}
		if params.Get("error") == unsupported {
			t.Skipf("the provider refused %s with %s (allowed)", param, unsupported)
			return
		}
		code, ok := t.checkSuccess(ar, params)
		if !ok {
			return
		}
		f.Response, f.Code = params, code
		if !t.exchange(f) {
			return
		}
		t.userInfoClaims(f, UserInfoGet)
		// request_uri_parameter_supported defaults to true, request_parameter_supported to false.
		if advertised != nil && !*advertised || advertised == nil && !byReference {
			t.Warnf("%s works but discovery does not say %s_parameter_supported: true", param, param)
		}
	})
}

func moduleRequestObject() Module {
	return requestObjectModule("oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported",
		"An unsigned request object passed by value (request) is processed — state and nonce are only inside it — or refused with request_not_supported. Skipped when only signed request objects are advertised.",
		false)
}

func moduleRequestURI() Module {
	return requestObjectModule("oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported",
		"An unsigned request object passed by reference (request_uri, served by the runner on loopback) is processed or refused with request_uri_not_supported. Skipped when only signed request objects are advertised.",
		true)
}

func moduleRequestObjectRedirectURI() Module {
	return module("oidcc-ensure-request-object-with-redirect-uri",
		"The request object carries the registered redirect_uri, the query an unregistered one: the provider must use the request object's (OIDC Core 6.1) and complete, or show an error page — never redirect to the unregistered URI, nor answer request_not_supported to the registered one.",
		func(t *T) {
			if t.skipWithoutUnsignedRequestObjects() {
				return
			}
			ar := t.Env.NewAuthRequest(t.Env.BasicClient(), "openid")
			jwt := moveIntoRequestObject(ar)
			invalid, _ := url.Parse(ar.RedirectURI)
			invalid.Path += "_invalid"
			ar.Params.Set("redirect_uri", invalid.String())
			ar.Params.Set("request", jwt)
			f := t.send(t.Env.NewBrowser(), ar, Navigation{})
			if f == nil {
				return
			}
			if f.Outcome.Stop != nil {
				t.expectErrorPage(f.Outcome.Stop, "with an unregistered redirect_uri outside the request object")
				return
			}
			if sameEndpoint(f.Outcome.Callback.URL, invalid) {
				t.Failf("the provider redirected to the unregistered redirect_uri of the query instead of the request object's")
				return
			}
			params := t.responseParams(ar, f.Outcome)
			if params == nil {
				return
			}
			if params.Get("error") == "request_not_supported" {
				t.Failf("the provider answered request_not_supported at the registered redirect URI, which only the request object it says it cannot process named")
				return
			}
			code, ok := t.checkSuccess(ar, params)
			if !ok {
				return
			}
			f.Response, f.Code = params, code
			t.exchange(f)
		})
}
