package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/storage"
)

// touchInterval is how stale last_active_at may get before a use writes
// it: the idle timeout is measured in days, so a minute of slack saves a
// write on almost every request.
const touchInterval = time.Minute

// Bounds on the client details stored with a session.
const (
	maxUserAgentLength = 512
	maxIPLength        = 64
)

// tokenHash is the stored form of a session cookie token.
func (s *Service) tokenHash(token string) string {
	return s.keys.Hash("orgid/session:" + token)
}

// CreateSession starts a browser session for the user and returns it with
// the cookie token, a 256-bit random secret that differs from the session
// id and is stored only as a keyed hash. It records "session.created". A
// banned user gets ErrInvalidCredentials.
func (s *Service) CreateSession(ctx context.Context, userID string, amr []string, meta SessionMeta) (*Session, string, error) {
	amrJSON, err := encodeAMR(amr)
	if err != nil {
		return nil, "", fmt.Errorf("create session: amr: %w", err)
	}
	now := s.clock()
	token := secret.Token("")
	row := &sessionRow{
		ID:           id.NewAt("sess", now),
		TokenHash:    s.tokenHash(token),
		UserID:       userID,
		AuthTime:     now,
		AMR:          amrJSON,
		ACR:          ACRFor(amr),
		Status:       SessionActive,
		CreatedAt:    now,
		UpdatedAt:    now,
		LastActiveAt: now,
		ExpiresAt:    now.Add(s.lifetime),
		UserAgent:    truncate(meta.UserAgent, maxUserAgentLength),
		IP:           truncate(strings.TrimSpace(meta.IP), maxIPLength),
	}
	sess, err := row.toSession(now, s.idle)
	if err != nil {
		return nil, "", err
	}
	err = storage.InTx(ctx, s.db, func(ctx context.Context) error {
		conn := storage.Conn(ctx, s.db)
		user, err := s.loadUserRow(ctx, conn, false, "id = ?", userID)
		if err != nil {
			return err
		}
		if user.Banned {
			return ErrInvalidCredentials
		}
		if _, err := conn.NewInsert().Model(row).Exec(ctx); err != nil {
			return err
		}
		return s.emit(ctx, "session.created", sess.JSON())
	})
	if err != nil {
		return nil, "", fmt.Errorf("create session for user %q: %w", userID, err)
	}
	return sess, token, nil
}

// truncate makes s storable text (PostgreSQL refuses invalid UTF-8 and NUL)
// of at most n bytes, cut between characters.
func truncate(s string, n int) string {
	s = safeText(s)
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// SessionByToken returns the active session whose cookie token is token,
// or ErrNoSession. A session found past its idle timeout or maximum
// lifetime is marked expired, with the OnSessionEnded hooks, and gives
// ErrNoSession too. A use records last_active_at, at most once a minute.
func (s *Service) SessionByToken(ctx context.Context, token string) (*Session, error) {
	if token == "" {
		return nil, ErrNoSession
	}
	conn := storage.Conn(ctx, s.db)
	row := new(sessionRow)
	if err := conn.NewSelect().Model(row).Where("token_hash = ?", s.tokenHash(token)).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNoSession
		}
		return nil, fmt.Errorf("load session: %w", err)
	}
	if row.Status != SessionActive {
		return nil, ErrNoSession
	}
	now := s.clock()
	if row.expired(now, s.idle) {
		if err := s.endSession(ctx, row.ID, EndExpired); err != nil {
			return nil, fmt.Errorf("%w: mark session %s expired: %w", ErrNoSession, row.ID, err)
		}
		return nil, ErrNoSession
	}
	if now.Sub(row.LastActiveAt) >= touchInterval {
		_, err := conn.NewUpdate().Model((*sessionRow)(nil)).
			Set("last_active_at = ?", now).
			Where("id = ?", row.ID).Where("status = ?", SessionActive).Where("last_active_at < ?", now).
			Exec(ctx)
		if err != nil {
			return nil, fmt.Errorf("touch session %s: %w", row.ID, err)
		}
		row.LastActiveAt = now
	}
	return row.toSession(now, s.idle)
}

// GetSession returns the session with the given id in any status, or an
// error wrapping storage.ErrNotFound.
func (s *Service) GetSession(ctx context.Context, sessionID string) (*Session, error) {
	row := new(sessionRow)
	err := storage.Conn(ctx, s.db).NewSelect().Model(row).Where("id = ?", safeText(sessionID)).Scan(ctx)
	if err != nil {
		return nil, storage.NotFound(err, fmt.Sprintf("load session %q", sessionID))
	}
	return row.toSession(s.clock(), s.idle)
}

// ListSessions returns the user's sessions, newest first; activeOnly keeps
// those still usable now.
func (s *Service) ListSessions(ctx context.Context, userID string, activeOnly bool) ([]*Session, error) {
	now := s.clock()
	var rows []*sessionRow
	q := storage.Conn(ctx, s.db).NewSelect().Model(&rows).Where("user_id = ?", userID).OrderExpr("created_at DESC, id DESC")
	if activeOnly {
		q = q.Where("status = ?", SessionActive).
			Where("expires_at > ?", now).
			Where("last_active_at > ?", now.Add(-s.idle))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list sessions of user %q: %w", userID, err)
	}
	out := make([]*Session, 0, len(rows))
	for _, r := range rows {
		sess, err := r.toSession(now, s.idle)
		if err != nil {
			return nil, err
		}
		out = append(out, sess)
	}
	return out, nil
}

// Reauthenticate records a fresh authentication of the session's user:
// auth_time becomes now, amr is replaced, and the cookie token is rotated
// (the old one stops working, ASVS 7.2.4). The sid and the absolute end
// stay. A session that is not active gives ErrNoSession.
func (s *Service) Reauthenticate(ctx context.Context, sessionID string, amr []string) (string, error) {
	amrJSON, err := encodeAMR(amr)
	if err != nil {
		return "", fmt.Errorf("reauthenticate: amr: %w", err)
	}
	now := s.clock()
	token := secret.Token("")
	res, err := storage.Conn(ctx, s.db).NewUpdate().Model((*sessionRow)(nil)).
		Set("token_hash = ?", s.tokenHash(token)).
		Set("auth_time = ?", now).
		Set("amr = ?", amrJSON).
		Set("acr = ?", ACRFor(amr)).
		Set("last_active_at = ?", now).
		Set("updated_at = ?", now).
		Where("id = ?", sessionID).
		Where("status = ?", SessionActive).
		Where("expires_at > ?", now).
		Where("last_active_at > ?", now.Add(-s.idle)).
		Exec(ctx)
	if err != nil {
		return "", fmt.Errorf("reauthenticate session %q: %w", sessionID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return "", fmt.Errorf("reauthenticate session %q: %w", sessionID, ErrNoSession)
	}
	return token, nil
}

// EndSession ends the session for reason, records the matching event and
// runs the OnSessionEnded hooks, all in one transaction: a hook error
// leaves the session active. Ending a session that already ended does
// nothing and returns nil; an unknown id wraps storage.ErrNotFound.
func (s *Service) EndSession(ctx context.Context, sessionID string, reason EndReason) error {
	if err := s.endSession(ctx, sessionID, reason); err != nil {
		return fmt.Errorf("end session %q: %w", sessionID, err)
	}
	return nil
}

func (s *Service) endSession(ctx context.Context, sessionID string, reason EndReason) error {
	status, event, err := reason.outcome()
	if err != nil {
		return err
	}
	return storage.InTx(ctx, s.db, func(ctx context.Context) error {
		conn := storage.Conn(ctx, s.db)
		now := s.clock()
		// The status condition makes ending race-free: of two concurrent
		// calls, only one changes the row and runs the hooks.
		res, err := conn.NewUpdate().Model((*sessionRow)(nil)).
			Set("status = ?", status).
			Set("ended_at = ?", now).
			Set("end_reason = ?", string(reason)).
			Set("updated_at = ?", now).
			Where("id = ?", sessionID).
			Where("status = ?", SessionActive).
			Exec(ctx)
		if err != nil {
			return err
		}
		row := new(sessionRow)
		if err := conn.NewSelect().Model(row).Where("id = ?", sessionID).Scan(ctx); err != nil {
			return storage.NotFound(err, "load session")
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // already ended: nothing to do
		}
		sess, err := row.toSession(now, s.idle)
		if err != nil {
			return err
		}
		if event != "" {
			if err := s.emit(ctx, event, sess.JSON()); err != nil {
				return err
			}
		}
		for _, hook := range s.hooks {
			if err := hook(ctx, sess); err != nil {
				return fmt.Errorf("session-ended hook: %w", err)
			}
		}
		return nil
	})
}

// EndUserSessions ends every active session of the user, like EndSession,
// in one transaction.
func (s *Service) EndUserSessions(ctx context.Context, userID string, reason EndReason) error {
	if _, _, err := reason.outcome(); err != nil {
		return err
	}
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		var ids []string
		err := storage.Conn(ctx, s.db).NewSelect().Model((*sessionRow)(nil)).Column("id").
			Where("user_id = ?", userID).Where("status = ?", SessionActive).
			OrderExpr("created_at, id").Scan(ctx, &ids)
		if err != nil {
			return err
		}
		for _, sid := range ids {
			if err := s.endSession(ctx, sid, reason); err != nil {
				return fmt.Errorf("session %q: %w", sid, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("end sessions of user %q: %w", userID, err)
	}
	return nil
}

// ExpireSessions marks up to limit active sessions that are past their idle
// timeout or maximum lifetime as expired, each in its own transaction with
// its hooks, and returns how many it ended. Run it periodically so that
// sessions nobody uses again still end (and their tokens are revoked).
func (s *Service) ExpireSessions(ctx context.Context, limit int) (int, error) {
	if limit <= 0 {
		limit = 100
	}
	now := s.clock()
	var ids []string
	err := storage.Conn(ctx, s.db).NewSelect().Model((*sessionRow)(nil)).Column("id").
		Where("status = ?", SessionActive).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("expires_at <= ?", now).WhereOr("last_active_at <= ?", now.Add(-s.idle))
		}).
		OrderExpr("expires_at").Limit(int64(limit)).Scan(ctx, &ids)
	if err != nil {
		return 0, fmt.Errorf("find expired sessions: %w", err)
	}
	var errs []error
	for _, sid := range ids {
		if err := s.endSession(ctx, sid, EndExpired); err != nil {
			errs = append(errs, fmt.Errorf("expire session %q: %w", sid, err))
		}
	}
	return len(ids) - len(errs), errors.Join(errs...)
}

// SetActiveOrganization sets the session's active organization; "" clears
// it. The caller checks the membership. A session that is not active gives
// ErrNoSession.
func (s *Service) SetActiveOrganization(ctx context.Context, sessionID, orgID string) error {
	now := s.clock()
	var org any = orgID
	if orgID == "" {
		org = nil
	}
	res, err := storage.Conn(ctx, s.db).NewUpdate().Model((*sessionRow)(nil)).
		Set("active_organization_id = ?", org).
		Set("updated_at = ?", now).
		Where("id = ?", sessionID).
		Where("status = ?", SessionActive).
		Where("expires_at > ?", now).
		Where("last_active_at > ?", now.Add(-s.idle)).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("set active organization of session %q: %w", sessionID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("set active organization of session %q: %w", sessionID, ErrNoSession)
	}
	return nil
}

// ClearActiveOrganization clears the organization from every session that
// has it active (the organization was deleted or the membership ended).
func (s *Service) ClearActiveOrganization(ctx context.Context, orgID string) error {
	_, err := storage.Conn(ctx, s.db).NewUpdate().Model((*sessionRow)(nil)).
		Set("active_organization_id = NULL").
		Set("updated_at = ?", s.clock()).
		Where("active_organization_id = ?", orgID).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("clear active organization %q from sessions: %w", orgID, err)
	}
	return nil
}
