package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/storage"
)

// Errors of the device code grant (RFC 8628 §3.5). They are answers to a
// poll, not failures, so they carry status 400 like every token error.
var (
	errAuthorizationPending = &fosite.RFC6749Error{ErrorField: "authorization_pending", CodeField: http400,
		DescriptionField: "The user has not yet approved the device."}
	errSlowDown = &fosite.RFC6749Error{ErrorField: "slow_down", CodeField: http400,
		DescriptionField: "The device polls too often; wait longer between requests."}
	errDeviceDenied = &fosite.RFC6749Error{ErrorField: "access_denied", CodeField: http400,
		DescriptionField: "The user denied the device's request."}
	errExpiredToken = &fosite.RFC6749Error{ErrorField: "expired_token", CodeField: http400,
		DescriptionField: "The device code has expired; start again."}
)

const http400 = 400

// deviceGrantData is an approved grant, kept with the device
// authorization until the device redeems it.
type deviceGrantData struct {
	Scopes   []string        `json:"scopes"`
	Audience []string        `json:"audience,omitempty"`
	Session  json.RawMessage `json:"session"`
}

// deviceGrant is the token endpoint handler of the device code grant.
// HandleTokenEndpointRequest answers polls (recording each one, outside
// the token transaction, so that the interval holds even for refused
// polls); PopulateTokenEndpointResponse redeems an approved authorization
// in the token endpoint's transaction and issues the tokens a code would.
type deviceGrant struct {
	p        *Provider
	tokens   oauth2.CoreStrategy
	idTokens *openid.IDTokenHandleHelper
}

var _ fosite.TokenEndpointHandler = (*deviceGrant)(nil)

// deviceHashKey carries the device authorization's key from the
// validation to the issuing phase, in the request form that is never
// stored (Sanitize keeps only fosite's own parameters).
const deviceHashKey = "orgid_device_hash"

func (*deviceGrant) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool { return false }

func (*deviceGrant) CanHandleTokenEndpointRequest(_ context.Context, ar fosite.AccessRequester) bool {
	return ar.GetGrantTypes().ExactOne(GrantDeviceCode)
}

func (h *deviceGrant) HandleTokenEndpointRequest(ctx context.Context, ar fosite.AccessRequester) error {
	if !h.CanHandleTokenEndpointRequest(ctx, ar) {
		return fosite.ErrUnknownRequest
	}
	p := h.p
	client := ar.GetClient().(*Client)
	if !client.HasGrant(GrantDeviceCode) {
		return fosite.ErrUnauthorizedClient.WithHint("The client may not use the device authorization grant.")
	}
	code := ar.GetRequestForm().Get("device_code")
	if code == "" {
		return fosite.ErrInvalidRequest.WithHint("device_code is required.")
	}
	hash := p.deviceHash(code)
	row, err := p.deviceByHash(ctx, hash)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && row.ClientID != client.ID) {
		return fosite.ErrInvalidGrant.WithHint("The device code is unknown.")
	}
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	now := p.now()
	switch {
	case row.Status == deviceStatusUsed:
		return fosite.ErrInvalidGrant.WithHint("The device code was already used.")
	case !row.live(now):
		return errExpiredToken
	case row.Status == deviceStatusDenied:
		return errDeviceDenied
	case row.Status == deviceStatusPending:
		return h.poll(ctx, row, now)
	}
	var data deviceGrantData
	if row.GrantData == nil || json.Unmarshal([]byte(*row.GrantData), &data) != nil {
		return fosite.ErrServerError.WithHint("The approved grant cannot be read.")
	}
	s := ar.GetSession().(*Session)
	if err := json.Unmarshal(data.Session, s); err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	// The grant belongs to the browser session that approved it: if that
	// ended (sign-out, revocation) or its user was banned since, there is
	// nothing left to redeem.
	sess, err := p.identity.GetSession(ctx, s.SessionID)
	if err != nil || sess.Status != identity.SessionActive {
		return fosite.ErrInvalidGrant.WithHint("The session that approved the device has ended.")
	}
	if user, err := p.identity.GetUser(ctx, s.Subject); err != nil || user.Banned {
		return fosite.ErrInvalidGrant.WithHint("The user who approved the device can no longer sign in.")
	}
	for _, sc := range data.Scopes {
		ar.GrantScope(sc)
	}
	for _, a := range data.Audience {
		ar.GrantAudience(a)
	}
	ar.GetRequestForm().Set(deviceHashKey, hash)
	return nil
}

// poll answers a poll of a pending authorization: slow_down when it came
// sooner than the interval after the previous one (and the interval grows
// by slowDownStep), authorization_pending otherwise. Every poll is
// recorded.
func (h *deviceGrant) poll(ctx context.Context, row *deviceRow, now time.Time) error {
	interval := time.Duration(row.IntervalSeconds) * time.Second
	tooSoon := row.LastPolledAt != nil && now.Sub(row.LastPolledAt.UTC()) < interval
	q := storage.Conn(ctx, h.p.store.db).NewUpdate().Model((*deviceRow)(nil)).Set("last_polled_at = ?", now).
		Where("device_hash = ?", row.DeviceHash)
	if tooSoon {
		q = q.Set("interval_seconds = interval_seconds + ?", int(slowDownStep/time.Second))
	}
	if _, err := q.Exec(ctx); err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	if tooSoon {
		return errSlowDown
	}
	return errAuthorizationPending
}

// PopulateTokenEndpointResponse redeems the approved authorization, once,
// and issues an access token, a refresh token when offline_access was
// granted to a client with the refresh_token grant, and an ID token when
// openid was granted.
func (h *deviceGrant) PopulateTokenEndpointResponse(ctx context.Context, ar fosite.AccessRequester, resp fosite.AccessResponder) error {
	if !h.CanHandleTokenEndpointRequest(ctx, ar) {
		return fosite.ErrUnknownRequest
	}
	p := h.p
	res, err := storage.Conn(ctx, p.store.db).NewUpdate().Model((*deviceRow)(nil)).Set("status = ?", deviceStatusUsed).
		Where("device_hash = ?", ar.GetRequestForm().Get(deviceHashKey)).Where("status = ?", deviceStatusApproved).Exec(ctx)
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fosite.ErrInvalidGrant.WithHint("The device code was already used.")
	}

	client := ar.GetClient()
	cfg := p.fcfg
	now := time.Now().UTC() // fosite measures token lifetimes on the real clock
	atLifespan := fosite.GetEffectiveLifespan(client, fosite.GrantType(GrantDeviceCode), fosite.AccessToken, cfg.GetAccessTokenLifespan(ctx))
	s := ar.GetSession().(*Session)
	s.SetExpiresAt(fosite.AccessToken, now.Add(atLifespan))
	issueRefresh := ar.GetGrantedScopes().HasOneOf(cfg.GetRefreshTokenScopes(ctx)...) && client.GetGrantTypes().Has(GrantRefreshToken)
	if issueRefresh {
		rtLifespan := fosite.GetEffectiveLifespan(client, fosite.GrantType(GrantDeviceCode), fosite.RefreshToken, cfg.GetRefreshTokenLifespan(ctx))
		if rtLifespan > 0 {
			s.SetExpiresAt(fosite.RefreshToken, now.Add(rtLifespan))
		}
	}

	access, accessSig, err := h.tokens.GenerateAccessToken(ctx, ar)
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	stored := ar.Sanitize(nil)
	if err := p.store.CreateAccessTokenSession(ctx, accessSig, stored); err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	resp.SetAccessToken(access)
	resp.SetTokenType("bearer")
	resp.SetExpiresIn(atLifespan)
	resp.SetScopes(ar.GetGrantedScopes())
	if issueRefresh {
		refresh, refreshSig, err := h.tokens.GenerateRefreshToken(ctx, ar)
		if err != nil {
			return fosite.ErrServerError.WithWrap(err)
		}
		if err := p.store.CreateRefreshTokenSession(ctx, refreshSig, accessSig, stored); err != nil {
			return fosite.ErrServerError.WithWrap(err)
		}
		resp.SetExtra("refresh_token", refresh)
	}
	if ar.GetGrantedScopes().Has("openid") {
		claims := s.IDTokenClaims()
		claims.AccessTokenHash = h.idTokens.GetAccessTokenHash(ctx, ar, resp)
		idLifespan := fosite.GetEffectiveLifespan(client, fosite.GrantType(GrantDeviceCode), fosite.IDToken, cfg.GetIDTokenLifespan(ctx))
		if err := h.idTokens.IssueExplicitIDToken(ctx, idLifespan, ar, resp); err != nil {
			return err
		}
	}
	return nil
}
