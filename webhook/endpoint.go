package webhook

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Endpoint is a receiver of webhook messages.
type Endpoint struct {
	ID          string
	URL         string
	Description string
	// EventTypes is the filter: the endpoint receives events of these
	// types, or every event when it is empty.
	EventTypes []string
	Enabled    bool
	// DisabledReason says why an endpoint is disabled: "gone" (it answered
	// 410), "failing" (five days of failures) or "operator".
	DisabledReason string
	// FailingSince is the start of the current run of failed attempts; zero
	// when the last attempt succeeded.
	FailingSince time.Time
	// PreviousSecretExpiresAt is when the secret replaced by the last
	// rotation stops signing; zero when no rotation is in progress.
	PreviousSecretExpiresAt time.Time
	CreatedAt               time.Time
	UpdatedAt               time.Time
	// Secret is the "whsec_" signing secret. It is filled only by Create,
	// RotateSecret and GetWithSecret, never by Get or List.
	Secret string
}

// Reasons an endpoint is disabled.
const (
	DisabledGone     = "gone"
	DisabledFailing  = "failing"
	DisabledOperator = "operator"
)

// EndpointJSON is an endpoint as the management API and the CLI show it.
type EndpointJSON struct {
	Object                  string   `json:"object"`
	ID                      string   `json:"id"`
	URL                     string   `json:"url"`
	Description             string   `json:"description"`
	EventTypes              []string `json:"event_types"`
	Enabled                 bool     `json:"enabled"`
	DisabledReason          *string  `json:"disabled_reason"`
	FailingSince            *int64   `json:"failing_since"`
	PreviousSecretExpiresAt *int64   `json:"previous_secret_expires_at,omitempty"`
	Secret                  string   `json:"secret,omitempty"`
	CreatedAt               int64    `json:"created_at"`
	UpdatedAt               int64    `json:"updated_at"`
}

// JSON returns the endpoint's API form. The secret appears only when e
// carries it (after Create, RotateSecret or GetWithSecret).
func (e *Endpoint) JSON() EndpointJSON {
	types := e.EventTypes
	if types == nil {
		types = []string{}
	}
	j := EndpointJSON{
		Object:                  "webhook_endpoint",
		ID:                      e.ID,
		URL:                     e.URL,
		Description:             e.Description,
		EventTypes:              types,
		Enabled:                 e.Enabled,
		FailingSince:            msPtr(e.FailingSince),
		PreviousSecretExpiresAt: msPtr(e.PreviousSecretExpiresAt),
		Secret:                  e.Secret,
		CreatedAt:               e.CreatedAt.UnixMilli(),
		UpdatedAt:               e.UpdatedAt.UnixMilli(),
	}
	if e.DisabledReason != "" {
		r := e.DisabledReason
		j.DisabledReason = &r
	}
	return j
}

func msPtr(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	ms := t.UnixMilli()
	return &ms
}

func timeOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func (r *endpointRow) endpoint() (*Endpoint, error) {
	types, err := decodeEventTypes(r.EventTypes)
	if err != nil {
		return nil, fmt.Errorf("endpoint %q: %w", r.ID, err)
	}
	return &Endpoint{
		ID:                      r.ID,
		URL:                     r.URL,
		Description:             r.Description,
		EventTypes:              types,
		Enabled:                 r.Enabled,
		DisabledReason:          r.DisabledReason,
		FailingSince:            timeOrZero(r.FailingSince),
		PreviousSecretExpiresAt: timeOrZero(r.PreviousSecretExpiresAt),
		CreatedAt:               r.CreatedAt.UTC(),
		UpdatedAt:               r.UpdatedAt.UTC(),
	}, nil
}

func encodeEventTypes(types []string) string {
	if types == nil {
		types = []string{}
	}
	b, _ := json.Marshal(types) // a []string always encodes
	return string(b)
}

// checkURL accepts absolute http and https URLs. Whether the address may be
// reached is decided when connecting (internal/egress), where DNS answers
// cannot change afterwards.
func checkURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%w: url: %v", ErrInvalid, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", fmt.Errorf("%w: url must start with https:// or http://", ErrInvalid)
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", fmt.Errorf("%w: url has no host", ErrInvalid)
	}
	if u.Fragment != "" {
		return "", fmt.Errorf("%w: url must not have a fragment", ErrInvalid)
	}
	if len(raw) > 2048 {
		return "", fmt.Errorf("%w: url longer than 2048 characters", ErrInvalid)
	}
	return raw, nil
}
