package oidc_test

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

// registeredFlow registers a native client (loopback redirect) with meta
// changes, runs a code flow for email in b and returns the client and the
// token response.
func registeredFlow(t *testing.T, srv *servertest.Server, b *servertest.Browser, redirect, email string, change func(map[string]any)) (map[string]any, map[string]any) {
	t.Helper()
	m := map[string]any{"client_name": "app", "application_type": "native", "redirect_uris": []string{redirect}}
	if change != nil {
		change(m)
	}
	reg := mustRegister(t, srv, m)
	id, secret := reg["client_id"].(string), reg["client_secret"].(string)
	q := authorizeCode(t, srv, b, id, redirect, email, nil)
	status, tok, _ := postToken(t, srv.Issuer, url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirect}}, id, secret)
	if status != http.StatusOK {
		t.Fatalf("token request: HTTP %d %v", status, tok)
	}
	return reg, tok
}

// userinfo calls the userinfo endpoint and returns the response.
func userinfo(t *testing.T, srv *servertest.Server, accessToken string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.Issuer+oidc.PathUserinfo, nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func TestPairwiseSubjects(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := startDynamic(t, dbURL, oidc.RegistrationModeOpen)
		user := srv.CreateUser(t, "pairwise@example.com")
		b := servertest.NewBrowser(t)
		pairwise := func(m map[string]any) { m["subject_type"] = "pairwise" }

		subjects := func(tok map[string]any) (idSub, atSub, infoSub string) {
			t.Helper()
			idSub, _ = claimsOf(t, tok["id_token"].(string))["sub"].(string)
			atSub, _ = claimsOf(t, tok["access_token"].(string))["sub"].(string)
			resp, body := userinfo(t, srv, tok["access_token"].(string))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("userinfo: HTTP %d %s", resp.StatusCode, body)
			}
			var info map[string]any
			_ = json.Unmarshal(body, &info)
			infoSub, _ = info["sub"].(string)
			return
		}

		_, tokA := registeredFlow(t, srv, b, "http://127.0.0.1:9/a", user.Email, pairwise)
		idA, atA, infoA := subjects(tokA)
		if idA == user.ID || idA == "" {
			t.Fatalf("pairwise client sees sub %q; want a pairwise subject, not the user id", idA)
		}
		if atA != idA || infoA != idA {
			t.Errorf("subjects differ: ID token %q, access token %q, userinfo %q", idA, atA, infoA)
		}
		// Same sector (the redirect host 127.0.0.1), another client: the
		// same subject; and the same client again: stable.
		_, tokB := registeredFlow(t, srv, b, "http://127.0.0.1:9/b", user.Email, pairwise)
		if idB, _, _ := subjects(tokB); idB != idA {
			t.Errorf("same sector, another client: sub %q, want %q", idB, idA)
		}
		// Another sector: another subject.
		_, tokC := registeredFlow(t, srv, b, "http://localhost:9/c", user.Email, pairwise)
		if idC, _, _ := subjects(tokC); idC == idA || idC == user.ID {
			t.Errorf("another sector: sub %q, want one different from %q and the user id", idC, idA)
		}
		// A sector_identifier_uri names the sector whatever the redirect
		// host: served on 127.0.0.1, it puts a client redirecting to
		// localhost in client A's sector.
		sector := serveJSON(t, []string{"http://localhost:9/d"})
		_, tokD := registeredFlow(t, srv, b, "http://localhost:9/d", user.Email, func(m map[string]any) {
			m["subject_type"], m["sector_identifier_uri"] = "pairwise", sector
		})
		if idD, _, _ := subjects(tokD); idD != idA {
			t.Errorf("sector from sector_identifier_uri on 127.0.0.1: sub %q, want client A's %q", idD, idA)
		}
		// Public clients see the user id.
		_, tokE := registeredFlow(t, srv, b, "http://127.0.0.1:9/e", user.Email, nil)
		if idE, _, _ := subjects(tokE); idE != user.ID {
			t.Errorf("public client: sub %q, want the user id %q", idE, user.ID)
		}
		// The ID token of a pairwise client works as id_token_hint: the
		// same user is recognised without signing in again.
		regA := mustRegister(t, srv, map[string]any{"client_name": "app", "application_type": "native",
			"redirect_uris": []string{"http://127.0.0.1:9/f"}, "subject_type": "pairwise"})
		first := authorizeCode(t, srv, b, regA["client_id"].(string), "http://127.0.0.1:9/f", user.Email, nil)
		status, tok, _ := postToken(t, srv.Issuer, url.Values{"grant_type": {"authorization_code"}, "code": {first.Get("code")},
			"redirect_uri": {"http://127.0.0.1:9/f"}}, regA["client_id"].(string), regA["client_secret"].(string))
		if status != http.StatusOK {
			t.Fatalf("token: %d %v", status, tok)
		}
		silent := authorizeCode(t, srv, b, regA["client_id"].(string), "http://127.0.0.1:9/f", user.Email,
			url.Values{"prompt": {"none"}, "id_token_hint": {tok["id_token"].(string)}})
		if silent.Get("code") == "" {
			t.Errorf("prompt=none with the pairwise ID token as hint: %v, want a code", silent)
		}
	})
}

func TestSignedUserinfo(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := startDynamic(t, dbURL, oidc.RegistrationModeOpen)
		user := srv.CreateUser(t, "signed@example.com")
		b := servertest.NewBrowser(t)
		for _, alg := range []string{"RS256", "ES256"} {
			t.Run(alg, func(t *testing.T) {
				reg, tok := registeredFlow(t, srv, b, "http://127.0.0.1:9/"+alg, user.Email, func(m map[string]any) { m["userinfo_signed_response_alg"] = alg })
				resp, body := userinfo(t, srv, tok["access_token"].(string))
				if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); resp.StatusCode != http.StatusOK || mt != "application/jwt" {
					t.Fatalf("userinfo: HTTP %d %s, want 200 application/jwt", resp.StatusCode, resp.Header.Get("Content-Type"))
				}
				// Verify as a relying party would: through discovery's JWKS.
				var set jose.JSONWebKeySet
				_, jwks, _ := jsonRequest(t, http.MethodGet, srv.Issuer+oidc.PathJWKS, "", nil)
				raw, _ := json.Marshal(jwks)
				if err := json.Unmarshal(raw, &set); err != nil {
					t.Fatal(err)
				}
				obj, err := jose.ParseSigned(strings.TrimSpace(string(body)), []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
				if err != nil {
					t.Fatalf("parse signed userinfo: %v", err)
				}
				keys := set.Key(obj.Signatures[0].Header.KeyID)
				if len(keys) != 1 {
					t.Fatalf("kid %q: %d keys in the JWKS", obj.Signatures[0].Header.KeyID, len(keys))
				}
				payload, err := obj.Verify(keys[0].Key)
				if err != nil {
					t.Fatalf("signed userinfo does not verify with the JWKS: %v", err)
				}
				var claims map[string]any
				_ = json.Unmarshal(payload, &claims)
				for k, want := range map[string]any{"iss": srv.Issuer, "aud": reg["client_id"], "sub": user.ID, "email": user.Email} {
					if claims[k] != want {
						t.Errorf("signed userinfo %s = %v, want %v", k, claims[k], want)
					}
				}
				if _, ok := claims["nonce"]; ok {
					t.Errorf("signed userinfo carries a nonce")
				}
			})
		}
		// Without the registration, userinfo stays JSON.
		_, tok := registeredFlow(t, srv, b, "http://127.0.0.1:9/json", user.Email, nil)
		if resp, _ := userinfo(t, srv, tok["access_token"].(string)); !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("userinfo of a client without userinfo_signed_response_alg: Content-Type %q", resp.Header.Get("Content-Type"))
		}
	})
}
