package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/storage/storagetest"
)

func TestUsers(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		e := start(t, dbURL)
		c := e.c
		events := recordEvents(t, e)

		var u identity.UserJSON
		c.ok(http.MethodPost, "/users", obj{
			"email_address": []string{"ada@example.com"}, "password": "correct horse battery staple",
			"first_name": "Ada", "last_name": "Lovelace", "username": "ada",
			"public_metadata": obj{"plan": "pro", "limits": obj{"seats": 5, "projects": 3}},
		}, &u)
		if u.Object != "user" || u.ID == "" || *u.FirstName != "Ada" || !u.PasswordEnabled {
			t.Fatalf("created user %+v", u)
		}
		if got := u.EmailAddresses[0]; got.EmailAddress != "ada@example.com" || got.Verification.Status != "verified" {
			t.Errorf("email address %+v, want ada@example.com verified", got)
		}
		events.want(t, "user.created")

		t.Run("get", func(t *testing.T) {
			var got identity.UserJSON
			c.ok(http.MethodGet, "/users/"+u.ID, nil, &got)
			if diff := cmp.Diff(u, got); diff != "" {
				t.Errorf("GET differs from the POST answer (-post +get):\n%s", diff)
			}
		})

		t.Run("create errors change nothing", func(t *testing.T) {
			for _, tc := range []struct {
				name   string
				body   any
				status int
				code   string
				param  string
			}{
				{"missing email", obj{"first_name": "X"}, 400, "form_param_missing", "email_address"},
				{"unknown field", obj{"email_address": "x@example.com", "skip_password_checks": true}, 400, "form_param_unknown", "skip_password_checks"},
				{"wrong type", obj{"email_address": "x@example.com", "first_name": 5}, 400, "form_param_format_invalid", "first_name"},
				{"two addresses", obj{"email_address": []string{"a@example.com", "b@example.com"}}, 422, "form_param_format_invalid", "email_address"},
				{"bad address", obj{"email_address": "not an address"}, 422, "form_param_format_invalid", "email_address"},
				{"weak password", obj{"email_address": "x@example.com", "password": "short"}, 422, "form_param_format_invalid", "password"},
				{"taken address", obj{"email_address": "ADA@example.com"}, 409, "form_identifier_exists", "email_address"},
				{"taken username", obj{"email_address": "y@example.com", "username": "ada"}, 409, "form_identifier_exists", "username"},
				{"malformed JSON", `{"email_address": `, 400, "request_body_invalid", ""},
				{"two documents", `{"email_address": "z@example.com"} {}`, 400, "request_body_invalid", ""},
				{"array body", `[]`, 400, "request_body_invalid", ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					wantError(t, c.do(http.MethodPost, "/users", tc.body), tc.status, tc.code, tc.param)
				})
			}
			r := c.send(http.MethodPost, "/users", `email_address=q@example.com`, func(r *http.Request) {
				r.Header.Set("Authorization", "Bearer "+c.key)
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			})
			wantError(t, r, http.StatusUnsupportedMediaType, "unsupported_media_type", "")
			var count obj
			c.ok(http.MethodGet, "/users/count", nil, &count)
			if count["total_count"] != float64(1) || count["object"] != "total_count" {
				t.Errorf("after refused creates: count %v, want 1", count)
			}
			events.want(t)
		})

		t.Run("update", func(t *testing.T) {
			var got identity.UserJSON
			c.ok(http.MethodPatch, "/users/"+u.ID, obj{"first_name": "Augusta", "external_id": "ext-1"}, &got)
			if *got.FirstName != "Augusta" || *got.ExternalID != "ext-1" || *got.LastName != "Lovelace" {
				t.Errorf("updated user %+v", got)
			}
			events.want(t, "user.updated")

			// A refused field refuses the whole request.
			wantError(t, c.do(http.MethodPatch, "/users/"+u.ID, obj{"first_name": "Changed", "username": "!!"}), 422, "form_param_format_invalid", "username")
			wantError(t, c.do(http.MethodPatch, "/users/"+u.ID, obj{"first_name": "Changed", "password": "short"}), 422, "form_param_format_invalid", "password")
			wantError(t, c.do(http.MethodPatch, "/users/"+u.ID, obj{"sign_out_of_other_sessions": true}), 422, "form_param_format_invalid", "sign_out_of_other_sessions")
			c.ok(http.MethodGet, "/users/"+u.ID, nil, &got)
			if *got.FirstName != "Augusta" {
				t.Errorf("first_name %q after refused updates, want Augusta", *got.FirstName)
			}
			events.want(t)

			c.ok(http.MethodPatch, "/users/"+u.ID, obj{"password": "another long passphrase", "sign_out_of_other_sessions": true}, &got)
			if _, err := e.srv.Identity.Authenticate(context.Background(), "ada@example.com", "another long passphrase", "127.0.0.1"); err != nil {
				t.Errorf("sign in with the new password: %v", err)
			}
			events.want(t, "user.updated")
			wantError(t, c.do(http.MethodPatch, "/users/user_doesnotexist", obj{"first_name": "X"}), 404, "resource_not_found", "")
		})

		t.Run("metadata", func(t *testing.T) {
			var got identity.UserJSON
			c.ok(http.MethodPatch, "/users/"+u.ID+"/metadata", obj{
				"public_metadata":  obj{"limits": obj{"seats": 10, "projects": nil}, "tier": "gold"},
				"private_metadata": obj{"stripe": "cus_1"},
			}, &got)
			wantPublic := map[string]any{"plan": "pro", "tier": "gold", "limits": map[string]any{"seats": float64(10)}}
			if diff := cmp.Diff(wantPublic, got.PublicMetadata); diff != "" {
				t.Errorf("merged public_metadata (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]any{"stripe": "cus_1"}, got.PrivateMetadata); diff != "" {
				t.Errorf("merged private_metadata (-want +got):\n%s", diff)
			}
			events.want(t, "user.updated")

			got = identity.UserJSON{} // decoding into a used map would merge into it
			c.ok(http.MethodPatch, "/users/"+u.ID+"/metadata", obj{"public_metadata": obj{"plan": nil}}, &got)
			delete(wantPublic, "plan")
			if diff := cmp.Diff(wantPublic, got.PublicMetadata); diff != "" {
				t.Errorf("after removing plan (-want +got):\n%s", diff)
			}
			events.want(t, "user.updated")

			got = identity.UserJSON{}
			c.ok(http.MethodPut, "/users/"+u.ID+"/metadata", obj{"public_metadata": obj{"only": true}}, &got)
			if diff := cmp.Diff(map[string]any{"only": true}, got.PublicMetadata); diff != "" {
				t.Errorf("replaced public_metadata (-want +got):\n%s", diff)
			}
			if got.PrivateMetadata["stripe"] != "cus_1" {
				t.Errorf("replace without private_metadata changed it: %v", got.PrivateMetadata)
			}
			events.want(t, "user.updated")

			// Too large: refused, nothing changes.
			big := make([]byte, 9000)
			for i := range big {
				big[i] = 'x'
			}
			wantError(t, c.do(http.MethodPatch, "/users/"+u.ID+"/metadata", obj{"public_metadata": obj{"big": string(big)}}), 422, "form_param_format_invalid", "public_metadata")
			got = identity.UserJSON{}
			c.ok(http.MethodGet, "/users/"+u.ID, nil, &got)
			if diff := cmp.Diff(map[string]any{"only": true}, got.PublicMetadata); diff != "" {
				t.Errorf("refused merge changed metadata (-want +got):\n%s", diff)
			}
			events.want(t)
		})

		t.Run("ban lock", func(t *testing.T) {
			var got identity.UserJSON
			c.ok(http.MethodPost, "/users/"+u.ID+"/ban", nil, &got)
			if !got.Banned {
				t.Error("ban: banned false")
			}
			c.ok(http.MethodPost, "/users/"+u.ID+"/unban", nil, &got)
			if got.Banned {
				t.Error("unban: banned true")
			}
			c.ok(http.MethodPost, "/users/"+u.ID+"/lock", nil, &got)
			if !got.Locked {
				t.Error("lock: locked false")
			}
			c.ok(http.MethodPost, "/users/"+u.ID+"/unlock", "{}", &got)
			if got.Locked {
				t.Error("unlock: locked true")
			}
			events.want(t, "user.updated", "user.updated", "user.updated", "user.updated")
			wantError(t, c.do(http.MethodPost, "/users/"+u.ID+"/lock", obj{"expires_in_seconds": 0}), 422, "form_param_format_invalid", "expires_in_seconds")
			wantError(t, c.do(http.MethodPost, "/users/"+u.ID+"/ban", obj{"reason": "x"}), 400, "form_param_unknown", "reason")
			events.want(t)
		})

		t.Run("list and pagination", func(t *testing.T) {
			for i := range 4 {
				c.ok(http.MethodPost, "/users", obj{"email_address": fmt.Sprintf("user%d@example.com", i)}, nil)
			}
			events.want(t, "user.created", "user.created", "user.created", "user.created")
			var all []identity.UserJSON
			c.ok(http.MethodGet, "/users", nil, &all)
			if len(all) != 5 || all[0].EmailAddresses[0].EmailAddress != "user3@example.com" {
				t.Fatalf("GET /users: %d users, first %v; want 5, newest first", len(all), all[0].EmailAddresses)
			}
			var pageTwo []identity.UserJSON
			c.ok(http.MethodGet, "/users?limit=2&offset=2", nil, &pageTwo)
			if diff := cmp.Diff(all[2:4], pageTwo); diff != "" {
				t.Errorf("limit=2&offset=2 (-want +got):\n%s", diff)
			}
			var paged struct {
				Data       []identity.UserJSON `json:"data"`
				TotalCount int                 `json:"total_count"`
			}
			c.ok(http.MethodGet, "/users?paginated=true&limit=1", nil, &paged)
			if paged.TotalCount != 5 || len(paged.Data) != 1 {
				t.Errorf("paginated: total %d, %d items; want 5 and 1", paged.TotalCount, len(paged.Data))
			}
			var filtered []identity.UserJSON
			c.ok(http.MethodGet, "/users?email_address=user1@example.com&email_address=USER2@example.com", nil, &filtered)
			if len(filtered) != 2 {
				t.Errorf("filter by two addresses: %d users, want 2", len(filtered))
			}
			var count obj
			c.ok(http.MethodGet, "/users/count?query=user", nil, &count)
			if count["total_count"] != float64(4) {
				t.Errorf("count?query=user: %v, want 4", count["total_count"])
			}
			for _, tc := range []struct{ query, code, param string }{
				{"limit=0", "form_param_format_invalid", "limit"},
				{"limit=501", "form_param_format_invalid", "limit"},
				{"limit=x", "form_param_format_invalid", "limit"},
				{"offset=-1", "form_param_format_invalid", "offset"},
				{"limit=1&limit=2", "form_param_format_invalid", "limit"},
				{"organization_id=org_x", "form_param_unknown", "organization_id"},
				{"order_by=first_name", "form_param_format_invalid", "order_by"},
				{"paginated=yes", "form_param_format_invalid", "paginated"},
			} {
				wantError(t, c.do(http.MethodGet, "/users?"+tc.query, nil), 400, tc.code, tc.param)
			}
		})

		t.Run("memberships of a user", func(t *testing.T) {
			for _, name := range []string{"One", "Two"} {
				c.ok(http.MethodPost, "/organizations", obj{"name": name, "created_by": u.ID}, nil)
			}
			var got struct {
				Data []struct {
					Object         string   `json:"object"`
					Role           string   `json:"role"`
					RoleName       string   `json:"role_name"`
					Permissions    []string `json:"permissions"`
					Organization   obj      `json:"organization"`
					PublicUserData obj      `json:"public_user_data"`
				} `json:"data"`
				TotalCount int `json:"total_count"`
			}
			c.ok(http.MethodGet, "/users/"+u.ID+"/organization_memberships?limit=1", nil, &got)
			if got.TotalCount != 2 || len(got.Data) != 1 {
				t.Fatalf("memberships: total %d, %d items; want 2 and 1", got.TotalCount, len(got.Data))
			}
			m := got.Data[0]
			if m.Object != "organization_membership" || m.Role != "org:owner" || m.RoleName == "" || len(m.Permissions) == 0 ||
				m.Organization["name"] != "Two" || m.PublicUserData["identifier"] != "ada@example.com" {
				t.Errorf("newest membership %+v", m)
			}
			wantError(t, c.do(http.MethodGet, "/users/user_nobody/organization_memberships", nil), 404, "resource_not_found", "")
			events.want(t, "organization.created", "organizationMembership.created", "organization.created", "organizationMembership.created")
		})

		t.Run("delete", func(t *testing.T) {
			var victim identity.UserJSON
			c.ok(http.MethodPost, "/users", obj{"email_address": "gone@example.com"}, &victim)
			var del obj
			c.ok(http.MethodDelete, "/users/"+victim.ID, nil, &del)
			if diff := cmp.Diff(obj{"object": "user", "id": victim.ID, "deleted": true}, del); diff != "" {
				t.Errorf("delete answer (-want +got):\n%s", diff)
			}
			wantError(t, c.do(http.MethodGet, "/users/"+victim.ID, nil), 404, "resource_not_found", "")
			wantError(t, c.do(http.MethodDelete, "/users/"+victim.ID, nil), 404, "resource_not_found", "")
			events.want(t, "user.created", "user.deleted")
		})
	})
}
