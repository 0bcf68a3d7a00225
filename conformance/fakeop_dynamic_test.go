package conformance

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// The fake provider's dynamic side: registration (RFC 7591/7592), client
// assertions, pairwise subjects, signed userinfo and key rotation. Faults
// break one behaviour each, as in fakeop_test.go.
const (
	faultRegAcceptsNone         fault = "registration-accepts-alg-none"
	faultUserinfoUnsigned       fault = "userinfo-ignores-signed-alg"
	faultRedirectDefault        fault = "missing-redirect-uri-uses-first"
	faultRedirectQueryRefused   fault = "redirect-uri-query-refused"
	faultRedirectIgnoresQuery   fault = "redirect-uri-query-ignored"
	faultRegAcceptsFragment     fault = "registration-accepts-fragment"
	faultRegDropsURIs           fault = "registration-drops-logo-policy-tos"
	faultJWKSURIIgnored         fault = "jwks-uri-ignored"
	faultJWKSURINeverRefetched  fault = "jwks-uri-never-refetched"
	faultPairwiseIsPublic       fault = "pairwise-is-public"
	faultSectorNotChecked       fault = "sector-not-checked"
	faultRotationDropsOld       fault = "rotation-drops-old-key"
	faultRotationNoNewKey       fault = "rotation-no-new-key"
	faultAssertionAudError      fault = "assertion-aud-issuer-wrong-error"
	faultSecretJWTRefused       fault = "client-secret-jwt-refused"
	faultAssertionReplay        fault = "assertion-replay-accepted"
	faultManagementOpen         fault = "registration-management-without-token"
	faultSignedRequestIgnored   fault = "signed-request-object-refused"
	faultNoRegistrationEndpoint fault = "no-registration-endpoint"
	// Allowed variations: modules skip or warn.
	faultNoPairwise                fault = "no-pairwise"
	faultAssertionAudInvalidClient fault = "assertion-aud-issuer-refused"
)

// fakeKey is one of the provider's signing keys.
type fakeKey struct {
	priv *rsa.PrivateKey
	kid  string
}

// signingKey is the key that signs now.
func (op *fakeOP) signingKey() fakeKey {
	op.cmu.Lock()
	defer op.cmu.Unlock()
	return op.keys[len(op.keys)-1]
}

// rotateKeys adds a key, which signs from now on; the old ones stay
// published (unless faultRotationDropsOld).
func (op *fakeOP) rotateKeys(context.Context) error {
	if op.has(faultRotationNoNewKey) {
		return nil
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	op.cmu.Lock()
	op.keys = append(op.keys, fakeKey{priv: k, kid: "key-" + randomValue(4)})
	op.cmu.Unlock()
	return nil
}

// fakeRegistration is a registered client's metadata.
type fakeRegistration struct {
	token       string
	meta        map[string]any
	redirects   []string
	jwks        *jose.JSONWebKeySet
	jwksURI     string
	userinfoAlg string
	sector      string
	postLogout  []string
	front       string
	frontSID    bool
	back        string
	backSID     bool
	roAlg       string
}

// client returns a client by id (static or registered).
func (op *fakeOP) client(id string) *fakeClient {
	op.cmu.Lock()
	defer op.cmu.Unlock()
	return op.clients[id]
}

// redirects are the client's registered redirect URIs.
func (c *fakeClient) redirects(op *fakeOP) []string {
	if c.reg != nil {
		return c.reg.redirects
	}
	return []string{op.redirectURI}
}

// checkRedirect decides the redirect URI of a request: exact matching,
// unless a fault loosens it.
func (op *fakeOP) checkRedirect(c *fakeClient, requested string) (string, bool) {
	registered := c.redirects(op)
	switch {
	case op.has(faultRedirectUnregistered):
		return requested, true
	case requested == "" && op.has(faultRedirectDefault):
		return registered[0], true
	case requested == "":
		return "", false
	case op.has(faultRedirectQueryRefused) && strings.Contains(requested, "?"):
		return "", false
	case slices.Contains(registered, requested):
		return requested, true
	case op.has(faultRedirectIgnoresQuery):
		base, _, _ := strings.Cut(requested, "?")
		for _, r := range registered {
			if rb, _, _ := strings.Cut(r, "?"); rb == base {
				return requested, true
			}
		}
	}
	return "", false
}

// subFor is the sub a client knows the user by: pairwise for clients that
// registered it.
func (op *fakeOP) subFor(clientID string) string {
	c := op.client(clientID)
	if c == nil || c.reg == nil || c.reg.sector == "" || op.has(faultPairwiseIsPublic) {
		return fakeSub
	}
	m := hmac.New(sha256.New, []byte("fake pairwise key"))
	m.Write([]byte(c.reg.sector + "|" + fakeSub))
	return hex.EncodeToString(m.Sum(nil))
}

// dynamicDiscovery adds the dynamic and logout members.
func (op *fakeOP) dynamicDiscovery(doc map[string]any) {
	if !op.has(faultNoRegistrationEndpoint) {
		doc["registration_endpoint"] = op.issuer + "/register"
	}
	doc["userinfo_signing_alg_values_supported"] = []string{"RS256"}
	if op.has(faultNoPairwise) {
		doc["subject_types_supported"] = []string{"public"}
	}
	doc["token_endpoint_auth_signing_alg_values_supported"] = []string{"RS256", "HS256"}
	if !op.has(faultNoEndSession) {
		doc["end_session_endpoint"] = op.issuer + "/logout"
	}
	doc["frontchannel_logout_supported"] = !op.has(faultNoFrontchannel)
	doc["frontchannel_logout_session_supported"] = !op.has(faultNoFrontchannel)
	doc["backchannel_logout_supported"] = !op.has(faultNoBackchannel)
	doc["backchannel_logout_session_supported"] = !op.has(faultNoBackchannel)
}

// fetchJSON GETs a document the client named.
func fetchJSON(uri string, v any) error {
	resp, err := http.Get(uri)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func registrationError(w http.ResponseWriter, code, desc string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": desc})
}

// register is the fake's RFC 7591 endpoint.
func (op *fakeOP) register(w http.ResponseWriter, r *http.Request) {
	var meta map[string]any
	if err := json.NewDecoder(r.Body).Decode(&meta); err != nil {
		registrationError(w, "invalid_client_metadata", "not JSON")
		return
	}
	c, code, desc := op.clientFromMetadata(meta)
	if code != "" {
		registrationError(w, code, desc)
		return
	}
	c.id = "dyn-" + randomValue(8)
	c.reg.token = randomValue(16)
	op.cmu.Lock()
	op.clients[c.id] = c
	op.cmu.Unlock()
	writeJSON(w, http.StatusCreated, op.registrationResponse(c, true))
}

// clientFromMetadata validates a registration; code is the error.
func (op *fakeOP) clientFromMetadata(meta map[string]any) (*fakeClient, string, string) {
	str := func(k string) string { s, _ := meta[k].(string); return s }
	reg := &fakeRegistration{meta: meta, redirects: strList(meta["redirect_uris"]), jwksURI: str("jwks_uri"),
		userinfoAlg: str("userinfo_signed_response_alg"), postLogout: strList(meta["post_logout_redirect_uris"]),
		front: str("frontchannel_logout_uri"), back: str("backchannel_logout_uri"), roAlg: str("request_object_signing_alg")}
	reg.frontSID, _ = meta["frontchannel_logout_session_required"].(bool)
	reg.backSID, _ = meta["backchannel_logout_session_required"].(bool)
	if len(reg.redirects) == 0 {
		return nil, "invalid_redirect_uri", "redirect_uris is required"
	}
	for _, u := range reg.redirects {
		if strings.Contains(u, "#") && !op.has(faultRegAcceptsFragment) {
			return nil, "invalid_redirect_uri", "fragment"
		}
	}
	if str("id_token_signed_response_alg") == "none" && !op.has(faultRegAcceptsNone) {
		return nil, "invalid_client_metadata", "none is not supported"
	}
	if raw, ok := meta["jwks"]; ok {
		b, _ := json.Marshal(raw)
		reg.jwks = &jose.JSONWebKeySet{}
		if err := json.Unmarshal(b, reg.jwks); err != nil {
			return nil, "invalid_client_metadata", "jwks"
		}
	}
	method := str("token_endpoint_auth_method")
	if method == "" {
		method = AuthSecretBasic
	}
	if method == AuthPrivateKey && reg.jwks == nil && reg.jwksURI == "" {
		return nil, "invalid_client_metadata", "keys needed"
	}
	if str("subject_type") == "pairwise" {
		if sectorURI := str("sector_identifier_uri"); sectorURI != "" {
			if !op.has(faultSectorNotChecked) {
				var listed []string
				if err := fetchJSON(sectorURI, &listed); err != nil {
					return nil, "invalid_client_metadata", "sector_identifier_uri"
				}
				for _, u := range reg.redirects {
					if !slices.Contains(listed, u) {
						return nil, "invalid_client_metadata", "sector_identifier_uri does not list " + u
					}
				}
			}
			su, _ := url.Parse(sectorURI)
			reg.sector = su.Host
		} else {
			ru, _ := url.Parse(reg.redirects[0])
			reg.sector = ru.Host
		}
	}
	c := &fakeClient{method: method, thirdParty: true, reg: reg}
	if method == AuthSecretBasic || method == AuthSecretPost || method == AuthSecretJWT {
		c.secret = randomValue(32)
	}
	return c, "", ""
}

// registrationResponse echoes the registration (RFC 7591 §3.2.1).
func (op *fakeOP) registrationResponse(c *fakeClient, withSecrets bool) map[string]any {
	out := map[string]any{}
	for k, v := range c.reg.meta {
		out[k] = v
	}
	if op.has(faultRegDropsURIs) {
		delete(out, "logo_uri")
		delete(out, "policy_uri")
		delete(out, "tos_uri")
	}
	out["client_id"] = c.id
	out["token_endpoint_auth_method"] = c.method
	out["registration_client_uri"] = op.issuer + "/register/" + c.id
	if withSecrets {
		out["registration_access_token"] = c.reg.token
		if c.secret != "" {
			out["client_secret"] = c.secret
		}
	}
	return out
}

// manageRegistration is the fake's RFC 7592 endpoint.
func (op *fakeOP) manageRegistration(w http.ResponseWriter, r *http.Request) {
	c := op.client(r.PathValue("id"))
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	authorized := c != nil && c.reg != nil && token == c.reg.token
	if !authorized && !(op.has(faultManagementOpen) && c != nil && r.Method == http.MethodGet && token == "") {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, op.registrationResponse(c, false))
	case http.MethodPut:
		var meta map[string]any
		if err := json.NewDecoder(r.Body).Decode(&meta); err != nil || meta["client_id"] != c.id {
			registrationError(w, "invalid_request", "client_id")
			return
		}
		updated, code, desc := op.clientFromMetadata(meta)
		if code != "" {
			registrationError(w, code, desc)
			return
		}
		op.cmu.Lock()
		updated.id, updated.secret, updated.method, updated.reg.token = c.id, c.secret, c.method, c.reg.token
		op.clients[c.id] = updated
		op.cmu.Unlock()
		writeJSON(w, http.StatusOK, op.registrationResponse(updated, false))
	case http.MethodDelete:
		op.cmu.Lock()
		delete(op.clients, c.id)
		op.cmu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// clientKeys returns a private_key_jwt client's keys, fetching a jwks_uri
// (cached; fetched again for an unknown kid).
func (op *fakeOP) clientKeys(c *fakeClient, kid string) []jose.JSONWebKey {
	if c.reg.jwks != nil {
		return c.reg.jwks.Key(kid)
	}
	if c.reg.jwksURI == "" || op.has(faultJWKSURIIgnored) {
		return nil
	}
	op.cmu.Lock()
	cached := op.jwksCache[c.reg.jwksURI]
	op.cmu.Unlock()
	if cached != nil {
		if keys := cached.Key(kid); len(keys) > 0 || op.has(faultJWKSURINeverRefetched) {
			return keys
		}
	}
	var set jose.JSONWebKeySet
	if err := fetchJSON(c.reg.jwksURI, &set); err != nil {
		return nil
	}
	op.cmu.Lock()
	op.jwksCache[c.reg.jwksURI] = &set
	op.cmu.Unlock()
	return set.Key(kid)
}

// authenticateAssertion verifies a client assertion (private_key_jwt or
// client_secret_jwt).
func (op *fakeOP) authenticateAssertion(w http.ResponseWriter, r *http.Request) *fakeClient {
	invalid := func() *fakeClient {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return nil
	}
	raw := r.PostForm.Get("client_assertion")
	tok, err := parseIDToken(raw)
	if err != nil {
		return invalid()
	}
	c := op.client(tok.Str("sub"))
	if c == nil || c.reg == nil || tok.Str("iss") != c.id {
		return invalid()
	}
	obj, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.HS256})
	if err != nil {
		return invalid()
	}
	verified := false
	switch c.method {
	case AuthPrivateKey:
		for _, k := range op.clientKeys(c, tok.Kid) {
			if _, err := obj.Verify(k.Key); err == nil {
				verified = true
			}
		}
	case AuthSecretJWT:
		if _, err := obj.Verify([]byte(c.secret)); err == nil && !op.has(faultSecretJWTRefused) {
			verified = true
		}
	}
	if !verified {
		return invalid()
	}
	aud := audienceOf(tok.Claims)
	switch {
	case slices.Contains(aud, op.issuer+"/token"):
	case slices.Contains(aud, op.issuer):
		if op.has(faultAssertionAudError) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
			return nil
		}
		if op.has(faultAssertionAudInvalidClient) {
			return invalid()
		}
	default:
		return invalid()
	}
	op.cmu.Lock()
	seen := op.jwtIDs[tok.Str("jti")]
	op.jwtIDs[tok.Str("jti")] = true
	op.cmu.Unlock()
	if seen && !op.has(faultAssertionReplay) {
		return invalid()
	}
	return c
}

// writeSignedUserinfo answers userinfo as an RS256 JWT.
func (op *fakeOP) writeSignedUserinfo(w http.ResponseWriter, c *fakeClient, claims map[string]any) {
	claims["iss"], claims["aud"] = op.issuer, c.id
	k := op.signingKey()
	jwt, err := signJWT(k.priv, "RS256", k.kid, claims, "")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/jwt")
	_, _ = w.Write([]byte(jwt))
}

// verifyRequestObject checks a signed request object of a registered
// client; it returns false when it does not verify.
func (op *fakeOP) verifyRequestObject(clientID, raw string) bool {
	c := op.client(clientID)
	if c == nil || c.reg == nil || op.has(faultSignedRequestIgnored) {
		return false
	}
	tok, err := parseIDToken(raw)
	if err != nil {
		return false
	}
	obj, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return false
	}
	for _, k := range op.clientKeys(c, tok.Kid) {
		if _, err := obj.Verify(k.Key); err == nil {
			return true
		}
	}
	return false
}
