package identity_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/identity/identitytest"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/storagetest"
)

const goodPassword = identitytest.Password

func TestAuthenticateAnswersAlike(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		ann := e.createUser(t, "Ann@Example.com")
		if _, err := e.svc.UpdateUser(ctx, ann.ID, identity.UserUpdate{Username: ptr("ann")}); err != nil {
			t.Fatal(err)
		}
		banned := e.createUser(t, "banned@example.com")
		if _, err := e.svc.BanUser(ctx, banned.ID); err != nil {
			t.Fatal(err)
		}
		locked := e.createUser(t, "locked@example.com")
		if _, err := e.svc.LockUser(ctx, locked.ID, e.clock.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.CreateUser(ctx, identity.NewUser{Email: "nopass@example.com"}); err != nil {
			t.Fatal(err)
		}

		for _, tc := range []struct {
			name, identifier, password string
			wantID                     string // "" means ErrInvalidCredentials
		}{
			{"right password", "ann@example.com", goodPassword, ann.ID},
			{"email any case, spaces", "  ANN@example.COM ", goodPassword, ann.ID},
			{"username", "Ann", goodPassword, ann.ID},
			{"wrong password", "ann@example.com", goodPassword + "!", ""},
			{"password is not trimmed", "ann@example.com", " " + goodPassword, ""},
			{"password is case-sensitive", "ann@example.com", "Correct horse battery staple", ""},
			{"unknown user", "nobody@example.com", goodPassword, ""},
			{"unknown username", "nobody", goodPassword, ""},
			{"empty identifier", "", goodPassword, ""},
			{"invalid UTF-8 identifier", "a\xff\x00@example.com", goodPassword, ""},
			{"no password set", "nopass@example.com", "", ""},
			{"banned, right password", "banned@example.com", goodPassword, ""},
			{"locked, right password", "locked@example.com", goodPassword, ""},
		} {
			u, err := e.svc.Authenticate(ctx, tc.identifier, tc.password, "203.0.113.7")
			if tc.wantID != "" {
				if err != nil || u.ID != tc.wantID {
					t.Errorf("%s: Authenticate = %v, %v; want user %s", tc.name, u, err, tc.wantID)
				}
				continue
			}
			// The very same error value: no wrapping that differs by cause.
			if err != identity.ErrInvalidCredentials || u != nil {
				t.Errorf("%s: Authenticate = %v, %v; want exactly ErrInvalidCredentials", tc.name, u, err)
			}
		}

		got, err := e.svc.GetUser(ctx, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.LastSignInAt.Equal(e.clock.Now()) {
			t.Errorf("LastSignInAt = %v, want %v", got.LastSignInAt, e.clock.Now())
		}

		// Lifting the ban and the lock lets the right password in.
		e.clock.Advance(time.Minute)
		if _, err := e.svc.UnbanUser(ctx, banned.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.UnlockUser(ctx, locked.ID); err != nil {
			t.Fatal(err)
		}
		for _, email := range []string{"banned@example.com", "locked@example.com"} {
			if _, err := e.svc.Authenticate(ctx, email, goodPassword, ""); err != nil {
				t.Errorf("Authenticate(%s) after unban/unlock = %v", email, err)
			}
		}
		// And the lock runs out by itself.
		if _, err := e.svc.LockUser(ctx, locked.ID, e.clock.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Authenticate(ctx, "locked@example.com", goodPassword, ""); err != identity.ErrInvalidCredentials {
			t.Errorf("locked: %v", err)
		}
		e.clock.Advance(time.Minute)
		if _, err := e.svc.Authenticate(ctx, "locked@example.com", goodPassword, ""); err != nil {
			t.Errorf("after the lock ran out: %v", err)
		}
	})
}

func TestAuthenticateRefusesTransaction(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db, nil)
		e.createUser(t, "ann@example.com")
		err := storage.InTx(context.Background(), db, func(ctx context.Context) error {
			_, err := e.svc.Authenticate(ctx, "ann@example.com", goodPassword, "")
			return err
		})
		if err == nil || errors.Is(err, identity.ErrInvalidCredentials) {
			t.Errorf("Authenticate inside a transaction = %v, want a usage error", err)
		}
	})
}

func TestThrottle(t *testing.T) {
	policy := identity.ThrottlePolicy{Window: 10 * time.Minute, MaxFailuresPerIdentifier: 3, MaxFailuresPerIP: 5}
	wantThrottled := func(t *testing.T, err error, wantWait time.Duration) {
		t.Helper()
		var te *identity.ThrottledError
		if !errors.Is(err, identity.ErrThrottled) || !errors.As(err, &te) {
			t.Fatalf("err = %v, want a *ThrottledError", err)
		}
		if te.RetryAfter != wantWait {
			t.Errorf("RetryAfter = %v, want %v", te.RetryAfter, wantWait)
		}
	}

	t.Run("per identifier", func(t *testing.T) {
		storagetest.Run(t, func(t *testing.T, db *bun.DB) {
			ctx := context.Background()
			e := newEnv(t, db, func(o *identity.Options) { o.Throttle = policy })
			e.createUser(t, "ann@example.com")
			for _, identifier := range []string{"ann@example.com", "ghost@example.com"} {
				start := e.clock.Now()
				for i := range 3 {
					// Different addresses: only the identifier counts.
					ip := []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"}[i]
					if _, err := e.svc.Authenticate(ctx, identifier, "wrong password", ip); err != identity.ErrInvalidCredentials {
						t.Fatalf("%s failure %d: %v", identifier, i+1, err)
					}
					e.clock.Advance(time.Minute)
				}
				// Existing or not, the fourth attempt is refused before the
				// password is looked at, even the right one.
				_, err := e.svc.Authenticate(ctx, "  "+identifier, goodPassword, "198.51.100.9")
				wantThrottled(t, err, start.Add(10*time.Minute).Sub(e.clock.Now()))
			}
			// Other identifiers are unaffected.
			if _, err := e.svc.Authenticate(ctx, "bob@example.com", "x", "198.51.100.1"); err != identity.ErrInvalidCredentials {
				t.Errorf("other identifier: %v", err)
			}
			// When the window ends, the right password works again.
			e.clock.Advance(10 * time.Minute)
			if _, err := e.svc.Authenticate(ctx, "ann@example.com", goodPassword, "198.51.100.1"); err != nil {
				t.Errorf("after the window: %v", err)
			}
		})
	})

	t.Run("success resets the identifier", func(t *testing.T) {
		storagetest.Run(t, func(t *testing.T, db *bun.DB) {
			ctx := context.Background()
			e := newEnv(t, db, func(o *identity.Options) { o.Throttle = policy })
			e.createUser(t, "ann@example.com")
			for range 2 {
				if _, err := e.svc.Authenticate(ctx, "ann@example.com", "wrong password", ""); err != identity.ErrInvalidCredentials {
					t.Fatal(err)
				}
			}
			if _, err := e.svc.Authenticate(ctx, "ann@example.com", goodPassword, ""); err != nil {
				t.Fatal(err)
			}
			// Without the reset the third failure would reach the limit and
			// the next attempt would be throttled.
			for i := range 3 {
				if _, err := e.svc.Authenticate(ctx, "ann@example.com", "wrong password", ""); err != identity.ErrInvalidCredentials {
					t.Fatalf("failure %d after success: %v", i+1, err)
				}
			}
			_, err := e.svc.Authenticate(ctx, "ann@example.com", goodPassword, "")
			wantThrottled(t, err, 10*time.Minute)
		})
	})

	t.Run("per IP", func(t *testing.T) {
		storagetest.Run(t, func(t *testing.T, db *bun.DB) {
			ctx := context.Background()
			e := newEnv(t, db, func(o *identity.Options) { o.Throttle = policy })
			e.createUser(t, "ann@example.com")
			// Five different identifiers from one /64: each fails once.
			for i, ip := range []string{"2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::9", "[2001:db8:1:2::3]:443", "2001:db8:1:2::4"} {
				identifier := []string{"a@x.org", "b@x.org", "c@x.org", "d@x.org", "e@x.org"}[i]
				if _, err := e.svc.Authenticate(ctx, identifier, "wrong", ip); err != identity.ErrInvalidCredentials {
					t.Fatalf("failure %d: %v", i+1, err)
				}
			}
			_, err := e.svc.Authenticate(ctx, "ann@example.com", goodPassword, "2001:db8:1:2::77")
			wantThrottled(t, err, 10*time.Minute)
			// Another network, or no address at all, is not throttled; a
			// successful sign-in does not reset the address.
			if _, err := e.svc.Authenticate(ctx, "ann@example.com", goodPassword, "2001:db8:1:3::1"); err != nil {
				t.Errorf("other /64: %v", err)
			}
			_, err = e.svc.Authenticate(ctx, "ann@example.com", goodPassword, "2001:db8:1:2::77")
			wantThrottled(t, err, 10*time.Minute)

			e.clock.Advance(10 * time.Minute)
			if _, err := e.svc.Authenticate(ctx, "ann@example.com", goodPassword, "2001:db8:1:2::77"); err != nil {
				t.Errorf("after the window: %v", err)
			}
		})
	})

	t.Run("a new window starts after the old one", func(t *testing.T) {
		storagetest.Run(t, func(t *testing.T, db *bun.DB) {
			ctx := context.Background()
			e := newEnv(t, db, func(o *identity.Options) { o.Throttle = policy })
			fail := func() {
				t.Helper()
				if _, err := e.svc.Authenticate(ctx, "ann@example.com", "wrong", ""); err != identity.ErrInvalidCredentials {
					t.Fatal(err)
				}
			}
			fail()
			fail()
			e.clock.Advance(10 * time.Minute) // the old window with 2 failures ends
			fail()
			fail()
			e.clock.Advance(time.Minute)
			fail() // third in the new window
			_, err := e.svc.Authenticate(ctx, "ann@example.com", "wrong", "")
			wantThrottled(t, err, 9*time.Minute)

			if n, err := e.svc.PruneThrottle(ctx); err != nil || n != 0 {
				t.Errorf("PruneThrottle in the window = %d, %v; want 0", n, err)
			}
			e.clock.Advance(9 * time.Minute)
			if n, err := e.svc.PruneThrottle(ctx); err != nil || n != 1 {
				t.Errorf("PruneThrottle after the window = %d, %v; want 1", n, err)
			}
		})
	})

	t.Run("unlock clears the counters", func(t *testing.T) {
		storagetest.Run(t, func(t *testing.T, db *bun.DB) {
			ctx := context.Background()
			e := newEnv(t, db, func(o *identity.Options) { o.Throttle = policy })
			ann := e.createUser(t, "ann@example.com")
			for range 3 {
				if _, err := e.svc.Authenticate(ctx, "ann@example.com", "wrong", ""); err != identity.ErrInvalidCredentials {
					t.Fatal(err)
				}
			}
			if _, err := e.svc.UnlockUser(ctx, ann.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Authenticate(ctx, "ann@example.com", goodPassword, ""); err != nil {
				t.Errorf("after UnlockUser: %v", err)
			}
		})
	})

	t.Run("counted once per failure across concurrent callers", func(t *testing.T) {
		storagetest.Run(t, func(t *testing.T, db *bun.DB) {
			ctx := context.Background()
			e := newEnv(t, db, func(o *identity.Options) {
				o.Throttle = identity.ThrottlePolicy{Window: time.Hour, MaxFailuresPerIdentifier: 20, MaxFailuresPerIP: -1}
			})
			errs := make(chan error, 20)
			for range 20 {
				go func() {
					_, err := e.svc.Authenticate(ctx, "ann@example.com", "wrong", "192.0.2.1")
					errs <- err
				}()
			}
			for range 20 {
				if err := <-errs; err != identity.ErrInvalidCredentials {
					t.Errorf("concurrent failure: %v", err)
				}
			}
			// Exactly 20 failures were counted: the next attempt is refused.
			_, err := e.svc.Authenticate(ctx, "ann@example.com", "wrong", "192.0.2.1")
			wantThrottled(t, err, time.Hour)
		})
	})
}

func TestAuthenticateUpgradesHash(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		keys := identitytest.Keyring(t)
		old := identitytest.NewServiceWith(t, db, identity.Options{Keys: keys})
		u := identitytest.CreateUser(t, old, "ann@example.com")
		hashOf := func() string {
			t.Helper()
			var h string
			if err := db.NewSelect().Table("users").Column("password_hash").Where("id = ?", u.ID).Scan(ctx, &h); err != nil {
				t.Fatal(err)
			}
			return h
		}
		before := hashOf()

		p := identitytest.CheapPasswordParams()
		p.Iterations = 2
		stronger := identity.New(db, identity.Options{Keys: keys, PasswordParams: &p})
		if _, err := stronger.Authenticate(ctx, "ann@example.com", "wrong password", ""); err != identity.ErrInvalidCredentials {
			t.Fatal(err)
		}
		if hashOf() != before {
			t.Error("a failed sign-in changed the hash")
		}
		if _, err := stronger.Authenticate(ctx, "ann@example.com", goodPassword, ""); err != nil {
			t.Fatal(err)
		}
		after := hashOf()
		if identity.NeedsRehash(after, p) {
			t.Errorf("hash after sign-in = %q, want parameters %+v", after, p)
		}
		if _, err := stronger.Authenticate(ctx, "ann@example.com", goodPassword, ""); err != nil {
			t.Errorf("sign-in with the upgraded hash: %v", err)
		}
		if hashOf() != after {
			t.Error("a hash with current parameters was replaced again")
		}
	})
}
