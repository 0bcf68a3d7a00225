package webhook

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/storage"
)

// DefaultRotationOverlap is how long the previous secret keeps signing
// after a rotation, so that receivers can switch without losing messages.
const DefaultRotationOverlap = 24 * time.Hour

// ServiceOptions configure NewService.
type ServiceOptions struct {
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// RotationOverlap is how long both secrets sign after RotateSecret
	// (DefaultRotationOverlap when zero).
	RotationOverlap time.Duration
}

// Service manages endpoints, lists deliveries and replays messages. It is
// safe for concurrent use; every method joins a transaction carried by ctx.
type Service struct {
	db      *bun.DB
	keys    *secret.Keyring
	now     func() time.Time
	overlap time.Duration
}

// NewService returns a Service on db whose endpoint secrets are sealed with
// keys.
func NewService(db *bun.DB, keys *secret.Keyring, opts ServiceOptions) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RotationOverlap <= 0 {
		opts.RotationOverlap = DefaultRotationOverlap
	}
	return &Service{db: db, keys: keys, now: opts.Now, overlap: opts.RotationOverlap}
}

// CreateParams describe a new endpoint.
type CreateParams struct {
	URL         string
	Description string
	// EventTypes filters the events sent; empty means all.
	EventTypes []string
}

// Create adds an enabled endpoint with a fresh secret. The returned
// Endpoint carries the secret; show it to the operator.
func (s *Service) Create(ctx context.Context, p CreateParams) (*Endpoint, error) {
	u, err := checkURL(p.URL)
	if err != nil {
		return nil, fmt.Errorf("create endpoint: %w", err)
	}
	types, err := normaliseEventTypes(p.EventTypes)
	if err != nil {
		return nil, fmt.Errorf("create endpoint: %w", err)
	}
	now := s.now().UTC()
	row := &endpointRow{
		ID:          id.NewAt("ep", now),
		URL:         u,
		Description: p.Description,
		EventTypes:  encodeEventTypes(types),
		Enabled:     true,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	sec := newEndpointSecret()
	row.Secret = sealSecret(s.keys, row.ID, sec)
	if _, err := storage.Conn(ctx, s.db).NewInsert().Model(row).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create endpoint: %w", err)
	}
	ep, err := row.endpoint()
	if err != nil {
		return nil, err
	}
	ep.Secret = sec
	return ep, nil
}

func (s *Service) load(ctx context.Context, conn bun.IDB, endpointID string) (*endpointRow, error) {
	row := new(endpointRow)
	err := conn.NewSelect().Model(row).Where("id = ?", endpointID).Scan(ctx)
	if err != nil {
		return nil, storage.NotFound(err, fmt.Sprintf("load endpoint %q", endpointID))
	}
	return row, nil
}

// Get returns an endpoint without its secret.
func (s *Service) Get(ctx context.Context, endpointID string) (*Endpoint, error) {
	row, err := s.load(ctx, storage.Conn(ctx, s.db), endpointID)
	if err != nil {
		return nil, err
	}
	return row.endpoint()
}

// GetWithSecret returns an endpoint with its current secret, for an
// operator who asked for it explicitly.
func (s *Service) GetWithSecret(ctx context.Context, endpointID string) (*Endpoint, error) {
	row, err := s.load(ctx, storage.Conn(ctx, s.db), endpointID)
	if err != nil {
		return nil, err
	}
	ep, err := row.endpoint()
	if err != nil {
		return nil, err
	}
	if ep.Secret, err = openSecret(s.keys, row.ID, row.Secret); err != nil {
		return nil, err
	}
	return ep, nil
}

// List returns every endpoint, oldest first, without secrets.
func (s *Service) List(ctx context.Context) ([]*Endpoint, error) {
	var rows []endpointRow
	if err := storage.Conn(ctx, s.db).NewSelect().Model(&rows).Order("created_at", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list endpoints: %w", err)
	}
	out := make([]*Endpoint, 0, len(rows))
	for i := range rows {
		ep, err := rows[i].endpoint()
		if err != nil {
			return nil, err
		}
		out = append(out, ep)
	}
	return out, nil
}

// UpdateParams change an endpoint; nil fields stay as they are.
type UpdateParams struct {
	URL         *string
	Description *string
	// EventTypes replaces the filter; an empty slice means all events.
	EventTypes *[]string
	// Enabled re-enables an endpoint (clearing its failure record) or
	// disables it; disabling fails its pending deliveries, which
	// ReplayFailedSince can queue again after re-enabling.
	Enabled *bool
}

// Update changes an endpoint and returns it without its secret.
func (s *Service) Update(ctx context.Context, endpointID string, p UpdateParams) (*Endpoint, error) {
	var out *Endpoint
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		conn := storage.Conn(ctx, s.db)
		row, err := s.load(ctx, conn, endpointID)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		q := conn.NewUpdate().Model(row).WherePK().Set("updated_at = ?", now)
		if p.URL != nil {
			u, err := checkURL(*p.URL)
			if err != nil {
				return err
			}
			q.Set("url = ?", u)
		}
		if p.Description != nil {
			q.Set("description = ?", *p.Description)
		}
		if p.EventTypes != nil {
			types, err := normaliseEventTypes(*p.EventTypes)
			if err != nil {
				return err
			}
			q.Set("event_types = ?", encodeEventTypes(types))
		}
		if p.Enabled != nil && *p.Enabled && !row.Enabled {
			q.Set("enabled = ?", true).Set("disabled_reason = ''").Set("failing_since = NULL")
		}
		if _, err := q.Exec(ctx); err != nil {
			return err
		}
		if p.Enabled != nil && !*p.Enabled && row.Enabled {
			if err := disableEndpoint(ctx, conn, endpointID, DisabledOperator, now); err != nil {
				return err
			}
		}
		row, err = s.load(ctx, conn, endpointID)
		if err != nil {
			return err
		}
		out, err = row.endpoint()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update endpoint %q: %w", endpointID, err)
	}
	return out, nil
}

// Delete removes an endpoint with its deliveries and their attempts.
func (s *Service) Delete(ctx context.Context, endpointID string) error {
	res, err := storage.Conn(ctx, s.db).NewDelete().Model((*endpointRow)(nil)).Where("id = ?", endpointID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete endpoint %q: %w", endpointID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete endpoint %q: %w", endpointID, storage.ErrNotFound)
	}
	return nil
}

// RotateSecret gives the endpoint a new secret. The previous one keeps
// signing, next to the new one, for the rotation overlap; a second rotation
// within that time drops the oldest. The returned Endpoint carries the new
// secret.
func (s *Service) RotateSecret(ctx context.Context, endpointID string) (*Endpoint, error) {
	var out *Endpoint
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		conn := storage.Conn(ctx, s.db)
		row, err := s.load(ctx, conn, endpointID)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		expires := now.Add(s.overlap)
		sec := newEndpointSecret()
		row.PreviousSecret = row.Secret
		row.PreviousSecretExpiresAt = &expires
		row.Secret = sealSecret(s.keys, row.ID, sec)
		row.UpdatedAt = now
		if _, err := conn.NewUpdate().Model(row).WherePK().
			Column("secret", "previous_secret", "previous_secret_expires_at", "updated_at").Exec(ctx); err != nil {
			return err
		}
		if out, err = row.endpoint(); err != nil {
			return err
		}
		out.Secret = sec
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rotate secret of endpoint %q: %w", endpointID, err)
	}
	return out, nil
}

// disableEndpoint turns an endpoint off and fails its pending deliveries,
// so that "pending" always means "will be attempted". A delivery in flight
// keeps its lease: its attempt is still recorded.
func disableEndpoint(ctx context.Context, conn bun.IDB, endpointID, reason string, now time.Time) error {
	res, err := conn.NewUpdate().Model((*endpointRow)(nil)).
		Set("enabled = ?", false).Set("disabled_reason = ?", reason).Set("updated_at = ?", now).
		Where("id = ?", endpointID).Where("enabled = ?", true).Exec(ctx)
	if err != nil {
		return fmt.Errorf("disable endpoint: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	if _, err := conn.NewUpdate().Model((*deliveryRow)(nil)).
		Set("status = ?", StatusFailed).Set("next_attempt_at = NULL").
		Set("last_error = ?", "endpoint disabled ("+reason+")").Set("updated_at = ?", now).
		Where("endpoint_id = ?", endpointID).Where("status = ?", StatusPending).Exec(ctx); err != nil {
		return fmt.Errorf("fail pending deliveries: %w", err)
	}
	return nil
}
