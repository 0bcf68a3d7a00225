package oidc

import (
	"context"
	"errors"
	"net/http"

	"github.com/ory/fosite"

	"github.com/orgid/orgid/oidc/keys"
	"github.com/orgid/orgid/storage"
)

// supportedGrants are the grant types the token endpoint knows; anything
// else is unsupported_grant_type (fosite would answer invalid_request).
var supportedGrants = map[string]bool{
	GrantAuthorizationCode: true,
	GrantRefreshToken:      true,
	GrantClientCredentials: true,
	GrantTokenExchange:     true,
	GrantDeviceCode:        true,
}

// multiWriteGrants issue several rows (code use, access and refresh
// token, ID token session cleanup); their whole response is one
// transaction.
var multiWriteGrants = map[string]bool{GrantAuthorizationCode: true, GrantRefreshToken: true, GrantDeviceCode: true}

// token is the token endpoint. Phases: parse and authenticate the client
// and validate the grant (fosite, outside a transaction, because reuse
// detection must commit its revocations even though the request fails);
// adjust the grant (scopes for client credentials, fresh claims on
// refresh); issue the tokens of a code or refresh grant in ONE
// transaction, so a failed write leaves no half-issued grant; write the
// response.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	ctx := withClientCache(r.Context())
	if err := r.ParseForm(); err != nil {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "The request body could not be parsed.", "")
		return
	}
	grant := r.PostForm.Get("grant_type")
	if grant == "" {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "The grant_type parameter is missing.", "")
		return
	}
	if !supportedGrants[grant] {
		writeJSONError(w, http.StatusBadRequest, "unsupported_grant_type", "The grant type is not supported.", "")
		return
	}

	ar, err := p.oauth.NewAccessRequest(ctx, r, NewSession(""))
	if err != nil {
		p.writeTokenError(ctx, w, err)
		return
	}
	client := ar.GetClient().(*Client)
	switch grant {
	case GrantClientCredentials:
		s := ar.GetSession().(*Session)
		s.Subject, s.ClientID = client.ID, client.ID
		s.IDTokenClaims().Subject = client.ID
		for _, scope := range ar.GetRequestedScopes() {
			ar.GrantScope(scope)
		}
		for _, aud := range ar.GetRequestedAudience() {
			ar.GrantAudience(aud)
		}
	case GrantRefreshToken:
		if err := p.refreshClaims(ctx, ar, client); err != nil {
			p.writeTokenError(ctx, w, err)
			return
		}
	}
	if alg := client.Metadata.IDTokenSignedResponseAlg; alg != "" {
		ctx = keys.WithAlgorithm(ctx, alg)
	}

	var resp fosite.AccessResponder
	if multiWriteGrants[grant] {
		err = storage.InTx(ctx, p.store.db, func(ctx context.Context) error {
			var err error
			resp, err = p.oauth.NewAccessResponse(ctx, ar)
			return err
		})
	} else {
		// One insert (client credentials) or none (token exchange): no
		// transaction, so the signature is computed without holding
		// SQLite's write lock.
		resp, err = p.oauth.NewAccessResponse(ctx, ar)
	}
	if errors.Is(err, errCodeAlreadyRedeemed) || errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
		// Lost a race for the code: treat it as reuse, which revokes what
		// the winner issued (RFC 6749 §4.1.2, RFC 9700 §4.2.4).
		p.revokeGrant(ctx, ar.GetID())
		err = fosite.ErrInvalidGrant.WithHint("The authorization code has already been used.")
	}
	if err != nil {
		p.writeTokenError(ctx, w, err)
		return
	}
	p.metrics.tokensIssued.WithLabelValues(grant).Inc()
	p.oauth.WriteAccessResponse(ctx, w, ar, resp)
}

// refreshClaims re-checks, before a refresh, that the user may still have
// tokens and brings the claims up to date with their record.
func (p *Provider) refreshClaims(ctx context.Context, ar fosite.AccessRequester, client *Client) error {
	s := ar.GetSession().(*Session)
	user, err := p.identity.GetUser(ctx, s.Subject)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && user.Banned) {
		return fosite.ErrInvalidGrant.WithHint("The user of this grant can no longer sign in.")
	}
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	sess, err := p.identity.GetSession(ctx, s.SessionID)
	if err != nil || sess.Status != "active" {
		return fosite.ErrInvalidGrant.WithHint("The session of this grant has ended.")
	}
	// The organization: the grant's, or the one this refresh switches to.
	orgRef := s.OrgID
	switchTo := ar.GetRequestForm().Get("organization")
	if switchTo != "" {
		if !ar.GetGrantedScopes().Has(ScopeOrganization) {
			return fosite.ErrInvalidScope.WithHint("Switching organization needs a grant with the organization scope.")
		}
		orgRef = switchTo
	}
	claims, err := p.claimsFor(ctx, grant{client: client, user: user, sess: sess, scopes: ar.GetGrantedScopes(),
		orgRef: orgRef, claimsRequest: s.claimsRequest()})
	if isNotMember(err) {
		return fosite.ErrInvalidGrant.WithHint("The user is not a member of the organization.")
	}
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	if switchTo != "" {
		// The browser session remembers the organization switched to.
		if err := p.identity.SetActiveOrganization(ctx, sess.ID, claims.orgID); err != nil {
			return fosite.ErrServerError.WithWrap(err)
		}
	}
	s.apply(claims)
	return nil
}

// revokeGrant removes every token of a grant; failures are logged, the
// caller is answering with an error anyway.
func (p *Provider) revokeGrant(ctx context.Context, requestID string) {
	err := storage.InTx(ctx, p.store.db, func(ctx context.Context) error {
		if err := p.store.RevokeAccessToken(ctx, requestID); err != nil {
			return err
		}
		return p.store.RevokeRefreshToken(ctx, requestID)
	})
	if err != nil {
		p.log.ErrorContext(ctx, "revoke grant after code reuse", "error", err)
	}
}

// writeTokenError writes token endpoint errors; invalid_client gets a
// Basic challenge (RFC 6749 §5.2).
func (p *Provider) writeTokenError(ctx context.Context, w http.ResponseWriter, err error) {
	p.metrics.tokenErrors.WithLabelValues(fosite.ErrorToRFC6749Error(err).ErrorField).Inc()
	p.writeFositeJSONError(ctx, w, err, `Basic realm="`+p.cfg.Issuer+`"`)
}
