package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ory/fosite"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/templates"
	"github.com/orgid/orgid/tenancy"
)

// Claims: which claims a user's tokens and userinfo carry. One builder
// (grantClaims) serves the authorization response, every refresh and the
// token exchange, so ID tokens, access tokens, userinfo and introspection
// agree.
//
//   - ID token: protocol claims (fosite + sid, azp), the profile claims of
//     the granted scopes and of the claims request parameter, the
//     organization claims, then the client's ID token template.
//   - Access token (RFC 9068): protocol claims, the organization claims,
//     then the client's access token template. Introspection returns them.
//   - Userinfo: the profile claims of the granted scopes and requested
//     claims, read fresh, plus the ID token's organization and template
//     claims.
//
// Templates never override protocol claims.

// protocolClaims are set by orgid alone; templates and extras cannot
// replace them.
var protocolClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "iat": true, "nbf": true, "jti": true,
	"azp": true, "sid": true, "nonce": true, "auth_time": true, "at_hash": true, "c_hash": true,
	"acr": true, "amr": true, "rat": true, "client_id": true, "scope": true,
}

// grant is what a user's grant is issued from.
type grant struct {
	client *Client
	user   *identity.User
	sess   *identity.Session
	scopes fosite.Arguments
	// orgRef names the active organization ("" none).
	orgRef string
	// claimsRequest is the claims request parameter (JSON, may be empty).
	claimsRequest string
}

// grantClaims are the claims computed for a grant.
type grantClaims struct {
	orgID      string
	idExtra    map[string]any // ID token claims beyond fosite's
	userinfo   map[string]any // organization and template claims for userinfo
	access     map[string]any // access token claims beyond RFC 9068's
	infoClaims []string       // userinfo claims the claims parameter asked for
}

// claimsFor computes a grant's claims. storage.ErrNotFound: the user is not
// a member of the named organization.
func (p *Provider) claimsFor(ctx context.Context, g grant) (*grantClaims, error) {
	out := &grantClaims{idExtra: scopeClaims(g.user, g.scopes), userinfo: map[string]any{}, access: map[string]any{}}
	req := parseClaimsRequest(g.claimsRequest)
	if len(req.IDToken) > 0 {
		all := scopeClaims(g.user, allProfileScopes)
		for name := range req.IDToken {
			if v, ok := all[name]; ok {
				out.idExtra[name] = v
			}
		}
	}
	for name := range req.Userinfo {
		out.infoClaims = append(out.infoClaims, name)
	}

	org, err := p.orgClaims(ctx, g.user.ID, g.orgRef)
	if err != nil {
		return nil, err
	}
	if org != nil {
		out.orgID = org.OrgID
		for k, v := range org.Map() {
			out.idExtra[k], out.userinfo[k], out.access[k] = v, v, v
		}
	}

	idTmpl, atTmpl := g.client.Metadata.IDTokenTemplate, g.client.Metadata.AccessTokenTemplate
	if idTmpl != "" || atTmpl != "" {
		data, err := p.templateData(ctx, g.user, g.sess, org)
		if err != nil {
			return nil, err
		}
		if idTmpl != "" {
			claims, err := p.renderTemplate(ctx, idTmpl, data)
			if err != nil {
				return nil, err
			}
			mergeTemplateClaims(out.idExtra, claims)
			mergeTemplateClaims(out.userinfo, claims)
		}
		if atTmpl != "" {
			claims, err := p.renderTemplate(ctx, atTmpl, data)
			if err != nil {
				return nil, err
			}
			mergeTemplateClaims(out.access, claims)
		}
	}
	out.idExtra["sid"] = g.sess.ID
	out.idExtra["azp"] = g.client.ID
	return out, nil
}

// orgClaims are the user's claims in the organization orgRef names, as
// the membership is now; nil for "". storage.ErrNotFound for a non-member.
func (p *Provider) orgClaims(ctx context.Context, userID, orgRef string) (*tenancy.Claims, error) {
	if orgRef == "" {
		return nil, nil
	}
	return p.tenancy.Claims(ctx, userID, orgRef)
}

// mergeTemplateClaims copies rendered template claims, except the ones only
// orgid sets.
func mergeTemplateClaims(dst, claims map[string]any) {
	for k, v := range claims {
		if !protocolClaims[k] {
			dst[k] = v
		}
	}
}

func (p *Provider) renderTemplate(ctx context.Context, name string, data templates.Data) (map[string]any, error) {
	st, err := p.templates.Get(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("template %q: %w", name, err)
	}
	claims, err := st.Render(data)
	if err != nil {
		return nil, fmt.Errorf("render template %q: %w", name, err)
	}
	return claims, nil
}

// templateData is what templates render from: the user with the roles of
// all their organizations, the active organization and membership, and the
// session.
func (p *Provider) templateData(ctx context.Context, user *identity.User, sess *identity.Session, org *tenancy.Claims) (templates.Data, error) {
	memberships, err := p.tenancy.Memberships(ctx, user.ID)
	if err != nil {
		return templates.Data{}, err
	}
	return TemplateData(user, sess, memberships, org), nil
}

// TemplateData assembles templates.Data from identity and tenancy records;
// sess and org may be nil. The token path and `orgid templates render`
// share it.
func TemplateData(user *identity.User, sess *identity.Session, memberships []*tenancy.Membership, org *tenancy.Claims) templates.Data {
	roles := make(map[string]string, len(memberships))
	for _, m := range memberships {
		roles[m.OrganizationID] = m.Role
	}
	d := templates.Data{User: &templates.User{
		ID: user.ID, ExternalID: user.ExternalID, FirstName: user.FirstName, LastName: user.LastName,
		Username: user.Username, Email: user.Email, EmailVerified: user.EmailVerified, ImageURL: user.ImageURL,
		CreatedAt: user.CreatedAt, UpdatedAt: user.UpdatedAt,
		PublicMetadata: user.PublicMetadata, UnsafeMetadata: user.UnsafeMetadata, Organizations: roles,
	}}
	if sess != nil {
		d.Session = &templates.Session{ID: sess.ID}
	}
	if org != nil && org.Membership != nil && org.Membership.Organization != nil {
		o := org.Membership.Organization
		d.Org = &templates.Org{ID: o.ID, Name: o.Name, Slug: o.Slug, ImageURL: o.ImageURL, PublicMetadata: o.PublicMetadata}
		d.Membership = &templates.Membership{Role: org.OrgRole, Permissions: org.OrgPermissions, PublicMetadata: org.Membership.PublicMetadata}
	}
	return d
}

// userSession builds the fosite session of a new grant.
func (p *Provider) userSession(ctx context.Context, g grant, requestedAt time.Time) (*Session, error) {
	claims, err := p.claimsFor(ctx, g)
	if err != nil {
		return nil, err
	}
	s := NewSession(g.user.ID)
	s.ClientID = g.client.ID
	s.SessionID = g.sess.ID
	s.IDTokenAlg = g.client.Metadata.IDTokenSignedResponseAlg
	c := s.IDTokenClaims()
	c.Subject = p.subjectFor(g.client, g.user.ID)
	if c.Subject != g.user.ID {
		s.PairwiseSubject = c.Subject
	}
	c.AuthTime = g.sess.AuthTime.UTC().Truncate(time.Second)
	c.RequestedAt = requestedAt.UTC()
	c.AuthenticationMethodsReferences = g.sess.AMR
	c.AuthenticationContextClassReference = acrOf(g.sess)
	s.apply(claims)
	return s, nil
}

// acrOf is the session's authentication context class: what the session
// recorded, else "1" (ISO/IEC 29115 level 1) for a password sign-in.
func acrOf(sess *identity.Session) string {
	if sess.ACR != "" {
		return sess.ACR
	}
	return acrPassword
}

// acrPassword is the class of single-factor sign-in; discovery lists it.
const acrPassword = "1"

// apply stores computed claims in the session.
func (s *Session) apply(c *grantClaims) {
	s.OrgID = c.orgID
	s.AccessClaims = c.access
	s.UserinfoExtra = c.userinfo
	s.UserinfoClaims = c.infoClaims
	s.IDTokenClaims().Extra = c.idExtra
}

// claimsRequest is the claims request parameter (OpenID Connect Core
// §5.5); orgid uses the names it asks for and ignores values it cannot
// honour (essential is a wish, not a condition).
type claimsRequest struct {
	Userinfo map[string]json.RawMessage `json:"userinfo"`
	IDToken  map[string]json.RawMessage `json:"id_token"`
}

func parseClaimsRequest(raw string) claimsRequest {
	var c claimsRequest
	if raw != "" {
		_ = json.Unmarshal([]byte(raw), &c) // malformed: as if absent (validated at the endpoint)
	}
	return c
}

// validClaimsRequest reports whether the claims parameter is a JSON object
// of the expected shape.
func validClaimsRequest(raw string) bool {
	if raw == "" {
		return true
	}
	var c claimsRequest
	return json.Unmarshal([]byte(raw), &c) == nil
}

var allProfileScopes = fosite.Arguments{"profile", "email", "address", "phone"}

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

// userinfoClaims are the claims userinfo returns for a token's session.
func userinfoClaims(u *identity.User, s *Session, scopes fosite.Arguments) map[string]any {
	out := scopeClaims(u, scopes)
	if len(s.UserinfoClaims) > 0 {
		all := scopeClaims(u, allProfileScopes)
		for _, name := range s.UserinfoClaims {
			if v, ok := all[name]; ok {
				out[name] = v
			}
		}
	}
	for k, v := range s.UserinfoExtra {
		out[k] = v
	}
	out["sub"] = s.ClientSubject()
	return out
}

// isNotMember reports the error of a user outside the organization.
func isNotMember(err error) bool { return errors.Is(err, storage.ErrNotFound) }
