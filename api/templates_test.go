package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orgid/orgid/api"
	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/templates"
)

func TestJWTTemplates(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		e := start(t, dbURL)
		c := e.c
		claims := `{"aud":"https://api.example.com","name":"{{user.first_name}} {{user.last_name}}","plan":"{{user.public_metadata.plan || 'free'}}","org":"{{org.slug}}","role":"{{org.role}}"}`

		var tmpl templates.TemplateJSON
		c.ok(http.MethodPost, "/jwt_templates", obj{"name": "backend", "claims": json.RawMessage(claims), "lifetime": 120, "allowed_clock_skew": 0}, &tmpl)
		if tmpl.Object != "jwt_template" || tmpl.Name != "backend" || tmpl.Lifetime != 120 || tmpl.AllowedClockSkew != 0 || tmpl.SigningAlgorithm != "RS256" {
			t.Fatalf("template %+v", tmpl)
		}

		t.Run("refused templates", func(t *testing.T) {
			r := c.do(http.MethodPost, "/jwt_templates", obj{"name": "bad", "claims": json.RawMessage(`{"sub":"x","a":"{{user.nme}}","b":"{{org.id"}`)})
			got := wantError(t, r, 422, "form_param_format_invalid", "")
			if len(got.Errors) != 3 {
				t.Errorf("%d errors, want one per problem (3): %s", len(got.Errors), r)
			}
			params := []any{}
			for _, e := range got.Errors {
				params = append(params, e.Meta["param_name"])
			}
			if diff := cmp.Diff([]any{"claims.sub", "claims.a", "claims.b"}, params); diff != "" {
				t.Errorf("problem paths (-want +got):\n%s", diff)
			}
			wantError(t, c.do(http.MethodPost, "/jwt_templates", obj{"name": "backend", "claims": json.RawMessage(`{}`)}), 409, "duplicate_record", "")
			wantError(t, c.do(http.MethodPost, "/jwt_templates", obj{"name": "x", "claims": json.RawMessage(`{}`), "custom_signing_key": true}), 422, "form_param_format_invalid", "custom_signing_key")
			wantError(t, c.do(http.MethodPost, "/jwt_templates", obj{"name": "x", "claims": json.RawMessage(`{}`), "lifetime": -1}), 422, "form_param_format_invalid", "lifetime")
			wantError(t, c.do(http.MethodPost, "/jwt_templates", obj{"name": "x"}), 400, "form_param_missing", "claims")
			wantError(t, c.do(http.MethodPatch, "/jwt_templates/clerk-session-v2", obj{"lifetime": 30}), 403, "resource_forbidden", "")
			wantError(t, c.do(http.MethodDelete, "/jwt_templates/clerk-session-v2", nil), 403, "resource_forbidden", "")
		})

		t.Run("list get update", func(t *testing.T) {
			var bare []templates.TemplateJSON
			c.ok(http.MethodGet, "/jwt_templates", nil, &bare)
			var paged struct {
				Data       []templates.TemplateJSON `json:"data"`
				TotalCount int                      `json:"total_count"`
			}
			c.ok(http.MethodGet, "/jwt_templates?paginated=true", nil, &paged)
			if len(bare) < 2 || paged.TotalCount != len(bare) || bare[len(bare)-1].Name != "backend" {
				t.Errorf("list: %d bare, total %d; want the presets then backend", len(bare), paged.TotalCount)
			}
			var byName templates.TemplateJSON
			c.ok(http.MethodGet, "/jwt_templates/backend", nil, &byName)
			if byName.ID != tmpl.ID {
				t.Errorf("by name: id %s, want %s", byName.ID, tmpl.ID)
			}
			var up templates.TemplateJSON
			c.ok(http.MethodPatch, "/jwt_templates/"+tmpl.ID, obj{"lifetime": 300}, &up)
			if up.Lifetime != 300 || string(up.Claims) != claims {
				t.Errorf("updated: lifetime %d claims %s", up.Lifetime, up.Claims)
			}
			wantError(t, c.do(http.MethodPatch, "/jwt_templates/"+tmpl.ID, obj{"lifetime": 60, "claims": json.RawMessage(`{"x":"{{nope}}"}`)}), 422, "form_param_format_invalid", "claims.x")
			c.ok(http.MethodGet, "/jwt_templates/"+tmpl.ID, nil, &up)
			if up.Lifetime != 300 {
				t.Errorf("a refused update changed the lifetime to %d", up.Lifetime)
			}
		})

		t.Run("render", func(t *testing.T) {
			owner := e.srv.CreateUser(t, "grace@example.com")
			c.ok(http.MethodPatch, "/users/"+owner.ID+"/metadata", obj{"public_metadata": obj{"plan": "team"}}, nil)
			var org obj
			c.ok(http.MethodPost, "/organizations", obj{"name": "Navy", "created_by": owner.ID}, &org)

			var r api.RenderJSON
			c.ok(http.MethodPost, "/jwt_templates/backend/render", obj{"user_id": owner.ID, "organization_id": "navy"}, &r)
			want := map[string]any{"aud": "https://api.example.com", "name": "Ada Lovelace", "plan": "team", "org": "navy", "role": "org:owner",
				"iss": e.srv.Issuer, "sub": owner.ID}
			got := map[string]any{}
			for k, v := range r.Claims {
				if k != "iat" && k != "nbf" && k != "exp" {
					got[k] = v
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("rendered claims (-want +got):\n%s", diff)
			}
			if exp, iat := r.Claims["exp"].(float64), r.Claims["iat"].(float64); exp-iat != 300 {
				t.Errorf("exp - iat = %v, want the lifetime 300", exp-iat)
			}
			var noOrg api.RenderJSON
			c.ok(http.MethodPost, "/jwt_templates/backend/render", obj{"user_id": owner.ID}, &noOrg)
			if noOrg.Claims["org"] != nil || noOrg.Claims["role"] != nil {
				t.Errorf("without an organization: org %v role %v, want null", noOrg.Claims["org"], noOrg.Claims["role"])
			}
			outsider := e.srv.CreateUser(t, "outsider@example.com")
			wantError(t, c.do(http.MethodPost, "/jwt_templates/backend/render", obj{"user_id": outsider.ID, "organization_id": "navy"}), 422, "form_param_format_invalid", "organization_id")
			wantError(t, c.do(http.MethodPost, "/jwt_templates/backend/render", obj{"user_id": "user_nobody"}), 422, "form_param_format_invalid", "user_id")
			wantError(t, c.do(http.MethodPost, "/jwt_templates/nothing/render", obj{"user_id": owner.ID}), 404, "resource_not_found", "")
		})

		t.Run("delete", func(t *testing.T) {
			var del obj
			c.ok(http.MethodDelete, "/jwt_templates/backend", nil, &del)
			if diff := cmp.Diff(obj{"object": "jwt_template", "id": tmpl.ID, "deleted": true}, del); diff != "" {
				t.Errorf("delete (-want +got):\n%s", diff)
			}
			wantError(t, c.do(http.MethodGet, "/jwt_templates/"+tmpl.ID, nil), 404, "resource_not_found", "")
		})
	})
}
