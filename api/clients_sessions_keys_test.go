package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/orgid/orgid/api"
	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

func TestOAuthApplications(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		e := start(t, dbURL)
		c := e.c

		var created api.ClientCreatedJSON
		c.ok(http.MethodPost, "/oauth_applications", obj{
			"name": "Backend", "redirect_uris": []string{"https://app.example/callback"},
			"grant_types": []string{"authorization_code", "refresh_token"},
		}, &created)
		if created.Object != "oauth_client" || created.ClientID == "" || created.ClientSecret == "" {
			t.Fatalf("created %+v", created)
		}
		cl, err := e.srv.Clients.Get(context.Background(), created.ClientID)
		if err != nil || !e.srv.Clients.Authenticate(cl, created.ClientSecret) {
			t.Fatalf("the answered secret does not authenticate the client: %v", err)
		}

		var public api.ClientCreatedJSON
		c.ok(http.MethodPost, "/oauth_applications", obj{
			"name": "SPA", "public": true, "redirect_uris": []string{"https://spa.example/cb"}, "grant_types": []string{"authorization_code"},
		}, &public)
		if !public.Public || public.ClientSecret != "" {
			t.Errorf("public client %+v: want no secret", public)
		}

		wantError(t, c.do(http.MethodPost, "/oauth_applications", obj{"name": "Bad", "redirect_uris": []string{"not a uri"}, "grant_types": []string{"authorization_code"}}), 422, "form_param_format_invalid", "")
		wantError(t, c.do(http.MethodPost, "/oauth_applications", obj{"name": "T", "redirect_uris": []string{"https://x.example/cb"}, "id_token_template": "nothing"}), 422, "form_param_format_invalid", "id_token_template")
		wantError(t, c.do(http.MethodPost, "/oauth_applications", obj{"redirect_uris": []string{"https://x.example/cb"}}), 400, "form_param_missing", "name")

		var list struct {
			Data       []oidc.ClientJSON `json:"data"`
			TotalCount int               `json:"total_count"`
		}
		c.ok(http.MethodGet, "/oauth_applications", nil, &list)
		if list.TotalCount != 2 || list.Data[0].ClientID != created.ClientID {
			t.Errorf("list: %+v", list)
		}
		var got obj
		c.ok(http.MethodGet, "/oauth_applications/"+created.ClientID, nil, &got)
		if _, leaked := got["client_secret"]; leaked || got["client_id"] != created.ClientID {
			t.Errorf("GET client %v", got)
		}
		var del obj
		c.ok(http.MethodDelete, "/oauth_applications/"+created.ClientID, nil, &del)
		if del["deleted"] != true || del["id"] != created.ClientID {
			t.Errorf("delete %v", del)
		}
		wantError(t, c.do(http.MethodGet, "/oauth_applications/"+created.ClientID, nil), 404, "resource_not_found", "")
	})
}

func TestSessions(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		e := start(t, dbURL)
		c := e.c
		ctx := context.Background()
		u := e.srv.CreateUser(t, "ada@example.com")
		other := e.srv.CreateUser(t, "other@example.com")
		var ids []string
		for range 3 {
			s, _, err := e.srv.Identity.CreateSession(ctx, u.ID, []string{"pwd"}, identity.SessionMeta{IP: "127.0.0.1"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, s.ID)
		}
		if _, _, err := e.srv.Identity.CreateSession(ctx, other.ID, []string{"pwd"}, identity.SessionMeta{}); err != nil {
			t.Fatal(err)
		}
		events := recordEvents(t, e)

		var bare []identity.SessionJSON
		c.ok(http.MethodGet, "/sessions?user_id="+u.ID, nil, &bare)
		if len(bare) != 3 || bare[0].ID != ids[2] || bare[0].Object != "session" || bare[0].Status != "active" {
			t.Fatalf("sessions %+v", bare)
		}
		var paged struct {
			Data       []identity.SessionJSON `json:"data"`
			TotalCount int                    `json:"total_count"`
		}
		c.ok(http.MethodGet, "/sessions?user_id="+u.ID+"&paginated=true&limit=1&offset=1", nil, &paged)
		if paged.TotalCount != 3 || len(paged.Data) != 1 || paged.Data[0].ID != ids[1] {
			t.Errorf("second page %+v", paged)
		}
		wantError(t, c.do(http.MethodGet, "/sessions", nil), 400, "form_param_missing", "user_id")
		wantError(t, c.do(http.MethodGet, "/sessions?user_id="+u.ID+"&status=gone", nil), 400, "form_param_format_invalid", "status")
		wantError(t, c.do(http.MethodGet, "/sessions?user_id=user_nobody", nil), 422, "form_param_format_invalid", "user_id")

		var revoked identity.SessionJSON
		c.ok(http.MethodPost, "/sessions/"+ids[0]+"/revoke", nil, &revoked)
		if revoked.Status != "revoked" {
			t.Errorf("status %q after revoke, want revoked", revoked.Status)
		}
		events.want(t, "session.revoked")
		c.ok(http.MethodPost, "/sessions/"+ids[0]+"/revoke", nil, &revoked)
		events.want(t) // already revoked: nothing happens
		var active []identity.SessionJSON
		c.ok(http.MethodGet, "/sessions?user_id="+u.ID+"&status=active", nil, &active)
		if len(active) != 2 {
			t.Errorf("%d active sessions, want 2", len(active))
		}
		var one identity.SessionJSON
		c.ok(http.MethodGet, "/sessions/"+ids[1], nil, &one)
		if one.ID != ids[1] || one.UserID != u.ID {
			t.Errorf("session %+v", one)
		}
		wantError(t, c.do(http.MethodGet, "/sessions/sess_nothing", nil), 404, "resource_not_found", "")
		wantError(t, c.do(http.MethodPost, "/sessions/sess_nothing/revoke", nil), 404, "resource_not_found", "")
	})
}

func TestSigningKeys(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		e := start(t, dbURL)
		c := e.c

		var jwks jose.JSONWebKeySet
		c.ok(http.MethodGet, "/jwks", nil, &jwks)
		if len(jwks.Keys) == 0 {
			t.Fatal("empty JWKS")
		}
		for _, k := range jwks.Keys {
			if !k.IsPublic() {
				t.Fatalf("key %s is not public", k.KeyID)
			}
		}
		var before struct {
			Data       []api.SigningKeyJSON `json:"data"`
			TotalCount int                  `json:"total_count"`
		}
		c.ok(http.MethodGet, "/signing_keys", nil, &before)
		active := map[string]string{}
		for _, k := range before.Data {
			if k.Object != "signing_key" {
				t.Errorf("object %q", k.Object)
			}
			if k.State == "active" {
				active[k.Algorithm] = k.KID
			}
		}
		if before.TotalCount != len(jwks.Keys) || len(active) == 0 {
			t.Fatalf("%d keys listed, %d published, active %v", before.TotalCount, len(jwks.Keys), active)
		}
		var rotated struct {
			Data []api.SigningKeyJSON `json:"data"`
		}
		c.ok(http.MethodPost, "/signing_keys/rotate", nil, &rotated)
		for _, k := range rotated.Data {
			if k.State != "active" || k.KID == active[k.Algorithm] {
				t.Errorf("after rotation: %+v (was active: %s)", k, active[k.Algorithm])
			}
		}
		var after jose.JSONWebKeySet
		c.ok(http.MethodGet, "/jwks", nil, &after)
		if len(after.Keys) <= len(jwks.Keys) {
			t.Errorf("JWKS after rotation has %d keys, want more than %d (the retired key stays published)", len(after.Keys), len(jwks.Keys))
		}
	})
}
