package identity_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/storage/storagetest"
)

// enrollTOTP sets up and confirms an authenticator for the user and
// returns its secret and recovery codes.
func enrollTOTP(t *testing.T, e *env, userID string) (string, []string) {
	t.Helper()
	ctx := context.Background()
	en, err := e.svc.BeginTOTPEnrollment(ctx, userID, "orgid test")
	if err != nil {
		t.Fatalf("BeginTOTPEnrollment: %v", err)
	}
	codes, err := e.svc.ConfirmTOTPEnrollment(ctx, userID, totpCode(t, en.Secret, e.clock.Now()))
	if err != nil {
		t.Fatalf("ConfirmTOTPEnrollment: %v", err)
	}
	return en.Secret, codes
}

func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func TestTOTPEnrollment(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		u := e.createUser(t, "ann@example.com")

		en, err := e.svc.BeginTOTPEnrollment(ctx, u.ID, "Example")
		if err != nil || len(en.Secret) < 32 || len(en.QRCodePNG) == 0 || en.URL == "" {
			t.Fatalf("BeginTOTPEnrollment = %+v, %v", en, err)
		}
		again, err := e.svc.PendingTOTPEnrollment(ctx, u.ID, "Example")
		if err != nil || again.Secret != en.Secret || again.URL != en.URL {
			t.Fatalf("PendingTOTPEnrollment = %+v, %v; want the same secret and URL %s", again, err, en.URL)
		}
		if st, err := e.svc.SecondFactors(ctx, u.ID); err != nil || st.TOTP || !st.TOTPPending {
			t.Fatalf("SecondFactors while enrolling = %+v, %v", st, err)
		}
		if got, _ := e.svc.GetUser(ctx, u.ID); got.TwoFactorEnabled {
			t.Fatal("two factors enabled before the confirmation")
		}
		if _, err := e.svc.ConfirmTOTPEnrollment(ctx, u.ID, "000000"); !errors.Is(err, identity.ErrCodeInvalid) && totpCode(t, en.Secret, e.clock.Now()) != "000000" {
			t.Fatalf("wrong confirmation code: err = %v, want ErrCodeInvalid", err)
		}
		before := len(e.events.types(t))
		codes, err := e.svc.ConfirmTOTPEnrollment(ctx, u.ID, totpCode(t, en.Secret, e.clock.Now()))
		if err != nil || len(codes) != identity.RecoveryCodeCount {
			t.Fatalf("ConfirmTOTPEnrollment = %v, %v; want %d recovery codes", codes, err, identity.RecoveryCodeCount)
		}
		seen := map[string]bool{}
		for _, c := range codes {
			if len(c) != 11 || seen[c] {
				t.Errorf("recovery code %q: want 11 characters, all different", c)
			}
			seen[c] = true
		}
		evs := e.events.all(t)[before:]
		if len(evs) != 1 || evs[0].Type != "user.updated" || evs[0].Data["two_factor_enabled"] != true {
			t.Errorf("events of the confirmation = %v, want user.updated with two_factor_enabled", evs)
		}
		if got, _ := e.svc.GetUser(ctx, u.ID); !got.TwoFactorEnabled || !identity.NeedsSecondFactor(got, []string{"pwd"}) ||
			identity.NeedsSecondFactor(got, []string{"hwk", "user"}) {
			t.Errorf("after the confirmation: TwoFactorEnabled %v", got.TwoFactorEnabled)
		}
		if _, err := e.svc.BeginTOTPEnrollment(ctx, u.ID, "Example"); !errors.Is(err, identity.ErrTOTPEnabled) {
			t.Errorf("enrolling again: err = %v, want ErrTOTPEnabled", err)
		}

		if err := e.svc.DisableTOTP(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		st, err := e.svc.SecondFactors(ctx, u.ID)
		if err != nil || st.TOTP || st.TOTPPending || st.RecoveryCodesLeft != 0 {
			t.Errorf("after disabling: %+v, %v", st, err)
		}
		if got, _ := e.svc.GetUser(ctx, u.ID); got.TwoFactorEnabled {
			t.Error("two factors still enabled after disabling")
		}
		if err := e.svc.DisableTOTP(ctx, u.ID); !errors.Is(err, identity.ErrNoSecondFactor) {
			t.Errorf("disabling twice: err = %v, want ErrNoSecondFactor", err)
		}
	})
}

func TestSecondFactorSignIn(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		u := e.createUser(t, "ann@example.com")
		secret, recovery := enrollTOTP(t, e, u.ID)
		begin := func() string {
			t.Helper()
			id, err := e.svc.BeginSecondFactor(ctx, u.ID, []string{"pwd"}, browserA)
			if err != nil {
				t.Fatal(err)
			}
			return id
		}

		pending := begin()
		if got, err := e.svc.PendingSecondFactor(ctx, pending, browserA); err != nil || got.ID != u.ID {
			t.Fatalf("PendingSecondFactor = %v, %v", got, err)
		}
		code := totpCode(t, secret, e.clock.Now())
		if _, _, err := e.svc.CompleteSecondFactor(ctx, pending, browserB, code, clientIP); !errors.Is(err, identity.ErrNoPendingSignIn) {
			t.Fatalf("another browser: err = %v, want ErrNoPendingSignIn", err)
		}
		// The code that confirmed the enrolment was used: not again.
		if _, _, err := e.svc.CompleteSecondFactor(ctx, pending, browserA, code, clientIP); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Fatalf("a used code: err = %v, want ErrCodeInvalid", err)
		}
		e.clock.Advance(30 * time.Second)
		code = totpCode(t, secret, e.clock.Now())
		got, amr, err := e.svc.CompleteSecondFactor(ctx, pending, browserA, code, clientIP)
		if err != nil || got.ID != u.ID || len(amr) != 2 || amr[0] != "pwd" || amr[1] != "otp" {
			t.Fatalf("CompleteSecondFactor = %v, %v, %v; want the user and [pwd otp]", got, amr, err)
		}
		if _, _, err := e.svc.CompleteSecondFactor(ctx, pending, browserA, code, clientIP); !errors.Is(err, identity.ErrNoPendingSignIn) {
			t.Errorf("the pending sign-in again: err = %v, want ErrNoPendingSignIn", err)
		}
		if _, _, err := e.svc.CompleteSecondFactor(ctx, begin(), browserA, code, clientIP); !errors.Is(err, identity.ErrCodeInvalid) {
			t.Errorf("the same TOTP code in a new sign-in: err = %v, want ErrCodeInvalid", err)
		}

		t.Run("recovery codes work once", func(t *testing.T) {
			if _, amr, err := e.svc.CompleteSecondFactor(ctx, begin(), browserA, " "+upper(recovery[0])+" ", clientIP); err != nil || amr[1] != "otp" {
				t.Fatalf("recovery code: %v, %v", amr, err)
			}
			if _, _, err := e.svc.CompleteSecondFactor(ctx, begin(), browserA, recovery[0], clientIP); !errors.Is(err, identity.ErrCodeInvalid) {
				t.Fatalf("a used recovery code: err = %v, want ErrCodeInvalid", err)
			}
			if st, _ := e.svc.SecondFactors(ctx, u.ID); st.RecoveryCodesLeft != identity.RecoveryCodeCount-1 {
				t.Errorf("recovery codes left = %d, want %d", st.RecoveryCodesLeft, identity.RecoveryCodeCount-1)
			}
			fresh, err := e.svc.RegenerateRecoveryCodes(ctx, u.ID)
			if err != nil || len(fresh) != identity.RecoveryCodeCount {
				t.Fatalf("RegenerateRecoveryCodes = %v, %v", fresh, err)
			}
			if _, _, err := e.svc.CompleteSecondFactor(ctx, begin(), browserA, recovery[1], clientIP); !errors.Is(err, identity.ErrCodeInvalid) {
				t.Errorf("an old recovery code after regenerating: err = %v, want ErrCodeInvalid", err)
			}
		})

		t.Run("attempts per sign-in, then per user", func(t *testing.T) {
			e.clock.Advance(identity.DefaultThrottlePolicy().Window)
			p := begin()
			for i := 1; i <= identity.MaxSecondFactorAttempts; i++ {
				_, _, err := e.svc.CompleteSecondFactor(ctx, p, browserA, "aaaaa-aaaaa", clientIP)
				var wrong *identity.CodeError
				if !errors.As(err, &wrong) || wrong.Remaining != identity.MaxSecondFactorAttempts-i {
					t.Fatalf("wrong code %d: err = %v", i, err)
				}
			}
			e.clock.Advance(30 * time.Second)
			if _, _, err := e.svc.CompleteSecondFactor(ctx, p, browserA, totpCode(t, secret, e.clock.Now()), clientIP); !errors.Is(err, identity.ErrNoPendingSignIn) {
				t.Fatalf("right code after the attempts: err = %v, want ErrNoPendingSignIn (sign in again)", err)
			}
			// Starting over buys no more guesses than the user's limit.
			limit := identity.DefaultThrottlePolicy().MaxFailuresPerIdentifier
			for i := identity.MaxSecondFactorAttempts; i < limit; i++ {
				if _, _, err := e.svc.CompleteSecondFactor(ctx, begin(), browserA, "bbbbb-bbbbb", "203.0.113.1"); !errors.Is(err, identity.ErrCodeInvalid) {
					t.Fatalf("wrong code %d: err = %v", i+1, err)
				}
			}
			if _, _, err := e.svc.CompleteSecondFactor(ctx, begin(), browserA, totpCode(t, secret, e.clock.Now()), "203.0.113.2"); !errors.Is(err, identity.ErrThrottled) {
				t.Fatalf("after %d wrong codes: err = %v, want ErrThrottled", limit, err)
			}
		})

		t.Run("expiry", func(t *testing.T) {
			p := begin()
			e.clock.Advance(identity.SecondFactorLifetime)
			if _, err := e.svc.PendingSecondFactor(ctx, p, browserA); !errors.Is(err, identity.ErrNoPendingSignIn) {
				t.Errorf("at expiry: err = %v, want ErrNoPendingSignIn", err)
			}
			if n, err := e.svc.PruneExpired(ctx); err != nil || n == 0 {
				t.Errorf("PruneExpired = %d, %v; want the expired sign-ins gone", n, err)
			}
		})
	})
}

// One TOTP code sent to ten pending sign-ins at once is accepted once.
func TestTOTPCodeIsUsedOnceConcurrently(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		u := e.createUser(t, "ann@example.com")
		secret, _ := enrollTOTP(t, e, u.ID)
		e.clock.Advance(30 * time.Second)
		code := totpCode(t, secret, e.clock.Now())
		ids := make([]string, 10)
		for i := range ids {
			var err error
			if ids[i], err = e.svc.BeginSecondFactor(ctx, u.ID, []string{"pwd"}, browserA); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for _, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := e.svc.CompleteSecondFactor(ctx, id, browserA, code, "")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case !errors.Is(err, identity.ErrCodeInvalid):
					t.Errorf("unexpected error: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Errorf("the code was accepted %d times, want once", wins)
		}
	})
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
