package identity

import (
	"strings"
	"time"
)

// User is a person who can sign in.
type User struct {
	ID string
	// Email is the address as entered; lookups compare it trimmed and
	// lowercased.
	Email         string
	EmailVerified bool
	FirstName     string
	LastName      string
	// Username is stored lowercased; "" when the user has none.
	Username   string
	ImageURL   string
	ExternalID string
	// PublicMetadata is readable by the user and may go into tokens;
	// PrivateMetadata is for the backend only; UnsafeMetadata the user may
	// write. Never nil.
	PublicMetadata  map[string]any
	PrivateMetadata map[string]any
	UnsafeMetadata  map[string]any
	Profile         Profile
	Banned          bool
	// LockedUntil is when an operator's lock ends (zero: not locked);
	// Locked says whether it was still in force when the user was read.
	LockedUntil time.Time
	Locked      bool
	HasPassword bool
	// TwoFactorEnabled: the user has a confirmed TOTP authenticator, and
	// every sign-in but a user-verified passkey asks for a second factor.
	TwoFactorEnabled bool
	LastSignInAt     time.Time // zero: never
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// FullName is the first and last name joined by a space, or whichever of
// them is set.
func (u *User) FullName() string {
	return strings.TrimSpace(u.FirstName + " " + u.LastName)
}

// Profile holds the OpenID Connect standard claims a user has beyond name,
// email and picture. JSON names are the claim names.
type Profile struct {
	MiddleName          string   `json:"middle_name,omitempty"`
	Nickname            string   `json:"nickname,omitempty"`
	ProfileURL          string   `json:"profile,omitempty"`
	Website             string   `json:"website,omitempty"`
	Gender              string   `json:"gender,omitempty"`
	Birthdate           string   `json:"birthdate,omitempty"`
	Zoneinfo            string   `json:"zoneinfo,omitempty"`
	Locale              string   `json:"locale,omitempty"`
	PhoneNumber         string   `json:"phone_number,omitempty"`
	PhoneNumberVerified bool     `json:"phone_number_verified,omitempty"`
	Address             *Address `json:"address,omitempty"`
}

// Address is the OpenID Connect address claim.
type Address struct {
	Formatted     string `json:"formatted,omitempty"`
	StreetAddress string `json:"street_address,omitempty"`
	Locality      string `json:"locality,omitempty"`
	Region        string `json:"region,omitempty"`
	PostalCode    string `json:"postal_code,omitempty"`
	Country       string `json:"country,omitempty"`
}

// NewUser is the input of CreateUser. Email is required; Password is
// optional (a user may sign in by other means later).
type NewUser struct {
	Email           string
	Password        string
	FirstName       string
	LastName        string
	Username        string
	ImageURL        string
	ExternalID      string
	EmailVerified   bool
	PublicMetadata  map[string]any
	PrivateMetadata map[string]any
	UnsafeMetadata  map[string]any
	Profile         Profile
}

// UserUpdate changes the fields that are not nil. A metadata map replaces
// the stored one whole; an empty, non-nil map clears it. Pointing Username
// or ExternalID at "" removes it.
type UserUpdate struct {
	FirstName       *string
	LastName        *string
	Username        *string
	ImageURL        *string
	ExternalID      *string
	EmailVerified   *bool
	PublicMetadata  map[string]any
	PrivateMetadata map[string]any
	UnsafeMetadata  map[string]any
	Profile         *Profile
}

// ListUsersParams filter and page ListUsers. Filters of different fields
// combine with AND, values of one field with OR.
type ListUsersParams struct {
	// Limit defaults to 10 and is capped at 500; Offset skips rows.
	Limit  int
	Offset int
	// EmailAddress matches case-insensitively.
	EmailAddress []string
	UserID       []string
	Username     []string
	ExternalID   []string
	// Query matches a part of the email address, first or last name or
	// username, or a whole user id.
	Query string
}
