// Package webhook tells other systems what changed in orgid: it records
// events in a transactional outbox, keeps the receivers' endpoints and their
// signing secrets, signs messages the way Svix and Standard Webhooks do, and
// delivers them at least once with a worker pool that any number of replicas
// can run against one database.
//
// The pieces:
//
//   - Outbox.Emit is the only way an event enters the system. It writes the
//     message, and one delivery per subscribed, enabled endpoint, through
//     storage.Conn, so the event commits or rolls back with the caller's
//     change. Fan-out happens here, at emit time, inside the transaction:
//     an endpoint created later never receives the event, one disabled
//     earlier never does either, and the worker needs no second pass.
//   - Service manages endpoints (URL, description, event-type filter,
//     enabled flag, a whsec_ secret sealed with the keyring, rotation during
//     which the previous secret signs too), lists deliveries with their
//     attempts, and replays messages.
//   - Worker claims due deliveries with a lease (FOR UPDATE SKIP LOCKED on
//     PostgreSQL, the single writer on SQLite), sends them through the
//     SSRF-safe client of internal/egress, records every attempt, retries on
//     the Svix schedule with jitter, honours Retry-After, disables endpoints
//     that answer 410 or fail for five days, exports Prometheus metrics, and
//     prunes finished messages after the retention period (90 days).
//
// At least once, not exactly once: a worker that stalls past its lease may
// send a message that another worker sends again. Receivers deduplicate on
// the message id (svix-id / webhook-id), which is the same on every attempt
// and every replay.
//
// Other packages do not import this one to emit: they declare
//
//	type Events interface{ Emit(ctx context.Context, eventType string, data any) error }
//
// and receive an *Outbox. Nothing outside this package reads or writes its
// tables (webhook_endpoint, webhook_message, webhook_delivery,
// webhook_attempt). Request bodies and secrets are never logged.
package webhook
