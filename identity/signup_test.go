package identity_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/identity/identitytest"
	"github.com/orgid/orgid/storage/storagetest"
)

const (
	browserA = "browser-a-0123456789abcdef0123456789"
	browserB = "browser-b-0123456789abcdef0123456789"
	clientIP = "198.51.100.20"
)

func signUp(t *testing.T, e *env, email string) *identity.EmailVerification {
	t.Helper()
	v, err := e.svc.StartSignUp(context.Background(), identity.SignUpRequest{
		Email: email, Password: goodPassword, FirstName: "Grace", LastName: "Hopper", Binding: browserA, ClientIP: clientIP,
	})
	if err != nil {
		t.Fatalf("StartSignUp(%s): %v", email, err)
	}
	return v
}

// wrongCode is a code that differs from code.
func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func TestSignUpCreatesTheUserOnlyWithTheCode(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		v := signUp(t, e, "Grace@Example.com")
		if v.AccountExists || len(v.Code) != 6 || v.ID == "" || v.Purpose != identity.VerifySignUp {
			t.Fatalf("StartSignUp = %+v, want a code to mail", v)
		}
		if _, err := e.svc.UserByEmail(ctx, "grace@example.com"); err == nil {
			t.Fatal("the user exists before the code was entered")
		}
		if got := e.events.types(t); len(got) != 0 {
			t.Errorf("events before the code = %v, want none", got)
		}

		_, _, err := e.svc.CompleteEmailVerification(ctx, v.ID, browserA, wrongCode(v.Code), clientIP)
		var wrong *identity.CodeError
		if !errors.As(err, &wrong) || wrong.Remaining != identity.MaxCodeAttempts-1 || !errors.Is(err, identity.ErrCodeInvalid) {
			t.Fatalf("wrong code: err = %v, want a CodeError with %d left", err, identity.MaxCodeAttempts-1)
		}
		if _, _, err := e.svc.CompleteEmailVerification(ctx, v.ID, browserB, v.Code, clientIP); !errors.Is(err, identity.ErrVerificationNotFound) {
			t.Fatalf("right code in another browser: err = %v, want ErrVerificationNotFound", err)
		}

		u, created, err := e.svc.CompleteEmailVerification(ctx, v.ID, browserA, " "+v.Code+" ", clientIP)
		if err != nil || !created {
			t.Fatalf("right code: %v, created %v", err, created)
		}
		want := struct {
			Email, First, Last string
			Verified, Password bool
		}{"Grace@Example.com", "Grace", "Hopper", true, true}
		got := struct {
			Email, First, Last string
			Verified, Password bool
		}{u.Email, u.FirstName, u.LastName, u.EmailVerified, u.HasPassword}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("created user (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"user.created"}, e.events.types(t)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		if _, err := e.svc.Authenticate(ctx, "grace@example.com", goodPassword, clientIP); err != nil {
			t.Errorf("sign in with the sign-up's password: %v", err)
		}
		if _, _, err := e.svc.CompleteEmailVerification(ctx, v.ID, browserA, v.Code, clientIP); !errors.Is(err, identity.ErrVerificationNotFound) {
			t.Errorf("the code a second time: err = %v, want ErrVerificationNotFound", err)
		}
	})
}

func TestSignUpForATakenAddressLooksTheSame(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		owner := e.createUser(t, "ann@example.com")
		v := signUp(t, e, "ANN@example.com")
		if !v.AccountExists || v.Code != "" || v.ID == "" {
			t.Fatalf("StartSignUp for a taken address = %+v, want AccountExists and no code", v)
		}
		pending, err := e.svc.PendingEmailVerification(ctx, v.ID, browserA)
		if err != nil || pending.Email != "ANN@example.com" {
			t.Fatalf("PendingEmailVerification = %+v, %v", pending, err)
		}
		// No code completes it, not even after a resend.
		for _, code := range []string{"000000", "123456", "999999"} {
			if _, _, err := e.svc.CompleteEmailVerification(ctx, v.ID, browserA, code, clientIP); !errors.Is(err, identity.ErrCodeInvalid) {
				t.Fatalf("code %s: err = %v, want ErrCodeInvalid", code, err)
			}
		}
		u, err := e.svc.GetUser(ctx, owner.ID)
		if err != nil || !u.HasPassword || u.FirstName != owner.FirstName {
			t.Errorf("the owner's account changed: %+v, %v", u, err)
		}
		if n := count(t, db, "users", "email_normalized = ?", "ann@example.com"); n != 1 {
			t.Errorf("%d users with the address, want 1", n)
		}
	})
}

func TestSignUpValidation(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db, nil)
		for _, tc := range []struct {
			name      string
			req       identity.SignUpRequest
			wantField string
		}{
			{"bad email", identity.SignUpRequest{Email: "not-an-email", Password: goodPassword}, "email_address"},
			{"short password", identity.SignUpRequest{Email: "a@example.com", Password: "short"}, "password"},
			{"common password", identity.SignUpRequest{Email: "a@example.com", Password: "password123"}, "password"},
			{"password is the email", identity.SignUpRequest{Email: "longname@example.com", Password: "longname@example.com"}, "password"},
			{"name too long", identity.SignUpRequest{Email: "a@example.com", Password: goodPassword, FirstName: string(make([]byte, 300))}, "first_name"},
		} {
			tc.req.Binding = browserA
			_, err := e.svc.StartSignUp(context.Background(), tc.req)
			var invalid *identity.ValidationError
			if !errors.As(err, &invalid) || invalid.Field != tc.wantField {
				t.Errorf("%s: err = %v, want a ValidationError on %s", tc.name, err, tc.wantField)
			}
		}
		if n := count(t, db, "email_verifications", "1 = 1"); n != 0 {
			t.Errorf("%d pending sign-ups stored for refused input, want 0", n)
		}
	})
}

func TestEmailCodeLimits(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)

		t.Run("attempts", func(t *testing.T) {
			v := signUp(t, e, "attempts@example.com")
			for i := 1; i <= identity.MaxCodeAttempts; i++ {
				_, _, err := e.svc.CompleteEmailVerification(ctx, v.ID, browserA, wrongCode(v.Code), clientIP)
				var wrong *identity.CodeError
				if !errors.As(err, &wrong) || wrong.Remaining != identity.MaxCodeAttempts-i {
					t.Fatalf("wrong code %d: err = %v, want %d left", i, err, identity.MaxCodeAttempts-i)
				}
			}
			if _, _, err := e.svc.CompleteEmailVerification(ctx, v.ID, browserA, v.Code, clientIP); !errors.Is(err, identity.ErrTooManyAttempts) {
				t.Fatalf("right code after the attempts ran out: err = %v, want ErrTooManyAttempts", err)
			}
			// A new code restarts the attempts; the old code is worthless.
			e.clock.Advance(identity.CodeResendCooldown)
			fresh, err := e.svc.ResendEmailVerification(ctx, v.ID, browserA, clientIP)
			if err != nil || fresh.Code == "" || fresh.AttemptsLeft != identity.MaxCodeAttempts {
				t.Fatalf("resend = %+v, %v", fresh, err)
			}
			if fresh.Code != v.Code {
				if _, _, err := e.svc.CompleteEmailVerification(ctx, v.ID, browserA, v.Code, clientIP); !errors.Is(err, identity.ErrCodeInvalid) {
					t.Fatalf("the replaced code: err = %v, want ErrCodeInvalid", err)
				}
			}
			if _, created, err := e.svc.CompleteEmailVerification(ctx, v.ID, browserA, fresh.Code, clientIP); err != nil || !created {
				t.Fatalf("the new code: created %v, %v", created, err)
			}
		})

		t.Run("expiry", func(t *testing.T) {
			v := signUp(t, e, "expiry@example.com")
			e.clock.Advance(identity.CodeLifetime)
			if _, _, err := e.svc.CompleteEmailVerification(ctx, v.ID, browserA, v.Code, clientIP); !errors.Is(err, identity.ErrCodeExpired) {
				t.Fatalf("code at its expiry: err = %v, want ErrCodeExpired", err)
			}
			if n, err := e.svc.PruneExpired(ctx); err != nil || n < 1 {
				t.Fatalf("PruneExpired = %d, %v; want the expired row gone", n, err)
			}
			if _, err := e.svc.PendingEmailVerification(ctx, v.ID, browserA); !errors.Is(err, identity.ErrVerificationNotFound) {
				t.Fatalf("after pruning: err = %v, want ErrVerificationNotFound", err)
			}
		})

		t.Run("resend cooldown", func(t *testing.T) {
			v := signUp(t, e, "cooldown@example.com")
			_, err := e.svc.ResendEmailVerification(ctx, v.ID, browserA, clientIP)
			var throttled *identity.ThrottledError
			if !errors.As(err, &throttled) || throttled.RetryAfter <= 0 || throttled.RetryAfter > identity.CodeResendCooldown {
				t.Fatalf("resend at once: err = %v, want a ThrottledError within the cooldown", err)
			}
			if _, err := e.svc.ResendEmailVerification(ctx, v.ID, browserB, clientIP); !errors.Is(err, identity.ErrVerificationNotFound) {
				t.Fatalf("resend from another browser: err = %v, want ErrVerificationNotFound", err)
			}
		})

		t.Run("mails per address", func(t *testing.T) {
			limit := identity.DefaultThrottlePolicy().MaxMailsPerAddress
			for i := 0; i < limit; i++ {
				signUp(t, e, "flood@example.com")
			}
			_, err := e.svc.StartSignUp(ctx, identity.SignUpRequest{Email: "FLOOD@example.com", Password: goodPassword, Binding: browserA})
			if !errors.Is(err, identity.ErrThrottled) {
				t.Fatalf("sign-up %d for one address: err = %v, want ErrThrottled", limit+1, err)
			}
			e.clock.Advance(identity.DefaultThrottlePolicy().Window)
			signUp(t, e, "flood@example.com")
		})

		t.Run("wrong codes per client address", func(t *testing.T) {
			// Many verifications, each below its own attempt limit, from
			// one address: the address's failure limit stops them all.
			svc := identitytest.NewServiceWith(t, db, identity.Options{Now: e.clock.Now, Throttle: identity.ThrottlePolicy{MaxFailuresPerIP: 3}})
			ip := "192.0.2.99"
			for i := 0; i < 3; i++ {
				v, err := svc.StartSignUp(ctx, identity.SignUpRequest{Email: fmt.Sprintf("guess%d@example.org", i), Password: goodPassword, Binding: browserA})
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := svc.CompleteEmailVerification(ctx, v.ID, browserA, wrongCode(v.Code), ip); !errors.Is(err, identity.ErrCodeInvalid) {
					t.Fatalf("guess %d: err = %v, want ErrCodeInvalid", i, err)
				}
			}
			v, err := svc.StartSignUp(ctx, identity.SignUpRequest{Email: "guess-last@example.org", Password: goodPassword, Binding: browserA})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := svc.CompleteEmailVerification(ctx, v.ID, browserA, v.Code, ip); !errors.Is(err, identity.ErrThrottled) {
				t.Fatalf("after 3 wrong codes from %s: err = %v, want ErrThrottled", ip, err)
			}
			if _, created, err := svc.CompleteEmailVerification(ctx, v.ID, browserA, v.Code, "192.0.2.100"); err != nil || !created {
				t.Fatalf("from another address: created %v, %v", created, err)
			}
		})
	})
}

func TestVerifyEmailOfASignedInUser(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		u, err := e.svc.CreateUser(ctx, identity.NewUser{Email: "kim@example.com", Password: goodPassword})
		if err != nil {
			t.Fatal(err)
		}
		v, err := e.svc.StartEmailVerification(ctx, u.ID, browserA, clientIP)
		if err != nil || v.Code == "" || v.UserID != u.ID || v.Purpose != identity.VerifyEmail {
			t.Fatalf("StartEmailVerification = %+v, %v", v, err)
		}
		got, created, err := e.svc.CompleteEmailVerification(ctx, v.ID, browserA, v.Code, clientIP)
		if err != nil || created || !got.EmailVerified || got.ID != u.ID {
			t.Fatalf("CompleteEmailVerification = %+v, created %v, %v", got, created, err)
		}
		evs := e.events.all(t)
		last := evs[len(evs)-1]
		addr := last.Data["email_addresses"].([]any)[0].(map[string]any)
		if last.Type != "user.updated" || addr["verification"].(map[string]any)["status"] != "verified" {
			t.Errorf("last event = %s %v, want user.updated with a verified address", last.Type, addr)
		}
		if _, err := e.svc.StartEmailVerification(ctx, u.ID, browserA, clientIP); !errors.Is(err, identity.ErrAlreadyVerified) {
			t.Errorf("verified address: err = %v, want ErrAlreadyVerified", err)
		}
	})
}

// Twenty browsers' worth of requests race to complete one sign-up with
// the right code: exactly one user is created.
func TestCompleteSignUpConcurrently(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		v := signUp(t, e, "race@example.com")
		var wg sync.WaitGroup
		results := make(chan error, 20)
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, created, err := e.svc.CompleteEmailVerification(ctx, v.ID, browserA, v.Code, fmt.Sprintf("203.0.113.%d", i))
				if err == nil && !created {
					err = errors.New("completed without creating")
				}
				results <- err
			}()
		}
		wg.Wait()
		close(results)
		wins := 0
		for err := range results {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, identity.ErrVerificationNotFound), errors.Is(err, identity.ErrTooManyAttempts):
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if wins != 1 {
			t.Errorf("%d requests created the user, want exactly 1", wins)
		}
		if n := count(t, db, "users", "email_normalized = ?", "race@example.com"); n != 1 {
			t.Errorf("%d users, want 1", n)
		}
	})
}

func TestACRFor(t *testing.T) {
	for _, tc := range []struct {
		amr  []string
		want string
	}{
		{nil, identity.ACRSingleFactor},
		{[]string{"pwd"}, identity.ACRSingleFactor},
		{[]string{"email"}, identity.ACRSingleFactor},
		{[]string{"pwd", "otp"}, identity.ACRMultiFactor},
		{[]string{"email", "otp"}, identity.ACRMultiFactor},
		{[]string{"fed", "otp"}, identity.ACRMultiFactor},
		{[]string{"hwk"}, identity.ACRSingleFactor},
		{[]string{"hwk", "user"}, identity.ACRMultiFactor},
		{[]string{"otp"}, identity.ACRSingleFactor},
	} {
		if got := identity.ACRFor(tc.amr); got != tc.want {
			t.Errorf("ACRFor(%v) = %q, want %q", tc.amr, got, tc.want)
		}
	}
}
