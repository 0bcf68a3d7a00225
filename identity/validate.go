package identity

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Input limits. Metadata is capped like Clerk's (8 KiB each) because
// unsafe_metadata is user-writable and public_metadata rides in tokens.
const (
	maxEmailLength    = 254
	maxNameLength     = 256
	maxURLLength      = 2048
	maxMetadataBytes  = 8 * 1024
	minUsernameLength = 3
	maxUsernameLength = 64
)

// normalizeEmail is the form sign-in and uniqueness compare.
func normalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// normalizeUsername is the stored and compared form of a username.
func normalizeUsername(username string) string {
	return strings.ToLower(strings.TrimSpace(username))
}

// validateEmail accepts one bare address (no display name, no angle
// brackets) with a domain part.
func validateEmail(email string) error {
	bad := &ValidationError{Field: "email_address", Message: "Enter a valid email address, like name@example.com."}
	email = strings.TrimSpace(email)
	if email == "" || len(email) > maxEmailLength || safeText(email) != email {
		return bad
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Name != "" || addr.Address != email {
		return bad
	}
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(domain, "[]") {
		return bad
	}
	return nil
}

var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

// validateUsername checks a normalized username. It may not contain "@",
// so that a sign-in identifier is an email exactly when it contains one.
func validateUsername(username string) error {
	n := utf8.RuneCountInString(username)
	if n < minUsernameLength || n > maxUsernameLength || !usernamePattern.MatchString(username) {
		return &ValidationError{Field: "username", Message: fmt.Sprintf(
			"Username must be %d to %d characters: letters, digits, '_', '-' or '.', starting with a letter or digit.",
			minUsernameLength, maxUsernameLength)}
	}
	return nil
}

func validateName(field, v string) error {
	if utf8.RuneCountInString(v) > maxNameLength || safeText(v) != v {
		return &ValidationError{Field: field, Message: fmt.Sprintf("Must be valid text of at most %d characters.", maxNameLength)}
	}
	return nil
}

// validateURL accepts "" or an absolute http(s) URL.
func validateURL(field, v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || len(v) > maxURLLength || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return &ValidationError{Field: field, Message: "Must be an absolute http or https URL."}
	}
	return nil
}

func validateMetadata(field string, m map[string]any) (string, error) {
	s, err := encodeObject(m)
	if err != nil {
		return "", &ValidationError{Field: field, Message: "Must be a JSON object."}
	}
	if len(s) > maxMetadataBytes {
		return "", &ValidationError{Field: field, Message: fmt.Sprintf("Must be at most %d bytes of JSON.", maxMetadataBytes)}
	}
	return s, nil
}

// birthdatePattern is OpenID Connect's YYYY-MM-DD, 0000-MM-DD (year
// withheld) or YYYY.
var birthdatePattern = regexp.MustCompile(`^\d{4}(-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]))?$`)

func validateProfile(p Profile) (string, error) {
	for _, f := range []struct{ field, v string }{
		{"middle_name", p.MiddleName}, {"nickname", p.Nickname}, {"gender", p.Gender},
		{"zoneinfo", p.Zoneinfo}, {"locale", p.Locale}, {"phone_number", p.PhoneNumber},
	} {
		if err := validateName(f.field, f.v); err != nil {
			return "", err
		}
	}
	if a := p.Address; a != nil {
		for _, f := range []struct{ field, v string }{
			{"address.formatted", a.Formatted}, {"address.street_address", a.StreetAddress},
			{"address.locality", a.Locality}, {"address.region", a.Region},
			{"address.postal_code", a.PostalCode}, {"address.country", a.Country},
		} {
			if err := validateName(f.field, f.v); err != nil {
				return "", err
			}
		}
	}
	if err := validateURL("profile", p.ProfileURL); err != nil {
		return "", err
	}
	if err := validateURL("website", p.Website); err != nil {
		return "", err
	}
	if p.Birthdate != "" && !birthdatePattern.MatchString(p.Birthdate) {
		return "", &ValidationError{Field: "birthdate", Message: "Must be YYYY-MM-DD, 0000-MM-DD or YYYY."}
	}
	if p.Address != nil && *p.Address == (Address{}) {
		p.Address = nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// safeText replaces what PostgreSQL cannot store in TEXT (invalid UTF-8
// and NUL) so that a lookup with such input finds nothing instead of
// failing.
func safeText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func safeTexts(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = safeText(s)
	}
	return out
}
