package templates_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/templates"
)

// clock is a settable fake clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)} }
func dur(d time.Duration) *time.Duration { return &d }
func str(s string) *string               { return &s }
func newService(db *bun.DB, c *clock) *templates.Service {
	return templates.NewService(db, templates.Options{Now: c.now})
}

// validationErrors returns the problems of a *ValidationError.
func validationErrors(t *testing.T, err error) []templates.Error {
	t.Helper()
	var ve *templates.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, templates.ErrInvalid) {
		t.Fatalf("error = %v, want a *ValidationError", err)
	}
	return ve.Errors
}

func TestServiceCRUD(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		c := newClock()
		svc := newService(db, c)

		// Key order and spacing are kept exactly.
		claims := `{"z": "{{user.id}}",   "a": {"y": 1, "b": "{{org.slug || 'none'}}"}}`
		created, err := svc.Create(ctx, templates.NewTemplate{Name: "supabase", Claims: json.RawMessage(claims)})
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		if !id.HasPrefix(created.ID, "jtmp") {
			t.Errorf("id %q is not a jtmp_ id", created.ID)
		}
		wantJSON := templates.TemplateJSON{
			Object: "jwt_template", ID: created.ID, Name: "supabase", Claims: json.RawMessage(claims),
			Lifetime: 60, AllowedClockSkew: 5, SigningAlgorithm: "RS256",
			CreatedAt: c.t.UnixMilli(), UpdatedAt: c.t.UnixMilli(),
		}
		if diff := cmp.Diff(wantJSON, created.JSON()); diff != "" {
			t.Errorf("created JSON (-want +got):\n%s", diff)
		}

		for _, key := range []string{created.ID, "supabase"} {
			got, err := svc.Get(ctx, key)
			if err != nil {
				t.Fatalf("Get(%q): %v", key, err)
			}
			if diff := cmp.Diff(wantJSON, got.JSON()); diff != "" {
				t.Errorf("Get(%q) JSON (-want +got):\n%s", key, diff)
			}
			if string(got.Claims) != claims {
				t.Errorf("Get(%q) claims = %s, want the exact text %s", key, got.Claims, claims)
			}
			out, err := got.Render(templates.Data{User: &templates.User{ID: "user_1"}})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"z": "user_1", "a": map[string]any{"y": json.Number("1"), "b": "none"}}
			if diff := cmp.Diff(want, out); diff != "" {
				t.Errorf("render of stored template (-want +got):\n%s", diff)
			}
		}

		c.advance(time.Minute)
		second, err := svc.Create(ctx, templates.NewTemplate{
			Name: "hasura", Claims: json.RawMessage(`{}`), Lifetime: time.Hour, ClockSkew: dur(0), Algorithm: "ES256",
		})
		if err != nil {
			t.Fatalf("Create with settings: %v", err)
		}
		if second.Lifetime != time.Hour || second.ClockSkew != 0 || second.Algorithm != "ES256" {
			t.Errorf("settings = %v %v %q, want 1h 0s ES256", second.Lifetime, second.ClockSkew, second.Algorithm)
		}

		list, err := svc.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, st := range list {
			names = append(names, st.Name)
		}
		if diff := cmp.Diff([]string{templates.PresetClerkSessionV2, "hasura", "supabase"}, names); diff != "" {
			t.Errorf("List names (-want +got):\n%s", diff)
		}

		c.advance(time.Minute)
		newClaims := `{"plan": "{{user.public_metadata.plan}}"}`
		updated, err := svc.Update(ctx, "supabase", templates.TemplateUpdate{
			Name: str("supabase-v2"), Claims: json.RawMessage(newClaims), Lifetime: dur(2 * time.Minute),
			ClockSkew: dur(10 * time.Second), Algorithm: str("ES256"),
		})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		wantJSON = templates.TemplateJSON{
			Object: "jwt_template", ID: created.ID, Name: "supabase-v2", Claims: json.RawMessage(newClaims),
			Lifetime: 120, AllowedClockSkew: 10, SigningAlgorithm: "ES256",
			CreatedAt: created.CreatedAt.UnixMilli(), UpdatedAt: c.t.UnixMilli(),
		}
		if diff := cmp.Diff(wantJSON, updated.JSON()); diff != "" {
			t.Errorf("updated JSON (-want +got):\n%s", diff)
		}
		reloaded, err := svc.Get(ctx, created.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantJSON, reloaded.JSON()); diff != "" {
			t.Errorf("reloaded JSON (-want +got):\n%s", diff)
		}
		if _, err := svc.Get(ctx, "supabase"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Get(old name) = %v, want ErrNotFound", err)
		}

		// An update that sets nothing keeps everything.
		same, err := svc.Update(ctx, created.ID, templates.TemplateUpdate{})
		if err != nil {
			t.Fatal(err)
		}
		if string(same.Claims) != newClaims || same.Lifetime != 2*time.Minute {
			t.Errorf("empty update changed the template: %+v", same.JSON())
		}

		if err := svc.Delete(ctx, "supabase-v2"); err != nil {
			t.Fatalf("Delete by name: %v", err)
		}
		if err := svc.Delete(ctx, second.ID); err != nil {
			t.Fatalf("Delete by id: %v", err)
		}
		for _, key := range []string{created.ID, "supabase-v2", second.ID} {
			if _, err := svc.Get(ctx, key); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Get(%q) after delete = %v, want ErrNotFound", key, err)
			}
			if err := svc.Delete(ctx, key); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Delete(%q) again = %v, want ErrNotFound", key, err)
			}
			if _, err := svc.Update(ctx, key, templates.TemplateUpdate{Name: str("x")}); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Update(%q) after delete = %v, want ErrNotFound", key, err)
			}
		}
	})
}

func TestServiceUniqueNames(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := newService(db, newClock())
		for _, name := range []string{"a", "b"} {
			if _, err := svc.Create(ctx, templates.NewTemplate{Name: name, Claims: json.RawMessage(`{}`)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := svc.Create(ctx, templates.NewTemplate{Name: "a", Claims: json.RawMessage(`{}`)}); !errors.Is(err, storage.ErrConflict) {
			t.Errorf("Create(duplicate name) = %v, want ErrConflict", err)
		}
		if _, err := svc.Update(ctx, "b", templates.TemplateUpdate{Name: str("a")}); !errors.Is(err, storage.ErrConflict) {
			t.Errorf("Update(rename onto a taken name) = %v, want ErrConflict", err)
		}
		if _, err := svc.Create(ctx, templates.NewTemplate{Name: templates.PresetClerkSessionV2, Claims: json.RawMessage(`{}`)}); !errors.Is(err, storage.ErrConflict) {
			t.Errorf("Create(preset name) = %v, want ErrConflict", err)
		}
		if _, err := svc.Update(ctx, "b", templates.TemplateUpdate{Name: str(templates.PresetClerkSessionV2)}); !errors.Is(err, storage.ErrConflict) {
			t.Errorf("Update(rename onto the preset) = %v, want ErrConflict", err)
		}
		if got, err := svc.Get(ctx, "b"); err != nil || got.Name != "b" {
			t.Errorf("Get(b) after failed renames = %v, %v; want it unchanged", got, err)
		}
	})
}

func TestServicePresetsAreImmutable(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := newService(db, newClock())
		preset, err := svc.Get(ctx, templates.PresetClerkSessionV2)
		if err != nil {
			t.Fatal(err)
		}
		if !preset.Builtin || !preset.JSON().Builtin {
			t.Errorf("preset is not marked built-in: %+v", preset.JSON())
		}
		for _, key := range []string{preset.Name, preset.ID} {
			if _, err := svc.Update(ctx, key, templates.TemplateUpdate{Lifetime: dur(time.Hour)}); !errors.Is(err, templates.ErrPreset) {
				t.Errorf("Update(%q) = %v, want ErrPreset", key, err)
			}
			if err := svc.Delete(ctx, key); !errors.Is(err, templates.ErrPreset) {
				t.Errorf("Delete(%q) = %v, want ErrPreset", key, err)
			}
			got, err := svc.Get(ctx, key)
			if err != nil || got.Lifetime != templates.DefaultLifetime {
				t.Errorf("Get(%q) = %v, %v; want the unchanged preset", key, got, err)
			}
		}
		claims, err := preset.Render(templates.Data{
			User: &templates.User{ID: "user_1"}, Org: &templates.Org{ID: "org_1", Slug: "acme"},
			Membership: &templates.Membership{Role: "org:admin", Permissions: []string{"org:projects:manage"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"v": 2, "fea": "o:projects", "o": map[string]any{"id": "org_1", "slg": "acme", "rol": "admin", "per": "manage", "fpm": "1"}}
		if diff := cmp.Diff(want, claims); diff != "" {
			t.Errorf("preset claims (-want +got):\n%s", diff)
		}
	})
}

func TestServiceValidation(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := templates.NewService(db, templates.Options{Algorithms: []string{"RS256"}, Now: newClock().now})
		tests := []struct {
			name string
			nt   templates.NewTemplate
			want []templates.Error
		}{
			{"everything wrong at once", templates.NewTemplate{
				Name: "Bad Name", Claims: json.RawMessage(`{"sub": "{{user.nme}}"}`),
				Lifetime: -time.Second, ClockSkew: dur(2 * time.Hour), Algorithm: "HS256",
			}, []templates.Error{
				{Path: "name", Message: `name "Bad Name" must be 1–64 lower-case letters, digits, '_' or '-', starting with a letter or digit`},
				{Path: "lifetime", Message: "lifetime must be between 1 and 315360000 seconds, got -1s"},
				{Path: "allowed_clock_skew", Message: "clock skew must be between 0 and 3600 seconds, got 2h0m0s"},
				{Path: "signing_algorithm", Message: `signing algorithm "HS256" is not available (available: RS256)`},
				{Path: "claims.sub", Message: `"sub" is a reserved claim: orgid sets it on every token`},
				{Path: "claims.sub", Column: 8, Message: `unknown field "nme" of user (known fields: id, external_id, first_name, last_name, full_name, username, email, primary_email_address, email_verified, image_url, created_at, updated_at, public_metadata, unsafe_metadata, organizations)`},
			}},
			{"missing name and claims", templates.NewTemplate{}, []templates.Error{
				{Path: "name", Message: "name is required"},
				{Path: "claims", Message: "claims must be a JSON object, got nothing"},
			}},
			{"fractional seconds", templates.NewTemplate{Name: "x", Claims: json.RawMessage(`{}`), Lifetime: 1500 * time.Millisecond, ClockSkew: dur(time.Millisecond)}, []templates.Error{
				{Path: "lifetime", Message: "lifetime 1.5s is not a whole number of seconds"},
				{Path: "allowed_clock_skew", Message: "clock skew 1ms is not a whole number of seconds"},
			}},
			{"algorithm the server has no key for", templates.NewTemplate{Name: "x", Claims: json.RawMessage(`{}`), Algorithm: "ES256"}, []templates.Error{
				{Path: "signing_algorithm", Message: `signing algorithm "ES256" is not available (available: RS256)`},
			}},
			{"name that looks like an id", templates.NewTemplate{Name: "jtmp_x", Claims: json.RawMessage(`{}`)}, []templates.Error{
				{Path: "name", Message: `name "jtmp_x" may not start with "jtmp_": ids do`},
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := svc.Create(ctx, tt.nt)
				if diff := cmp.Diff(tt.want, validationErrors(t, err)); diff != "" {
					t.Errorf("Create errors (-want +got):\n%s", diff)
				}
			})
		}
		list, err := svc.List(ctx)
		if err != nil || len(list) != 1 {
			t.Errorf("List after rejected creates = %d templates, %v; want only the preset", len(list), err)
		}

		orig, err := svc.Create(ctx, templates.NewTemplate{Name: "ok", Claims: json.RawMessage(`{"a": 1}`)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = svc.Update(ctx, "ok", templates.TemplateUpdate{Claims: json.RawMessage(`{"a": "{{org.rol}}"}`), Lifetime: dur(0)})
		want := []templates.Error{
			{Path: "lifetime", Message: "lifetime must be between 1 and 315360000 seconds, got 0s"},
			{Path: "claims.a", Column: 7, Message: `unknown field "rol" of org (known fields: id, name, slug, image_url, public_metadata, role, permissions)`},
		}
		if diff := cmp.Diff(want, validationErrors(t, err)); diff != "" {
			t.Errorf("Update errors (-want +got):\n%s", diff)
		}
		got, err := svc.Get(ctx, "ok")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(orig.JSON(), got.JSON()); diff != "" {
			t.Errorf("template changed by a rejected update (-before +after):\n%s", diff)
		}
	})
}

// Writes join the caller's transaction: when it rolls back, nothing stays.
func TestServiceJoinsCallerTransaction(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := newService(db, newClock())
		if _, err := svc.Create(ctx, templates.NewTemplate{Name: "kept", Claims: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err := storage.InTx(ctx, db, func(ctx context.Context) error {
			if _, err := svc.Create(ctx, templates.NewTemplate{Name: "rolled-back", Claims: json.RawMessage(`{}`)}); err != nil {
				return err
			}
			if _, err := svc.Update(ctx, "kept", templates.TemplateUpdate{Name: str("renamed")}); err != nil {
				return err
			}
			if err := svc.Delete(ctx, "renamed"); err != nil {
				return err
			}
			if _, err := svc.Get(ctx, "rolled-back"); err != nil {
				return err // reads see the transaction's own writes
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want boom", err)
		}
		if _, err := svc.Get(ctx, "rolled-back"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Get(rolled-back) = %v, want ErrNotFound", err)
		}
		if _, err := svc.Get(ctx, "kept"); err != nil {
			t.Errorf("Get(kept) = %v, want the template back after rollback", err)
		}
	})
}

func TestTimeClaimsAndPreview(t *testing.T) {
	st := &templates.StoredTemplate{Lifetime: 90 * time.Second, ClockSkew: 7 * time.Second}
	tmpl, err := templates.Parse([]byte(`{"email": "{{user.email}}", "aud": "api"}`))
	if err != nil {
		t.Fatal(err)
	}
	st.Template = tmpl
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	iat, nbf, exp := st.TimeClaims(now)
	if iat != now.Unix() || nbf != now.Unix()-7 || exp != now.Unix()+90 {
		t.Errorf("TimeClaims = %d, %d, %d; want %d, %d, %d", iat, nbf, exp, now.Unix(), now.Unix()-7, now.Unix()+90)
	}
	got, err := st.Preview(templates.Data{User: &templates.User{ID: "user_1", Email: "a@example.com"}, Session: &templates.Session{ID: "sess_1"}}, "https://id.example.com", now)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"email": "a@example.com", "aud": "api", "iss": "https://id.example.com", "sub": "user_1", "sid": "sess_1",
		"iat": now.Unix(), "nbf": now.Unix() - 7, "exp": now.Unix() + 90,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Preview (-want +got):\n%s", diff)
	}
}

// A row whose claims no longer pass validation (rules tightened after it
// was saved) is reported, not rendered with an empty claim.
func TestServiceRejectsStoredRowThatNoLongerCompiles(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		if _, err := db.NewInsert().Model(&map[string]any{
			"id": id.New("jtmp"), "name": "legacy", "claims": `{"x": "{{user.phone}}"}`,
			"lifetime_seconds": 60, "clock_skew_seconds": 5, "signing_algorithm": "RS256",
			"created_at": now, "updated_at": now,
		}).TableExpr("jwt_templates").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		svc := newService(db, newClock())
		if _, err := svc.Get(ctx, "legacy"); !errors.Is(err, templates.ErrInvalid) {
			t.Errorf("Get(legacy) = %v, want ErrInvalid", err)
		}
		if _, err := svc.List(ctx); !errors.Is(err, templates.ErrInvalid) {
			t.Errorf("List = %v, want ErrInvalid", err)
		}
	})
}

// Concurrent reads share compiled templates safely (run with -race).
func TestServiceConcurrentGet(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := newService(db, newClock())
		if _, err := svc.Create(ctx, templates.NewTemplate{Name: "shared", Claims: json.RawMessage(`{"e": "{{user.email}}"}`)}); err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 20)
		for i := range 20 {
			go func() {
				st, err := svc.Get(ctx, "shared")
				if err == nil {
					var claims map[string]any
					claims, err = st.Render(templates.Data{User: &templates.User{Email: fmt.Sprintf("u%d@example.com", i)}})
					if err == nil && claims["e"] != fmt.Sprintf("u%d@example.com", i) {
						err = fmt.Errorf("goroutine %d rendered %v", i, claims)
					}
				}
				errs <- err
			}()
		}
		for range 20 {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
	})
}
