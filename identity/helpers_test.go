package identity_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/identity/identitytest"
	"github.com/orgid/orgid/storage"
)

// fakeClock is a settable clock for expiry tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// recordedEvent is one row of the test_events table.
type recordedEvent struct {
	bun.BaseModel `bun:"table:test_events"`
	Seq           int64  `bun:"seq,pk,autoincrement"`
	Type          string `bun:"type"`
	Data          string `bun:"data"`
}

// tableEvents implements identity.Events like the webhook outbox will: it
// writes a row through the caller's transaction, and refuses to run
// outside one, so a test sees an event only when its change committed.
type tableEvents struct {
	db   *bun.DB
	fail error // returned by Emit when set
}

func newTableEvents(t *testing.T, db *bun.DB) *tableEvents {
	t.Helper()
	ddl := "CREATE TABLE test_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, data TEXT NOT NULL)"
	if storage.IsPostgres(db) {
		ddl = "CREATE TABLE test_events (seq BIGSERIAL PRIMARY KEY, type TEXT NOT NULL, data TEXT NOT NULL)"
	}
	if _, err := db.ExecContext(context.Background(), ddl); err != nil {
		t.Fatalf("create test_events: %v", err)
	}
	return &tableEvents{db: db}
}

func (e *tableEvents) Emit(ctx context.Context, eventType string, data any) error {
	if _, ok := storage.TxFrom(ctx); !ok {
		return errors.New("tableEvents: Emit called outside a transaction")
	}
	if e.fail != nil {
		return e.fail
	}
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	_, err = storage.Conn(ctx, e.db).NewInsert().Model(&recordedEvent{Type: eventType, Data: string(b)}).Exec(ctx)
	return err
}

// all returns the committed events in order, data decoded.
func (e *tableEvents) all(t *testing.T) []event {
	t.Helper()
	var rows []recordedEvent
	if err := e.db.NewSelect().Model(&rows).Order("seq").Scan(context.Background()); err != nil {
		t.Fatalf("read test_events: %v", err)
	}
	out := make([]event, len(rows))
	for i, r := range rows {
		out[i].Type = r.Type
		if err := json.Unmarshal([]byte(r.Data), &out[i].Data); err != nil {
			t.Fatalf("decode event %d: %v", r.Seq, err)
		}
	}
	return out
}

func (e *tableEvents) types(t *testing.T) []string {
	t.Helper()
	var types []string
	for _, ev := range e.all(t) {
		types = append(types, ev.Type)
	}
	return types
}

type event struct {
	Type string
	Data map[string]any
}

// env is one test's service with its clock and event table.
type env struct {
	db     *bun.DB
	svc    *identity.Service
	clock  *fakeClock
	events *tableEvents
}

// newEnv builds a service with a fake clock and table events; tweak may
// change the options first.
func newEnv(t *testing.T, db *bun.DB, tweak func(*identity.Options)) *env {
	t.Helper()
	e := &env{db: db, clock: newFakeClock(), events: newTableEvents(t, db)}
	opts := identity.Options{
		Now:                e.clock.Now,
		Events:             e.events,
		SessionIdleTimeout: time.Hour,
		SessionMaxLifetime: 24 * time.Hour,
	}
	if tweak != nil {
		tweak(&opts)
	}
	e.svc = identitytest.NewServiceWith(t, db, opts)
	return e
}

func (e *env) createUser(t *testing.T, email string) *identity.User {
	t.Helper()
	return identitytest.CreateUser(t, e.svc, email)
}

func count(t *testing.T, db bun.IDB, table, where string, args ...any) int {
	t.Helper()
	n, err := db.NewSelect().Table(table).Where(where, args...).Count(context.Background())
	if err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return int(n)
}

// identityServiceWithHook rebuilds e's service with one extra hook.
func identityServiceWithHook(t *testing.T, e *env, hook func(context.Context, *identity.Session) error) *identity.Service {
	t.Helper()
	return identitytest.NewServiceWith(t, e.db, identity.Options{
		Now: e.clock.Now, Events: e.events,
		SessionIdleTimeout: time.Hour, SessionMaxLifetime: 24 * time.Hour,
		OnSessionEnded: []func(context.Context, *identity.Session) error{hook},
	})
}

// newThrottledService is e's service with a per-IP failure limit of n.
func newThrottledService(t *testing.T, e *env, n int) *identity.Service {
	t.Helper()
	return identitytest.NewServiceWith(t, e.db, identity.Options{Now: e.clock.Now, Throttle: identity.ThrottlePolicy{MaxFailuresPerIP: n}})
}
