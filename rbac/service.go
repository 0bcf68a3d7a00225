package rbac

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/storage"
)

// Errors besides storage.ErrNotFound (no such role or permission) and
// storage.ErrConflict (the key is taken); check them with errors.Is.
var (
	// ErrInvalid: the input breaks a rule; the message says which.
	ErrInvalid = errors.New("invalid")
	// ErrSystem: system roles and permissions cannot be deleted, and the
	// system permissions of system roles cannot be granted or revoked.
	ErrSystem = errors.New("system roles and permissions cannot be changed this way")
	// ErrRoleInUse: a membership or pending invitation still holds the role.
	// It wraps storage.ErrConflict.
	ErrRoleInUse = fmt.Errorf("role is assigned to members or pending invitations: %w", storage.ErrConflict)
)

// Events records a webhook event in the caller's transaction (ctx carries it).
type Events interface {
	Emit(ctx context.Context, eventType string, data any) error
}

// RoleUsage tells whether any membership or pending invitation holds a
// role; package tenancy implements it (tenancy.RoleUsage). It is called
// inside DeleteRole's transaction, after the role row is locked.
type RoleUsage interface {
	RoleInUse(ctx context.Context, roleKey string) (bool, error)
}

// Options configures a Service. Zero values are valid: no events, no usage
// check, the system clock.
type Options struct {
	// Events receives role.* and permission.* events; nil emits none.
	Events Events
	// RoleUsage guards DeleteRole; nil allows deleting any custom role.
	RoleUsage RoleUsage
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service manages role and permission definitions and computes Grants.
// It is safe for concurrent use.
type Service struct {
	db     *bun.DB
	events Events
	usage  RoleUsage
	now    func() time.Time
}

// New returns a Service on db (migrated, so the system rows exist).
func New(db *bun.DB, opts Options) *Service {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, events: opts.Events, usage: opts.RoleUsage, now: now}
}

func (s *Service) conn(ctx context.Context) bun.IDB { return storage.Conn(ctx, s.db) }

func (s *Service) timestamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func (s *Service) emit(ctx context.Context, eventType string, data any) error {
	if s.events == nil {
		return nil
	}
	if err := s.events.Emit(ctx, eventType, data); err != nil {
		return fmt.Errorf("emit %s: %w", eventType, err)
	}
	return nil
}

// deleted is the data of a *.deleted event.
type deleted struct {
	Object  string `json:"object"`
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
}
