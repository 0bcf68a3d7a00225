package identity

import "strings"

// UserJSON is the Clerk-shaped JSON form of a user, used by the management
// API and as the data of user.* webhook events. It carries
// private_metadata: never show it to the user.
type UserJSON struct {
	Object                string             `json:"object"`
	ID                    string             `json:"id"`
	ExternalID            *string            `json:"external_id"`
	PrimaryEmailAddressID *string            `json:"primary_email_address_id"`
	EmailAddresses        []EmailAddressJSON `json:"email_addresses"`
	Username              *string            `json:"username"`
	FirstName             *string            `json:"first_name"`
	LastName              *string            `json:"last_name"`
	ImageURL              string             `json:"image_url"`
	HasImage              bool               `json:"has_image"`
	PublicMetadata        map[string]any     `json:"public_metadata"`
	PrivateMetadata       map[string]any     `json:"private_metadata"`
	UnsafeMetadata        map[string]any     `json:"unsafe_metadata"`
	PasswordEnabled       bool               `json:"password_enabled"`
	TwoFactorEnabled      bool               `json:"two_factor_enabled"`
	Banned                bool               `json:"banned"`
	Locked                bool               `json:"locked"`
	// Profile is an orgid extension: the remaining OpenID Connect claims.
	Profile      Profile `json:"profile"`
	LastSignInAt *int64  `json:"last_sign_in_at"`
	CreatedAt    int64   `json:"created_at"`
	UpdatedAt    int64   `json:"updated_at"`
}

// EmailAddressJSON is Clerk's email_address object.
type EmailAddressJSON struct {
	Object       string           `json:"object"`
	ID           string           `json:"id"`
	EmailAddress string           `json:"email_address"`
	Verification VerificationJSON `json:"verification"`
	LinkedTo     []any            `json:"linked_to"`
}

// VerificationJSON says whether and how an email address was verified.
type VerificationJSON struct {
	Status   string `json:"status"`
	Strategy string `json:"strategy"`
}

// EmailAddressID is the id of the user's (single, primary) email address:
// derived from the user id, since a user has one email address for now.
func EmailAddressID(userID string) string {
	return "idn_" + strings.TrimPrefix(userID, "user_")
}

// JSON returns the Clerk-shaped form of u. Timestamps are Unix
// milliseconds; unset optional strings are null.
func (u *User) JSON() UserJSON {
	emailID := EmailAddressID(u.ID)
	v := VerificationJSON{Status: "unverified", Strategy: "email_link"}
	if u.EmailVerified {
		// Verified by an operator or a verification flow; orgid does not
		// record which.
		v = VerificationJSON{Status: "verified", Strategy: "admin"}
	}
	j := UserJSON{
		Object:                "user",
		ID:                    u.ID,
		ExternalID:            nullable(u.ExternalID),
		PrimaryEmailAddressID: &emailID,
		EmailAddresses: []EmailAddressJSON{{
			Object: "email_address", ID: emailID, EmailAddress: u.Email,
			Verification: v, LinkedTo: []any{},
		}},
		Username:         nullable(u.Username),
		FirstName:        nullable(u.FirstName),
		LastName:         nullable(u.LastName),
		ImageURL:         u.ImageURL,
		HasImage:         u.ImageURL != "",
		PublicMetadata:   nonNil(u.PublicMetadata),
		PrivateMetadata:  nonNil(u.PrivateMetadata),
		UnsafeMetadata:   nonNil(u.UnsafeMetadata),
		PasswordEnabled:  u.HasPassword,
		TwoFactorEnabled: u.TwoFactorEnabled,
		Banned:           u.Banned,
		Locked:           u.Locked,
		Profile:          u.Profile,
		CreatedAt:        u.CreatedAt.UnixMilli(),
		UpdatedAt:        u.UpdatedAt.UnixMilli(),
	}
	if !u.LastSignInAt.IsZero() {
		ms := u.LastSignInAt.UnixMilli()
		j.LastSignInAt = &ms
	}
	return j
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
