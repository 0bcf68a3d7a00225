package webhook

import (
	"time"

	"github.com/uptrace/bun"
)

// Rows as stored; the exported types are built from them.

type endpointRow struct {
	bun.BaseModel `bun:"table:webhook_endpoint"`

	ID                      string     `bun:"id,pk"`
	URL                     string     `bun:"url"`
	Description             string     `bun:"description"`
	EventTypes              string     `bun:"event_types"` // JSON array of strings
	Enabled                 bool       `bun:"enabled"`
	DisabledReason          string     `bun:"disabled_reason"`
	Secret                  []byte     `bun:"secret"`
	PreviousSecret          []byte     `bun:"previous_secret"`
	PreviousSecretExpiresAt *time.Time `bun:"previous_secret_expires_at"`
	FailingSince            *time.Time `bun:"failing_since"`
	CreatedAt               time.Time  `bun:"created_at"`
	UpdatedAt               time.Time  `bun:"updated_at"`
}

type messageRow struct {
	bun.BaseModel `bun:"table:webhook_message"`

	ID        string    `bun:"id,pk"`
	EventType string    `bun:"event_type"`
	Payload   string    `bun:"payload"`
	CreatedAt time.Time `bun:"created_at"`
}

// Delivery statuses.
const (
	StatusPending   = "pending"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
)

type deliveryRow struct {
	bun.BaseModel `bun:"table:webhook_delivery"`

	ID             string     `bun:"id,pk"`
	MessageID      string     `bun:"message_id"`
	EndpointID     string     `bun:"endpoint_id"`
	Status         string     `bun:"status"`
	Attempts       int        `bun:"attempts"`
	RoundAttempts  int        `bun:"round_attempts"`
	QueuedAt       time.Time  `bun:"queued_at"`
	NextAttemptAt  *time.Time `bun:"next_attempt_at"`
	LeaseToken     *string    `bun:"lease_token"`
	LeaseExpiresAt *time.Time `bun:"lease_expires_at"`
	LastAttemptAt  *time.Time `bun:"last_attempt_at"`
	LastStatusCode *int       `bun:"last_status_code"`
	LastError      string     `bun:"last_error"`
	CreatedAt      time.Time  `bun:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
}

// Attempt kinds and results.
const (
	kindScheduled = "scheduled"
	kindReplay    = "replay"

	resultSuccess = "success"
	resultFailure = "failure"
)

type attemptRow struct {
	bun.BaseModel `bun:"table:webhook_attempt"`

	ID            string     `bun:"id,pk"`
	DeliveryID    string     `bun:"delivery_id"`
	Attempt       int        `bun:"attempt"`
	Kind          string     `bun:"kind"`
	StartedAt     time.Time  `bun:"started_at"`
	DurationMS    int64      `bun:"duration_ms"`
	StatusCode    int        `bun:"status_code"`
	Result        string     `bun:"result"`
	ResponseBody  string     `bun:"response_body"`
	Error         string     `bun:"error"`
	NextAttemptAt *time.Time `bun:"next_attempt_at"`
}
