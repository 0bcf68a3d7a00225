package middleware

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// introspect asks the issuer about token (RFC 7662) and returns its claims
// if it is an active access token for this API. Errors wrap
// ErrInvalidToken (inactive, wrong type, wrong audience) or ErrUnavailable
// (the endpoint could not be asked).
func (v *Verifier) introspect(ctx context.Context, token string) (*Claims, error) {
	ic := v.opts.Introspection
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.meta.IntrospectionEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%w: introspection: %w", ErrUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// RFC 6749 §2.3.1: form-encode the credentials before Basic encodes
	// them.
	req.SetBasicAuth(url.QueryEscape(ic.ClientID), url.QueryEscape(ic.ClientSecret))

	resp, err := v.opts.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: introspection: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: introspection: read: %w", ErrUnavailable, err)
	case resp.StatusCode == http.StatusUnauthorized:
		// The API's own credentials are wrong: an operator's problem, not
		// the caller's token.
		return nil, fmt.Errorf("%w: introspection: the issuer refused client %q (status 401)", ErrUnavailable, ic.ClientID)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: introspection: status %d", ErrUnavailable, resp.StatusCode)
	case len(body) > maxResponseBytes:
		return nil, fmt.Errorf("%w: introspection: response larger than %d bytes", ErrUnavailable, maxResponseBytes)
	}
	c, err := decodeClaims(body)
	if err != nil {
		return nil, fmt.Errorf("%w: introspection: %w", ErrUnavailable, err)
	}
	if !c.Active {
		return nil, fmt.Errorf("%w: introspection: inactive (unknown, expired or revoked)", ErrInvalidToken)
	}
	// orgid introspects refresh tokens too; one must never pass as an
	// access token.
	if tt := c.TokenType; tt != "" && !strings.EqualFold(tt, "bearer") && !strings.EqualFold(tt, "access_token") {
		return nil, fmt.Errorf("%w: introspection: token_type %q is not an access token", ErrInvalidToken, tt)
	}
	if err := v.checkClaims(c, false); err != nil {
		return nil, fmt.Errorf("%w: introspection: %w", ErrInvalidToken, err)
	}
	return c.claims(), nil
}
