package oidc

import (
	"errors"
	"net/http"
	"strings"

	"github.com/ory/fosite"

	"github.com/orgid/orgid/storage"
)

// userinfo answers GET and POST (OpenID Connect Core §5.3) with the claims
// of the token's granted scopes, read from the user's current record. The
// access token comes in the Authorization header or a form body; never in
// the URL, where logs and Referer headers would keep it.
func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	ctx := withClientCache(r.Context())
	token := bearerToken(r)
	const challenge = `Bearer error="invalid_token"`
	if token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+p.cfg.Issuer+`"`)
		writeJSONError(w, http.StatusUnauthorized, "invalid_request", "An access token is required.", "")
		return
	}
	sess := NewSession("")
	use, ar, err := p.oauth.IntrospectToken(ctx, token, fosite.AccessToken, sess)
	if err != nil || use != fosite.AccessToken {
		writeJSONError(w, http.StatusUnauthorized, "invalid_token", "The access token is invalid or expired.", challenge)
		return
	}
	if !ar.GetGrantedScopes().Has("openid") {
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="openid"`)
		writeJSONError(w, http.StatusForbidden, "insufficient_scope", "The access token was not granted the openid scope.", "")
		return
	}
	s := ar.GetSession().(*Session)
	user, err := p.identity.GetUser(ctx, s.Subject)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && user.Banned) {
		writeJSONError(w, http.StatusUnauthorized, "invalid_token", "The user of this token no longer exists.", challenge)
		return
	}
	if err != nil {
		p.log.ErrorContext(ctx, "userinfo", "error", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", "", "")
		return
	}
	claims := userinfoClaims(user, s, ar.GetGrantedScopes())
	client, _ := ar.GetClient().(*Client)
	if client == nil || client.Metadata.UserinfoSignedResponseAlg == "" {
		writeJSON(w, http.StatusOK, claims)
		return
	}
	// A signed response (OpenID Connect Core §5.3.2) names the issuer and
	// the client, so that it cannot be replayed to another client.
	claims["iss"], claims["aud"] = p.cfg.Issuer, client.ID
	claims["iat"] = p.now().Unix()
	jwt, err := p.keys.Sign(ctx, client.Metadata.UserinfoSignedResponseAlg, claims, nil)
	if err != nil {
		p.log.ErrorContext(ctx, "sign userinfo", "error", err)
		writeJSONError(w, http.StatusInternalServerError, "server_error", "", "")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/jwt")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(jwt))
}

// bearerToken reads an RFC 6750 token from the Authorization header or, for
// a form-encoded POST, the access_token body parameter.
func bearerToken(r *http.Request) string {
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "bearer") {
		return strings.TrimSpace(tok)
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if err := r.ParseForm(); err == nil {
			return r.PostForm.Get("access_token")
		}
	}
	return ""
}

// introspect implements RFC 7662 for authenticated confidential clients
// (resource servers register as clients). A bearer token cannot stand in
// for client credentials here.
func (p *Provider) introspect(w http.ResponseWriter, r *http.Request) {
	ctx := withClientCache(r.Context())
	if scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " "); !strings.EqualFold(scheme, "basic") {
		writeJSONError(w, http.StatusUnauthorized, "invalid_client", "Client authentication (HTTP Basic) is required.", `Basic realm="`+p.cfg.Issuer+`"`)
		return
	}
	resp, err := p.oauth.NewIntrospectionRequest(ctx, r, NewSession(""))
	if err != nil {
		rfc := fosite.ErrorToRFC6749Error(err)
		if rfc.ErrorField == fosite.ErrRequestUnauthorized.ErrorField || rfc.ErrorField == fosite.ErrInvalidClient.ErrorField {
			writeJSONError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed.", `Basic realm="`+p.cfg.Issuer+`"`)
			return
		}
		if rfc.ErrorField == fosite.ErrInvalidRequest.ErrorField {
			p.writeFositeJSONError(ctx, w, err, "")
			return
		}
		// Unknown, expired and revoked tokens are simply inactive.
		writeJSON(w, http.StatusOK, map[string]any{"active": false})
		return
	}
	if !resp.IsActive() {
		writeJSON(w, http.StatusOK, map[string]any{"active": false})
		return
	}
	ar := resp.GetAccessRequester()
	s := ar.GetSession().(*Session)
	out := map[string]any{}
	for k, v := range s.GetExtraClaims() {
		out[k] = v
	}
	out["active"] = true
	out["iss"] = p.cfg.Issuer
	out["client_id"] = ar.GetClient().GetID()
	out["sub"] = s.ClientSubject()
	out["scope"] = strings.Join(ar.GetGrantedScopes(), " ")
	out["iat"] = ar.GetRequestedAt().Unix()
	if use := resp.GetTokenUse(); use == fosite.AccessToken {
		out["token_type"] = "Bearer"
		out["exp"] = s.GetExpiresAt(fosite.AccessToken).Unix()
		aud := []string(ar.GetGrantedAudience())
		if len(aud) == 0 {
			aud = []string{p.cfg.Issuer}
		}
		out["aud"] = aud
	} else {
		out["token_type"] = "refresh_token"
		if exp := s.GetExpiresAt(fosite.RefreshToken); !exp.IsZero() {
			out["exp"] = exp.Unix()
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// revoke implements RFC 7009: revoking either token of a grant revokes
// both; unknown tokens are not an error.
func (p *Provider) revoke(w http.ResponseWriter, r *http.Request) {
	ctx := withClientCache(r.Context())
	err := p.oauth.NewRevocationRequest(ctx, r)
	if err != nil {
		rfc := fosite.ErrorToRFC6749Error(err)
		if rfc.ErrorField == fosite.ErrInvalidClient.ErrorField {
			p.writeFositeJSONError(ctx, w, err, `Basic realm="`+p.cfg.Issuer+`"`)
			return
		}
	}
	p.oauth.WriteRevocationResponse(ctx, w, err)
}
