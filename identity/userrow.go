package identity

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// userRow is the users table. JSON columns are carried as strings and
// (un)marshalled here, so that both dialects see the same text.
type userRow struct {
	bun.BaseModel `bun:"table:users"`

	ID              string `bun:"id,pk"`
	Email           string `bun:"email"`
	EmailNormalized string `bun:"email_normalized"`
	EmailVerified   bool   `bun:"email_verified"`
	PasswordHash    string `bun:"password_hash,nullzero"`
	FirstName       string `bun:"first_name"`
	LastName        string `bun:"last_name"`
	Username        string `bun:"username,nullzero"`
	ImageURL        string `bun:"image_url"`
	ExternalID      string `bun:"external_id,nullzero"`
	PublicMetadata  string `bun:"public_metadata"`
	PrivateMetadata string `bun:"private_metadata"`
	UnsafeMetadata  string `bun:"unsafe_metadata"`
	Profile         string `bun:"profile"`
	Banned          bool   `bun:"banned"`
	// TwoFactorEnabled mirrors a confirmed user_totp row.
	TwoFactorEnabled bool      `bun:"two_factor_enabled"`
	LockedUntil      time.Time `bun:"locked_until,nullzero"`
	LastSignInAt     time.Time `bun:"last_sign_in_at,nullzero"`
	CreatedAt        time.Time `bun:"created_at"`
	UpdatedAt        time.Time `bun:"updated_at"`
}

// toUser converts a row; now decides whether a lock is still in force.
func (r *userRow) toUser(now time.Time) (*User, error) {
	u := &User{
		ID:               r.ID,
		Email:            r.Email,
		EmailVerified:    r.EmailVerified,
		FirstName:        r.FirstName,
		LastName:         r.LastName,
		Username:         r.Username,
		ImageURL:         r.ImageURL,
		ExternalID:       r.ExternalID,
		Banned:           r.Banned,
		LockedUntil:      utc(r.LockedUntil),
		Locked:           !r.LockedUntil.IsZero() && now.Before(r.LockedUntil),
		HasPassword:      r.PasswordHash != "",
		TwoFactorEnabled: r.TwoFactorEnabled,
		LastSignInAt:     utc(r.LastSignInAt),
		CreatedAt:        utc(r.CreatedAt),
		UpdatedAt:        utc(r.UpdatedAt),
	}
	var err error
	if u.PublicMetadata, err = decodeObject(r.PublicMetadata); err != nil {
		return nil, fmt.Errorf("user %s public_metadata: %w", r.ID, err)
	}
	if u.PrivateMetadata, err = decodeObject(r.PrivateMetadata); err != nil {
		return nil, fmt.Errorf("user %s private_metadata: %w", r.ID, err)
	}
	if u.UnsafeMetadata, err = decodeObject(r.UnsafeMetadata); err != nil {
		return nil, fmt.Errorf("user %s unsafe_metadata: %w", r.ID, err)
	}
	if r.Profile != "" {
		if err := json.Unmarshal([]byte(r.Profile), &u.Profile); err != nil {
			return nil, fmt.Errorf("user %s profile: %w", r.ID, err)
		}
	}
	return u, nil
}

// utc returns t in UTC, keeping the zero time zero.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// encodeObject marshals metadata; nil becomes {}.
func encodeObject(m map[string]any) (string, error) {
	if m == nil {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// decodeObject unmarshals a JSON object column; it never returns nil.
func decodeObject(s string) (map[string]any, error) {
	m := map[string]any{}
	if s == "" {
		return m, nil
	}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	if m == nil { // the column held JSON null
		m = map[string]any{}
	}
	return m, nil
}
