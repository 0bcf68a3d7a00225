package tenancy

import (
	"encoding/json"
	"fmt"
)

// MaxMetadataBytes bounds each metadata object, encoded, as Clerk does.
const MaxMetadataBytes = 8 * 1024

// encodeMetadata returns the stored form of a metadata object; nil is {}.
func encodeMetadata(what string, m map[string]any) (string, error) {
	if m == nil {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrInvalid, what, err)
	}
	if len(b) > MaxMetadataBytes {
		return "", fmt.Errorf("%w: %s is %d bytes encoded, more than %d", ErrInvalid, what, len(b), MaxMetadataBytes)
	}
	return string(b), nil
}

// decodeMetadata reads a stored metadata object; never nil.
func decodeMetadata(s string) map[string]any {
	m := map[string]any{}
	if s != "" {
		// The column only ever holds what encodeMetadata wrote.
		_ = json.Unmarshal([]byte(s), &m)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m
}
