package oidc

import (
	"context"
	"errors"
	"time"

	"github.com/ory/fosite"

	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/storage"
)

// On-demand tokens from JWT templates: RFC 8693 token exchange, the
// standard form of Clerk's getToken({template}). A client presents the
// signed-in user's access token (subject_token) and names a template as
// the audience; orgid answers with a JWT rendered from that template for
// the same user, session and active organization, signed with the
// template's algorithm, living the template's lifetime.
//
//	grant_type=urn:ietf:params:oauth:grant-type:token-exchange
//	subject_token=<access token>  subject_token_type=urn:ietf:params:oauth:token-type:access_token
//	requested_token_type=urn:ietf:params:oauth:token-type:jwt  audience=<template name>
//
// The client must be allowed to mint the template (allowed_templates) and
// the subject token must have been issued to that client: a client cannot
// turn another application's tokens into its own.

// Token exchange identifiers (RFC 8693).
const (
	GrantTokenExchange  = "urn:ietf:params:oauth:grant-type:token-exchange"
	TokenTypeAccess     = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeJWT        = "urn:ietf:params:oauth:token-type:jwt"
	errInvalidTarget    = "invalid_target"
	exchangeTemplateKey = "template"
)

// ErrInvalidTarget is RFC 8693's error for an audience orgid will not
// issue a token for.
var ErrInvalidTarget = &fosite.RFC6749Error{
	ErrorField:       errInvalidTarget,
	DescriptionField: "The requested audience is unknown or not allowed for this client.",
	CodeField:        400,
}

// tokenExchange is a fosite token endpoint handler of our own; fosite
// v0.49.0 has none for RFC 8693.
type tokenExchange struct{ p *Provider }

var _ fosite.TokenEndpointHandler = tokenExchange{}

func (tokenExchange) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool { return false }

func (tokenExchange) CanHandleTokenEndpointRequest(_ context.Context, ar fosite.AccessRequester) bool {
	return ar.GetGrantTypes().ExactOne(GrantTokenExchange)
}

// HandleTokenEndpointRequest validates the exchange and records the
// subject token's grant in the request's session.
func (h tokenExchange) HandleTokenEndpointRequest(ctx context.Context, ar fosite.AccessRequester) error {
	client := ar.GetClient().(*Client)
	if !client.HasGrant(GrantTokenExchange) {
		return fosite.ErrUnauthorizedClient.WithHint("The client may not use token exchange.")
	}
	form := ar.GetRequestForm()
	subject := form.Get("subject_token")
	switch {
	case subject == "":
		return fosite.ErrInvalidRequest.WithHint("subject_token is required.")
	case form.Get("subject_token_type") != TokenTypeAccess:
		return fosite.ErrInvalidRequest.WithHint("subject_token_type must be " + TokenTypeAccess + ".")
	case form.Get("requested_token_type") != "" && form.Get("requested_token_type") != TokenTypeJWT:
		return fosite.ErrInvalidRequest.WithHint("requested_token_type must be " + TokenTypeJWT + ".")
	case form.Get("actor_token") != "":
		return fosite.ErrInvalidRequest.WithHint("Delegation (actor_token) is not supported.")
	case len(ar.GetRequestedAudience()) != 1:
		return fosite.ErrInvalidRequest.WithHint("Name exactly one template as the audience.")
	}
	name := ar.GetRequestedAudience()[0]
	if !contains(client.Metadata.AllowedTemplates, name) {
		return ErrInvalidTarget
	}
	if _, err := h.p.templates.Get(ctx, name); errors.Is(err, storage.ErrNotFound) {
		return ErrInvalidTarget
	} else if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	use, subjectReq, err := h.p.oauth.IntrospectToken(ctx, subject, fosite.AccessToken, NewSession(""))
	if err != nil || use != fosite.AccessToken {
		return fosite.ErrInvalidGrant.WithHint("The subject token is invalid, expired or revoked.")
	}
	ss := subjectReq.GetSession().(*Session)
	if ss.ClientID != client.ID {
		return fosite.ErrInvalidGrant.WithHint("The subject token was issued to another client.")
	}
	if ss.SessionID == "" {
		return fosite.ErrInvalidGrant.WithHint("The subject token does not belong to a signed-in user.")
	}
	s := ar.GetSession().(*Session)
	s.Subject, s.ClientID, s.SessionID, s.OrgID = ss.Subject, client.ID, ss.SessionID, ss.OrgID
	s.PairwiseSubject = ss.PairwiseSubject
	s.IDTokenClaims().Subject = ss.ClientSubject()
	form.Set(exchangeTemplateKey, name)
	return nil
}

// PopulateTokenEndpointResponse renders and signs the template.
func (h tokenExchange) PopulateTokenEndpointResponse(ctx context.Context, ar fosite.AccessRequester, resp fosite.AccessResponder) error {
	if !h.CanHandleTokenEndpointRequest(ctx, ar) {
		return fosite.ErrUnknownRequest // fosite asks every handler
	}
	p := h.p
	s := ar.GetSession().(*Session)
	user, err := p.identity.GetUser(ctx, s.Subject)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && user.Banned) {
		return fosite.ErrInvalidGrant.WithHint("The user of the subject token can no longer sign in.")
	}
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	sess, err := p.identity.GetSession(ctx, s.SessionID)
	if err != nil || sess.Status != "active" {
		return fosite.ErrInvalidGrant.WithHint("The session of the subject token has ended.")
	}
	orgClaims, err := p.orgClaims(ctx, user.ID, s.OrgID)
	if isNotMember(err) {
		return fosite.ErrInvalidGrant.WithHint("The user is no longer a member of the organization.")
	}
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	st, err := p.templates.Get(ctx, ar.GetRequestForm().Get(exchangeTemplateKey))
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	data, err := p.templateData(ctx, user, sess, orgClaims)
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	rendered, err := st.Render(data)
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	claims := map[string]any{}
	for k, v := range rendered {
		if !protocolClaims[k] || k == "aud" {
			claims[k] = v
		}
	}
	now := p.now()
	iat, nbf, exp := st.TimeClaims(now)
	claims["iss"], claims["sub"], claims["azp"], claims["sid"] = p.cfg.Issuer, s.ClientSubject(), s.ClientID, sess.ID
	claims["iat"], claims["nbf"], claims["exp"], claims["jti"] = iat, nbf, exp, id.New("jti")
	token, err := p.keys.Sign(ctx, st.Algorithm, claims, map[string]any{"typ": "JWT"})
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	resp.SetAccessToken(token)
	resp.SetTokenType("N_A") // RFC 8693 §2.2.1: not an OAuth access token
	resp.SetExpiresIn(time.Duration(exp-iat) * time.Second)
	resp.SetExtra("issued_token_type", TokenTypeJWT)
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
