package identity_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/storage/storagetest"
)

func TestPasswordReset(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		u, err := e.svc.CreateUser(ctx, identity.NewUser{Email: "ann@example.com", Password: goodPassword})
		if err != nil {
			t.Fatal(err)
		}
		sess, _, err := e.svc.CreateSession(ctx, u.ID, []string{"pwd"}, identity.SessionMeta{})
		if err != nil {
			t.Fatal(err)
		}
		first, err := e.svc.RequestPasswordReset(ctx, "ANN@example.com ", clientIP)
		if err != nil || first == nil || len(first.Token) < 43 || first.User.ID != u.ID {
			t.Fatalf("RequestPasswordReset = %+v, %v; want a 256-bit token for %s", first, err, u.ID)
		}
		if !first.ExpiresAt.Equal(e.clock.Now().Add(identity.PasswordResetLifetime)) {
			t.Errorf("link expires at %v, want %v", first.ExpiresAt, e.clock.Now().Add(identity.PasswordResetLifetime))
		}
		second, err := e.svc.RequestPasswordReset(ctx, "ann@example.com", clientIP)
		if err != nil || second == nil {
			t.Fatal(err)
		}
		if got, err := e.svc.PasswordResetUser(ctx, second.Token); err != nil || got.ID != u.ID {
			t.Fatalf("PasswordResetUser = %v, %v", got, err)
		}

		// A refused password leaves the link usable.
		var invalid *identity.ValidationError
		if _, err := e.svc.ResetPassword(ctx, second.Token, "short"); !errors.As(err, &invalid) {
			t.Fatalf("short password: err = %v, want a ValidationError", err)
		}
		const newPassword = "a whole new passphrase 42"
		before := len(e.events.types(t))
		got, err := e.svc.ResetPassword(ctx, second.Token, newPassword)
		if err != nil || !got.EmailVerified {
			t.Fatalf("ResetPassword = %+v, %v", got, err)
		}
		if _, err := e.svc.Authenticate(ctx, "ann@example.com", goodPassword, clientIP); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Errorf("the old password: err = %v, want ErrInvalidCredentials", err)
		}
		if _, err := e.svc.Authenticate(ctx, "ann@example.com", newPassword, clientIP); err != nil {
			t.Errorf("the new password: %v", err)
		}
		if s, err := e.svc.GetSession(ctx, sess.ID); err != nil || s.Status != identity.SessionRevoked || s.EndReason != string(identity.EndPasswordChanged) {
			t.Errorf("the user's session after the reset = %+v, %v; want revoked", s, err)
		}
		if diff := cmp.Diff([]string{"user.updated", "session.revoked"}, e.events.types(t)[before:]); diff != "" {
			t.Errorf("events of the reset (-want +got):\n%s", diff)
		}
		for name, tok := range map[string]string{"used link": second.Token, "older link": first.Token} {
			if _, err := e.svc.ResetPassword(ctx, tok, "yet another passphrase 43"); !errors.Is(err, identity.ErrLinkInvalid) {
				t.Errorf("%s: err = %v, want ErrLinkInvalid", name, err)
			}
		}

		t.Run("expiry", func(t *testing.T) {
			l, err := e.svc.RequestPasswordReset(ctx, "ann@example.com", clientIP)
			if err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(identity.PasswordResetLifetime)
			if _, err := e.svc.PasswordResetUser(ctx, l.Token); !errors.Is(err, identity.ErrLinkInvalid) {
				t.Errorf("at expiry: err = %v, want ErrLinkInvalid", err)
			}
		})

		t.Run("unknown and banned addresses", func(t *testing.T) {
			banned := e.createUser(t, "banned@example.com")
			if _, err := e.svc.BanUser(ctx, banned.ID); err != nil {
				t.Fatal(err)
			}
			for _, addr := range []string{"nobody@example.com", "banned@example.com", "not an address"} {
				if l, err := e.svc.RequestPasswordReset(ctx, addr, clientIP); l != nil || err != nil {
					t.Errorf("%s: = %+v, %v; want nothing and no error", addr, l, err)
				}
			}
		})

		t.Run("throttled alike for unknown and known addresses", func(t *testing.T) {
			e.clock.Advance(identity.DefaultThrottlePolicy().Window)
			limit := identity.DefaultThrottlePolicy().MaxMailsPerAddress
			for _, addr := range []string{"ann@example.com", "ghost@example.com"} {
				for i := 0; i < limit; i++ {
					if _, err := e.svc.RequestPasswordReset(ctx, addr, ""); err != nil {
						t.Fatalf("%s request %d: %v", addr, i+1, err)
					}
				}
				if _, err := e.svc.RequestPasswordReset(ctx, addr, ""); !errors.Is(err, identity.ErrThrottled) {
					t.Errorf("%s request %d: err = %v, want ErrThrottled", addr, limit+1, err)
				}
			}
		})
	})
}

func TestPasswordResetConcurrently(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		e.createUser(t, "race@example.com")
		l, err := e.svc.RequestPasswordReset(ctx, "race@example.com", clientIP)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 10)
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := e.svc.ResetPassword(ctx, l.Token, "concurrent passphrase number one")
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		wins := 0
		for err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, identity.ErrLinkInvalid):
				t.Errorf("unexpected error: %v", err)
			}
		}
		if wins != 1 {
			t.Errorf("%d resets succeeded with one link, want 1", wins)
		}
	})
}

func TestMagicLink(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		u, err := e.svc.CreateUser(ctx, identity.NewUser{Email: "lee@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		l, err := e.svc.RequestMagicLink(ctx, "lee@example.com", browserA, clientIP)
		if err != nil || l == nil || len(l.Token) < 43 {
			t.Fatalf("RequestMagicLink = %+v, %v", l, err)
		}
		if !l.ExpiresAt.Equal(e.clock.Now().Add(identity.MagicLinkLifetime)) {
			t.Errorf("expires at %v, want in %v", l.ExpiresAt, identity.MagicLinkLifetime)
		}
		// Another browser cannot use it, and does not spend it.
		if _, err := e.svc.RedeemMagicLink(ctx, l.Token, browserB, clientIP); !errors.Is(err, identity.ErrLinkOtherBrowser) {
			t.Fatalf("other browser: err = %v, want ErrLinkOtherBrowser", err)
		}
		got, err := e.svc.RedeemMagicLink(ctx, l.Token, browserA, clientIP)
		if err != nil || got.ID != u.ID || !got.EmailVerified || got.LastSignInAt.IsZero() {
			t.Fatalf("RedeemMagicLink = %+v, %v; want the user, now verified and signed in", got, err)
		}
		if _, err := e.svc.RedeemMagicLink(ctx, l.Token, browserA, clientIP); !errors.Is(err, identity.ErrLinkInvalid) {
			t.Errorf("second use: err = %v, want ErrLinkInvalid", err)
		}
		// A magic link is no reset token and the other way round.
		reset, err := e.svc.RequestPasswordReset(ctx, "lee@example.com", clientIP)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.RedeemMagicLink(ctx, reset.Token, browserA, clientIP); !errors.Is(err, identity.ErrLinkInvalid) {
			t.Errorf("a reset token as a magic link: err = %v, want ErrLinkInvalid", err)
		}

		t.Run("expiry", func(t *testing.T) {
			l, err := e.svc.RequestMagicLink(ctx, "lee@example.com", browserA, clientIP)
			if err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(identity.MagicLinkLifetime)
			if _, err := e.svc.RedeemMagicLink(ctx, l.Token, browserA, clientIP); !errors.Is(err, identity.ErrLinkInvalid) {
				t.Errorf("at expiry: err = %v, want ErrLinkInvalid", err)
			}
		})

		t.Run("guessing is throttled per client address", func(t *testing.T) {
			svc := newThrottledService(t, e, 2)
			for i := 0; i < 2; i++ {
				if _, err := svc.RedeemMagicLink(ctx, "guess-token", browserA, "192.0.2.7"); !errors.Is(err, identity.ErrLinkInvalid) {
					t.Fatalf("guess %d: err = %v", i, err)
				}
			}
			l, err := svc.RequestMagicLink(ctx, "lee@example.com", browserA, "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.RedeemMagicLink(ctx, l.Token, browserA, "192.0.2.7"); !errors.Is(err, identity.ErrThrottled) {
				t.Errorf("after the guesses: err = %v, want ErrThrottled", err)
			}
		})

		t.Run("locked users get no link", func(t *testing.T) {
			if _, err := e.svc.LockUser(ctx, u.ID, e.clock.Now().Add(identity.MagicLinkLifetime)); err != nil {
				t.Fatal(err)
			}
			if l, err := e.svc.RequestMagicLink(ctx, "lee@example.com", browserA, ""); l != nil || err != nil {
				t.Errorf("locked: %+v, %v; want nothing", l, err)
			}
		})
	})
}
