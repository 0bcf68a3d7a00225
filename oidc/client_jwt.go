package oidc

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jose3 "github.com/go-jose/go-jose/v3"
	jose "github.com/go-jose/go-jose/v4"
)

// JWTs that clients sign — client assertions (private_key_jwt,
// client_secret_jwt) and request objects — are verified here with go-jose
// v4, against the client's registered keys (by value or from its jwks_uri)
// or, for HMAC, its sealed secret.

// maxClientJWT bounds a client assertion or request object.
const maxClientJWT = 32 << 10

// clientJWTSkew is the leeway for exp, nbf and iat of client JWTs.
const clientJWTSkew = 30 * time.Second

var (
	errUnverifiedJWT = errors.New("the signature does not verify with the client's keys")
	errClientKeys    = errors.New("the client's keys could not be loaded (jwks or jwks_uri)")
)

// clientJWT is a verified client JWT.
type clientJWT struct {
	alg    string
	claims map[string]any
}

// parseCompact splits a compact JWS, refusing oversized input, JWE and
// headers that would carry their own key or extensions.
func parseCompact(raw string) (header map[string]any, payload []byte, err error) {
	if len(raw) > maxClientJWT {
		return nil, nil, errors.New("the JWT is too large")
	}
	parts := strings.Split(raw, ".")
	if len(parts) == 5 {
		return nil, nil, errors.New("encrypted JWTs are not supported")
	}
	if len(parts) != 3 {
		return nil, nil, errors.New("not a compact JWT")
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &header) != nil {
		return nil, nil, errors.New("the JWT header cannot be decoded")
	}
	for _, h := range []string{"jwk", "jku", "x5u", "x5c", "crit", "b64"} {
		if _, ok := header[h]; ok {
			return nil, nil, fmt.Errorf("the JWT header parameter %q is not accepted", h)
		}
	}
	payload, err = base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, nil, errors.New("the JWT payload cannot be decoded")
	}
	return header, payload, nil
}

// decodeClaims decodes a JWT payload keeping numbers as json.Number.
func decodeClaims(payload []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil || claims == nil {
		return nil, errors.New("the JWT claims are not a JSON object")
	}
	return claims, nil
}

// verifyClientJWT verifies raw, signed by client with one of algs, and
// returns its claims. Asymmetric algorithms use the client's public keys
// (the kid header picks one; a jwks_uri is fetched again once when no key
// verifies, which is how a client rotates its keys); HMAC algorithms use
// the client's secret.
func (p *Provider) verifyClientJWT(ctx context.Context, c *Client, raw string, algs []string) (*clientJWT, error) {
	header, _, err := parseCompact(raw)
	if err != nil {
		return nil, err
	}
	alg, _ := header["alg"].(string)
	if !slices.Contains(algs, alg) {
		return nil, fmt.Errorf("algorithm %q is not allowed here", alg)
	}
	obj, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil || len(obj.Signatures) != 1 {
		return nil, errors.New("not a valid JWS")
	}
	var payload []byte
	if slices.Contains(hmacAlgs, alg) {
		key, err := p.clients.assertionKey(c)
		if err != nil {
			return nil, errors.New("the client has no secret usable for HMAC")
		}
		if payload, err = obj.Verify(key); err != nil {
			return nil, errUnverifiedJWT
		}
	} else {
		kid, _ := header["kid"].(string)
		if payload, err = p.verifyWithClientKeys(ctx, c, obj, alg, kid); err != nil {
			return nil, err
		}
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return nil, err
	}
	return &clientJWT{alg: alg, claims: claims}, nil
}

func (p *Provider) verifyWithClientKeys(ctx context.Context, c *Client, obj *jose.JSONWebSignature, alg, kid string) ([]byte, error) {
	for attempt := 0; attempt < 2; attempt++ {
		if attempt == 1 && c.Metadata.JWKSURI == "" {
			break
		}
		set, err := p.clientKeys(ctx, c, attempt == 1)
		if err != nil {
			// The cause (which may name an address) is not for the client.
			return nil, errClientKeys
		}
		for _, k := range candidateKeys(set, alg, kid) {
			if payload, err := obj.Verify(k); err == nil {
				return payload, nil
			}
		}
	}
	return nil, errUnverifiedJWT
}

// candidateKeys are the signing keys of set that fit alg (and kid when the
// JWT names one).
func candidateKeys(set *jose3.JSONWebKeySet, alg, kid string) []any {
	var out []any
	for _, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if kid != "" && k.KeyID != kid {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != alg {
			continue
		}
		switch pub := k.Key.(type) {
		case *rsa.PublicKey:
			if strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS") {
				out = append(out, pub)
			}
		case *ecdsa.PublicKey:
			if strings.HasPrefix(alg, "ES") {
				out = append(out, pub)
			}
		}
	}
	return out
}

// claimString returns a string claim.
func claimString(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return s
}

// claimAudience returns aud as a list (a string or an array of strings).
func claimAudience(claims map[string]any) []string {
	switch v := claims["aud"].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// claimTime returns a NumericDate claim and whether it is present and valid.
func claimTime(claims map[string]any, name string) (time.Time, bool, error) {
	v, present := claims[name]
	if !present {
		return time.Time{}, false, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, true, fmt.Errorf("%s is not a number", name)
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, true, fmt.Errorf("%s is not a number", name)
	}
	return time.Unix(int64(f), 0), true, nil
}

// checkTimes validates exp (required when requireExp), nbf and iat.
func checkTimes(claims map[string]any, now time.Time, requireExp bool) (exp time.Time, err error) {
	exp, hasExp, err := claimTime(claims, "exp")
	if err != nil {
		return exp, err
	}
	if !hasExp && requireExp {
		return exp, errors.New("exp is required")
	}
	if hasExp && !exp.Add(clientJWTSkew).After(now) {
		return exp, errors.New("the JWT has expired")
	}
	if nbf, ok, err := claimTime(claims, "nbf"); err != nil {
		return exp, err
	} else if ok && nbf.After(now.Add(clientJWTSkew)) {
		return exp, errors.New("the JWT is not valid yet (nbf)")
	}
	if iat, ok, err := claimTime(claims, "iat"); err != nil {
		return exp, err
	} else if ok && iat.After(now.Add(clientJWTSkew)) {
		return exp, errors.New("the JWT was issued in the future (iat)")
	}
	return exp, nil
}
