package oidc_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

// baseRegistration is a valid web client registration.
func baseRegistration() map[string]any {
	return map[string]any{"client_name": "Registered app", "redirect_uris": []string{"https://app.example.com/cb"}}
}

func TestRegistrationValidation(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := startDynamic(t, dbURL, oidc.RegistrationModeOpen)
		key := rsaKey(t, "k1")
		jwksURI := serveJSON(t, publicJWKS(t, key))
		notFound := newLoopbackServer(t, http.NotFoundHandler()) + "/jwks.json"
		sectorOK := serveJSON(t, []string{"https://app.example.com/cb", "https://other.example.com/cb"})
		sectorMissing := serveJSON(t, []string{"https://other.example.com/cb"})
		sectorNotList := serveJSON(t, map[string]any{"redirect_uris": []string{"https://app.example.com/cb"}})
		privateJWKS := publicJWKS(t, key)
		privJSON, _ := key.MarshalJSON()
		privateJWKS["keys"] = []any{jsonObject(t, privJSON)}

		tests := []struct {
			name      string
			change    func(m map[string]any)
			wantError string // "" means accepted
			field     string // the error description must name it
		}{
			{"valid web client", nil, "", ""},
			{"web client over http loopback", func(m map[string]any) { m["redirect_uris"] = []string{"http://127.0.0.1:9/cb"} }, "invalid_redirect_uri", "https"},
			{"native client over http loopback", func(m map[string]any) {
				m["application_type"], m["redirect_uris"] = "native", []string{"http://127.0.0.1:9/cb"}
			}, "", ""},
			{"native client over http elsewhere", func(m map[string]any) {
				m["application_type"], m["redirect_uris"] = "native", []string{"http://app.example.com/cb"}
			}, "invalid_redirect_uri", "loopback"},
			{"redirect URI with a fragment", func(m map[string]any) { m["redirect_uris"] = []string{"https://app.example.com/cb#x"} }, "invalid_redirect_uri", "fragment"},
			{"redirect URI with a wildcard", func(m map[string]any) { m["redirect_uris"] = []string{"https://*.example.com/cb"} }, "invalid_redirect_uri", "wildcard"},
			{"relative redirect URI", func(m map[string]any) { m["redirect_uris"] = []string{"/cb"} }, "invalid_redirect_uri", "absolute"},
			{"no redirect URI", func(m map[string]any) { delete(m, "redirect_uris") }, "invalid_redirect_uri", "required"},
			{"unknown application type", func(m map[string]any) { m["application_type"] = "desktop" }, "invalid_client_metadata", "application_type"},
			{"jwks and jwks_uri together", func(m map[string]any) {
				m["jwks"], m["jwks_uri"] = publicJWKS(t, key), jwksURI
			}, "invalid_client_metadata", "jwks"},
			{"private_key_jwt without keys", func(m map[string]any) { m["token_endpoint_auth_method"] = "private_key_jwt" }, "invalid_client_metadata", "jwks"},
			{"private_key_jwt with jwks", func(m map[string]any) {
				m["token_endpoint_auth_method"], m["jwks"] = "private_key_jwt", publicJWKS(t, key)
			}, "", ""},
			{"private key in jwks", func(m map[string]any) {
				m["token_endpoint_auth_method"], m["jwks"] = "private_key_jwt", privateJWKS
			}, "invalid_client_metadata", "private"},
			{"private_key_jwt with jwks_uri", func(m map[string]any) {
				m["token_endpoint_auth_method"], m["jwks_uri"] = "private_key_jwt", jwksURI
			}, "", ""},
			{"jwks_uri that does not answer", func(m map[string]any) {
				m["token_endpoint_auth_method"], m["jwks_uri"] = "private_key_jwt", notFound
			}, "invalid_client_metadata", "jwks_uri"},
			{"jwks_uri on a private network", func(m map[string]any) {
				m["token_endpoint_auth_method"], m["jwks_uri"] = "private_key_jwt", "https://10.1.2.3/jwks.json"
			}, "invalid_client_metadata", "jwks_uri"},
			{"jwks_uri over plain http", func(m map[string]any) {
				m["token_endpoint_auth_method"], m["jwks_uri"] = "private_key_jwt", "http://keys.example.com/jwks.json"
			}, "invalid_client_metadata", "https"},
			{"HMAC alg for private_key_jwt", func(m map[string]any) {
				m["token_endpoint_auth_method"], m["jwks"], m["token_endpoint_auth_signing_alg"] = "private_key_jwt", publicJWKS(t, key), "HS256"
			}, "invalid_client_metadata", "token_endpoint_auth_signing_alg"},
			{"client_secret_jwt", func(m map[string]any) { m["token_endpoint_auth_method"] = "client_secret_jwt" }, "", ""},
			{"unknown auth method", func(m map[string]any) { m["token_endpoint_auth_method"] = "tls_client_auth" }, "invalid_client_metadata", "token_endpoint_auth_method"},
			{"public client", func(m map[string]any) { m["token_endpoint_auth_method"] = "none" }, "", ""},
			{"unsigned ID tokens", func(m map[string]any) { m["id_token_signed_response_alg"] = "none" }, "invalid_client_metadata", "none"},
			{"unsupported ID token alg", func(m map[string]any) { m["id_token_signed_response_alg"] = "HS256" }, "invalid_client_metadata", "id_token_signed_response_alg"},
			{"ES256 ID tokens", func(m map[string]any) { m["id_token_signed_response_alg"] = "ES256" }, "", ""},
			{"encrypted ID tokens", func(m map[string]any) { m["id_token_encrypted_response_alg"] = "RSA-OAEP" }, "invalid_client_metadata", "encryption"},
			{"signed userinfo", func(m map[string]any) { m["userinfo_signed_response_alg"] = "RS256" }, "", ""},
			{"unsigned userinfo alg none", func(m map[string]any) { m["userinfo_signed_response_alg"] = "none" }, "invalid_client_metadata", "userinfo_signed_response_alg"},
			{"unknown request object alg", func(m map[string]any) { m["request_object_signing_alg"] = "XS512" }, "invalid_client_metadata", "request_object_signing_alg"},
			{"signed request objects without keys", func(m map[string]any) { m["request_object_signing_alg"] = "RS256" }, "invalid_client_metadata", "request_object_signing_alg"},
			{"signed request objects with keys", func(m map[string]any) {
				m["request_object_signing_alg"], m["jwks"] = "RS256", publicJWKS(t, key)
			}, "", ""},
			{"negative default_max_age", func(m map[string]any) { m["default_max_age"] = -1 }, "invalid_client_metadata", "default_max_age"},
			{"default_max_age and require_auth_time", func(m map[string]any) { m["default_max_age"], m["require_auth_time"] = 3600, true }, "", ""},
			{"javascript logo_uri", func(m map[string]any) { m["logo_uri"] = "javascript:alert(1)" }, "invalid_client_metadata", "logo_uri"},
			{"relative policy_uri", func(m map[string]any) { m["policy_uri"] = "/policy" }, "invalid_client_metadata", "policy_uri"},
			{"data tos_uri", func(m map[string]any) { m["tos_uri"] = "data:text/html,hi" }, "invalid_client_metadata", "tos_uri"},
			{"logo, policy and terms", func(m map[string]any) {
				m["logo_uri"], m["policy_uri"], m["tos_uri"] = "https://app.example.com/logo.png", "https://app.example.com/p", "https://app.example.com/t"
			}, "", ""},
			{"pairwise with a sector document listing the redirect URIs", func(m map[string]any) {
				m["subject_type"], m["sector_identifier_uri"] = "pairwise", sectorOK
			}, "", ""},
			{"sector document without the redirect URI", func(m map[string]any) {
				m["subject_type"], m["sector_identifier_uri"] = "pairwise", sectorMissing
			}, "invalid_client_metadata", "sector_identifier_uri"},
			{"sector document not a list", func(m map[string]any) {
				m["subject_type"], m["sector_identifier_uri"] = "pairwise", sectorNotList
			}, "invalid_client_metadata", "sector_identifier_uri"},
			{"sector document unreachable", func(m map[string]any) {
				m["subject_type"], m["sector_identifier_uri"] = "pairwise", notFound
			}, "invalid_client_metadata", "sector_identifier_uri"},
			{"pairwise over several hosts without a sector", func(m map[string]any) {
				m["subject_type"], m["redirect_uris"] = "pairwise", []string{"https://a.example.com/cb", "https://b.example.com/cb"}
			}, "invalid_client_metadata", "sector_identifier_uri"},
			{"unknown subject type", func(m map[string]any) { m["subject_type"] = "ephemeral" }, "invalid_client_metadata", "subject_type"},
			{"post-logout redirect over http", func(m map[string]any) {
				m["post_logout_redirect_uris"] = []string{"http://app.example.com/bye"}
			}, "invalid_client_metadata", "post_logout_redirect_uris"},
			{"front-channel logout on another origin", func(m map[string]any) {
				m["frontchannel_logout_uri"] = "https://elsewhere.example.com/logout"
			}, "invalid_client_metadata", "frontchannel_logout_uri"},
			{"front-channel session without a URI", func(m map[string]any) { m["frontchannel_logout_session_required"] = true }, "invalid_client_metadata", "frontchannel_logout_session_required"},
			{"back-channel logout over http", func(m map[string]any) { m["backchannel_logout_uri"] = "http://app.example.com/bcl" }, "invalid_client_metadata", "backchannel_logout_uri"},
			{"back-channel logout with a fragment", func(m map[string]any) { m["backchannel_logout_uri"] = "https://app.example.com/bcl#x" }, "invalid_client_metadata", "fragment"},
			{"logout receivers", func(m map[string]any) {
				m["post_logout_redirect_uris"] = []string{"https://app.example.com/bye"}
				m["frontchannel_logout_uri"], m["frontchannel_logout_session_required"] = "https://app.example.com/fcl?x=1", true
				m["backchannel_logout_uri"], m["backchannel_logout_session_required"] = "https://app.example.com/bcl", true
			}, "", ""},
			{"token response type alone", func(m map[string]any) {
				m["response_types"], m["grant_types"] = []string{"token"}, []string{"implicit"}
			}, "invalid_client_metadata", "response_types"},
			{"request_uris over http", func(m map[string]any) { m["request_uris"] = []string{"http://app.example.com/ro"} }, "invalid_client_metadata", "request_uris"},
			{"software statement", func(m map[string]any) { m["software_statement"] = "eyJ.x.y" }, "invalid_software_statement", "software"},
			{"redirect_uris of the wrong type", func(m map[string]any) { m["redirect_uris"] = "https://app.example.com/cb" }, "invalid_client_metadata", "redirect_uris"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				m := baseRegistration()
				if tc.change != nil {
					tc.change(m)
				}
				status, body, hdr := jsonRequest(t, http.MethodPost, srv.Issuer+oidc.PathRegister, "", m)
				if tc.wantError == "" {
					if status != http.StatusCreated {
						t.Fatalf("HTTP %d %v, want 201", status, body)
					}
					for _, k := range []string{"client_id", "registration_access_token", "registration_client_uri"} {
						if s, _ := body[k].(string); s == "" {
							t.Errorf("response lacks %s: %v", k, body)
						}
					}
					return
				}
				if status != http.StatusBadRequest || body["error"] != tc.wantError {
					t.Fatalf("HTTP %d %v, want 400 %s", status, body, tc.wantError)
				}
				if !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
					t.Errorf("Content-Type = %q, want JSON", hdr.Get("Content-Type"))
				}
				if d, _ := body["error_description"].(string); !strings.Contains(d, tc.field) {
					t.Errorf("error_description %q does not mention %q", d, tc.field)
				}
			})
		}

		t.Run("defaults and echo", func(t *testing.T) {
			m := baseRegistration()
			m["scope"] = "openid email unknown-scope"
			body := mustRegister(t, srv, m)
			for k, want := range map[string]any{
				"token_endpoint_auth_method": "client_secret_basic", "application_type": "web", "subject_type": "public",
				"scope": "openid email", "client_name": "Registered app",
			} {
				if body[k] != want {
					t.Errorf("%s = %v, want %v", k, body[k], want)
				}
			}
			if s, _ := body["client_secret"].(string); len(s) < 40 {
				t.Errorf("client_secret %q: want a generated 256-bit secret", s)
			}
			if gt, _ := body["grant_types"].([]any); len(gt) != 1 || gt[0] != "authorization_code" {
				t.Errorf("grant_types = %v, want [authorization_code] (OpenID Connect Registration 2)", body["grant_types"])
			}
			c, err := srv.Clients.Get(context.Background(), body["client_id"].(string))
			if err != nil {
				t.Fatal(err)
			}
			if c.FirstParty || !c.Dynamic() {
				t.Errorf("registered client: first party %v, dynamic %v; want a third-party dynamic client", c.FirstParty, c.Dynamic())
			}
		})
		t.Run("not JSON", func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.Issuer+oidc.PathRegister, strings.NewReader("redirect_uris=x"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("form body: HTTP %d, want 400", resp.StatusCode)
			}
		})
	})
}

func TestRegistrationModes(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		t.Run("off", func(t *testing.T) {
			srv := servertest.Start(t, dbURL)
			status, _ := register(t, srv, "", baseRegistration())
			if status != http.StatusNotFound {
				t.Errorf("registration while off: HTTP %d, want 404", status)
			}
			_, doc, _ := jsonRequest(t, http.MethodGet, srv.Issuer+oidc.PathDiscovery, "", nil)
			if _, ok := doc["registration_endpoint"]; ok {
				t.Errorf("discovery advertises registration_endpoint while registration is off")
			}
		})
		t.Run("open", func(t *testing.T) {
			srv := startDynamic(t, dbURL, oidc.RegistrationModeOpen)
			_, doc, _ := jsonRequest(t, http.MethodGet, srv.Issuer+oidc.PathDiscovery, "", nil)
			if doc["registration_endpoint"] != srv.Issuer+oidc.PathRegister {
				t.Errorf("registration_endpoint = %v", doc["registration_endpoint"])
			}
			mustRegister(t, srv, baseRegistration())
		})
		t.Run("token", func(t *testing.T) {
			clock := new(servertest.Clock)
			srv := startDynamic(t, dbURL, oidc.RegistrationModeToken, servertest.WithClock(clock))
			ctx := context.Background()
			tokens := oidc.NewRegistrationTokens(srv.Base.DB, srv.Base.Keys, clock.Now)
			_, live, err := tokens.Create(ctx, "ci", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			revokedTok, revoked, _ := tokens.Create(ctx, "revoked", 0)
			if err := tokens.Revoke(ctx, revokedTok.ID); err != nil {
				t.Fatal(err)
			}
			_, shortLived, _ := tokens.Create(ctx, "short", time.Minute)
			clock.Advance(2 * time.Minute)
			for name, token := range map[string]string{"no token": "", "unknown token": "irt_unknown", "revoked token": revoked, "expired token": shortLived} {
				status, body := register(t, srv, token, baseRegistration())
				if status != http.StatusUnauthorized || body["error"] != "invalid_token" {
					t.Errorf("%s: HTTP %d %v, want 401 invalid_token", name, status, body)
				}
			}
			if status, body := register(t, srv, live, baseRegistration()); status != http.StatusCreated {
				t.Errorf("valid initial access token: HTTP %d %v, want 201", status, body)
			}
			list, err := tokens.List(ctx)
			if err != nil || len(list) != 3 {
				t.Fatalf("List = %d tokens, %v", len(list), err)
			}
			for _, tok := range list {
				if tok.Description == "ci" && tok.LastUsedAt == nil {
					t.Errorf("the used token has no last_used_at")
				}
			}
		})
	})
}

func TestRegistrationManagement(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := startDynamic(t, dbURL, oidc.RegistrationModeOpen)
		reg := mustRegister(t, srv, baseRegistration())
		other := mustRegister(t, srv, baseRegistration())
		uri, token := reg["registration_client_uri"].(string), reg["registration_access_token"].(string)
		clientID := reg["client_id"].(string)
		if uri != srv.Issuer+oidc.PathRegister+"/"+clientID {
			t.Fatalf("registration_client_uri = %q", uri)
		}

		for name, tc := range map[string]struct{ uri, token string }{
			"no token":            {uri, ""},
			"wrong token":         {uri, token + "x"},
			"another's token":     {uri, other["registration_access_token"].(string)},
			"unknown client":      {srv.Issuer + oidc.PathRegister + "/client_unknown", token},
			"client without one":  {srv.Issuer + oidc.PathRegister + "/" + staticClientID(t, srv), token},
			"initial token reuse": {uri, reg["client_secret"].(string)},
		} {
			if status, body, hdr := jsonRequest(t, http.MethodGet, tc.uri, tc.token, nil); status != http.StatusUnauthorized || !strings.Contains(hdr.Get("WWW-Authenticate"), "invalid_token") {
				t.Errorf("read with %s: HTTP %d %v, want 401 with a Bearer challenge", name, status, body)
			}
		}
		status, got, _ := jsonRequest(t, http.MethodGet, uri, token, nil)
		if status != http.StatusOK || got["client_id"] != clientID || got["client_name"] != "Registered app" {
			t.Fatalf("read: HTTP %d %v", status, got)
		}
		if _, leaked := got["client_secret"]; leaked {
			t.Errorf("read returned the client secret, which orgid keeps only hashed")
		}

		update := baseRegistration()
		update["client_id"] = clientID
		update["client_name"] = "Renamed app"
		update["redirect_uris"] = []string{"https://app.example.com/cb", "https://app.example.com/cb2"}
		if status, body, _ := jsonRequest(t, http.MethodPut, uri, token, update); status != http.StatusOK || body["client_name"] != "Renamed app" {
			t.Fatalf("update: HTTP %d %v", status, body)
		}
		c, err := srv.Clients.Get(context.Background(), clientID)
		if err != nil || c.Name != "Renamed app" || len(c.Metadata.RedirectURIs) != 2 {
			t.Fatalf("after update: %+v %v", c, err)
		}
		for name, change := range map[string]func(m map[string]any){
			"another client_id":  func(m map[string]any) { m["client_id"] = other["client_id"] },
			"a wrong secret":     func(m map[string]any) { m["client_secret"] = "not-the-secret-not-the-secret" },
			"invalid metadata":   func(m map[string]any) { m["redirect_uris"] = []string{"https://app.example.com/cb#frag"} },
			"an unsigned ID alg": func(m map[string]any) { m["id_token_signed_response_alg"] = "none" },
		} {
			m := baseRegistration()
			m["client_id"] = clientID
			change(m)
			if status, body, _ := jsonRequest(t, http.MethodPut, uri, token, m); status != http.StatusBadRequest {
				t.Errorf("update with %s: HTTP %d %v, want 400", name, status, body)
			}
		}
		if c2, _ := srv.Clients.Get(context.Background(), clientID); c2 == nil || c2.Name != "Renamed app" {
			t.Errorf("a refused update changed the client: %+v", c2)
		}

		if status, _, _ := jsonRequest(t, http.MethodDelete, uri, "", nil); status != http.StatusUnauthorized {
			t.Errorf("delete without token: HTTP %d, want 401", status)
		}
		if status, _, _ := jsonRequest(t, http.MethodDelete, uri, token, nil); status != http.StatusNoContent {
			t.Fatalf("delete: HTTP %d, want 204", status)
		}
		if status, _, _ := jsonRequest(t, http.MethodGet, uri, token, nil); status != http.StatusUnauthorized {
			t.Errorf("read after delete: HTTP %d, want 401", status)
		}
		status, body, _ := postToken(t, srv.Issuer, map[string][]string{"grant_type": {"client_credentials"}}, clientID, reg["client_secret"].(string))
		if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("token request of the deleted client: HTTP %d %v, want invalid_client", status, body)
		}
	})
}

// staticClientID creates a client the way an operator does (no
// registration access token).
func staticClientID(t *testing.T, srv *servertest.Server) string {
	t.Helper()
	c, _ := srv.CreateClient(t, oidc.NewClient{Name: "static", Metadata: oidc.ClientMetadata{RedirectURIs: []string{"https://app.example.com/cb"}}})
	return c.ID
}
