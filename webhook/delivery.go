package webhook

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/storage"
)

// Delivery is one message on its way to one endpoint, with its attempts.
type Delivery struct {
	ID         string
	MessageID  string
	EndpointID string
	EventType  string
	// Status is StatusPending, StatusSucceeded or StatusFailed.
	Status string
	// Attempts counts every attempt made, replays included.
	Attempts       int
	NextAttemptAt  time.Time // zero unless pending
	LastAttemptAt  time.Time
	LastStatusCode int
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// AttemptLog lists the attempts, first first.
	AttemptLog []Attempt
}

// Attempt is one HTTP request of a delivery and what came of it.
type Attempt struct {
	ID      string
	Attempt int
	// Kind is "scheduled", or "replay" for the first attempt after a replay.
	Kind       string
	StartedAt  time.Time
	Duration   time.Duration
	StatusCode int // 0 when no response arrived
	// Result is "success" or "failure".
	Result string
	// ResponseBody is the start of the response body (at most
	// MaxStoredResponseBytes).
	ResponseBody string
	Error        string
	// NextAttemptAt is when the retry this attempt scheduled is due; zero
	// when it scheduled none.
	NextAttemptAt time.Time
}

// DeliveryJSON is a delivery as the management API and the CLI show it.
type DeliveryJSON struct {
	Object         string        `json:"object"`
	ID             string        `json:"id"`
	MessageID      string        `json:"message_id"`
	EndpointID     string        `json:"endpoint_id"`
	EventType      string        `json:"event_type"`
	Status         string        `json:"status"`
	AttemptCount   int           `json:"attempt_count"`
	NextAttemptAt  *int64        `json:"next_attempt_at"`
	LastAttemptAt  *int64        `json:"last_attempt_at"`
	LastStatusCode *int          `json:"last_status_code"`
	LastError      string        `json:"last_error,omitempty"`
	Attempts       []AttemptJSON `json:"attempts"`
	CreatedAt      int64         `json:"created_at"`
	UpdatedAt      int64         `json:"updated_at"`
}

// AttemptJSON is one attempt in API form.
type AttemptJSON struct {
	Object        string `json:"object"`
	ID            string `json:"id"`
	Attempt       int    `json:"attempt"`
	Kind          string `json:"kind"`
	StartedAt     int64  `json:"started_at"`
	DurationMS    int64  `json:"duration_ms"`
	StatusCode    *int   `json:"status_code"`
	Result        string `json:"result"`
	ResponseBody  string `json:"response_body,omitempty"`
	Error         string `json:"error,omitempty"`
	NextAttemptAt *int64 `json:"next_attempt_at"`
}

// JSON returns the delivery's API form.
func (d *Delivery) JSON() DeliveryJSON {
	j := DeliveryJSON{
		Object:        "webhook_delivery",
		ID:            d.ID,
		MessageID:     d.MessageID,
		EndpointID:    d.EndpointID,
		EventType:     d.EventType,
		Status:        d.Status,
		AttemptCount:  d.Attempts,
		NextAttemptAt: msPtr(d.NextAttemptAt),
		LastAttemptAt: msPtr(d.LastAttemptAt),
		LastError:     d.LastError,
		Attempts:      make([]AttemptJSON, 0, len(d.AttemptLog)),
		CreatedAt:     d.CreatedAt.UnixMilli(),
		UpdatedAt:     d.UpdatedAt.UnixMilli(),
	}
	if !d.LastAttemptAt.IsZero() {
		c := d.LastStatusCode
		j.LastStatusCode = &c
	}
	for _, a := range d.AttemptLog {
		aj := AttemptJSON{
			Object:        "webhook_attempt",
			ID:            a.ID,
			Attempt:       a.Attempt,
			Kind:          a.Kind,
			StartedAt:     a.StartedAt.UnixMilli(),
			DurationMS:    a.Duration.Milliseconds(),
			Result:        a.Result,
			ResponseBody:  a.ResponseBody,
			Error:         a.Error,
			NextAttemptAt: msPtr(a.NextAttemptAt),
		}
		if a.StatusCode != 0 {
			c := a.StatusCode
			aj.StatusCode = &c
		}
		j.Attempts = append(j.Attempts, aj)
	}
	return j
}

// DefaultDeliveriesLimit is how many deliveries Deliveries returns when the
// caller does not say.
const DefaultDeliveriesLimit = 100

// deliveryListRow is a delivery with its message's event type.
type deliveryListRow struct {
	deliveryRow `bun:",extend"`
	EventType   string `bun:"event_type"`
}

// Deliveries returns the newest deliveries to an endpoint, newest first,
// each with its attempts. limit ≤ 0 means DefaultDeliveriesLimit.
func (s *Service) Deliveries(ctx context.Context, endpointID string, limit int) ([]*Delivery, error) {
	if limit <= 0 {
		limit = DefaultDeliveriesLimit
	}
	conn := storage.Conn(ctx, s.db)
	if _, err := s.load(ctx, conn, endpointID); err != nil {
		return nil, err
	}
	var rows []deliveryListRow
	if err := conn.NewSelect().Model(&rows).ModelTableExpr("webhook_delivery AS d").
		ColumnExpr("d.*, m.event_type").
		Join("JOIN webhook_message AS m ON m.id = d.message_id").
		Where("d.endpoint_id = ?", endpointID).
		OrderExpr("d.created_at DESC, d.id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list deliveries of endpoint %q: %w", endpointID, err)
	}
	return s.withAttempts(ctx, conn, rows)
}

func (s *Service) withAttempts(ctx context.Context, conn bun.IDB, rows []deliveryListRow) ([]*Delivery, error) {
	out := make([]*Delivery, 0, len(rows))
	byID := make(map[string]*Delivery, len(rows))
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		d := &Delivery{
			ID:            r.ID,
			MessageID:     r.MessageID,
			EndpointID:    r.EndpointID,
			EventType:     r.EventType,
			Status:        r.Status,
			Attempts:      r.Attempts,
			NextAttemptAt: timeOrZero(r.NextAttemptAt),
			LastAttemptAt: timeOrZero(r.LastAttemptAt),
			LastError:     r.LastError,
			CreatedAt:     r.CreatedAt.UTC(),
			UpdatedAt:     r.UpdatedAt.UTC(),
		}
		if r.LastStatusCode != nil {
			d.LastStatusCode = *r.LastStatusCode
		}
		out = append(out, d)
		byID[d.ID] = d
		ids = append(ids, d.ID)
	}
	if len(ids) == 0 {
		return out, nil
	}
	var attempts []attemptRow
	if err := conn.NewSelect().Model(&attempts).Where("delivery_id IN (?)", bun.In(ids)).
		Order("delivery_id", "attempt").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list attempts: %w", err)
	}
	for _, a := range attempts {
		d := byID[a.DeliveryID]
		d.AttemptLog = append(d.AttemptLog, Attempt{
			ID:            a.ID,
			Attempt:       a.Attempt,
			Kind:          a.Kind,
			StartedAt:     a.StartedAt.UTC(),
			Duration:      time.Duration(a.DurationMS) * time.Millisecond,
			StatusCode:    a.StatusCode,
			Result:        a.Result,
			ResponseBody:  a.ResponseBody,
			Error:         a.Error,
			NextAttemptAt: timeOrZero(a.NextAttemptAt),
		})
	}
	return out, nil
}

// MessageDeliveries returns every delivery of one message, with attempts.
func (s *Service) MessageDeliveries(ctx context.Context, messageID string) ([]*Delivery, error) {
	conn := storage.Conn(ctx, s.db)
	if err := s.messageExists(ctx, conn, messageID); err != nil {
		return nil, err
	}
	var rows []deliveryListRow
	if err := conn.NewSelect().Model(&rows).ModelTableExpr("webhook_delivery AS d").
		ColumnExpr("d.*, m.event_type").
		Join("JOIN webhook_message AS m ON m.id = d.message_id").
		Where("d.message_id = ?", messageID).
		OrderExpr("d.created_at, d.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list deliveries of message %q: %w", messageID, err)
	}
	return s.withAttempts(ctx, conn, rows)
}

func (s *Service) messageExists(ctx context.Context, conn bun.IDB, messageID string) error {
	n, err := conn.NewSelect().Model((*messageRow)(nil)).Where("id = ?", messageID).Count(ctx)
	if err != nil {
		return fmt.Errorf("load message %q: %w", messageID, err)
	}
	if n == 0 {
		return fmt.Errorf("load message %q: %w", messageID, storage.ErrNotFound)
	}
	return nil
}

// Replay queues a message again for every enabled endpoint it was sent to,
// whatever came of the earlier attempts: a finished delivery starts a new
// round of the retry schedule, a pending one becomes due now. The message
// keeps its id, so receivers can tell a replay from a new event. It returns
// how many deliveries were queued.
func (s *Service) Replay(ctx context.Context, messageID string) (int, error) {
	var n int
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		conn := storage.Conn(ctx, s.db)
		if err := s.messageExists(ctx, conn, messageID); err != nil {
			return err
		}
		now := s.now().UTC()
		res, err := requeue(conn, now).
			Where("message_id = ?", messageID).
			Where("endpoint_id IN (SELECT id FROM webhook_endpoint WHERE enabled = ?)", true).
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("replay message %q: %w", messageID, err)
		}
		n = affected(res)
		return nil
	})
	return n, err
}

// ReplayFailedSince queues again every failed delivery to an enabled
// endpoint of the messages created at or after since (Svix's "recover").
// It returns how many deliveries were queued.
func (s *Service) ReplayFailedSince(ctx context.Context, endpointID string, since time.Time) (int, error) {
	var n int
	err := storage.InTx(ctx, s.db, func(ctx context.Context) error {
		conn := storage.Conn(ctx, s.db)
		row, err := s.load(ctx, conn, endpointID)
		if err != nil {
			return err
		}
		if !row.Enabled {
			return fmt.Errorf("replay to endpoint %q: %w: the endpoint is disabled; enable it first", endpointID, ErrInvalid)
		}
		now := s.now().UTC()
		res, err := requeue(conn, now).
			Where("endpoint_id = ?", endpointID).
			Where("status = ?", StatusFailed).
			Where("message_id IN (SELECT id FROM webhook_message WHERE created_at >= ?)", since.UTC()).
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("replay failed deliveries to endpoint %q: %w", endpointID, err)
		}
		n = affected(res)
		return nil
	})
	return n, err
}

// requeue makes deliveries due now. A finished one starts a new round of
// the schedule (its next attempt is recorded as a replay); a pending one
// keeps its round and only becomes due earlier.
func requeue(conn bun.IDB, now time.Time) *bun.UpdateQuery {
	return conn.NewUpdate().Model((*deliveryRow)(nil)).
		Set("round_attempts = CASE WHEN status = ? THEN round_attempts ELSE 0 END", StatusPending).
		Set("queued_at = CASE WHEN status = ? THEN queued_at ELSE ? END", StatusPending, now).
		Set("status = ?", StatusPending).
		Set("next_attempt_at = ?", now).
		Set("updated_at = ?", now)
}

func affected(res interface{ RowsAffected() (int64, error) }) int {
	n, _ := res.RowsAffected()
	return int(n)
}
