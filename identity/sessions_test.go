package identity_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/storagetest"
)

// hookLog records the sessions the OnSessionEnded hooks saw, and checks
// that each ran inside the ending transaction and saw the ended row there.
type hookLog struct {
	t    *testing.T
	db   *bun.DB
	mu   sync.Mutex
	seen []string // "sid status"
	fail error
}

func (h *hookLog) hook(ctx context.Context, s *identity.Session) error {
	if _, ok := storage.TxFrom(ctx); !ok {
		h.t.Errorf("hook for %s ran outside a transaction", s.ID)
	}
	var status string
	if err := storage.Conn(ctx, h.db).NewSelect().Table("sessions").Column("status").Where("id = ?", s.ID).Scan(ctx, &status); err != nil {
		h.t.Errorf("hook: read session: %v", err)
	}
	if status != s.Status {
		h.t.Errorf("hook sees status %q in the transaction, session says %q", status, s.Status)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen = append(h.seen, s.ID+" "+s.Status)
	return h.fail
}

func (h *hookLog) calls() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.seen...)
}

func newSessionEnv(t *testing.T, db *bun.DB) (*env, *hookLog) {
	t.Helper()
	h := &hookLog{t: t, db: db}
	e := newEnv(t, db, func(o *identity.Options) { o.OnSessionEnded = append(o.OnSessionEnded, h.hook) })
	return e, h
}

func TestSessionLifecycle(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e, hooks := newSessionEnv(t, db)
		u := e.createUser(t, "ann@example.com")
		start := e.clock.Now()

		sess, token, err := e.svc.CreateSession(ctx, u.ID, []string{"pwd"}, identity.SessionMeta{UserAgent: "Firefox\xff", IP: " 192.0.2.1 "})
		if err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		if !id.HasPrefix(sess.ID, "sess") {
			t.Errorf("session id = %q, want a sess_ id", sess.ID)
		}
		if len(token) < 43 || token == sess.ID {
			t.Errorf("cookie token %q: want ≥ 256 bits and not the sid", token)
		}
		want := &identity.Session{
			ID: sess.ID, UserID: u.ID, AuthTime: start, AMR: []string{"pwd"}, ACR: identity.ACRSingleFactor, Status: "active",
			CreatedAt: start, UpdatedAt: start, LastActiveAt: start,
			ExpiresAt: start.Add(24 * time.Hour), IdleExpiresAt: start.Add(time.Hour),
			UserAgent: "Firefox\uFFFD", IP: "192.0.2.1",
		}
		if diff := cmp.Diff(want, sess); diff != "" {
			t.Errorf("CreateSession (-want +got):\n%s", diff)
		}
		var stored string
		if err := db.NewSelect().Table("sessions").Column("token_hash").Where("id = ?", sess.ID).Scan(ctx, &stored); err != nil || stored == token {
			t.Errorf("stored token_hash = %q (%v): must not be the token", stored, err)
		}

		got, err := e.svc.SessionByToken(ctx, token)
		if err != nil {
			t.Fatalf("SessionByToken: %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("SessionByToken (-want +got):\n%s", diff)
		}
		for _, bad := range []string{"", "x", token + "x", sess.ID} {
			if _, err := e.svc.SessionByToken(ctx, bad); err != identity.ErrNoSession {
				t.Errorf("SessionByToken(%q) = %v, want ErrNoSession", bad, err)
			}
		}

		// Uses within a minute do not write; later ones move last_active_at.
		e.clock.Advance(30 * time.Second)
		if got, _ = e.svc.SessionByToken(ctx, token); !got.LastActiveAt.Equal(start) {
			t.Errorf("after 30s LastActiveAt = %v, want unchanged %v", got.LastActiveAt, start)
		}
		e.clock.Advance(31 * time.Second)
		if got, _ = e.svc.SessionByToken(ctx, token); !got.LastActiveAt.Equal(e.clock.Now()) {
			t.Errorf("after 61s LastActiveAt = %v, want %v", got.LastActiveAt, e.clock.Now())
		}
		if stored, _ := e.svc.GetSession(ctx, sess.ID); !stored.LastActiveAt.Equal(e.clock.Now()) {
			t.Errorf("stored LastActiveAt = %v, want %v", stored.LastActiveAt, e.clock.Now())
		}
		if diff := cmp.Diff([]string{"user.created", "session.created"}, e.events.types(t)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		if ev := e.events.all(t)[1].Data; ev["object"] != "session" || ev["id"] != sess.ID || ev["user_id"] != u.ID || ev["status"] != "active" {
			t.Errorf("session.created data = %v", ev)
		}
		if len(hooks.calls()) != 0 {
			t.Errorf("hooks ran for a live session: %v", hooks.calls())
		}
	})
}

func TestSessionExpiry(t *testing.T) {
	for _, tc := range []struct {
		name string
		// use is called repeatedly before the session should end.
		keepAlive time.Duration
		endAfter  time.Duration
	}{
		// Idle: used once, then left alone for the idle timeout (1h).
		{"idle timeout", 0, time.Hour},
		// Absolute: used every 50 minutes, still ends at 24h.
		{"maximum lifetime", 50 * time.Minute, 24 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storagetest.Run(t, func(t *testing.T, db *bun.DB) {
				ctx := context.Background()
				e, hooks := newSessionEnv(t, db)
				u := e.createUser(t, "ann@example.com")
				sess, token, err := e.svc.CreateSession(ctx, u.ID, []string{"pwd"}, identity.SessionMeta{})
				if err != nil {
					t.Fatal(err)
				}
				end := e.clock.Now().Add(tc.endAfter)
				if tc.keepAlive > 0 {
					for e.clock.Now().Add(tc.keepAlive).Before(end) {
						e.clock.Advance(tc.keepAlive)
						if _, err := e.svc.SessionByToken(ctx, token); err != nil {
							t.Fatalf("at %v: %v", e.clock.Now(), err)
						}
					}
				}
				e.clock.Advance(end.Sub(e.clock.Now()) - time.Second)
				listed, err := e.svc.ListSessions(ctx, u.ID, true)
				if err != nil || len(listed) != 1 {
					t.Fatalf("one second before the end: ListSessions = %v, %v", listed, err)
				}
				e.clock.Advance(time.Second)
				// Before anyone looks, it already reads as expired.
				if got, err := e.svc.GetSession(ctx, sess.ID); err != nil || got.Status != "expired" {
					t.Errorf("GetSession at the end = %+v, %v; want status expired", got, err)
				}
				if listed, _ := e.svc.ListSessions(ctx, u.ID, true); len(listed) != 0 {
					t.Errorf("ListSessions(activeOnly) at the end = %v, want none", listed)
				}
				for range 2 {
					if _, err := e.svc.SessionByToken(ctx, token); err != identity.ErrNoSession {
						t.Fatalf("SessionByToken at the end = %v, want ErrNoSession", err)
					}
				}
				got, err := e.svc.GetSession(ctx, sess.ID)
				if err != nil || got.Status != "expired" || got.EndReason != "expired" || got.EndedAt == nil || !got.EndedAt.Equal(e.clock.Now()) {
					t.Errorf("stored session = %+v, %v; want expired now", got, err)
				}
				if diff := cmp.Diff([]string{sess.ID + " expired"}, hooks.calls()); diff != "" {
					t.Errorf("hooks (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]string{"user.created", "session.created"}, e.events.types(t)); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
				if err := e.svc.SetActiveOrganization(ctx, sess.ID, "org_1"); !errors.Is(err, identity.ErrNoSession) {
					t.Errorf("SetActiveOrganization on an expired session = %v, want ErrNoSession", err)
				}
				if _, err := e.svc.Reauthenticate(ctx, sess.ID, []string{"pwd"}); !errors.Is(err, identity.ErrNoSession) {
					t.Errorf("Reauthenticate an expired session = %v, want ErrNoSession", err)
				}
			})
		})
	}
}

func TestExpireSessions(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e, hooks := newSessionEnv(t, db)
		u := e.createUser(t, "ann@example.com")
		idle, _, _ := e.svc.CreateSession(ctx, u.ID, nil, identity.SessionMeta{})
		e.clock.Advance(30 * time.Minute)
		fresh, _, _ := e.svc.CreateSession(ctx, u.ID, nil, identity.SessionMeta{})
		e.clock.Advance(30 * time.Minute)
		n, err := e.svc.ExpireSessions(ctx, 0)
		if err != nil || n != 1 {
			t.Fatalf("ExpireSessions = %d, %v; want 1", n, err)
		}
		if diff := cmp.Diff([]string{idle.ID + " expired"}, hooks.calls()); diff != "" {
			t.Errorf("hooks (-want +got):\n%s", diff)
		}
		if got, _ := e.svc.GetSession(ctx, fresh.ID); got.Status != "active" {
			t.Errorf("fresh session status = %q", got.Status)
		}
		if n, err := e.svc.ExpireSessions(ctx, 0); err != nil || n != 0 {
			t.Errorf("second ExpireSessions = %d, %v; want 0", n, err)
		}
	})
}

func TestEndSession(t *testing.T) {
	for _, tc := range []struct {
		reason     identity.EndReason
		wantStatus string
		wantEvent  string
	}{
		{identity.EndSignOut, "ended", "session.ended"},
		{identity.EndRevoked, "revoked", "session.revoked"},
	} {
		t.Run(string(tc.reason), func(t *testing.T) {
			storagetest.Run(t, func(t *testing.T, db *bun.DB) {
				ctx := context.Background()
				e, hooks := newSessionEnv(t, db)
				u := e.createUser(t, "ann@example.com")
				sess, token, err := e.svc.CreateSession(ctx, u.ID, []string{"pwd"}, identity.SessionMeta{})
				if err != nil {
					t.Fatal(err)
				}
				e.clock.Advance(time.Minute)

				// A failing hook rolls the ending back: still active, no event.
				hooks.fail = errors.New("cannot revoke tokens")
				if err := e.svc.EndSession(ctx, sess.ID, tc.reason); !errors.Is(err, hooks.fail) {
					t.Fatalf("EndSession with a failing hook = %v, want the hook's error", err)
				}
				if _, err := e.svc.SessionByToken(ctx, token); err != nil {
					t.Fatalf("after a rolled-back end: SessionByToken = %v, want the session", err)
				}
				if types := e.events.types(t); len(types) != 2 {
					t.Errorf("events after a rolled-back end = %v, want only creation events", types)
				}
				hooks.fail = nil

				if err := e.svc.EndSession(ctx, sess.ID, tc.reason); err != nil {
					t.Fatalf("EndSession: %v", err)
				}
				if _, err := e.svc.SessionByToken(ctx, token); err != identity.ErrNoSession {
					t.Errorf("SessionByToken after end = %v, want ErrNoSession", err)
				}
				got, err := e.svc.GetSession(ctx, sess.ID)
				if err != nil || got.Status != tc.wantStatus || got.EndedAt == nil || got.EndReason != string(tc.reason) {
					t.Errorf("GetSession = %+v, %v; want status %s", got, err, tc.wantStatus)
				}
				// Idempotent: a second end changes nothing and runs no hooks.
				if err := e.svc.EndSession(ctx, sess.ID, identity.EndRevoked); err != nil {
					t.Errorf("second EndSession = %v, want nil", err)
				}
				wantHooks := []string{sess.ID + " " + tc.wantStatus, sess.ID + " " + tc.wantStatus}
				if diff := cmp.Diff(wantHooks, hooks.calls()); diff != "" {
					t.Errorf("hooks (-want +got; the first call is the rolled-back one):\n%s", diff)
				}
				events := e.events.all(t)
				if diff := cmp.Diff([]string{"user.created", "session.created", tc.wantEvent}, e.events.types(t)); diff != "" {
					t.Fatalf("events (-want +got):\n%s", diff)
				}
				data := events[2].Data
				if data["id"] != sess.ID || data["status"] != tc.wantStatus || data["updated_at"] != float64(e.clock.Now().UnixMilli()) {
					t.Errorf("%s data = %v", tc.wantEvent, data)
				}

				if err := e.svc.EndSession(ctx, "sess_missing", tc.reason); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("EndSession(missing) = %v, want ErrNotFound", err)
				}
				if err := e.svc.EndSession(ctx, sess.ID, "bogus"); err == nil {
					t.Error("EndSession with an unknown reason succeeded")
				}
			})
		})
	}
}

func TestEndSessionConcurrently(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		var calls atomic.Int32
		e.svc = identityServiceWithHook(t, e, func(context.Context, *identity.Session) error { calls.Add(1); return nil })
		u := e.createUser(t, "ann@example.com")
		sess, _, err := e.svc.CreateSession(ctx, u.ID, nil, identity.SessionMeta{})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				if err := e.svc.EndSession(ctx, sess.ID, identity.EndRevoked); err != nil {
					t.Errorf("EndSession: %v", err)
				}
			})
		}
		wg.Wait()
		if n := calls.Load(); n != 1 {
			t.Errorf("hooks ran %d times, want 1", n)
		}
		if n := count(t, db, "test_events", "type = ?", "session.revoked"); n != 1 {
			t.Errorf("session.revoked events = %d, want 1", n)
		}
	})
}

func TestReauthenticate(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e, _ := newSessionEnv(t, db)
		u := e.createUser(t, "ann@example.com")
		sess, oldToken, err := e.svc.CreateSession(ctx, u.ID, []string{"pwd"}, identity.SessionMeta{})
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(10 * time.Minute)
		newToken, err := e.svc.Reauthenticate(ctx, sess.ID, []string{"pwd", "otp", "mfa"})
		if err != nil {
			t.Fatalf("Reauthenticate: %v", err)
		}
		if newToken == oldToken || newToken == "" {
			t.Fatalf("new token %q, old %q: want a fresh token", newToken, oldToken)
		}
		if _, err := e.svc.SessionByToken(ctx, oldToken); err != identity.ErrNoSession {
			t.Errorf("old token after Reauthenticate = %v, want ErrNoSession", err)
		}
		got, err := e.svc.SessionByToken(ctx, newToken)
		if err != nil {
			t.Fatalf("new token: %v", err)
		}
		if got.ID != sess.ID || !got.AuthTime.Equal(e.clock.Now()) || !got.LastActiveAt.Equal(e.clock.Now()) ||
			!got.ExpiresAt.Equal(sess.ExpiresAt) || !got.CreatedAt.Equal(sess.CreatedAt) {
			t.Errorf("after Reauthenticate: %+v; want same sid, created_at and expires_at, auth_time now", got)
		}
		if diff := cmp.Diff([]string{"pwd", "otp", "mfa"}, got.AMR); diff != "" {
			t.Errorf("AMR (-want +got):\n%s", diff)
		}
		if err := e.svc.EndSession(ctx, sess.ID, identity.EndSignOut); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Reauthenticate(ctx, sess.ID, nil); !errors.Is(err, identity.ErrNoSession) {
			t.Errorf("Reauthenticate an ended session = %v, want ErrNoSession", err)
		}
	})
}

func TestUserSessionsEndWithTheUser(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e, hooks := newSessionEnv(t, db)
		ann := e.createUser(t, "ann@example.com")
		bob := e.createUser(t, "bob@example.com")
		a1, _, _ := e.svc.CreateSession(ctx, ann.ID, nil, identity.SessionMeta{})
		a2, _, _ := e.svc.CreateSession(ctx, ann.ID, nil, identity.SessionMeta{})
		if err := e.svc.EndSession(ctx, a2.ID, identity.EndSignOut); err != nil {
			t.Fatal(err)
		}
		b1, bobToken, _ := e.svc.CreateSession(ctx, bob.ID, nil, identity.SessionMeta{})

		// A failing hook keeps the user and the sessions.
		hooks.fail = errors.New("hook failed")
		if err := e.svc.DeleteUser(ctx, ann.ID); !errors.Is(err, hooks.fail) {
			t.Fatalf("DeleteUser with a failing hook = %v", err)
		}
		if _, err := e.svc.GetUser(ctx, ann.ID); err != nil {
			t.Errorf("user after a rolled-back delete: %v", err)
		}
		hooks.fail = nil
		before := len(hooks.calls())

		if err := e.svc.DeleteUser(ctx, ann.ID); err != nil {
			t.Fatalf("DeleteUser: %v", err)
		}
		if diff := cmp.Diff([]string{a1.ID + " revoked"}, hooks.calls()[before:]); diff != "" {
			t.Errorf("hooks on delete (-want +got):\n%s", diff)
		}
		if n := count(t, db, "sessions", "user_id = ?", ann.ID); n != 0 {
			t.Errorf("ann's sessions after delete = %d, want 0 (cascade)", n)
		}
		if _, err := e.svc.GetSession(ctx, a1.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("GetSession of a deleted user's session = %v, want ErrNotFound", err)
		}
		if _, err := e.svc.SessionByToken(ctx, bobToken); err != nil {
			t.Errorf("bob's session after ann's delete: %v", err)
		}
		if err := e.svc.DeleteUser(ctx, ann.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("second DeleteUser = %v, want ErrNotFound", err)
		}
		types := e.events.types(t)
		if diff := cmp.Diff([]string{"session.ended", "session.created", "session.revoked", "user.deleted"}, types[len(types)-4:]); diff != "" {
			t.Errorf("last events (-want +got):\n%s", diff)
		}

		// Banning revokes every session and refuses new ones.
		if _, err := e.svc.BanUser(ctx, bob.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.SessionByToken(ctx, bobToken); err != identity.ErrNoSession {
			t.Errorf("banned user's session = %v, want ErrNoSession", err)
		}
		if got, _ := e.svc.GetSession(ctx, b1.ID); got.EndReason != "user_banned" || got.Status != "revoked" {
			t.Errorf("banned user's session = %+v", got)
		}
		if _, _, err := e.svc.CreateSession(ctx, bob.ID, nil, identity.SessionMeta{}); !errors.Is(err, identity.ErrInvalidCredentials) {
			t.Errorf("CreateSession for a banned user = %v", err)
		}
		if _, _, err := e.svc.CreateSession(ctx, "user_missing", nil, identity.SessionMeta{}); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("CreateSession for a missing user = %v", err)
		}
	})
}

func TestEndUserSessionsAndList(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e, hooks := newSessionEnv(t, db)
		u := e.createUser(t, "ann@example.com")
		var ids []string
		for range 3 {
			s, _, err := e.svc.CreateSession(ctx, u.ID, nil, identity.SessionMeta{})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, s.ID)
			e.clock.Advance(time.Second)
		}
		list, err := e.svc.ListSessions(ctx, u.ID, false)
		if err != nil || len(list) != 3 || list[0].ID != ids[2] {
			t.Fatalf("ListSessions = %v, %v; want 3, newest first", list, err)
		}
		if err := e.svc.EndUserSessions(ctx, u.ID, identity.EndRevoked); err != nil {
			t.Fatal(err)
		}
		if got := len(hooks.calls()); got != 3 {
			t.Errorf("hooks = %d, want 3", got)
		}
		active, _ := e.svc.ListSessions(ctx, u.ID, true)
		all, _ := e.svc.ListSessions(ctx, u.ID, false)
		if len(active) != 0 || len(all) != 3 {
			t.Errorf("after EndUserSessions: %d active, %d in all; want 0, 3", len(active), len(all))
		}
	})
}

func TestActiveOrganization(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e, _ := newSessionEnv(t, db)
		u := e.createUser(t, "ann@example.com")
		s1, tok1, _ := e.svc.CreateSession(ctx, u.ID, nil, identity.SessionMeta{})
		s2, tok2, _ := e.svc.CreateSession(ctx, u.ID, nil, identity.SessionMeta{})
		for _, s := range []*identity.Session{s1, s2} {
			if err := e.svc.SetActiveOrganization(ctx, s.ID, "org_a"); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := e.svc.SessionByToken(ctx, tok1)
		if got.ActiveOrganizationID != "org_a" || got.JSON().LastActiveOrganizationID == nil {
			t.Errorf("active organization = %q", got.ActiveOrganizationID)
		}
		if err := e.svc.SetActiveOrganization(ctx, s2.ID, ""); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.svc.SessionByToken(ctx, tok2); got.ActiveOrganizationID != "" {
			t.Errorf("after clearing: %q", got.ActiveOrganizationID)
		}
		if err := e.svc.SetActiveOrganization(ctx, s2.ID, "org_b"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.ClearActiveOrganization(ctx, "org_a"); err != nil {
			t.Fatal(err)
		}
		got1, _ := e.svc.SessionByToken(ctx, tok1)
		got2, _ := e.svc.SessionByToken(ctx, tok2)
		if got1.ActiveOrganizationID != "" || got2.ActiveOrganizationID != "org_b" {
			t.Errorf("after ClearActiveOrganization(org_a): %q, %q; want \"\", org_b", got1.ActiveOrganizationID, got2.ActiveOrganizationID)
		}
		if err := e.svc.SetActiveOrganization(ctx, "sess_missing", "org_a"); !errors.Is(err, identity.ErrNoSession) {
			t.Errorf("SetActiveOrganization(missing) = %v, want ErrNoSession", err)
		}
	})
}

func TestSessionJSON(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := &identity.Session{
		ID: "sess_1", UserID: "user_1", Status: "active", CreatedAt: t0, UpdatedAt: t0.Add(time.Second),
		LastActiveAt: t0.Add(2 * time.Second), ExpiresAt: t0.Add(24 * time.Hour), IdleExpiresAt: t0.Add(time.Hour),
	}
	want := identity.SessionJSON{
		Object: "session", ID: "sess_1", UserID: "user_1", Status: "active",
		LastActiveAt: t0.UnixMilli() + 2000, ExpireAt: t0.Add(time.Hour).UnixMilli(), AbandonAt: t0.Add(24 * time.Hour).UnixMilli(),
		CreatedAt: t0.UnixMilli(), UpdatedAt: t0.UnixMilli() + 1000,
	}
	if diff := cmp.Diff(want, s.JSON()); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
}
