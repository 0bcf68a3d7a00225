package conformance

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// fetchDiscovery fetches and decodes the discovery document for a config
// module, failing it when there is nothing to check.
func (t *T) fetchDiscovery() map[string]any {
	f, err := FetchDiscovery(t.Ctx, t.Env.HTTP, t.Env.Config.Issuer)
	if err != nil {
		t.Failf("%v", err)
		return nil
	}
	if f.Status != http.StatusOK {
		t.Failf("discovery %s: HTTP %d, want 200 (OIDC Discovery 4.2)", f.URL, f.Status)
		return nil
	}
	if !isJSON(f.ContentType) {
		t.Failf("discovery: Content-Type %q, want application/json (OIDC Discovery 4.2)", f.ContentType)
	}
	var doc map[string]any
	if err := decodeJSON(f.Body, &doc); err != nil {
		t.Failf("discovery: %v", err)
		return nil
	}
	return doc
}

// endpointOK reports whether a provider URL is https, or http on a
// loopback host (development and CI).
func endpointOK(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return true
		}
		ip := net.ParseIP(host)
		return ip != nil && ip.IsLoopback()
	}
	return false
}

// strList reads a metadata member that must be an array of strings.
func (t *T) strList(doc map[string]any, key string) ([]string, bool) {
	v, present := doc[key]
	if !present {
		return nil, false
	}
	arr, ok := v.([]any)
	if !ok {
		t.Failf("%s is %s, want an array of strings", key, jsonType(v))
		return nil, false
	}
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		s, ok := e.(string)
		if !ok {
			t.Failf("%s has a member that is %s, want strings only", key, jsonType(e))
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// scopeToken is the scope-token syntax of RFC 6749 3.3.
var scopeToken = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+$`)

// languageTag is a loose BCP 47 shape, enough to catch "en_US" and blanks.
var languageTag = regexp.MustCompile(`^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$`)

func moduleDiscovery() Module {
	return module("oidcc-discovery-endpoint-verification",
		"The discovery document: HTTP 200 JSON; issuer equal to the configured issuer; required members present with the right types; RS256 among the ID token algorithms; code among the response types; openid among the scopes; every endpoint https (http only on loopback); jwks_uri reachable.",
		func(t *T) {
			doc := t.fetchDiscovery()
			if doc == nil {
				return
			}
			issuer, _ := doc["issuer"].(string)
			switch {
			case issuer == "":
				t.Failf("no issuer string")
			case strings.TrimSuffix(issuer, "/") != strings.TrimSuffix(t.Env.Config.Issuer, "/"):
				t.Failf("issuer %q is not the issuer the document was fetched for, %q (OIDC Discovery 4.3)", issuer, t.Env.Config.Issuer)
			case !endpointOK(issuer):
				t.Failf("issuer %q is not an https URL (http is accepted on loopback only)", issuer)
			default:
				if u, _ := url.Parse(issuer); u.RawQuery != "" {
					t.Failf("issuer %q has a query", issuer)
				}
			}
			for _, key := range []string{"authorization_endpoint", "token_endpoint", "jwks_uri"} {
				if s, ok := doc[key].(string); !ok || s == "" {
					t.Failf("no %s string (OIDC Discovery 3)", key)
				}
			}
			if _, ok := doc["userinfo_endpoint"]; !ok {
				t.Warnf("no userinfo_endpoint (OIDC Discovery 3 recommends it)")
			}
			keys := make([]string, 0, len(doc))
			for k := range doc {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, key := range keys {
				if !strings.HasSuffix(key, "_endpoint") && key != "jwks_uri" {
					continue
				}
				s, ok := doc[key].(string)
				if !ok {
					t.Failf("%s is %s, want a URL string", key, jsonType(doc[key]))
				} else if !endpointOK(s) {
					t.Failf("%s %q is not an https URL (http is accepted on loopback only)", key, s)
				}
			}
			t.checkDiscoveryLists(doc)
			for _, key := range []string{"claims_parameter_supported", "request_parameter_supported", "request_uri_parameter_supported",
				"require_request_uri_registration", "authorization_response_iss_parameter_supported"} {
				if v, ok := doc[key]; ok {
					if _, isBool := v.(bool); !isBool {
						t.Failf("%s is %s, want a boolean", key, jsonType(v))
					}
				}
			}
			if uri, ok := doc["jwks_uri"].(string); ok && uri != "" {
				f, err := fetch(t.Ctx, t.Env.HTTP, uri)
				switch {
				case err != nil:
					t.Failf("jwks_uri: %v", err)
				case f.Status != http.StatusOK:
					t.Failf("jwks_uri %s: HTTP %d", uri, f.Status)
				default:
					var set struct {
						Keys []json.RawMessage `json:"keys"`
					}
					if json.Unmarshal(f.Body, &set) != nil || set.Keys == nil {
						t.Failf("jwks_uri %s: not a JWK Set (no keys array)", uri)
					}
				}
			}
		})
}

// checkDiscoveryLists checks the *_supported arrays.
func (t *T) checkDiscoveryLists(doc map[string]any) {
	if rts, ok := t.strList(doc, "response_types_supported"); !ok {
		if _, present := doc["response_types_supported"]; !present {
			t.Failf("no response_types_supported (OIDC Discovery 3)")
		}
	} else if !slices.Contains(rts, "code") {
		t.Failf("response_types_supported %v lacks code", rts)
	}
	if sts, ok := t.strList(doc, "subject_types_supported"); !ok {
		if _, present := doc["subject_types_supported"]; !present {
			t.Failf("no subject_types_supported (OIDC Discovery 3)")
		}
	} else {
		if !slices.Contains(sts, "public") && !slices.Contains(sts, "pairwise") {
			t.Failf("subject_types_supported %v has neither public nor pairwise", sts)
		}
		for _, s := range sts {
			if s != "public" && s != "pairwise" {
				t.Failf("subject_types_supported has an unknown type %q", s)
			}
		}
	}
	if algs, ok := t.strList(doc, "id_token_signing_alg_values_supported"); !ok {
		if _, present := doc["id_token_signing_alg_values_supported"]; !present {
			t.Failf("no id_token_signing_alg_values_supported (OIDC Discovery 3)")
		}
	} else if !slices.Contains(algs, "RS256") {
		t.Failf("id_token_signing_alg_values_supported %v lacks RS256, which OIDC Core 15.1 requires", algs)
	}
	if scopes, ok := t.strList(doc, "scopes_supported"); ok {
		if !slices.Contains(scopes, "openid") {
			t.Failf("scopes_supported %v lacks openid", scopes)
		}
		for _, s := range scopes {
			if !scopeToken.MatchString(s) {
				t.Failf("scopes_supported has %q, which is not a scope token (RFC 6749 3.3)", s)
			}
		}
	} else if _, present := doc["scopes_supported"]; !present {
		t.Warnf("no scopes_supported (OIDC Discovery 3 recommends it)")
	}
	if gts, ok := t.strList(doc, "grant_types_supported"); ok {
		if len(gts) == 0 {
			t.Failf("grant_types_supported is empty")
		} else if !slices.Contains(gts, "authorization_code") {
			t.Failf("grant_types_supported %v lacks authorization_code", gts)
		}
	}
	if _, ok := t.strList(doc, "claims_supported"); !ok {
		if _, present := doc["claims_supported"]; !present {
			t.Warnf("no claims_supported (OIDC Discovery 3 recommends it)")
		}
	}
	if methods, ok := t.strList(doc, "code_challenge_methods_supported"); ok && slices.Contains(methods, "plain") {
		t.Warnf("code_challenge_methods_supported lists plain; RFC 9700 2.1.1 recommends S256 only")
	}
	if algs, ok := t.strList(doc, "request_object_signing_alg_values_supported"); ok && !slices.Contains(algs, "RS256") && !slices.Contains(algs, "none") {
		t.Warnf("request_object_signing_alg_values_supported %v lacks RS256 (OIDC Discovery 3)", algs)
	}
	for _, key := range []string{"response_modes_supported", "token_endpoint_auth_methods_supported", "acr_values_supported",
		"userinfo_signing_alg_values_supported", "display_values_supported", "claim_types_supported"} {
		t.strList(doc, key)
	}
	for _, key := range []string{"ui_locales_supported", "claims_locales_supported"} {
		tags, _ := t.strList(doc, key)
		for _, tag := range tags {
			if !languageTag.MatchString(tag) {
				t.Failf("%s has %q, which is not a BCP 47 language tag", key, tag)
			}
		}
	}
}

// privateMembers are the JWK members of private and symmetric keys
// (RFC 7518 6.2.2, 6.3.2, 6.4).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

func moduleJWKS() Module {
	return module("jwks-verification",
		"The JWKS: HTTP 200 JSON at jwks_uri; every key has a distinct kid, a use or alg, parses, has no private or symmetric parts, RSA keys of 2048 bits or more, alg consistent with the key type; a signing key exists for an advertised ID token algorithm.",
		func(t *T) {
			p, ok := t.provider()
			if !ok {
				return
			}
			uri := p.Metadata.JWKSURI
			if uri == "" {
				t.Failf("the discovery document has no jwks_uri")
				return
			}
			f, err := fetch(t.Ctx, t.Env.HTTP, uri)
			if err != nil {
				t.Failf("%v", err)
				return
			}
			if f.Status != http.StatusOK {
				t.Failf("jwks_uri %s: HTTP %d", uri, f.Status)
				return
			}
			if !isJSON(f.ContentType) {
				t.Failf("jwks_uri: Content-Type %q, want application/json or application/jwk-set+json", f.ContentType)
			}
			var set struct {
				Keys []map[string]any `json:"keys"`
			}
			if err := decodeJSON(f.Body, &set); err != nil || set.Keys == nil {
				t.Failf("jwks_uri: not a JWK Set (no keys array)")
				return
			}
			if len(set.Keys) == 0 {
				t.Failf("the JWKS has no keys")
				return
			}
			kids := map[string]int{}
			signingAlgs := map[string]bool{}
			for i, raw := range set.Keys {
				t.checkJWK(i, raw, kids, signingAlgs)
			}
			for kid, n := range kids {
				if n > 1 {
					t.Failf("kid %q is used by %d keys (RFC 7517 4.5)", kid, n)
				}
			}
			advertised := p.Metadata.IDTokenSigningAlgValuesSupported
			if !slices.ContainsFunc(advertised, func(alg string) bool { return signingAlgs[alg] }) {
				t.Failf("no key in the JWKS can verify any of id_token_signing_alg_values_supported %v", advertised)
			}
		})
}

// checkJWK checks one key; it counts kids and the algorithms it can verify.
func (t *T) checkJWK(i int, raw map[string]any, kids map[string]int, signingAlgs map[string]bool) {
	kid, _ := raw["kid"].(string)
	name := "key " + kid
	if kid == "" {
		name = fmt.Sprintf("key #%d", i+1)
		t.Failf("%s has no kid (OIDC Core 10.1)", name)
	} else {
		kids[kid]++
	}
	use, _ := raw["use"].(string)
	alg, _ := raw["alg"].(string)
	if use == "" && alg == "" {
		t.Failf("%s has neither use nor alg", name)
	}
	if use != "" && use != "sig" && use != "enc" {
		t.Failf("%s has use %q, want sig or enc", name, use)
	}
	var private []string
	for _, m := range privateMembers {
		if _, ok := raw[m]; ok {
			private = append(private, m)
		}
	}
	if len(private) > 0 {
		t.Failf("%s publishes private or symmetric key members %s", name, strings.Join(private, ", "))
	}
	b, _ := json.Marshal(raw)
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(b); err != nil {
		t.Failf("%s does not parse: %v", name, err)
		return
	}
	if rk, ok := k.Key.(*rsa.PublicKey); ok && rk.N.BitLen() < 2048 {
		t.Failf("%s is an RSA key of %d bits, fewer than 2048", name, rk.N.BitLen())
	}
	if alg != "" && !keyFitsAlg(k, alg) {
		t.Failf("%s has alg %s, which its key type cannot do", name, alg)
	}
	if use == "enc" {
		return
	}
	for _, a := range []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"} {
		if (alg == "" || alg == a) && keyFitsAlg(k, a) {
			signingAlgs[a] = true
		}
	}
}
