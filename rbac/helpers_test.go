package rbac_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage"
)

// recorder is an Events that writes each event into a table of the test
// database through the caller's transaction, so a rollback takes the event
// back too — as the webhook outbox does.
type recorder struct {
	db   *bun.DB
	seq  atomic.Int64
	fail error // when set, Emit fails with it
}

func newRecorder(t *testing.T, db *bun.DB) *recorder {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), "CREATE TABLE test_events (seq INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	return &recorder{db: db}
}

func (r *recorder) Emit(ctx context.Context, eventType string, data any) error {
	if r.fail != nil {
		return r.fail
	}
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	_, err = storage.Conn(ctx, r.db).ExecContext(ctx, "INSERT INTO test_events (seq, type, data) VALUES (?, ?, ?)", r.seq.Add(1), eventType, string(b))
	return err
}

type event struct {
	Type string
	Data map[string]any
}

// events returns the committed events in order and forgets them.
func (r *recorder) events(t *testing.T) []event {
	t.Helper()
	ctx := context.Background()
	var rows []struct {
		Type string `bun:"type"`
		Data string `bun:"data"`
	}
	if err := r.db.NewSelect().Table("test_events").Column("type", "data").Order("seq").Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	if _, err := r.db.ExecContext(ctx, "DELETE FROM test_events"); err != nil {
		t.Fatal(err)
	}
	out := make([]event, len(rows))
	for i, row := range rows {
		out[i].Type = row.Type
		if err := json.Unmarshal([]byte(row.Data), &out[i].Data); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func (r *recorder) types(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, e := range r.events(t) {
		out = append(out, e.Type)
	}
	return out
}

// usage is a RoleUsage the test sets by hand.
type usage map[string]bool

func (u usage) RoleInUse(_ context.Context, roleKey string) (bool, error) { return u[roleKey], nil }

type fixture struct {
	svc    *rbac.Service
	events *recorder
	usage  usage
}

func newFixture(t *testing.T, db *bun.DB) *fixture {
	t.Helper()
	f := &fixture{events: newRecorder(t, db), usage: usage{}}
	clock := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	f.svc = rbac.New(db, rbac.Options{Events: f.events, RoleUsage: f.usage, Now: func() time.Time { return clock }})
	return f
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	}
}
