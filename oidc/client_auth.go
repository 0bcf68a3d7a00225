package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/ory/fosite"

	"github.com/orgid/orgid/storage"
)

// Client authentication at the token, revocation and introspection
// endpoints. orgid verifies client assertions (RFC 7523 §2.2, OpenID
// Connect Core §9) itself, for both private_key_jwt and client_secret_jwt
// (fosite refuses HMAC assertions): the assertion is a JWT the client signs
// with its key or secret, with iss and sub its client id, aud the token
// endpoint or the issuer, a unique jti (replays are refused until the
// assertion expires) and an exp at most maxAssertionLifetime ahead.
// client_secret_basic, client_secret_post and none are fosite's.

// ClientAssertionType is the only client_assertion_type (RFC 7523 §2.2).
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// maxAssertionLifetime bounds how far ahead a client assertion's exp may
// be, and with it how long its jti must be remembered.
const maxAssertionLifetime = time.Hour

// authenticateClient is fosite's ClientAuthenticationStrategy.
func (p *Provider) authenticateClient(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	if form.Has("client_assertion_type") || form.Has("client_assertion") {
		if _, _, basic := r.BasicAuth(); basic || form.Get("client_secret") != "" {
			return nil, fosite.ErrInvalidRequest.WithHint("Use exactly one client authentication method.")
		}
		if form.Get("client_assertion_type") != ClientAssertionType {
			return nil, fosite.ErrInvalidRequest.WithHint("The client_assertion_type is not supported.")
		}
		c, err := p.authenticateAssertion(ctx, form)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	return p.fosite.DefaultClientAuthenticationStrategy(ctx, r, form)
}

// authenticateAssertion verifies a client assertion and returns its client.
func (p *Provider) authenticateAssertion(ctx context.Context, form url.Values) (*Client, error) {
	invalid := func(hint string) *fosite.RFC6749Error { return fosite.ErrInvalidClient.WithHint(hint) }
	raw := form.Get("client_assertion")
	if raw == "" {
		return nil, fosite.ErrInvalidRequest.WithHint("The client_assertion parameter is missing.")
	}
	_, payload, err := parseCompact(raw)
	if err != nil {
		return nil, invalid("The client assertion is not a usable JWT: " + err.Error())
	}
	unverified, err := decodeClaims(payload)
	if err != nil {
		return nil, invalid("The client assertion is not a usable JWT: " + err.Error())
	}
	clientID := form.Get("client_id")
	if clientID == "" {
		clientID = claimString(unverified, "sub")
	}
	if clientID == "" {
		return nil, invalid("The client assertion names no client (sub).")
	}
	c, err := p.clients.Get(ctx, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, invalid("The client is not registered.")
	}
	if err != nil {
		return nil, fosite.ErrServerError.WithWrap(err)
	}
	var algs []string
	switch c.Metadata.TokenEndpointAuthMethod {
	case AuthMethodPrivateKey:
		algs = asymmetricAlgs
	case AuthMethodSecretJWT:
		algs = hmacAlgs
	default:
		return nil, invalid("The client does not authenticate with " + AuthMethodPrivateKey + " or " + AuthMethodSecretJWT + ".")
	}
	if a := c.Metadata.TokenEndpointAuthSigningAlg; a != "" {
		algs = []string{a}
	}
	tok, err := p.verifyClientJWT(ctx, c, raw, algs)
	if err != nil {
		return nil, invalid("The client assertion does not verify: " + err.Error()).WithWrap(err)
	}
	claims := tok.claims
	if claimString(claims, "iss") != c.ID || claimString(claims, "sub") != c.ID {
		return nil, invalid("The client assertion's iss and sub must be the client id.")
	}
	aud := claimAudience(claims)
	// RFC 9126 §2: at the PAR endpoint the assertion may name it too.
	if !slices.Contains(aud, p.cfg.Issuer+PathToken) && !slices.Contains(aud, p.cfg.Issuer) && !slices.Contains(aud, p.cfg.Issuer+PathPAR) {
		return nil, invalid("The client assertion's aud must be the token endpoint or the issuer.")
	}
	now := p.now()
	exp, err := checkTimes(claims, now, true)
	if err != nil {
		return nil, invalid("The client assertion is not valid now: " + err.Error())
	}
	if exp.After(now.Add(maxAssertionLifetime)) {
		return nil, invalid("The client assertion's exp is too far ahead (at most one hour).")
	}
	jti := claimString(claims, "jti")
	if jti == "" {
		return nil, invalid("The client assertion has no jti.")
	}
	// Replays are refused until the assertion expires; the unique key
	// decides concurrent uses.
	key := c.ID + "\x00" + jti
	if err := p.store.ClientAssertionJWTValid(ctx, key); err != nil {
		return nil, invalid("The client assertion was used before.")
	}
	if err := p.store.SetClientAssertionJWT(ctx, key, exp.Add(clientJWTSkew)); err != nil {
		if errors.Is(err, fosite.ErrJTIKnown) {
			return nil, invalid("The client assertion was used before.")
		}
		return nil, fosite.ErrServerError.WithWrap(err)
	}
	return c, nil
}
