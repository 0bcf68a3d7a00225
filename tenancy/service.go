package tenancy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/mail"
	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/storage"
)

// Errors besides storage.ErrNotFound and storage.ErrConflict; check them
// with errors.Is.
var (
	// ErrInvalid: the input breaks a rule; the message says which. It is
	// rbac.ErrInvalid, so one check covers both packages.
	ErrInvalid = rbac.ErrInvalid
	// ErrForbidden: the actor is a member but lacks the permission.
	ErrForbidden = errors.New("forbidden")
	// ErrLastOwner: the change would leave the organization without an
	// owner. Wraps storage.ErrConflict.
	ErrLastOwner = fmt.Errorf("an organization must keep at least one owner: %w", storage.ErrConflict)
	// ErrMembershipLimit: max_allowed_memberships is reached.
	ErrMembershipLimit = errors.New("the organization has reached its maximum number of members")
	// ErrAlreadyMember wraps storage.ErrConflict.
	ErrAlreadyMember = fmt.Errorf("already a member of the organization: %w", storage.ErrConflict)
	// ErrSlugTaken wraps storage.ErrConflict.
	ErrSlugTaken = fmt.Errorf("slug is taken: %w", storage.ErrConflict)
	// ErrAlreadyInvited: a pending invitation for the address exists.
	// Wraps storage.ErrConflict.
	ErrAlreadyInvited = fmt.Errorf("a pending invitation for this address exists: %w", storage.ErrConflict)
	// The invitation can no longer be accepted.
	ErrInvitationExpired  = errors.New("the invitation has expired")
	ErrInvitationRevoked  = errors.New("the invitation was revoked")
	ErrInvitationAccepted = errors.New("the invitation was already accepted")
	// ErrEmailNotVerified: accepting needs a verified email address.
	ErrEmailNotVerified = errors.New("the email address is not verified")
	// ErrEmailMismatch: the invitation was sent to another address.
	ErrEmailMismatch = errors.New("the invitation was sent to another email address")
	// ErrPublicDomain: common public email domains cannot be added.
	ErrPublicDomain = errors.New("public email domains cannot be added to an organization")
	// ErrDomainLimit: the organization has MaxDomains domains.
	ErrDomainLimit = errors.New("the organization has the maximum number of domains")
	// Domain verification.
	ErrNoVerificationPending = errors.New("no verification code is pending; request one")
	ErrCodeExpired           = errors.New("the verification code has expired; request a new one")
	ErrCodeInvalid           = errors.New("the verification code is wrong")
	ErrTooManyAttempts       = errors.New("too many wrong codes; request a new one")
	// ErrMailNotSent: the change committed but its email could not be
	// sent; the result is returned with this error.
	ErrMailNotSent = errors.New("email could not be sent")
)

// Events records a webhook event in the caller's transaction (ctx carries it).
type Events interface {
	Emit(ctx context.Context, eventType string, data any) error
}

// Users reads users; *identity.Service satisfies it.
type Users interface {
	GetUser(ctx context.Context, userID string) (*identity.User, error)
	UserByEmail(ctx context.Context, email string) (*identity.User, error)
	ListUsers(ctx context.Context, p identity.ListUsersParams) ([]*identity.User, int, error)
}

// Sessions stores a browser session's active organization;
// *identity.Service satisfies it. ClearActiveOrganization runs inside the
// transaction that deletes an organization.
type Sessions interface {
	SetActiveOrganization(ctx context.Context, sessionID, orgID string) error
	ClearActiveOrganization(ctx context.Context, orgID string) error
}

// Options configures a Service.
type Options struct {
	// RBAC, Users and Keys are required.
	RBAC  *rbac.Service
	Users Users
	// Keys hashes invitation tokens and domain verification codes.
	Keys *secret.Keyring
	// Sessions clears deleted organizations from sessions; nil skips that.
	Sessions Sessions
	// Events receives organization*, organizationMembership*,
	// organizationInvitation* and organizationDomain* events; nil emits none.
	Events Events
	// Mailer sends invitations and domain codes; nil sends nothing (the
	// caller shows the accept URL that CreateInvitation returns).
	Mailer mail.Mailer
	// BaseURL is the issuer; invitation links are
	// BaseURL + "/invitations/accept?token=…".
	BaseURL string
	// InvitationLifetime defaults to 7 days.
	InvitationLifetime time.Duration
	// MaxDomains per organization defaults to 10 (as Clerk).
	MaxDomains int
	// DomainCodeLifetime defaults to 10 minutes, DomainCodeAttempts to 5.
	DomainCodeLifetime time.Duration
	DomainCodeAttempts int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives problems that do not fail a call; nil discards.
	Logger *slog.Logger
}

// Default limits.
const (
	DefaultInvitationLifetime = 7 * 24 * time.Hour
	DefaultMaxDomains         = 10
	DefaultDomainCodeLifetime = 10 * time.Minute
	DefaultDomainCodeAttempts = 5
)

// Service is the tenancy API. It is safe for concurrent use.
type Service struct {
	db       *bun.DB
	rbac     *rbac.Service
	users    Users
	keys     *secret.Keyring
	sessions Sessions
	events   Events
	mailer   mail.Mailer
	baseURL  string
	now      func() time.Time
	logger   *slog.Logger

	invitationLifetime time.Duration
	maxDomains         int
	codeLifetime       time.Duration
	codeAttempts       int
}

// New returns a Service on db. It panics when a required option is
// missing: a wiring mistake no request could recover from.
func New(db *bun.DB, opts Options) *Service {
	if opts.RBAC == nil || opts.Users == nil || opts.Keys == nil {
		panic("tenancy.New: Options.RBAC, Options.Users and Options.Keys are required")
	}
	s := &Service{
		db: db, rbac: opts.RBAC, users: opts.Users, keys: opts.Keys, sessions: opts.Sessions,
		events: opts.Events, mailer: opts.Mailer, baseURL: opts.BaseURL, now: opts.Now, logger: opts.Logger,
		invitationLifetime: opts.InvitationLifetime, maxDomains: opts.MaxDomains,
		codeLifetime: opts.DomainCodeLifetime, codeAttempts: opts.DomainCodeAttempts,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.invitationLifetime <= 0 {
		s.invitationLifetime = DefaultInvitationLifetime
	}
	if s.maxDomains <= 0 {
		s.maxDomains = DefaultMaxDomains
	}
	if s.codeLifetime <= 0 {
		s.codeLifetime = DefaultDomainCodeLifetime
	}
	if s.codeAttempts <= 0 {
		s.codeAttempts = DefaultDomainCodeAttempts
	}
	return s
}

func (s *Service) conn(ctx context.Context) bun.IDB { return storage.Conn(ctx, s.db) }

// clock returns now in UTC, truncated to the microsecond PostgreSQL keeps.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func (s *Service) emit(ctx context.Context, eventType string, data any) error {
	if s.events == nil {
		return nil
	}
	if err := s.events.Emit(ctx, eventType, data); err != nil {
		return fmt.Errorf("emit %s: %w", eventType, err)
	}
	return nil
}

// deletedJSON is the data of a *.deleted event.
type deletedJSON struct {
	Object  string `json:"object"`
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
}

// send delivers a message after the change that caused it committed. A
// failure is logged and returned wrapped in ErrMailNotSent.
func (s *Service) send(ctx context.Context, m mail.Message) error {
	if s.mailer == nil {
		return nil
	}
	if err := s.mailer.Send(ctx, m); err != nil {
		s.logger.WarnContext(ctx, "tenancy: email not sent", "subject", m.Subject, "error", err)
		return fmt.Errorf("%w: %v", ErrMailNotSent, err)
	}
	return nil
}
