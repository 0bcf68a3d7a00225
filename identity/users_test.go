package identity_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/storagetest"
)

func ptr[T any](v T) *T { return &v }

func TestCreateAndGetUser(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		nu := identity.NewUser{
			Email:           "  Ann.Lee@Example.COM ",
			Password:        "correct horse battery staple",
			FirstName:       "Ann",
			LastName:        "Lee",
			Username:        "AnnLee",
			ImageURL:        "https://img.example.com/ann.png",
			ExternalID:      "crm-42",
			EmailVerified:   true,
			PublicMetadata:  map[string]any{"plan": "pro", "seats": 3.0, "tags": []any{"a", "b"}},
			PrivateMetadata: map[string]any{"stripe": "cus_1"},
			Profile: identity.Profile{
				Nickname: "annie", Website: "https://ann.example.com", Birthdate: "0000-04-01", Locale: "en-GB",
				PhoneNumber: "+44 20 7946 0000", PhoneNumberVerified: true,
				Address: &identity.Address{Locality: "London", Country: "GB"},
			},
		}
		created, err := e.svc.CreateUser(ctx, nu)
		if err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		if !id.HasPrefix(created.ID, "user") {
			t.Errorf("id = %q, want a user_ id", created.ID)
		}
		want := &identity.User{
			ID: created.ID, Email: "Ann.Lee@Example.COM", EmailVerified: true,
			FirstName: "Ann", LastName: "Lee", Username: "annlee",
			ImageURL: "https://img.example.com/ann.png", ExternalID: "crm-42",
			PublicMetadata: nu.PublicMetadata, PrivateMetadata: nu.PrivateMetadata,
			UnsafeMetadata: map[string]any{}, Profile: nu.Profile, HasPassword: true,
			CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now(),
		}
		if diff := cmp.Diff(want, created); diff != "" {
			t.Errorf("CreateUser returned (-want +got):\n%s", diff)
		}
		for name, get := range map[string]func() (*identity.User, error){
			"GetUser":        func() (*identity.User, error) { return e.svc.GetUser(ctx, created.ID) },
			"UserByEmail":    func() (*identity.User, error) { return e.svc.UserByEmail(ctx, "ann.lee@example.com") },
			"UserByUsername": func() (*identity.User, error) { return e.svc.UserByUsername(ctx, "ANNLEE") },
		} {
			got, err := get()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s read back (-want +got):\n%s", name, diff)
			}
		}
		if got := created.FullName(); got != "Ann Lee" {
			t.Errorf("FullName = %q", got)
		}

		for _, missing := range []func() error{
			func() error { _, err := e.svc.GetUser(ctx, "user_nope"); return err },
			func() error { _, err := e.svc.GetUser(ctx, "bad\x00id\xff"); return err },
			func() error { _, err := e.svc.UserByEmail(ctx, "nobody@example.com"); return err },
		} {
			if err := missing(); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("lookup of a missing user = %v, want ErrNotFound", err)
			}
		}
	})
}

func TestCreateUserConflicts(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		if _, err := e.svc.CreateUser(ctx, identity.NewUser{Email: "bo@example.com", Username: "bo_1"}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			nu   identity.NewUser
			want error
		}{
			{"same email, other case", identity.NewUser{Email: "BO@Example.com"}, identity.ErrEmailTaken},
			{"same email, spaces", identity.NewUser{Email: " bo@example.com"}, identity.ErrEmailTaken},
			{"same username, other case", identity.NewUser{Email: "bo2@example.com", Username: "BO_1"}, identity.ErrUsernameTaken},
		} {
			_, err := e.svc.CreateUser(ctx, tc.nu)
			if !errors.Is(err, tc.want) || !errors.Is(err, storage.ErrConflict) {
				t.Errorf("%s: CreateUser = %v, want %v (a storage.ErrConflict)", tc.name, err, tc.want)
			}
		}
		if n := count(t, db, "users", "1 = 1"); n != 1 {
			t.Errorf("users = %d, want 1", n)
		}
	})
}

func TestCreateUserValidation(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		big := map[string]any{"x": strings.Repeat("y", 9000)}
		for _, tc := range []struct {
			name      string
			nu        identity.NewUser
			wantField string
			wantMsg   string
		}{
			{"no email", identity.NewUser{}, "email_address", "valid email"},
			{"no domain", identity.NewUser{Email: "ann@"}, "email_address", "valid email"},
			{"display name", identity.NewUser{Email: "Ann <ann@example.com>"}, "email_address", "valid email"},
			{"two addresses", identity.NewUser{Email: "a@example.com, b@example.com"}, "email_address", "valid email"},
			{"NUL", identity.NewUser{Email: "a\x00b@example.com"}, "email_address", "valid email"},
			{"short password", identity.NewUser{Email: "a@example.com", Password: "short"}, "password", "too short"},
			{"common password", identity.NewUser{Email: "a@example.com", Password: "Password123"}, "password", "commonly used"},
			{"password is the email", identity.NewUser{Email: "annabelle@example.com", Password: "Annabelle"}, "password", "email address"},
			{"username with @", identity.NewUser{Email: "a@example.com", Username: "a@b"}, "username", "Username must"},
			{"username too short", identity.NewUser{Email: "a@example.com", Username: "ab"}, "username", "Username must"},
			{"image not a URL", identity.NewUser{Email: "a@example.com", ImageURL: "javascript:alert(1)"}, "image_url", "http"},
			{"metadata too big", identity.NewUser{Email: "a@example.com", PublicMetadata: big}, "public_metadata", "bytes"},
			{"bad birthdate", identity.NewUser{Email: "a@example.com", Profile: identity.Profile{Birthdate: "1 April"}}, "birthdate", "YYYY"},
			{"bad website", identity.NewUser{Email: "a@example.com", Profile: identity.Profile{Website: "ftp://x"}}, "website", "http"},
		} {
			_, err := e.svc.CreateUser(ctx, tc.nu)
			var ve *identity.ValidationError
			if !errors.As(err, &ve) {
				t.Errorf("%s: CreateUser = %v, want a *ValidationError", tc.name, err)
				continue
			}
			if ve.Field != tc.wantField || !strings.Contains(ve.Message, tc.wantMsg) {
				t.Errorf("%s: got {%q, %q}, want field %q and a message with %q", tc.name, ve.Field, ve.Message, tc.wantField, tc.wantMsg)
			}
		}
		if n := count(t, db, "users", "1 = 1"); n != 0 {
			t.Errorf("users = %d after refused creations, want 0", n)
		}
		if ev := e.events.all(t); len(ev) != 0 {
			t.Errorf("events = %v, want none", ev)
		}
	})
}

func TestUserEventsCommitWithTheChange(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)

		// A caller's transaction that rolls back takes the user and its
		// event with it.
		boom := errors.New("boom")
		err := storage.InTx(ctx, db, func(ctx context.Context) error {
			if _, err := e.svc.CreateUser(ctx, identity.NewUser{Email: "gone@example.com"}); err != nil {
				return err
			}
			if n := count(t, storage.Conn(ctx, db), "test_events", "1 = 1"); n != 1 {
				t.Errorf("inside the transaction: %d events, want 1", n)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want boom", err)
		}
		if n := count(t, db, "users", "1 = 1"); n != 0 {
			t.Errorf("users after rollback = %d, want 0", n)
		}
		if ev := e.events.all(t); len(ev) != 0 {
			t.Errorf("events after rollback = %v, want none", ev)
		}

		// An event that cannot be recorded fails the change.
		e.events.fail = errors.New("outbox down")
		if _, err := e.svc.CreateUser(ctx, identity.NewUser{Email: "nope@example.com"}); !errors.Is(err, e.events.fail) {
			t.Errorf("CreateUser with failing events = %v, want the events error", err)
		}
		if n := count(t, db, "users", "1 = 1"); n != 0 {
			t.Errorf("users after failed event = %d, want 0", n)
		}
		e.events.fail = nil

		u, err := e.svc.CreateUser(ctx, identity.NewUser{Email: "kim@example.com", FirstName: "Kim"})
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Second)
		if _, err := e.svc.UpdateUser(ctx, u.ID, identity.UserUpdate{LastName: ptr("Park")}); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.DeleteUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		got := e.events.all(t)
		if diff := cmp.Diff([]string{"user.created", "user.updated", "user.deleted"}, e.events.types(t)); diff != "" {
			t.Fatalf("event types (-want +got):\n%s", diff)
		}
		created := got[0].Data
		if created["object"] != "user" || created["id"] != u.ID || created["first_name"] != "Kim" || created["last_name"] != nil {
			t.Errorf("user.created data = %v", created)
		}
		if got[1].Data["last_name"] != "Park" || got[1].Data["updated_at"] != float64(e.clock.Now().UnixMilli()) {
			t.Errorf("user.updated data = %v, want last_name Park and updated_at %d", got[1].Data, e.clock.Now().UnixMilli())
		}
		if diff := cmp.Diff(map[string]any{"object": "user", "id": u.ID, "deleted": true}, got[2].Data); diff != "" {
			t.Errorf("user.deleted data (-want +got):\n%s", diff)
		}
	})
}

func TestUserJSON(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	u := &identity.User{
		ID: "user_2abc", Email: "Ann@example.com", EmailVerified: true, FirstName: "Ann",
		PublicMetadata: map[string]any{"a": 1}, HasPassword: true, CreatedAt: created, UpdatedAt: created.Add(time.Second),
		Profile: identity.Profile{Locale: "de"},
	}
	want := identity.UserJSON{
		Object: "user", ID: "user_2abc", PrimaryEmailAddressID: ptr("idn_2abc"),
		EmailAddresses: []identity.EmailAddressJSON{{
			Object: "email_address", ID: "idn_2abc", EmailAddress: "Ann@example.com",
			Verification: identity.VerificationJSON{Status: "verified", Strategy: "admin"}, LinkedTo: []any{},
		}},
		FirstName: ptr("Ann"), PublicMetadata: map[string]any{"a": 1}, PrivateMetadata: map[string]any{},
		UnsafeMetadata: map[string]any{}, PasswordEnabled: true, Profile: identity.Profile{Locale: "de"},
		CreatedAt: created.UnixMilli(), UpdatedAt: created.UnixMilli() + 1000,
	}
	if diff := cmp.Diff(want, u.JSON()); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
	u.EmailVerified = false
	if v := u.JSON().EmailAddresses[0].Verification.Status; v != "unverified" {
		t.Errorf("unverified email: status %q", v)
	}
}

func TestListUsers(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		var ids []string
		for _, nu := range []identity.NewUser{
			{Email: "ann@example.com", FirstName: "Ann", LastName: "Lee", ExternalID: "x1"},
			{Email: "bob@example.com", FirstName: "Bob", Username: "bobby"},
			{Email: "carol@other.org", LastName: "100%_Sure"},
		} {
			u, err := e.svc.CreateUser(ctx, nu)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
			e.clock.Advance(time.Second)
		}
		for _, tc := range []struct {
			name      string
			params    identity.ListUsersParams
			want      []string // ids, newest first
			wantTotal int
		}{
			{"all", identity.ListUsersParams{}, []string{ids[2], ids[1], ids[0]}, 3},
			{"page", identity.ListUsersParams{Limit: 1, Offset: 1}, []string{ids[1]}, 3},
			{"emails, any case", identity.ListUsersParams{EmailAddress: []string{"ANN@example.com", "carol@other.org"}}, []string{ids[2], ids[0]}, 2},
			{"ids", identity.ListUsersParams{UserID: []string{ids[1]}}, []string{ids[1]}, 1},
			{"username", identity.ListUsersParams{Username: []string{"Bobby"}}, []string{ids[1]}, 1},
			{"external id", identity.ListUsersParams{ExternalID: []string{"x1"}}, []string{ids[0]}, 1},
			{"query email part", identity.ListUsersParams{Query: "EXAMPLE"}, []string{ids[1], ids[0]}, 2},
			{"query name", identity.ListUsersParams{Query: "lee"}, []string{ids[0]}, 1},
			{"query username", identity.ListUsersParams{Query: "bobb"}, []string{ids[1]}, 1},
			{"query id", identity.ListUsersParams{Query: ids[2]}, []string{ids[2]}, 1},
			{"query wildcards are literal", identity.ListUsersParams{Query: "%_"}, []string{ids[2]}, 1},
			{"query underscore literal", identity.ListUsersParams{Query: "_"}, []string{ids[2]}, 1},
			{"query and filter", identity.ListUsersParams{Query: "example", UserID: []string{ids[0], ids[2]}}, []string{ids[0]}, 1},
			{"no match", identity.ListUsersParams{Query: "zzz"}, []string{}, 0},
		} {
			users, total, err := e.svc.ListUsers(ctx, tc.params)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			got := []string{}
			for _, u := range users {
				got = append(got, u.ID)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" || total != tc.wantTotal {
				t.Errorf("%s: ids (-want +got):\n%s total = %d, want %d", tc.name, diff, total, tc.wantTotal)
			}
		}
	})
}

func TestUpdateUser(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		u, err := e.svc.CreateUser(ctx, identity.NewUser{Email: "ann@example.com", FirstName: "Ann", Username: "ann",
			PublicMetadata: map[string]any{"keep": true}, PrivateMetadata: map[string]any{"drop": true}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CreateUser(ctx, identity.NewUser{Email: "bob@example.com", Username: "bob"}); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		got, err := e.svc.UpdateUser(ctx, u.ID, identity.UserUpdate{
			LastName:        ptr("Lee"),
			Username:        ptr(""),
			EmailVerified:   ptr(true),
			PrivateMetadata: map[string]any{},
			UnsafeMetadata:  map[string]any{"theme": "dark"},
			Profile:         &identity.Profile{Zoneinfo: "Europe/Berlin"},
		})
		if err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		want := *u
		want.LastName, want.Username, want.EmailVerified = "Lee", "", true
		want.PrivateMetadata, want.UnsafeMetadata = map[string]any{}, map[string]any{"theme": "dark"}
		want.Profile = identity.Profile{Zoneinfo: "Europe/Berlin"}
		want.UpdatedAt = e.clock.Now()
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Errorf("UpdateUser (-want +got):\n%s", diff)
		}
		reread, err := e.svc.GetUser(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&want, reread); diff != "" {
			t.Errorf("GetUser after update (-want +got):\n%s", diff)
		}

		if _, err := e.svc.UpdateUser(ctx, u.ID, identity.UserUpdate{Username: ptr("BOB")}); !errors.Is(err, identity.ErrUsernameTaken) {
			t.Errorf("taking bob's username = %v, want ErrUsernameTaken", err)
		}
		var ve *identity.ValidationError
		if _, err := e.svc.UpdateUser(ctx, u.ID, identity.UserUpdate{ImageURL: ptr("data:x")}); !errors.As(err, &ve) {
			t.Errorf("bad image URL = %v, want a ValidationError", err)
		}
		if _, err := e.svc.UpdateUser(ctx, "user_nope", identity.UserUpdate{}); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("update of a missing user = %v, want ErrNotFound", err)
		}
	})
}

func TestSetPassword(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		u, err := e.svc.CreateUser(ctx, identity.NewUser{Email: "ann@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if u.HasPassword {
			t.Error("user created without a password has one")
		}
		if _, err := e.svc.Authenticate(ctx, "ann@example.com", "", ""); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Errorf("sign-in without a password set = %v, want ErrInvalidCredentials", err)
		}
		var ve *identity.ValidationError
		if err := e.svc.SetPassword(ctx, u.ID, "letmein123"); !errors.As(err, &ve) {
			t.Errorf("SetPassword(common) = %v, want a ValidationError", err)
		}
		if err := e.svc.SetPassword(ctx, u.ID, "a fine new password"); err != nil {
			t.Fatalf("SetPassword: %v", err)
		}
		got, err := e.svc.Authenticate(ctx, "ann@example.com", "a fine new password", "")
		if err != nil || !got.HasPassword {
			t.Fatalf("Authenticate after SetPassword = %v, %v", got, err)
		}
		if err := e.svc.SetPassword(ctx, "user_nope", "a fine new password"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("SetPassword(missing user) = %v, want ErrNotFound", err)
		}
		if diff := cmp.Diff([]string{"user.created", "user.updated"}, e.events.types(t)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
}
