package conformance

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// fault breaks one behaviour of the fake provider.
type fault string

const (
	faultWrongIss              fault = "wrong-iss"
	faultWrongAud              fault = "wrong-aud"
	faultNoNonce               fault = "no-nonce"
	faultBadSignature          fault = "bad-signature"
	faultWrongKid              fault = "wrong-kid"
	faultNoKid                 fault = "no-kid"
	faultAlgNone               fault = "alg-none"
	faultAdvertiseNone         fault = "advertise-none"
	faultLoginHintIgnored      fault = "login-hint-ignored"
	faultBadAtHash             fault = "bad-at-hash"
	faultNoCacheControl        fault = "no-cache-control"
	faultStateDropped          fault = "state-dropped"
	faultIssParamWrong         fault = "iss-param-wrong"
	faultCodeReusable          fault = "code-reusable"
	faultCodeReuseNoRevoke     fault = "code-reuse-no-revoke"
	faultRedirectUnregistered  fault = "redirect-unregistered"
	faultUserinfoSubMismatch   fault = "userinfo-sub-mismatch"
	faultUserinfoBodyRefused   fault = "userinfo-body-refused"
	faultMissingScopeClaims    fault = "missing-scope-claims"
	faultFormPostMissingState  fault = "form-post-missing-state"
	faultFormPostGet           fault = "form-post-get"
	faultResponseTypeDefault   fault = "response-type-missing-gives-code"
	faultNonceRequired         fault = "nonce-required"
	faultScopeOrderSensitive   fault = "scope-order-sensitive"
	faultRejectOptionalParams  fault = "reject-optional-params"
	faultPromptNoneShowsLogin  fault = "prompt-none-shows-login"
	faultPromptNoneNoSession   fault = "prompt-none-ignores-session"
	faultPromptLoginIgnored    fault = "prompt-login-ignored"
	faultMaxAgeIgnored         fault = "max-age-ignored"
	faultPostAuthzUnsupported  fault = "post-authorization-unsupported"
	faultSecretPostRefused     fault = "secret-post-refused"
	faultRequestObjectIgnored  fault = "request-object-ignored"
	faultRequestObjectRefused  fault = "request-object-refused"
	faultClaimsParamIgnored    fault = "claims-param-ignored"
	faultRefreshNotBound       fault = "refresh-not-bound"
	faultNoRefresh             fault = "no-refresh"
	faultPKCEIgnored           fault = "pkce-ignored"
	faultDiscoveryIssuer       fault = "discovery-issuer-mismatch"
	faultDiscoveryHTTPEndpoint fault = "discovery-http-endpoint"
	faultDiscoveryNoRS256      fault = "discovery-no-rs256"
	faultJWKSPrivate           fault = "jwks-private-key"
	faultJWKSNoUse             fault = "jwks-no-use"
)

// loginStyle is the shape of the fake provider's HTML pages.
type loginStyle int

const (
	// styleOrgid is orgid's form contract: /sign-in with identifier and
	// password, consent buttons action=allow|deny.
	styleOrgid loginStyle = iota
	// styleCustom is another provider: a two-step sign-in at /u/login with
	// fields "username" then "pass", a required "remember" field, a cancel
	// button before the sign-in button, consent decision=approve and an
	// organization chooser posting "org".
	styleCustom
)

// testKey is generated once: RSA generation is the slowest step of a run.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// fakeClock is the provider's and the runner's shared clock; Sleep only
// moves it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type fakeClient struct {
	id, secret, method string
	thirdParty         bool
	// A registered client's metadata (fakeop_dynamic_test.go); static
	// clients use the harness's redirect URI.
	reg *fakeRegistration
}

type fakeGrant struct {
	client      string
	scope       string
	nonce       string
	claims      string
	acr         string
	redirectURI string
	challenge   string
	authTime    time.Time
	sid         string
	used        bool
	tokens      []string
}

type fakeAccess struct {
	grant   *fakeGrant
	revoked bool
}

type fakeSession struct {
	id       string
	authTime time.Time
	org      string
	// clients the session issued codes to (logout notifies them).
	clients map[string]bool
}

// fakeOP is a small but real OpenID Provider: RS256 ID tokens signed with
// go-jose, code flow with PKCE, refresh tokens, sessions by cookie, HTML
// sign-in and consent pages, form_post, unsigned request objects. Faults
// break one behaviour each.
type fakeOP struct {
	srv         *httptest.Server
	issuer      string
	redirectURI string
	faults      map[fault]bool
	style       loginStyle
	clock       *fakeClock
	clients     map[string]*fakeClient

	// cmu guards clients, keys and the caches of the dynamic side; mu
	// guards the flow state below. Never take cmu then mu.
	cmu sync.Mutex
	// keys sign (the last one) and are published; a rotation appends.
	keys      []fakeKey
	jwtIDs    map[string]bool
	jwksCache map[string]*jose.JSONWebKeySet

	mu        sync.Mutex
	sessions  map[string]*fakeSession
	pending   map[string]url.Values
	codes     map[string]*fakeGrant
	access    map[string]*fakeAccess
	refresh   map[string]*fakeGrant
	consented map[string]bool
}

const (
	fakeSub      = "user-123"
	fakeLogin    = "ada@example.com"
	fakePassword = "correct horse battery staple"
)

func newFakeOP(t *testing.T, redirectURI string, style loginStyle, faults ...fault) *fakeOP {
	t.Helper()
	op := &fakeOP{
		redirectURI: redirectURI,
		faults:      map[fault]bool{},
		style:       style,
		clock:       &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)},
		keys:        []fakeKey{{priv: testKey(), kid: "key-1"}},
		jwtIDs:      map[string]bool{},
		jwksCache:   map[string]*jose.JSONWebKeySet{},
		clients: map[string]*fakeClient{
			"basic-client":  {id: "basic-client", secret: "basic-secret", method: AuthSecretBasic},
			"post-client":   {id: "post-client", secret: "post-secret", method: AuthSecretPost, thirdParty: true},
			"public-client": {id: "public-client", method: AuthNone},
		},
		sessions: map[string]*fakeSession{}, pending: map[string]url.Values{}, codes: map[string]*fakeGrant{},
		access: map[string]*fakeAccess{}, refresh: map[string]*fakeGrant{}, consented: map[string]bool{},
	}
	for _, f := range faults {
		op.faults[f] = true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", op.discovery)
	mux.HandleFunc("GET /jwks", op.jwks)
	mux.HandleFunc("/authorize", op.authorize)
	mux.HandleFunc("GET /authorize/resume", op.resume)
	mux.HandleFunc("/sign-in", op.signIn)
	mux.HandleFunc("/u/login", op.signIn)
	mux.HandleFunc("/consent", op.consent)
	mux.HandleFunc("/organization", op.organization)
	mux.HandleFunc("POST /token", op.token)
	mux.HandleFunc("/userinfo", op.userinfo)
	mux.HandleFunc("POST /register", op.register)
	mux.HandleFunc("/register/{id}", op.manageRegistration)
	mux.HandleFunc("/logout", op.endSession)
	op.srv = httptest.NewServer(mux)
	op.issuer = op.srv.URL
	t.Cleanup(op.srv.Close)
	return op
}

func (op *fakeOP) has(f fault) bool { return op.faults[f] }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (op *fakeOP) discovery(w http.ResponseWriter, _ *http.Request) {
	issuer := op.issuer
	if op.has(faultDiscoveryIssuer) {
		issuer += "/other"
	}
	algs := []string{"RS256"}
	if op.has(faultAlgNone) || op.has(faultAdvertiseNone) {
		algs = append(algs, "none")
	}
	if op.has(faultDiscoveryNoRS256) {
		algs = []string{"ES256"}
	}
	doc := map[string]any{
		"issuer":                                      issuer,
		"authorization_endpoint":                      op.issuer + "/authorize",
		"token_endpoint":                              op.issuer + "/token",
		"userinfo_endpoint":                           op.issuer + "/userinfo",
		"jwks_uri":                                    op.issuer + "/jwks",
		"scopes_supported":                            []string{"openid", "profile", "email", "address", "phone", "offline_access"},
		"response_types_supported":                    []string{"code"},
		"response_modes_supported":                    []string{"query", "form_post"},
		"grant_types_supported":                       []string{"authorization_code", "refresh_token"},
		"subject_types_supported":                     []string{"public", "pairwise"},
		"id_token_signing_alg_values_supported":       algs,
		"token_endpoint_auth_methods_supported":       []string{"client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"},
		"claims_supported":                            []string{"sub", "name", "email", "email_verified", "address", "phone_number"},
		"code_challenge_methods_supported":            []string{"S256"},
		"acr_values_supported":                        []string{"urn:fake:password"},
		"claims_parameter_supported":                  true,
		"request_parameter_supported":                 true,
		"request_uri_parameter_supported":             true,
		"request_object_signing_alg_values_supported": []string{"none", "RS256"},
		"ui_locales_supported":                        []string{"en", "se"},
	}
	op.dynamicDiscovery(doc)
	if op.has(faultDiscoveryHTTPEndpoint) {
		doc["registration_endpoint"] = "http://op.example.com/register"
	}
	writeJSON(w, http.StatusOK, doc)
}

func (op *fakeOP) publicJWK(k fakeKey) map[string]any {
	pub := jose.JSONWebKey{Key: &k.priv.PublicKey, KeyID: k.kid, Algorithm: "RS256", Use: "sig"}
	if op.has(faultJWKSPrivate) {
		pub.Key = k.priv
	}
	b, _ := pub.MarshalJSON()
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if op.has(faultJWKSNoUse) {
		delete(m, "use")
		delete(m, "alg")
	}
	return m
}

func (op *fakeOP) jwks(w http.ResponseWriter, _ *http.Request) {
	op.cmu.Lock()
	keys := slices.Clone(op.keys)
	op.cmu.Unlock()
	if op.has(faultRotationDropsOld) {
		keys = keys[len(keys)-1:]
	}
	var out []any
	for _, k := range keys {
		out = append(out, op.publicJWK(k))
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": out})
}

func (op *fakeOP) session(r *http.Request) *fakeSession {
	c, err := r.Cookie("sid")
	if err != nil {
		return nil
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.sessions[c.Value]
}

func (op *fakeOP) authorize(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && op.has(faultPostAuthzUnsupported) {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	params := r.Form
	if r.Method == http.MethodGet {
		params = r.URL.Query()
	}
	op.process(w, r, params, false)
}

func (op *fakeOP) resume(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	params, ok := op.pending[r.URL.Query().Get("flow")]
	op.mu.Unlock()
	if !ok {
		http.Error(w, "unknown flow", http.StatusBadRequest)
		return
	}
	op.process(w, r, params, true)
}

// mergeRequestObject applies an unsigned request object (by value or
// reference); its members win over the query (OIDC Core 6.3.3).
func (op *fakeOP) mergeRequestObject(params url.Values) (url.Values, string) {
	raw := params.Get("request")
	if uri := params.Get("request_uri"); uri != "" {
		if op.has(faultRequestObjectRefused) {
			return params, "request_uri_not_supported"
		}
		resp, err := http.Get(uri)
		if err != nil {
			return params, "invalid_request_uri"
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		raw = string(b)
	} else if raw != "" && op.has(faultRequestObjectRefused) {
		return params, "request_not_supported"
	}
	if raw == "" || op.has(faultRequestObjectIgnored) {
		return params, ""
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return params, "invalid_request_object"
	}
	if tok, err := parseIDToken(raw); err != nil || (tok.Alg != "none" && !op.verifyRequestObject(params.Get("client_id"), raw)) {
		return params, "invalid_request_object"
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	if err != nil || json.Unmarshal(b, &claims) != nil {
		return params, "invalid_request_object"
	}
	merged := url.Values{}
	for k, v := range params {
		if k != "request" && k != "request_uri" {
			merged[k] = v
		}
	}
	for k, v := range claims {
		switch v := v.(type) {
		case string:
			merged.Set(k, v)
		case float64:
			merged.Set(k, strconv.FormatFloat(v, 'f', -1, 64))
		default:
			b, _ := json.Marshal(v)
			merged.Set(k, string(b))
		}
	}
	return merged, ""
}

// process runs the authorization request; resumed is true after the
// browser signed in or consented for it.
func (op *fakeOP) process(w http.ResponseWriter, r *http.Request, params url.Values, resumed bool) {
	merged, roErr := op.mergeRequestObject(params)
	params = merged
	client := op.client(params.Get("client_id"))
	if client == nil {
		http.Error(w, "invalid_request: unknown client", http.StatusBadRequest)
		return
	}
	if strings.HasSuffix(roErr, "_not_supported") {
		// Refused before reading the redirect_uri: the answer goes to the
		// registered one.
		op.respond(w, params, client.redirects(op)[0], url.Values{"error": {roErr}})
		return
	}
	redirect, ok := op.checkRedirect(client, params.Get("redirect_uri"))
	if !ok {
		http.Error(w, "invalid_request: redirect_uri is not registered", http.StatusBadRequest)
		return
	}
	reply := func(p url.Values) { op.respond(w, params, redirect, p) }
	fail := func(code string) {
		reply(url.Values{"error": {code}, "error_description": {"refused by the fake provider"}})
	}
	if roErr != "" {
		fail(roErr)
		return
	}
	rt := params.Get("response_type")
	if rt == "" && op.has(faultResponseTypeDefault) {
		rt = "code"
	}
	switch {
	case rt == "":
		fail("invalid_request")
		return
	case rt != "code":
		fail("unsupported_response_type")
		return
	}
	scope := strings.Fields(params.Get("scope"))
	if !slices.Contains(scope, "openid") || (op.has(faultScopeOrderSensitive) && scope[0] != "openid") {
		fail("invalid_scope")
		return
	}
	if op.has(faultNonceRequired) && params.Get("nonce") == "" {
		fail("invalid_request")
		return
	}
	if op.has(faultRejectOptionalParams) {
		for _, k := range []string{"display", "login_hint", "ui_locales", "claims_locales", "acr_values", "extra", "id_token_hint"} {
			if params.Has(k) {
				fail("invalid_request")
				return
			}
		}
	}
	if client.method == AuthNone && params.Get("code_challenge") == "" {
		fail("invalid_request")
		return
	}
	sess := op.session(r)
	prompt := strings.Fields(params.Get("prompt"))
	now := op.clock.Now()
	if slices.Contains(prompt, "none") {
		if sess == nil || op.has(faultPromptNoneNoSession) {
			if op.has(faultPromptNoneShowsLogin) {
				op.interact(w, params, "login")
				return
			}
			fail("login_required")
			return
		}
		if hint := params.Get("id_token_hint"); hint != "" && subOf(hint) != op.subFor(client.id) {
			fail("login_required")
			return
		}
		if client.thirdParty && !op.consentedTo(client.id) {
			fail("consent_required")
			return
		}
	} else {
		needLogin := sess == nil
		if !resumed && slices.Contains(prompt, "login") && !op.has(faultPromptLoginIgnored) {
			needLogin = true
		}
		if ma := params.Get("max_age"); ma != "" && sess != nil && !op.has(faultMaxAgeIgnored) {
			if n, err := strconv.Atoi(ma); err == nil && now.Sub(sess.authTime) > time.Duration(n)*time.Second {
				needLogin = true
			}
		}
		if needLogin {
			op.interact(w, params, "login")
			return
		}
		if op.style == styleCustom && sess.org == "" {
			op.interact(w, params, "organization")
			return
		}
		if client.thirdParty && (!op.consentedTo(client.id) || (!resumed && slices.Contains(prompt, "consent"))) {
			op.interact(w, params, "consent")
			return
		}
	}
	g := &fakeGrant{client: client.id, scope: params.Get("scope"), nonce: params.Get("nonce"), claims: params.Get("claims"),
		redirectURI: redirect, challenge: params.Get("code_challenge"), authTime: sess.authTime, sid: sess.id}
	if acr := strings.Fields(params.Get("acr_values")); len(acr) > 0 {
		g.acr = acr[0]
	}
	code := randomValue(24)
	op.mu.Lock()
	op.codes[code] = g
	sess.clients[client.id] = true
	op.mu.Unlock()
	reply(url.Values{"code": {code}})
}

func (op *fakeOP) consentedTo(client string) bool {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.consented[client]
}

// subOf reads the sub of an ID token without verifying it (the fake
// issued it).
func subOf(idToken string) string {
	tok, err := parseIDToken(idToken)
	if err != nil {
		return ""
	}
	return tok.Str("sub")
}

// respond sends an authorization response by the requested response mode.
func (op *fakeOP) respond(w http.ResponseWriter, req url.Values, redirect string, p url.Values) {
	if state := req.Get("state"); state != "" && !op.has(faultStateDropped) {
		p.Set("state", state)
	}
	if op.has(faultIssParamWrong) {
		p.Set("iss", "https://evil.example.com")
	} else {
		p.Set("iss", op.issuer)
	}
	if req.Get("response_mode") == "form_post" {
		if op.has(faultFormPostMissingState) {
			p.Del("state")
		}
		method := "post"
		if op.has(faultFormPostGet) {
			method = "get"
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = formPostPage.Execute(w, map[string]any{"Action": redirect, "Method": method, "Fields": p})
		return
	}
	sep := "?"
	if strings.Contains(redirect, "?") {
		sep = "&"
	}
	redirectTo(w, redirect+sep+p.Encode())
}

var formPostPage = template.Must(template.New("fp").Parse(`<!doctype html>
<html><head><title>Submit</title></head>
<body onload="document.forms[0].submit()">
<form method="{{.Method}}" action="{{.Action}}">
{{range $k, $vs := .Fields}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<noscript><button type="submit">Continue</button></noscript>
</form></body></html>`))

// interact parks the request and sends the browser to a page.
func (op *fakeOP) interact(w http.ResponseWriter, params url.Values, page string) {
	flow := randomValue(12)
	op.mu.Lock()
	op.pending[flow] = params
	op.mu.Unlock()
	target := map[string]string{"login": "/sign-in", "consent": "/consent", "organization": "/organization"}[page]
	if page == "login" && op.style == styleCustom {
		target = "/u/login"
	}
	redirectTo(w, target+"?flow="+flow)
}

func redirectTo(w http.ResponseWriter, location string) {
	w.Header().Set("Location", location)
	w.WriteHeader(http.StatusFound)
}

var orgidSignIn = template.Must(template.New("sign-in").Parse(`<!doctype html>
<html><head><title>Sign in</title></head><body>
<form method="post" action="/sign-in?flow={{.Flow}}">
<input type="hidden" name="csrf" value="token-{{.Flow}}">
<label>Email <input type="email" name="identifier" value="{{.Hint}}"></label>
<label>Password <input type="password" name="password"></label>
<button type="submit">Sign in</button>
</form></body></html>`))

var customSignIn = template.Must(template.New("custom").Parse(`<!doctype html>
<html><head><title>Welcome</title></head><body>
<form method="post" action="/u/login?flow={{.Flow}}">
<input type="hidden" name="step" value="{{.Step}}">
{{if eq .Step "1"}}<input type="text" name="username" value="{{.Hint}}">{{else}}<input type="password" name="pass">{{end}}
<button type="submit" name="op" value="cancel">Cancel</button>
<button type="submit" name="op" value="signin">Continue</button>
</form></body></html>`))

func (op *fakeOP) signIn(w http.ResponseWriter, r *http.Request) {
	flow := r.URL.Query().Get("flow")
	op.mu.Lock()
	params, ok := op.pending[flow]
	op.mu.Unlock()
	if !ok {
		http.Error(w, "unknown flow", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.Method == http.MethodGet {
		data := map[string]string{"Flow": flow, "Hint": params.Get("login_hint"), "Step": "1"}
		if op.has(faultLoginHintIgnored) {
			data["Hint"] = ""
		}
		if op.style == styleCustom {
			_ = customSignIn.Execute(w, data)
		} else {
			_ = orgidSignIn.Execute(w, data)
		}
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if op.style == styleCustom {
		if r.PostForm.Get("op") != "signin" || r.PostForm.Get("remember") != "yes" {
			http.Error(w, "sign-in cancelled", http.StatusBadRequest)
			return
		}
		if r.PostForm.Get("step") == "1" {
			if r.PostForm.Get("username") != fakeLogin {
				http.Error(w, "unknown user", http.StatusUnauthorized)
				return
			}
			_ = customSignIn.Execute(w, map[string]string{"Flow": flow, "Step": "2"})
			return
		}
		if r.PostForm.Get("pass") != fakePassword {
			http.Error(w, "wrong password", http.StatusUnauthorized)
			return
		}
	} else if r.PostForm.Get("identifier") != fakeLogin || r.PostForm.Get("password") != fakePassword || r.PostForm.Get("csrf") != "token-"+flow {
		w.WriteHeader(http.StatusUnauthorized)
		_ = orgidSignIn.Execute(w, map[string]string{"Flow": flow})
		return
	}
	sid := randomValue(16)
	op.mu.Lock()
	op.sessions[sid] = &fakeSession{id: "sid-" + sid[:8], authTime: op.clock.Now(), clients: map[string]bool{}}
	op.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "sid", Value: sid, Path: "/", HttpOnly: true})
	http.Redirect(w, r, "/authorize/resume?flow="+flow, http.StatusSeeOther)
}

func (op *fakeOP) consent(w http.ResponseWriter, r *http.Request) {
	flow := r.URL.Query().Get("flow")
	op.mu.Lock()
	params, ok := op.pending[flow]
	op.mu.Unlock()
	if !ok {
		http.Error(w, "unknown flow", http.StatusBadRequest)
		return
	}
	name, allow := "action", "allow"
	if op.style == styleCustom {
		name, allow = "decision", "approve"
	}
	if r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Allow access?</title><form method="post"><button name="%[1]s" value="deny">Deny</button><button name="%[1]s" value="%[2]s">Allow</button></form>`, name, allow)
		return
	}
	_ = r.ParseForm()
	if r.PostForm.Get(name) != allow {
		op.respond(w, params, params.Get("redirect_uri"), url.Values{"error": {"access_denied"}})
		return
	}
	op.mu.Lock()
	op.consented[params.Get("client_id")] = true
	op.mu.Unlock()
	http.Redirect(w, r, "/authorize/resume?flow="+flow, http.StatusSeeOther)
}

func (op *fakeOP) organization(w http.ResponseWriter, r *http.Request) {
	flow := r.URL.Query().Get("flow")
	if r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>Choose an organization</title><form method="post">`+
			`<label><input type="radio" name="org" value="org-1">Analytical Engines</label>`+
			`<label><input type="radio" name="org" value="org-2">Difference Ltd</label><button type="submit">Continue</button></form>`)
		return
	}
	_ = r.ParseForm()
	if sess := op.session(r); sess != nil && r.PostForm.Get("org") != "" {
		op.mu.Lock()
		sess.org = r.PostForm.Get("org")
		op.mu.Unlock()
	}
	http.Redirect(w, r, "/authorize/resume?flow="+flow, http.StatusSeeOther)
}

// authenticate returns the client of a token request, or nil after an
// invalid_client answer.
func (op *fakeOP) authenticate(w http.ResponseWriter, r *http.Request) *fakeClient {
	if r.PostForm.Has("client_assertion") {
		return op.authenticateAssertion(w, r)
	}
	id, secret, basic := r.BasicAuth()
	method := AuthSecretBasic
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		method = AuthSecretPost
		if secret == "" {
			method = AuthNone
		}
	}
	c := op.client(id)
	if c == nil || c.method != method || c.secret != secret || (method == AuthSecretPost && op.has(faultSecretPostRefused)) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return nil
	}
	return c
}

func (op *fakeOP) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	c := op.authenticate(w, r)
	if c == nil {
		return
	}
	invalidGrant := func() { writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"}) }
	op.mu.Lock()
	defer op.mu.Unlock()
	var g *fakeGrant
	first := false
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		g = op.codes[r.PostForm.Get("code")]
		if g == nil || g.client != c.id || g.redirectURI != r.PostForm.Get("redirect_uri") {
			invalidGrant()
			return
		}
		if g.used && !op.has(faultCodeReusable) {
			if !op.has(faultCodeReuseNoRevoke) {
				for _, at := range g.tokens {
					op.access[at].revoked = true
				}
			}
			invalidGrant()
			return
		}
		if g.challenge != "" && !op.has(faultPKCEIgnored) {
			sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
			if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
				invalidGrant()
				return
			}
		}
		g.used, first = true, true
	case "refresh_token":
		g = op.refresh[r.PostForm.Get("refresh_token")]
		if g == nil || (g.client != c.id && !op.has(faultRefreshNotBound)) {
			invalidGrant()
			return
		}
		delete(op.refresh, r.PostForm.Get("refresh_token"))
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	at := randomValue(32)
	op.access[at] = &fakeAccess{grant: g}
	g.tokens = append(g.tokens, at)
	resp := map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": 300}
	if !op.has(faultNoRefresh) {
		rt := randomValue(32)
		op.refresh[rt] = g
		resp["refresh_token"] = rt
	}
	resp["id_token"] = op.idToken(c.id, g, at, first)
	w.Header().Set("Content-Type", "application/json")
	if !op.has(faultNoCacheControl) {
		w.Header().Set("Cache-Control", "no-store")
	}
	_ = json.NewEncoder(w).Encode(resp)
}

// idToken signs an ID token for the grant; withNonce is false on refresh.
func (op *fakeOP) idToken(client string, g *fakeGrant, accessToken string, withNonce bool) string {
	now := op.clock.Now()
	claims := map[string]any{
		"iss": op.issuer, "sub": op.subFor(client), "aud": client,
		"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(),
	}
	if g.sid != "" {
		claims["sid"] = g.sid
	}
	if !op.has(faultMaxAgeIgnored) {
		claims["auth_time"] = g.authTime.Unix()
	}
	if g.nonce != "" && withNonce && !op.has(faultNoNonce) {
		claims["nonce"] = g.nonce
	}
	if g.acr != "" {
		claims["acr"] = g.acr
	}
	hash, _ := halfHash("RS256", accessToken)
	if op.has(faultBadAtHash) {
		hash, _ = halfHash("RS256", accessToken+"x")
	}
	claims["at_hash"] = hash
	if op.has(faultWrongIss) {
		claims["iss"] = op.issuer + "/evil"
	}
	if op.has(faultWrongAud) {
		claims["aud"] = "someone-else"
	}
	payload, _ := json.Marshal(claims)
	if op.has(faultAlgNone) {
		return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	key := op.signingKey()
	kid := key.kid
	if op.has(faultWrongKid) {
		kid = "unknown-key"
	}
	if !op.has(faultNoKid) {
		opts = opts.WithHeader("kid", kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key.priv}, opts)
	if err != nil {
		panic(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		panic(err)
	}
	tok, _ := jws.CompactSerialize()
	if op.has(faultBadSignature) {
		tok = tok[:len(tok)-4] + flip(tok[len(tok)-4:])
	}
	return tok
}

// flip changes base64url characters so that the signature breaks.
func flip(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
	}
	return string(b)
}

func (op *fakeOP) userinfo(w http.ResponseWriter, r *http.Request) {
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if r.Header.Get("Authorization") == "" && r.Method == http.MethodPost {
		if op.has(faultUserinfoBodyRefused) {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_request"`)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		_ = r.ParseForm()
		token = r.PostForm.Get("access_token")
	}
	op.mu.Lock()
	a := op.access[token]
	op.mu.Unlock()
	if a == nil || a.revoked {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	claims := map[string]any{"sub": op.subFor(a.grant.client)}
	if op.has(faultUserinfoSubMismatch) {
		claims["sub"] = "someone-else"
	}
	scope := strings.Fields(a.grant.scope)
	if !op.has(faultMissingScopeClaims) {
		if slices.Contains(scope, "profile") {
			claims["name"], claims["given_name"], claims["family_name"] = "Ada Lovelace", "Ada", "Lovelace"
			claims["updated_at"] = 1700000000
		}
		if slices.Contains(scope, "email") {
			claims["email"], claims["email_verified"] = fakeLogin, true
		}
		if slices.Contains(scope, "address") {
			claims["address"] = map[string]any{"formatted": "12 St James's Square, London", "country": "GB"}
		}
		if slices.Contains(scope, "phone") {
			claims["phone_number"], claims["phone_number_verified"] = "+44 20 7946 0000", false
		}
	}
	if strings.Contains(a.grant.claims, `"name"`) && !op.has(faultClaimsParamIgnored) {
		claims["name"] = "Ada Lovelace"
	}
	if c := op.client(a.grant.client); c != nil && c.reg != nil && c.reg.userinfoAlg != "" && !op.has(faultUserinfoUnsigned) {
		op.writeSignedUserinfo(w, c, claims)
		return
	}
	writeJSON(w, http.StatusOK, claims)
}
