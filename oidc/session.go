package oidc

import (
	"encoding/json"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

// Session is what orgid stores with every code and token: who the grant is
// for, which browser session it came from, and the claims of the ID token
// and access token. fosite serialises it to JSON in the request tables.
type Session struct {
	*openid.DefaultSession `json:"oidc"`
	ClientID               string `json:"client_id"`
	// SessionID is the browser session (the sid claim); empty for client
	// credentials.
	SessionID string `json:"sid,omitempty"`
	// AccessClaims are the access token's claims beyond the RFC 9068 set
	// orgid always writes (organization, template claims). Introspection
	// returns them too.
	AccessClaims map[string]any `json:"access_claims,omitempty"`
	// Algorithm of the key that signs this grant's ID tokens ("" default).
	IDTokenAlg string `json:"id_token_alg,omitempty"`
	// OrgID is the grant's active organization ("" none); refreshes
	// re-check the membership and recompute its claims.
	OrgID string `json:"org_id,omitempty"`
	// UserinfoExtra are the organization and ID-token template claims
	// userinfo adds to the profile claims; UserinfoClaims the claim names
	// the claims request parameter asked userinfo for.
	UserinfoExtra  map[string]any `json:"userinfo_extra,omitempty"`
	UserinfoClaims []string       `json:"userinfo_claims,omitempty"`
	// PairwiseSubject is the sub a pairwise client knows the user by; the
	// session's Subject stays the user id, which orgid works with.
	PairwiseSubject string `json:"pairwise_sub,omitempty"`
}

// ClientSubject is the sub the client sees: pairwise, or the user id.
func (s *Session) ClientSubject() string {
	if s.PairwiseSubject != "" {
		return s.PairwiseSubject
	}
	return s.Subject
}

var (
	_ openid.Session             = (*Session)(nil)
	_ oauth2.JWTSessionContainer = (*Session)(nil)
	_ fosite.ExtraClaimsSession  = (*Session)(nil)
)

// NewSession returns an empty session for subject.
func NewSession(subject string) *Session {
	s := &Session{DefaultSession: &openid.DefaultSession{
		Claims:  &jwt.IDTokenClaims{Subject: subject},
		Headers: &jwt.Headers{},
		Subject: subject,
	}}
	return s
}

// Clone deep-copies the session through its JSON form, so that nothing is
// shared between the rows fosite derives from one request.
func (s *Session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	b, err := json.Marshal(s)
	if err != nil {
		panic("oidc: session does not marshal: " + err.Error())
	}
	out := NewSession("")
	if err := json.Unmarshal(b, out); err != nil {
		panic("oidc: session does not unmarshal: " + err.Error())
	}
	return out
}

// GetJWTClaims returns the access token's claims (RFC 9068). fosite's JWT
// strategy adds exp, scope and aud; accessTokenStrategy adds iat, iss and a
// default audience.
func (s *Session) GetJWTClaims() jwt.JWTClaimsContainer {
	extra := make(map[string]any, len(s.AccessClaims)+3)
	for k, v := range s.AccessClaims {
		extra[k] = v
	}
	extra["client_id"] = s.ClientID
	if s.SessionID != "" {
		extra["sid"] = s.SessionID
	}
	if c := s.IDTokenClaims(); !c.AuthTime.IsZero() {
		extra["auth_time"] = c.AuthTime.Unix()
	}
	return &jwt.JWTClaims{Subject: s.ClientSubject(), Extra: extra, ScopeField: jwt.JWTScopeFieldString}
}

// GetJWTHeader marks access tokens as RFC 9068 access tokens.
func (s *Session) GetJWTHeader() *jwt.Headers {
	return &jwt.Headers{Extra: map[string]any{"typ": "at+jwt"}}
}

// GetExtraClaims is what introspection adds to its response.
func (s *Session) GetExtraClaims() map[string]any {
	out := make(map[string]any, len(s.AccessClaims)+2)
	for k, v := range s.AccessClaims {
		out[k] = v
	}
	if s.SessionID != "" {
		out["sid"] = s.SessionID
	}
	if c := s.IDTokenClaims(); !c.AuthTime.IsZero() {
		out["auth_time"] = c.AuthTime.Unix()
	}
	return out
}

// claimsRequest reconstructs the claims request parameter's names for a
// refresh: the ID token's requested claims are already in its extras, so
// only userinfo's need carrying.
func (s *Session) claimsRequest() string {
	if len(s.UserinfoClaims) == 0 {
		return ""
	}
	req := map[string]map[string]any{"userinfo": {}}
	for _, n := range s.UserinfoClaims {
		req["userinfo"][n] = nil
	}
	b, _ := json.Marshal(req)
	return string(b)
}

// expiry returns when the token of type tt expires, or fallback from now.
func (s *Session) expiry(tt fosite.TokenType, now time.Time, fallback time.Duration) time.Time {
	if t := s.GetExpiresAt(tt); !t.IsZero() {
		return t
	}
	return now.Add(fallback)
}
