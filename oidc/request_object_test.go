package oidc_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

// Signed request objects and request_uri (OpenID Connect Core §6,
// RFC 9101), fetched through the egress client.
func TestRequestObjects(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := startDynamic(t, dbURL, oidc.RegistrationModeOpen)
		user := srv.CreateUser(t, "ro@example.com")
		key := rsaKey(t, "ro-1")
		const redirect = "http://127.0.0.1:9/ro"
		docs := map[string]string{}
		host := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/oauth-authz-req+jwt")
			_, _ = w.Write([]byte(docs[r.URL.Path]))
		}))
		registeredURI := host + "/registered"
		reg := mustRegister(t, srv, map[string]any{"client_name": "ro", "application_type": "native", "redirect_uris": []string{redirect},
			"jwks": publicJWKS(t, key), "request_object_signing_alg": "RS256", "request_uris": []string{registeredURI + "#pin"}})
		id := reg["client_id"].(string)
		object := func(signer any, change func(map[string]any)) string {
			claims := map[string]any{"iss": id, "aud": srv.Issuer, "client_id": id, "response_type": "code", "redirect_uri": redirect,
				"scope": "openid", "state": "inner-state-123", "nonce": "inner-nonce-123", "max_age": 3600, "exp": time.Now().Add(time.Minute).Unix()}
			if change != nil {
				change(claims)
			}
			if signer == nil {
				return b64(`{"alg":"none"}`) + "." + b64(string(mustJSON(claims))) + "."
			}
			return signJWT(t, signer, "RS256", "ro-1", "oauth-authz-req+jwt", claims)
		}
		outer := url.Values{"scope": {"openid"}}
		b := servertest.NewBrowser(t)

		tests := []struct {
			name      string
			params    url.Values
			wantError string
		}{
			{"signed, by value", url.Values{"request": {object(key.Key, nil)}}, ""},
			{"signed, by reference", url.Values{"request_uri": {registeredURI + "#pin"}}, ""},
			{"unsigned, though RS256 is registered", url.Values{"request": {object(nil, nil)}}, "invalid_request_object"},
			{"signed by another key", url.Values{"request": {object(freshRSAKey(t, "ro-1").Key, nil)}}, "invalid_request_object"},
			{"for another audience", url.Values{"request": {object(key.Key, func(c map[string]any) { c["aud"] = "https://other.example.com" })}}, "invalid_request_object"},
			{"from another client", url.Values{"request": {object(key.Key, func(c map[string]any) { c["iss"] = "client_other" })}}, "invalid_request_object"},
			{"expired", url.Values{"request": {object(key.Key, func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() })}}, "invalid_request_object"},
			{"unregistered request_uri", url.Values{"request_uri": {host + "/other"}}, "invalid_request_uri"},
			{"request_uri and request", url.Values{"request_uri": {registeredURI}, "request": {object(key.Key, nil)}}, "invalid_request"},
		}
		docs["/registered"] = object(key.Key, nil)
		docs["/other"] = object(key.Key, nil)
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				q := url.Values{"client_id": {id}, "response_type": {"code"}, "redirect_uri": {redirect}}
				for k, v := range outer {
					q[k] = v
				}
				for k, v := range tc.params {
					q[k] = v
				}
				got := authorizeCode(t, srv, b, id, redirect, user.Email, q)
				if tc.wantError == "" {
					if got.Get("code") == "" || got.Get("state") != "inner-state-123" {
						t.Errorf("response %v, want a code and the state from inside the object", got)
					}
					return
				}
				if got.Get("error") != tc.wantError {
					t.Errorf("response %v, want error %s", got, tc.wantError)
				}
			})
		}
	})
}
