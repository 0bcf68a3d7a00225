package identity

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Session statuses.
const (
	SessionActive  = "active"
	SessionEnded   = "ended"
	SessionRevoked = "revoked"
	SessionExpired = "expired"
)

// EndReason says why a session ends; it decides the status and the event.
type EndReason string

const (
	// EndSignOut: the user signed out. Status ended, event session.ended.
	EndSignOut EndReason = "sign_out"
	// EndRevoked: the user or an operator revoked the session. Status
	// revoked, event session.revoked.
	EndRevoked EndReason = "revoked"
	// EndUserDeleted and EndUserBanned revoke the sessions of a deleted or
	// banned user: status revoked, event session.revoked.
	EndUserDeleted EndReason = "user_deleted"
	EndUserBanned  EndReason = "user_banned"
	// EndPasswordChanged revokes the sessions of a user whose password
	// was reset: status revoked, event session.revoked.
	EndPasswordChanged EndReason = "password_changed"
	// EndExpired: the idle timeout or the maximum lifetime passed. Status
	// expired; no event (Clerk has none), the hooks still run.
	EndExpired EndReason = "expired"
)

// outcome returns the status and webhook event type of ending for r.
func (r EndReason) outcome() (status, event string, err error) {
	switch r {
	case EndSignOut:
		return SessionEnded, "session.ended", nil
	case EndRevoked, EndUserDeleted, EndUserBanned, EndPasswordChanged:
		return SessionRevoked, "session.revoked", nil
	case EndExpired:
		return SessionExpired, "", nil
	}
	return "", "", fmt.Errorf("unknown session end reason %q", string(r))
}

// SessionMeta describes the browser a session was created for.
type SessionMeta struct {
	UserAgent string
	IP        string
}

// Session is a browser session. ID is public: it is the sid claim. The
// cookie token is never stored.
type Session struct {
	ID     string
	UserID string
	// AuthTime is when the user last authenticated (auth_time claim); AMR
	// and ACR how (amr and acr claims).
	AuthTime time.Time
	AMR      []string
	ACR      string
	// ActiveOrganizationID is "" when none is active. Tenancy re-checks the
	// membership on use.
	ActiveOrganizationID string
	// Status is active, ended, revoked or expired. A session past its
	// timeouts reads as expired even before it is marked so.
	Status       string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	LastActiveAt time.Time
	// ExpiresAt is the absolute end; IdleExpiresAt the end if the session
	// is not used again.
	ExpiresAt     time.Time
	IdleExpiresAt time.Time
	EndedAt       *time.Time
	EndReason     string
	UserAgent     string
	IP            string
}

// sessionRow is the sessions table.
type sessionRow struct {
	bun.BaseModel `bun:"table:sessions"`

	ID                   string    `bun:"id,pk"`
	TokenHash            string    `bun:"token_hash"`
	UserID               string    `bun:"user_id"`
	AuthTime             time.Time `bun:"auth_time"`
	AMR                  string    `bun:"amr"`
	ACR                  string    `bun:"acr"`
	ActiveOrganizationID string    `bun:"active_organization_id,nullzero"`
	Status               string    `bun:"status"`
	CreatedAt            time.Time `bun:"created_at"`
	UpdatedAt            time.Time `bun:"updated_at"`
	LastActiveAt         time.Time `bun:"last_active_at"`
	ExpiresAt            time.Time `bun:"expires_at"`
	EndedAt              time.Time `bun:"ended_at,nullzero"`
	EndReason            string    `bun:"end_reason,nullzero"`
	UserAgent            string    `bun:"user_agent"`
	IP                   string    `bun:"ip"`
}

// expired reports whether an active row is past its absolute or idle end.
func (r *sessionRow) expired(now time.Time, idle time.Duration) bool {
	return !now.Before(r.ExpiresAt) || !now.Before(r.LastActiveAt.Add(idle))
}

func (r *sessionRow) toSession(now time.Time, idle time.Duration) (*Session, error) {
	s := &Session{
		ID:                   r.ID,
		UserID:               r.UserID,
		AuthTime:             utc(r.AuthTime),
		ACR:                  r.ACR,
		ActiveOrganizationID: r.ActiveOrganizationID,
		Status:               r.Status,
		CreatedAt:            utc(r.CreatedAt),
		UpdatedAt:            utc(r.UpdatedAt),
		LastActiveAt:         utc(r.LastActiveAt),
		ExpiresAt:            utc(r.ExpiresAt),
		IdleExpiresAt:        utc(r.LastActiveAt.Add(idle)),
		EndReason:            r.EndReason,
		UserAgent:            r.UserAgent,
		IP:                   r.IP,
	}
	if s.Status == SessionActive && r.expired(now, idle) {
		s.Status = SessionExpired
	}
	if !r.EndedAt.IsZero() {
		t := utc(r.EndedAt)
		s.EndedAt = &t
	}
	s.AMR = []string{}
	if r.AMR != "" {
		if err := json.Unmarshal([]byte(r.AMR), &s.AMR); err != nil {
			return nil, fmt.Errorf("session %s amr: %w", r.ID, err)
		}
		if s.AMR == nil {
			s.AMR = []string{}
		}
	}
	return s, nil
}

func encodeAMR(amr []string) (string, error) {
	if amr == nil {
		amr = []string{}
	}
	b, err := json.Marshal(amr)
	return string(b), err
}

// SessionJSON is the Clerk-shaped JSON form of a session. expire_at is when
// the session ends unless used again; abandon_at its absolute end.
type SessionJSON struct {
	Object                   string  `json:"object"`
	ID                       string  `json:"id"`
	ClientID                 string  `json:"client_id"`
	UserID                   string  `json:"user_id"`
	Status                   string  `json:"status"`
	LastActiveOrganizationID *string `json:"last_active_organization_id"`
	Actor                    any     `json:"actor"`
	LastActiveAt             int64   `json:"last_active_at"`
	ExpireAt                 int64   `json:"expire_at"`
	AbandonAt                int64   `json:"abandon_at"`
	CreatedAt                int64   `json:"created_at"`
	UpdatedAt                int64   `json:"updated_at"`
}

// JSON returns the Clerk-shaped form of s (timestamps in Unix
// milliseconds).
func (s *Session) JSON() SessionJSON {
	expire := s.ExpiresAt
	if !s.IdleExpiresAt.IsZero() && s.IdleExpiresAt.Before(expire) {
		expire = s.IdleExpiresAt
	}
	return SessionJSON{
		Object:                   "session",
		ID:                       s.ID,
		UserID:                   s.UserID,
		Status:                   s.Status,
		LastActiveOrganizationID: nullable(s.ActiveOrganizationID),
		LastActiveAt:             s.LastActiveAt.UnixMilli(),
		ExpireAt:                 expire.UnixMilli(),
		AbandonAt:                s.ExpiresAt.UnixMilli(),
		CreatedAt:                s.CreatedAt.UnixMilli(),
		UpdatedAt:                s.UpdatedAt.UnixMilli(),
	}
}
