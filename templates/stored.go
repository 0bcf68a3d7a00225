package templates

import (
	"encoding/json"
	"time"
)

// Template defaults, as Clerk's.
const (
	DefaultLifetime  = 60 * time.Second
	DefaultClockSkew = 5 * time.Second
	DefaultAlgorithm = "RS256"
)

// StoredTemplate is a named template with its token settings, as stored or
// built in.
type StoredTemplate struct {
	ID   string // "jtmp_…"
	Name string
	// Claims is the claims document exactly as saved (key order and
	// spacing kept); for a built-in template, a description of its output.
	Claims    json.RawMessage
	Lifetime  time.Duration // exp = now + Lifetime
	ClockSkew time.Duration // nbf = now − ClockSkew
	Algorithm string        // JWS algorithm of the signing key, e.g. "RS256"
	// Builtin marks a preset: it cannot be updated or deleted, and its
	// CreatedAt and UpdatedAt are zero.
	Builtin              bool
	CreatedAt, UpdatedAt time.Time
	// Template is the compiled claims template.
	Template *Template
}

// Render renders the template's claims for d; see Template.Render.
func (st *StoredTemplate) Render(d Data) (map[string]any, error) {
	return st.Template.Render(d)
}

// TimeClaims returns the iat, nbf and exp of a token issued at now:
// nbf = now − ClockSkew, exp = now + Lifetime, in Unix seconds.
func (st *StoredTemplate) TimeClaims(now time.Time) (iat, nbf, exp int64) {
	return now.Unix(), now.Add(-st.ClockSkew).Unix(), now.Add(st.Lifetime).Unix()
}

// Preview renders the claims a token minted from this template at now
// would carry, without signing it: the template's claims plus iss, sub
// (the user's id), iat, nbf, exp and, with a session, sid. The issuer adds
// jti and azp when it mints a real token. It serves dry runs.
func (st *StoredTemplate) Preview(d Data, issuer string, now time.Time) (map[string]any, error) {
	claims, err := st.Render(d)
	if err != nil {
		return nil, err
	}
	claims["iss"] = issuer
	if d.User != nil {
		claims["sub"] = d.User.ID
	}
	if d.Session != nil && d.Session.ID != "" {
		claims["sid"] = d.Session.ID
	}
	claims["iat"], claims["nbf"], claims["exp"] = st.TimeClaims(now)
	return claims, nil
}

// TemplateJSON is a template in the shape of Clerk's Backend API
// jwt_template object; times are Unix milliseconds, durations seconds.
type TemplateJSON struct {
	Object           string          `json:"object"`
	ID               string          `json:"id"`
	Name             string          `json:"name"`
	Claims           json.RawMessage `json:"claims"`
	Lifetime         int64           `json:"lifetime"`
	AllowedClockSkew int64           `json:"allowed_clock_skew"`
	CustomSigningKey bool            `json:"custom_signing_key"`
	SigningAlgorithm string          `json:"signing_algorithm"`
	Builtin          bool            `json:"builtin,omitempty"`
	CreatedAt        int64           `json:"created_at"`
	UpdatedAt        int64           `json:"updated_at"`
}

// JSON returns the template's API form.
func (st *StoredTemplate) JSON() TemplateJSON {
	return TemplateJSON{
		Object:           "jwt_template",
		ID:               st.ID,
		Name:             st.Name,
		Claims:           st.Claims,
		Lifetime:         int64(st.Lifetime / time.Second),
		AllowedClockSkew: int64(st.ClockSkew / time.Second),
		SigningAlgorithm: st.Algorithm,
		Builtin:          st.Builtin,
		CreatedAt:        unixMilli(st.CreatedAt),
		UpdatedAt:        unixMilli(st.UpdatedAt),
	}
}

func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
