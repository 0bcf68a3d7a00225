package webhook

import (
	"context"
	"fmt"
	"time"

	"github.com/orgid/orgid/storage"
)

// DefaultRetention is how long messages and their delivery logs are kept,
// as Svix keeps them by default.
const DefaultRetention = 90 * 24 * time.Hour

// pruneBatch bounds one delete so that pruning never holds a long lock.
const pruneBatch = 500

// Prune deletes messages created before the given time that have nothing
// left to deliver, with their deliveries and attempts, and returns how many
// messages it deleted. A message still pending somewhere is kept.
func (s *Service) Prune(ctx context.Context, before time.Time) (int, error) {
	total := 0
	for {
		res, err := storage.Conn(ctx, s.db).NewDelete().Model((*messageRow)(nil)).
			Where("id IN (SELECT m.id FROM webhook_message AS m WHERE m.created_at < ? AND NOT EXISTS "+
				"(SELECT 1 FROM webhook_delivery AS d WHERE d.message_id = m.id AND d.status = ?) LIMIT ?)",
				before.UTC(), StatusPending, pruneBatch).
			Exec(ctx)
		if err != nil {
			return total, fmt.Errorf("prune webhook messages: %w", err)
		}
		n := affected(res)
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
}
