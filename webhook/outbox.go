package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/storage"
)

// Outbox records webhook events in the caller's transaction. It implements
// the Events interface that event-producing packages declare:
//
//	type Events interface{ Emit(ctx context.Context, eventType string, data any) error }
//
// It is safe for concurrent use.
type Outbox struct {
	db  *bun.DB
	now func() time.Time

	mu         sync.Mutex
	instanceID string // cached once read from a committed row
}

// The interface event producers declare; asserted here so that a change of
// signature fails to compile rather than at wiring time.
var _ interface {
	Emit(ctx context.Context, eventType string, data any) error
} = (*Outbox)(nil)

// NewOutbox returns an Outbox writing to db. now is the clock (time.Now
// when nil).
func NewOutbox(db *bun.DB, now func() time.Time) *Outbox {
	if now == nil {
		now = time.Now
	}
	return &Outbox{db: db, now: now}
}

// Emit records one event: data is the resource's JSON form (an object). It
// writes through storage.Conn, so when ctx carries a transaction the event
// commits or rolls back with it; without one, Emit commits on its own. The
// event is fanned out here to every enabled endpoint whose filter matches.
func (o *Outbox) Emit(ctx context.Context, eventType string, data any) error {
	if err := checkEventType(eventType); err != nil {
		return fmt.Errorf("emit: %w", err)
	}
	raw, err := marshalJSON(data)
	if err != nil {
		return fmt.Errorf("emit %s: encode data: %w", eventType, err)
	}
	if len(raw) == 0 || raw[0] != '{' {
		return fmt.Errorf("emit %s: %w: data must be a JSON object", eventType, ErrInvalid)
	}
	now := o.now().UTC()
	return storage.InTx(ctx, o.db, func(ctx context.Context) error {
		conn := storage.Conn(ctx, o.db)
		instanceID, err := o.instance(ctx, conn, now)
		if err != nil {
			return fmt.Errorf("emit %s: %w", eventType, err)
		}
		payload, err := marshalJSON(envelope{
			Data:       raw,
			Object:     "event",
			Type:       eventType,
			Timestamp:  now.UnixMilli(),
			InstanceID: instanceID,
		})
		if err != nil {
			return fmt.Errorf("emit %s: encode envelope: %w", eventType, err)
		}
		msg := &messageRow{ID: id.NewAt("msg", now), EventType: eventType, Payload: string(payload), CreatedAt: now}
		if _, err := conn.NewInsert().Model(msg).Exec(ctx); err != nil {
			return fmt.Errorf("emit %s: insert message: %w", eventType, err)
		}
		if err := fanOut(ctx, conn, msg, now); err != nil {
			return fmt.Errorf("emit %s: %w", eventType, err)
		}
		return nil
	})
}

// fanOut queues msg for every enabled endpoint subscribed to its type.
func fanOut(ctx context.Context, conn bun.IDB, msg *messageRow, now time.Time) error {
	var endpoints []endpointRow
	if err := conn.NewSelect().Model(&endpoints).Column("id", "event_types").
		Where("enabled = ?", true).Scan(ctx); err != nil {
		return fmt.Errorf("list endpoints: %w", err)
	}
	var deliveries []deliveryRow
	for _, ep := range endpoints {
		filter, err := decodeEventTypes(ep.EventTypes)
		if err != nil {
			return fmt.Errorf("endpoint %q: %w", ep.ID, err)
		}
		if !subscribed(filter, msg.EventType) {
			continue
		}
		deliveries = append(deliveries, newDelivery(msg.ID, ep.ID, now))
	}
	if len(deliveries) == 0 {
		return nil
	}
	if _, err := conn.NewInsert().Model(&deliveries).Exec(ctx); err != nil {
		return fmt.Errorf("insert deliveries: %w", err)
	}
	return nil
}

// newDelivery is a delivery due at once.
func newDelivery(messageID, endpointID string, now time.Time) deliveryRow {
	return deliveryRow{
		ID:            id.NewAt("dlv", now),
		MessageID:     messageID,
		EndpointID:    endpointID,
		Status:        StatusPending,
		QueuedAt:      now,
		NextAttemptAt: &now,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
}

func decodeEventTypes(s string) ([]string, error) {
	var types []string
	if err := json.Unmarshal([]byte(s), &types); err != nil {
		return nil, fmt.Errorf("decode event_types: %w", err)
	}
	return types, nil
}

// InstanceID returns this installation's id (the envelopes' instance_id),
// creating the instance row if there is none, in a transaction of its own.
// orgid serve calls it at start so that emits never have to create the row
// inside a caller's transaction.
func (o *Outbox) InstanceID(ctx context.Context) (string, error) {
	var got string
	// db.RunInTx, not storage.InTx: this must not join a transaction that
	// ctx may carry, or the cached id could be rolled back.
	err := o.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		got, err = o.instance(ctx, tx, o.now().UTC())
		return err
	})
	if err != nil {
		return "", fmt.Errorf("instance id: %w", err)
	}
	o.mu.Lock()
	o.instanceID = got
	o.mu.Unlock()
	return got, nil
}

// instance returns this installation's id, creating the single instance row
// on first use. Only an id read outside the caller's transaction is cached:
// one created inside it disappears if that transaction rolls back.
func (o *Outbox) instance(ctx context.Context, conn bun.IDB, now time.Time) (string, error) {
	o.mu.Lock()
	cached := o.instanceID
	o.mu.Unlock()
	if cached != "" {
		return cached, nil
	}
	committed, err := readInstanceID(ctx, o.db)
	if err != nil {
		return "", err
	}
	if committed != "" {
		o.mu.Lock()
		o.instanceID = committed
		o.mu.Unlock()
		return committed, nil
	}
	if _, err := conn.NewRaw("INSERT INTO instance (id, singleton, created_at) VALUES (?, 1, ?) ON CONFLICT DO NOTHING",
		id.NewAt("ins", now), now).Exec(ctx); err != nil {
		return "", fmt.Errorf("create instance: %w", err)
	}
	created, err := readInstanceID(ctx, conn)
	if err != nil {
		return "", err
	}
	if created == "" {
		return "", fmt.Errorf("create instance: row missing after insert")
	}
	return created, nil
}

func readInstanceID(ctx context.Context, conn bun.IDB) (string, error) {
	var ids []string
	if err := conn.NewSelect().Table("instance").Column("id").Limit(1).Scan(ctx, &ids); err != nil {
		return "", fmt.Errorf("read instance: %w", err)
	}
	if len(ids) == 0 {
		return "", nil
	}
	return ids[0], nil
}
