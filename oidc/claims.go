package oidc

import (
	"time"

	"github.com/ory/fosite"

	"github.com/orgid/orgid/identity"
)

// Claims: which claims a user's tokens and userinfo carry. One builder
// serves the ID token, the userinfo response and refreshes, so they agree.

// userSession builds the fosite session of a user's grant. orgClaims are
// the active organization's claims (nil for none).
func (p *Provider) userSession(client *Client, user *identity.User, sess *identity.Session, scopes fosite.Arguments,
	requestedAt time.Time, orgID string, orgClaims map[string]any) *Session {
	s := NewSession(user.ID)
	s.ClientID = client.ID
	s.SessionID = sess.ID
	s.IDTokenAlg = client.Metadata.IDTokenSignedResponseAlg
	c := s.IDTokenClaims()
	c.Subject = user.ID
	c.AuthTime = sess.AuthTime.UTC().Truncate(time.Second)
	c.RequestedAt = requestedAt.UTC()
	c.AuthenticationMethodsReferences = sess.AMR
	c.AuthenticationContextClassReference = sess.ACR
	s.OrgID = orgID
	s.AccessClaims = orgClaims
	c.Extra = p.idTokenExtras(client, user, sess, scopes, orgClaims)
	return s
}

// idTokenExtras are the ID token claims beyond the ones fosite writes: sid,
// azp and the profile claims of the granted scopes.
func (p *Provider) idTokenExtras(client *Client, user *identity.User, sess *identity.Session, scopes fosite.Arguments, orgClaims map[string]any) map[string]any {
	extra := scopeClaims(user, scopes)
	for k, v := range orgClaims {
		extra[k] = v
	}
	extra["sid"] = sess.ID
	extra["azp"] = client.ID
	return extra
}

// refreshUserClaims updates a stored session before a refresh: the
// profile claims follow the user's current record, the organization claims
// the membership as it is now.
func (p *Provider) refreshUserClaims(s *Session, client *Client, user *identity.User, sess *identity.Session,
	scopes fosite.Arguments, orgID string, orgClaims map[string]any) {
	s.OrgID = orgID
	s.AccessClaims = orgClaims
	s.IDTokenClaims().Extra = p.idTokenExtras(client, user, sess, scopes, orgClaims)
}

// scopeClaims maps the user's record to the standard claims of the
// granted scopes (OpenID Connect Core §5.4). Empty values are left out.
func scopeClaims(u *identity.User, scopes fosite.Arguments) map[string]any {
	out := map[string]any{}
	set := func(k string, v string) {
		if v != "" {
			out[k] = v
		}
	}
	if scopes.Has("profile") {
		set("name", u.FullName())
		set("given_name", u.FirstName)
		set("family_name", u.LastName)
		set("middle_name", u.Profile.MiddleName)
		set("nickname", u.Profile.Nickname)
		set("preferred_username", u.Username)
		set("profile", u.Profile.ProfileURL)
		set("picture", u.ImageURL)
		set("website", u.Profile.Website)
		set("gender", u.Profile.Gender)
		set("birthdate", u.Profile.Birthdate)
		set("zoneinfo", u.Profile.Zoneinfo)
		set("locale", u.Profile.Locale)
		out["updated_at"] = u.UpdatedAt.Unix()
	}
	if scopes.Has("email") {
		set("email", u.Email)
		out["email_verified"] = u.EmailVerified
	}
	if scopes.Has("address") && u.Profile.Address != nil {
		a := u.Profile.Address
		addr := map[string]any{}
		for k, v := range map[string]string{
			"formatted": a.Formatted, "street_address": a.StreetAddress, "locality": a.Locality,
			"region": a.Region, "postal_code": a.PostalCode, "country": a.Country,
		} {
			if v != "" {
				addr[k] = v
			}
		}
		if len(addr) > 0 {
			out["address"] = addr
		}
	}
	if scopes.Has("phone") && u.Profile.PhoneNumber != "" {
		out["phone_number"] = u.Profile.PhoneNumber
		out["phone_number_verified"] = u.Profile.PhoneNumberVerified
	}
	return out
}
