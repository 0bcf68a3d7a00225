package tenancy_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/identity/identitytest"
	"github.com/orgid/orgid/internal/mail"
	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/tenancy"
)

// recorder is an Events that writes each event into a table of the test
// database through the caller's transaction, as the webhook outbox does,
// so a rollback takes the event back too.
type recorder struct {
	db   *bun.DB
	seq  atomic.Int64
	fail atomic.Pointer[error]
}

func newRecorder(t *testing.T, db *bun.DB) *recorder {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), "CREATE TABLE test_events (seq INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	return &recorder{db: db}
}

func (r *recorder) Emit(ctx context.Context, eventType string, data any) error {
	if p := r.fail.Load(); p != nil {
		return *p
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

// take returns the committed events in order and forgets them.
func (r *recorder) take(t *testing.T) []event {
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
	out := []string{}
	for _, e := range r.take(t) {
		out = append(out, e.Type)
	}
	return out
}

// clock is a fake clock tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type fixture struct {
	t      *testing.T
	db     *bun.DB
	svc    *tenancy.Service
	roles  *rbac.Service
	users  *identity.Service
	events *recorder
	outbox string
	clock  *clock
}

const issuer = "https://id.example.com"

func newFixture(t *testing.T, db *bun.DB) *fixture {
	t.Helper()
	f := &fixture{t: t, db: db, events: newRecorder(t, db), clock: &clock{now: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}}
	f.outbox = filepath.Join(t.TempDir(), mail.OutboxFile)
	f.users = identitytest.NewService(t, db)
	f.roles = rbac.New(db, rbac.Options{Events: f.events, RoleUsage: tenancy.RoleUsage(db), Now: f.clock.Now})
	f.svc = tenancy.New(db, tenancy.Options{
		RBAC: f.roles, Users: f.users, Sessions: f.users, Keys: identitytest.Keyring(t),
		Events: f.events, Mailer: mail.NewOutbox(f.outbox, nil), BaseURL: issuer, Now: f.clock.Now,
	})
	return f
}

var ctx = context.Background()

// user creates a user with a verified address.
func (f *fixture) user(email string) *identity.User {
	f.t.Helper()
	return identitytest.CreateUser(f.t, f.users, email)
}

// unverifiedUser creates a user whose address is not verified.
func (f *fixture) unverifiedUser(email string) *identity.User {
	f.t.Helper()
	u, err := f.users.CreateUser(ctx, identity.NewUser{Email: email, Password: identitytest.Password})
	if err != nil {
		f.t.Fatal(err)
	}
	return u
}

// org creates an organization owned by owner.
func (f *fixture) org(name string, owner *identity.User) *tenancy.Organization {
	f.t.Helper()
	o, err := f.svc.CreateOrganization(ctx, tenancy.Operator(), tenancy.NewOrganization{Name: name, CreatedBy: owner.ID})
	if err != nil {
		f.t.Fatalf("create organization %q: %v", name, err)
	}
	return o
}

// member adds u to org with role, as the operator.
func (f *fixture) member(org *tenancy.Organization, u *identity.User, role string) {
	f.t.Helper()
	if _, err := f.svc.AddMembership(ctx, tenancy.Operator(), org.ID, u.ID, role); err != nil {
		f.t.Fatalf("add %s to %s as %s: %v", u.Email, org.Slug, role, err)
	}
}

// mails returns every message in the outbox.
func (f *fixture) mails() []mail.Message {
	f.t.Helper()
	ms, err := mail.ReadOutbox(f.outbox)
	if err != nil {
		f.t.Fatal(err)
	}
	return ms
}

var linkRE = regexp.MustCompile(`https://id\.example\.com/invitations/accept\?token=[^\s"]+`)

// lastToken is the token in the newest mailed invitation to address.
func (f *fixture) lastToken(address string) string {
	f.t.Helper()
	ms := f.mails()
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].To != address {
			continue
		}
		link := linkRE.FindString(ms[i].Text)
		u, err := url.Parse(link)
		if err != nil || link == "" {
			f.t.Fatalf("no accept link in mail to %s: %q", address, ms[i].Text)
		}
		return u.Query().Get("token")
	}
	f.t.Fatalf("no mail to %s", address)
	return ""
}

func (f *fixture) owners(org *tenancy.Organization) int {
	f.t.Helper()
	ms, _, err := f.svc.ListMemberships(ctx, tenancy.Operator(), org.ID, tenancy.ListParams{Limit: 500})
	if err != nil {
		f.t.Fatal(err)
	}
	n := 0
	for _, m := range ms {
		if m.Role == rbac.RoleOwner {
			n++
		}
	}
	return n
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	}
}

var identitySessionMeta = identity.SessionMeta{UserAgent: "test", IP: "127.0.0.1"}
