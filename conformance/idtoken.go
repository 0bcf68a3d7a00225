package conformance

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	_ "crypto/sha256" // hash functions of the ID token hash claims
	_ "crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// clockSkew is the leeway for iat, exp and auth_time, as in the OpenID
// Foundation suite.
const clockSkew = 5 * time.Minute

// IDToken is a parsed ID token: its JOSE header and claims as sent.
type IDToken struct {
	Raw    string
	Alg    string
	Kid    string
	Header map[string]any
	Claims map[string]any
}

// Str returns a string claim ("" when absent or not a string).
func (tok *IDToken) Str(name string) string {
	s, _ := tok.Claims[name].(string)
	return s
}

// Time returns a NumericDate claim.
func (tok *IDToken) Time(name string) (int64, bool) { return numericDate(tok.Claims[name]) }

func numericDate(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	if err != nil {
		return 0, false
	}
	return int64(f), true
}

// IDTokenWant is what an ID token must match.
type IDTokenWant struct {
	Client ClientAuth
	// Nonce is the request's nonce; "" means none was sent and none may come.
	Nonce string
	// AccessToken and Code are checked against at_hash and c_hash when the
	// token carries them.
	AccessToken string
	Code        string
	// RequireAuthTime is set when max_age was sent (OIDC Core 3.1.2.1).
	RequireAuthTime bool
	// IgnoreNonce is set for refreshed ID tokens, whose nonce rules differ.
	IgnoreNonce bool
}

// parseIDToken splits and decodes a compact JWS without verifying it.
func parseIDToken(raw string) (*IDToken, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		if len(parts) == 5 {
			return nil, fmt.Errorf("it is a JWE; the runner has no key to decrypt it")
		}
		return nil, fmt.Errorf("not a compact JWS (%d parts)", len(parts))
	}
	tok := &IDToken{Raw: raw}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, fmt.Errorf("header is not unpadded base64url: %w", err)
	}
	if err := decodeJSON(hb, &tok.Header); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	cb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("payload is not unpadded base64url: %w", err)
	}
	if err := decodeJSON(cb, &tok.Claims); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	tok.Alg, _ = tok.Header["alg"].(string)
	tok.Kid, _ = tok.Header["kid"].(string)
	return tok, nil
}

// verifyIDToken parses, verifies and checks an ID token (OIDC Core 3.1.3.7
// and 2), recording every problem; where names it in reasons. It returns nil
// only when the token could not be parsed.
func (t *T) verifyIDToken(raw, where string, want IDTokenWant) *IDToken {
	fail := func(format string, args ...any) { t.Failf(where+" ID token: "+format, args...) }
	tok, err := parseIDToken(raw)
	if err != nil {
		fail("%v", err)
		return nil
	}
	t.verifySignature(tok, want.Client, fail)
	t.checkIDTokenClaims(tok, want, fail)
	return tok
}

// verifySignature checks alg, kid and the signature against the JWKS.
func (t *T) verifySignature(tok *IDToken, client ClientAuth, fail func(string, ...any)) {
	p := t.Env.Provider
	switch {
	case tok.Alg == "":
		fail("the header has no alg")
		return
	case strings.EqualFold(tok.Alg, "none"):
		fail("it is unsigned (alg none); the client did not register for unsigned ID tokens")
		return
	}
	if list := p.Metadata.IDTokenSigningAlgValuesSupported; list != nil && !slices.Contains(list, tok.Alg) {
		fail("alg %s is not in id_token_signing_alg_values_supported %v", tok.Alg, list)
	}
	if strings.HasPrefix(tok.Alg, "HS") {
		t.verifyWith(tok, []byte(client.ClientSecret), "the client secret", fail)
		return
	}
	keys, err := p.Keys(t.Ctx, tok.Kid)
	if err != nil {
		fail("cannot get the provider's keys: %v", err)
		return
	}
	var candidates []jose.JSONWebKey
	for _, k := range keys {
		if keyFitsAlg(k, tok.Alg) {
			candidates = append(candidates, k)
		}
	}
	if tok.Kid == "" {
		set, _ := p.KeySet()
		n := 0
		for _, k := range set.Keys {
			if keyFitsAlg(k, tok.Alg) && (k.Use == "" || k.Use == "sig") {
				n++
			}
		}
		if n > 1 {
			fail("the header has no kid although the JWKS has %d keys for %s (OIDC Core 10.1)", n, tok.Alg)
			return
		}
		if len(candidates) == 0 && n == 1 {
			for _, k := range set.Keys {
				if keyFitsAlg(k, tok.Alg) && (k.Use == "" || k.Use == "sig") {
					candidates = append(candidates, k)
				}
			}
		}
	}
	if len(candidates) == 0 {
		if len(keys) > 0 {
			fail("the JWKS key %q does not fit alg %s", tok.Kid, tok.Alg)
		} else {
			fail("kid %q is not in the provider's JWKS", tok.Kid)
		}
		return
	}
	if len(candidates) > 1 {
		fail("the JWKS has %d keys with kid %q", len(candidates), tok.Kid)
		return
	}
	k := candidates[0]
	if k.Use != "" && k.Use != "sig" {
		fail("key %q has use %q, not sig", k.KeyID, k.Use)
	}
	if k.Algorithm != "" && k.Algorithm != tok.Alg {
		fail("key %q is for alg %s, the token says %s", k.KeyID, k.Algorithm, tok.Alg)
	}
	if !k.IsPublic() {
		fail("key %q in the JWKS is a private key", k.KeyID)
	}
	t.verifyWith(tok, k.Public().Key, fmt.Sprintf("key %q", k.KeyID), fail)
}

func (t *T) verifyWith(tok *IDToken, key any, keyName string, fail func(string, ...any)) {
	jws, err := jose.ParseSigned(tok.Raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(tok.Alg)})
	if err != nil {
		fail("cannot parse as a JWS with alg %s: %v", tok.Alg, err)
		return
	}
	if _, err := jws.Verify(key); err != nil {
		fail("the signature does not verify with %s", keyName)
	}
}

// keyFitsAlg reports whether a JWK's type can verify alg.
func keyFitsAlg(k jose.JSONWebKey, alg string) bool {
	var kty string
	switch k.Key.(type) {
	case *rsa.PublicKey, *rsa.PrivateKey:
		kty = "RSA"
	case *ecdsa.PublicKey, *ecdsa.PrivateKey:
		kty = "EC"
	case ed25519.PublicKey, ed25519.PrivateKey:
		kty = "OKP"
	}
	switch {
	case strings.HasPrefix(alg, "RS"), strings.HasPrefix(alg, "PS"):
		return kty == "RSA"
	case strings.HasPrefix(alg, "ES"):
		return kty == "EC"
	case alg == "EdDSA" || alg == "Ed25519":
		return kty == "OKP"
	}
	return false
}

// checkIDTokenClaims checks the claims of OIDC Core 2 and 3.1.3.7.
func (t *T) checkIDTokenClaims(tok *IDToken, want IDTokenWant, fail func(string, ...any)) {
	now := t.Env.Now()
	issuer := t.Env.Provider.Metadata.Issuer
	if iss, ok := tok.Claims["iss"].(string); !ok {
		fail("no iss string")
	} else if iss != issuer {
		fail("iss %q is not the issuer %q", iss, issuer)
	}
	if sub, ok := tok.Claims["sub"].(string); !ok || sub == "" {
		fail("no sub string")
	} else if len(sub) > 255 {
		fail("sub is %d characters long, more than 255", len(sub))
	}
	clientID := want.Client.ClientID
	switch aud := tok.Claims["aud"].(type) {
	case string:
		if aud != clientID {
			fail("aud %q is not the client id %q", aud, clientID)
		}
	case []any:
		found := false
		for _, a := range aud {
			if s, _ := a.(string); s == clientID {
				found = true
			}
		}
		if !found {
			fail("aud %v does not contain the client id %q", aud, clientID)
		}
		if len(aud) > 1 && tok.Str("azp") == "" {
			t.Warnf("ID token: aud has several audiences but there is no azp (OIDC Core 2)")
		}
	default:
		fail("no aud string or array")
	}
	if azp, ok := tok.Claims["azp"]; ok && azp != clientID {
		fail("azp %v is not the client id %q", azp, clientID)
	}
	if exp, ok := tok.Time("exp"); !ok {
		fail("no exp NumericDate")
	} else {
		if time.Unix(exp, 0).Before(now.Add(-clockSkew)) {
			fail("it expired at %s (now %s)", time.Unix(exp, 0).UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		}
		if time.Unix(exp, 0).After(now.AddDate(50, 0, 0)) {
			fail("exp is more than 50 years ahead (milliseconds instead of seconds?)")
		}
	}
	if iat, ok := tok.Time("iat"); !ok {
		fail("no iat NumericDate")
	} else {
		at := time.Unix(iat, 0)
		if at.After(now.Add(clockSkew)) {
			fail("iat %s is in the future", at.UTC().Format(time.RFC3339))
		}
		if at.Before(now.Add(-clockSkew)) {
			fail("iat %s is more than 5 minutes old for a token just issued", at.UTC().Format(time.RFC3339))
		}
	}
	if v, present := tok.Claims["auth_time"]; present {
		at, ok := numericDate(v)
		switch {
		case !ok:
			fail("auth_time %v is not a NumericDate", v)
		case time.Unix(at, 0).After(now.Add(clockSkew)):
			fail("auth_time is in the future")
		case time.Unix(at, 0).Before(now.AddDate(-1, 0, 0)):
			fail("auth_time is more than a year ago")
		}
	} else if want.RequireAuthTime {
		fail("no auth_time although max_age was requested (OIDC Core 3.1.2.1)")
	}
	if !want.IgnoreNonce {
		nonce, present := tok.Claims["nonce"]
		switch {
		case want.Nonce != "" && !present:
			fail("no nonce although the request sent one")
		case want.Nonce != "" && nonce != want.Nonce:
			fail("the nonce differs from the request's")
		case want.Nonce == "" && present:
			fail("it has a nonce although the request sent none")
		}
	}
	if v, present := tok.Claims["acr"]; present {
		if s, ok := v.(string); !ok || s == "" {
			fail("acr %v is not a non-empty string", v)
		}
	}
	if v, present := tok.Claims["amr"]; present {
		if !isStringArray(v) {
			fail("amr %v is not an array of strings", v)
		}
	}
	if v, present := tok.Claims["nbf"]; present {
		if _, ok := numericDate(v); !ok {
			fail("nbf %v is not a NumericDate", v)
		}
	}
	t.checkHashClaim(tok, "at_hash", want.AccessToken, fail)
	t.checkHashClaim(tok, "c_hash", want.Code, fail)
	for _, p := range claimTypeProblems(tok.Claims) {
		fail("%s", p)
	}
}

// checkHashClaim checks at_hash or c_hash when the token carries it.
func (t *T) checkHashClaim(tok *IDToken, claim, value string, fail func(string, ...any)) {
	v, present := tok.Claims[claim]
	if !present || value == "" || strings.EqualFold(tok.Alg, "none") {
		return // an unsigned token has failed already
	}
	got, _ := v.(string)
	want, err := halfHash(tok.Alg, value)
	if err != nil {
		fail("%s: %v", claim, err)
		return
	}
	if got != want {
		fail("%s does not match (OIDC Core 3.3.2.11)", claim)
	}
}

// halfHash is the left half of the hash of value, base64url-encoded: the
// at_hash and c_hash rule, with the hash of the token's alg.
func halfHash(alg, value string) (string, error) {
	var h crypto.Hash
	switch {
	case strings.HasSuffix(alg, "256"):
		h = crypto.SHA256
	case strings.HasSuffix(alg, "384"):
		h = crypto.SHA384
	case strings.HasSuffix(alg, "512"), alg == "EdDSA", alg == "Ed25519":
		h = crypto.SHA512
	default:
		return "", fmt.Errorf("no hash function known for alg %s", alg)
	}
	d := h.New()
	d.Write([]byte(value))
	sum := d.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2]), nil
}

func isStringArray(v any) bool {
	arr, ok := v.([]any)
	if !ok {
		return false
	}
	for _, e := range arr {
		if _, ok := e.(string); !ok {
			return false
		}
	}
	return true
}
