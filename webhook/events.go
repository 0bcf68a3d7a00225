package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
)

// ErrInvalid marks input the caller must fix (a bad URL, event type or
// filter); the management API answers it with 400 or 422.
var ErrInvalid = errors.New("invalid")

// EventTypes returns the event types orgid emits, in Clerk's names. An
// endpoint's filter may name others (for events added later); Emit accepts
// any well-formed type.
func EventTypes() []string {
	return []string{
		"user.created", "user.updated", "user.deleted",
		"session.created", "session.ended", "session.revoked",
		"organization.created", "organization.updated", "organization.deleted",
		"organizationMembership.created", "organizationMembership.updated", "organizationMembership.deleted",
		"organizationInvitation.created", "organizationInvitation.accepted", "organizationInvitation.revoked",
		"organizationDomain.created", "organizationDomain.updated", "organizationDomain.deleted",
		"role.created", "role.updated", "role.deleted",
		"permission.created", "permission.updated", "permission.deleted",
	}
}

// eventTypePattern is Standard Webhooks' rule: dot-separated parts of
// letters, digits and underscores.
var eventTypePattern = regexp.MustCompile(`^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$`)

func checkEventType(t string) error {
	if len(t) > 128 || !eventTypePattern.MatchString(t) {
		return fmt.Errorf("%w: event type %q (want dot-separated letters, digits and underscores)", ErrInvalid, t)
	}
	return nil
}

// normaliseEventTypes validates a filter and returns it sorted without
// duplicates; empty means every event.
func normaliseEventTypes(types []string) ([]string, error) {
	out := make([]string, 0, len(types))
	for _, t := range types {
		if err := checkEventType(t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// subscribed reports whether an endpoint with the given filter receives
// events of type t.
func subscribed(filter []string, t string) bool {
	return len(filter) == 0 || slices.Contains(filter, t)
}

// envelope is the body of every message, in Clerk's shape.
type envelope struct {
	Data       json.RawMessage `json:"data"`
	Object     string          `json:"object"`
	Type       string          `json:"type"`
	Timestamp  int64           `json:"timestamp"`
	InstanceID string          `json:"instance_id"`
}

// marshalJSON encodes v without HTML escaping: receivers get "<" and "&" as
// written, as Clerk sends them.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
