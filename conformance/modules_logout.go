package conformance

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// logoutCase is one variant of RP-initiated logout.
type logoutCase struct {
	hint     string
	redirect string
	state    bool
	expect   string
}

const (
	hintGood     = "good"
	hintNone     = "none"
	hintModified = "modified"
	hintForged   = "forged"

	redirectRegistered   = "registered"
	redirectNone         = "none"
	redirectUnregistered = "unregistered"
	redirectQueryAdded   = "query-added"

	// expectRedirect: the browser returns to the post_logout_redirect_uri.
	expectRedirect = "redirect"
	// expectSignedOutPage: the provider signs out (the runner confirms if
	// asked) and shows a page, no redirect.
	expectSignedOutPage = "signed-out-page"
	// expectNoRedirect: an error page or a confirmation; never a redirect.
	expectNoRedirect = "no-redirect"
)

// signInForLogout runs a code flow whose ID token the logout will use.
func (t *T) signInForLogout(b *Browser) (*Flow, bool) {
	return t.codeFlow(b, FlowOptions{Customize: func(ar *AuthRequest) {
		// A long state, to check the provider does not corrupt it.
		ar.State = randomValue(96)
		ar.Params.Set("state", ar.State)
	}})
}

// endSessionParams builds the end-session request of a case.
func (t *T) endSessionParams(f *Flow, c logoutCase) (url.Values, string, bool) {
	params := url.Values{}
	switch c.hint {
	case hintGood:
		params.Set("id_token_hint", f.Tokens.IDToken)
	case hintModified:
		params.Set("id_token_hint", idTokenWithAlgNone(f.Tokens.IDToken))
	case hintForged:
		forged, err := forgedIDToken(f.IDToken)
		if err != nil {
			t.Failf("%v", err)
			return nil, "", false
		}
		params.Set("id_token_hint", forged)
	}
	registered := t.Env.Listener.URL(pathPostLogout)
	switch c.redirect {
	case redirectRegistered:
		params.Set("post_logout_redirect_uri", registered)
	case redirectUnregistered:
		params.Set("post_logout_redirect_uri", t.Env.Listener.URL(pathPostLogout+"_unregistered"))
	case redirectQueryAdded:
		params.Set("post_logout_redirect_uri", withQuery(registered, "foo=bar"))
	}
	state := ""
	if c.state {
		state = randomValue(32)
		params.Set("state", state)
	}
	return params, state, true
}

func rpLogoutModule(name, description string, c logoutCase) Module {
	return module(name, description, func(t *T) {
		b := t.Env.NewBrowser()
		f, ok := t.signInForLogout(b)
		if !ok {
			return
		}
		params, state, ok := t.endSessionParams(f, c)
		if !ok {
			return
		}
		out := t.endSession(b, params, c.expect == expectSignedOutPage)
		if out == nil {
			return
		}
		switch c.expect {
		case expectRedirect:
			if out.Redirect == nil {
				t.Failf("the provider did not return to the post_logout_redirect_uri: %s", describeLogoutPage(out))
				return
			}
			t.checkPostLogoutRedirect(out.Redirect, state)
			t.checkLoggedOut(b)
		case expectSignedOutPage:
			if out.Redirect != nil {
				t.Failf("the provider redirected to %s although no post_logout_redirect_uri was sent", stripQuery(out.Redirect.URL))
				return
			}
			if out.Page == nil || out.Page.Status != http.StatusOK {
				t.Failf("the provider did not show a signed-out page: %s", describeLogoutPage(out))
				return
			}
			t.checkLoggedOut(b)
		case expectNoRedirect:
			if out.Redirect != nil {
				t.Failf("the provider redirected to %s; with this request it must show an error or ask the user (RP-Initiated Logout 2, 3)", stripQuery(out.Redirect.URL))
				return
			}
			if out.Page != nil && out.Page.LoginPage {
				t.Failf("the provider showed a login page instead of an error or a logout confirmation")
			}
		}
	})
}

// describeLogoutPage says where an end-session navigation stopped.
func describeLogoutPage(out *logoutOutcome) string {
	if out.Page == nil {
		return "no page"
	}
	return out.Page.Describe()
}

// logoutDiscoveryModule checks the logout members of discovery.
func logoutDiscoveryModule(name, description string, flags ...string) Module {
	return module(name, description, func(t *T) {
		doc := t.fetchDiscovery()
		if doc == nil {
			return
		}
		endpoint, _ := doc["end_session_endpoint"].(string)
		switch {
		case endpoint == "":
			t.Failf("the discovery document has no end_session_endpoint (RP-Initiated Logout 2.1)")
		case !endpointOK(endpoint):
			t.Failf("end_session_endpoint %q is not an https URL (http is accepted on loopback only)", endpoint)
		}
		for _, flag := range flags {
			if v, ok := doc[flag].(bool); !ok || !v {
				t.Failf("%s is %v, want true", flag, doc[flag])
			}
		}
	})
}

func moduleRPLogoutDiscovery() Module {
	return logoutDiscoveryModule("oidcc-rp-initiated-logout-discovery-endpoint-verification",
		"Discovery has an end_session_endpoint, https (http only on loopback).")
}

func moduleFrontchannelDiscovery() Module {
	return logoutDiscoveryModule("oidcc-frontchannel-logout-discovery-endpoint-verification",
		"Discovery says frontchannel_logout_supported and frontchannel_logout_session_supported (sid, required for certification) and has an end_session_endpoint.",
		"frontchannel_logout_supported", "frontchannel_logout_session_supported")
}

func moduleBackchannelDiscovery() Module {
	return logoutDiscoveryModule("oidcc-backchannel-logout-discovery-endpoint-verification",
		"Discovery says backchannel_logout_supported and backchannel_logout_session_supported (sid, required for certification) and has an end_session_endpoint.",
		"backchannel_logout_supported", "backchannel_logout_session_supported")
}

func moduleFrontchannelLogout() Module {
	return module("oidcc-frontchannel-rp-initiated-logout",
		"Sign in, then end the session: the provider's page loads the client's frontchannel_logout_uri in an iframe its Content-Security-Policy allows, with iss and the ID token's sid, then returns to the post_logout_redirect_uri with the state; prompt=none then fails.",
		func(t *T) {
			recv := t.receiveLogouts()
			defer recv.close()
			b := t.Env.NewBrowser()
			f, ok := t.signInForLogout(b)
			if !ok {
				return
			}
			params, state, _ := t.endSessionParams(f, logoutCase{hint: hintGood, redirect: redirectRegistered, state: true})
			out := t.endSession(b, params, false)
			if out == nil {
				return
			}
			want, _ := url.Parse(t.Env.Listener.URL(pathFrontchannel))
			var frame *url.URL
			for _, fr := range out.Frames {
				if sameEndpoint(fr, want) {
					frame = fr
				}
			}
			if frame == nil {
				t.Failf("the provider's pages did not load the frontchannel_logout_uri in an iframe (Front-Channel Logout 2, 4): %s", describeLogoutPage(out))
			} else if err := checkFrameCSP(out.FramePage.Header, frame); err != nil {
				t.Failf("%v", err)
			}
			reqs := recv.frontRequests()
			if frame != nil && len(reqs) == 0 {
				t.Failf("the front-channel logout iframe did not reach the runner")
			}
			for _, r := range reqs {
				t.checkFrontchannelRequest(r.URL.Query(), f.IDToken)
			}
			if out.Redirect == nil {
				t.Failf("the provider did not go on to the post_logout_redirect_uri after the front-channel logout (no redirect, meta refresh or link)")
				return
			}
			t.checkPostLogoutRedirect(out.Redirect, state)
			t.checkLoggedOut(b)
		})
}

// checkFrontchannelRequest checks the iframe request's parameters
// (Front-Channel Logout 2): iss and sid, required because the client
// registered frontchannel_logout_session_required.
func (t *T) checkFrontchannelRequest(q url.Values, idToken *IDToken) {
	issuer := t.Env.Provider.Metadata.Issuer
	switch got := q.Get("iss"); {
	case got == "":
		t.Failf("the front-channel logout request has no iss, which frontchannel_logout_session_required asks for")
	case got != issuer:
		t.Failf("the front-channel logout request's iss %q is not the issuer", got)
	}
	switch got := q.Get("sid"); {
	case got == "":
		t.Failf("the front-channel logout request has no sid, which frontchannel_logout_session_required asks for")
	case idToken != nil && got != idToken.Str("sid"):
		t.Failf("the front-channel logout request's sid is not the ID token's sid")
	}
	for k := range q {
		if k != "iss" && k != "sid" {
			t.Warnf("the front-channel logout request carries an unexpected parameter %q", k)
		}
	}
}

func moduleBackchannelLogout() Module {
	return module("oidcc-backchannel-rp-initiated-logout",
		"Sign in, then end the session: the provider returns to the post_logout_redirect_uri with the state and POSTs the client's backchannel_logout_uri a logout token: signed with a key of its JWKS, typ logout+jwt, iss, aud, iat, exp, jti, the back-channel logout event, the ID token's sid and sub, and no nonce; prompt=none then fails.",
		func(t *T) {
			recv := t.receiveLogouts()
			defer recv.close()
			b := t.Env.NewBrowser()
			f, ok := t.signInForLogout(b)
			if !ok {
				return
			}
			params, state, _ := t.endSessionParams(f, logoutCase{hint: hintGood, redirect: redirectRegistered, state: true})
			out := t.endSession(b, params, false)
			if out == nil {
				return
			}
			if out.Redirect == nil {
				t.Failf("the provider did not return to the post_logout_redirect_uri: %s", describeLogoutPage(out))
			} else {
				t.checkPostLogoutRedirect(out.Redirect, state)
			}
			// Delivery may be asynchronous (and should be durable): wait.
			wait := time.Duration(t.Env.Config.LogoutWait)
			timer := time.NewTimer(wait)
			defer timer.Stop()
			for len(recv.backRequests()) == 0 {
				select {
				case <-recv.notify:
				case <-timer.C:
					t.Failf("no back-channel logout request reached the backchannel_logout_uri within %s", wait)
					return
				case <-t.Ctx.Done():
					t.Failf("waiting for the back-channel logout request: %v", t.Ctx.Err())
					return
				}
			}
			reqs := recv.backRequests()
			if len(reqs) > 1 {
				t.Warnf("the provider sent %d back-channel logout requests for one logout", len(reqs))
			}
			t.checkBackchannelRequest(reqs[0], f)
			t.checkLoggedOut(b)
		})
}

// checkBackchannelRequest checks a back-channel logout request and its
// logout token (Back-Channel Logout 1.0 §2.4–2.6).
func (t *T) checkBackchannelRequest(r backchannelRequest, f *Flow) {
	if r.Method != http.MethodPost {
		t.Failf("the back-channel logout request is %s, want POST (Back-Channel Logout 2.5)", r.Method)
	}
	if !formMediaType(r.ContentType) {
		t.Failf("the back-channel logout request's Content-Type is %q, want application/x-www-form-urlencoded", r.ContentType)
	}
	if r.ReadErr != nil {
		t.Failf("the back-channel logout request's body cannot be read: %v", r.ReadErr)
		return
	}
	raw := r.Form.Get("logout_token")
	if raw == "" {
		t.Failf("the back-channel logout request has no logout_token")
		return
	}
	for k := range r.Form {
		if k != "logout_token" {
			t.Warnf("the back-channel logout request carries an unexpected parameter %q", k)
		}
	}
	fail := func(format string, args ...any) { t.Failf("logout token: "+format, args...) }
	tok, err := parseIDToken(raw)
	if err != nil {
		fail("%v", err)
		return
	}
	switch typ, _ := tok.Header["typ"].(string); {
	case typ == "":
		t.Warnf("logout token: no typ header; logout+jwt makes it unmistakable for an ID token (Back-Channel Logout 2.4)")
	case !strings.EqualFold(typ, "logout+jwt") && !strings.EqualFold(typ, "application/logout+jwt"):
		fail("typ is %q, want logout+jwt (Back-Channel Logout 2.4)", typ)
	}
	t.verifySignature(tok, f.Req.Client, fail)
	t.checkLogoutTokenClaims(tok, f, fail)
}

// checkLogoutTokenClaims checks a logout token's claims.
func (t *T) checkLogoutTokenClaims(tok *IDToken, f *Flow, fail func(string, ...any)) {
	now := t.Env.Now()
	if iss := tok.Str("iss"); iss != t.Env.Provider.Metadata.Issuer {
		fail("iss %q is not the issuer", iss)
	}
	if !slices.Contains(audienceOf(tok.Claims), f.Req.Client.ClientID) {
		fail("aud %v does not contain the client id", tok.Claims["aud"])
	}
	if iat, ok := tok.Time("iat"); !ok {
		fail("no iat NumericDate")
	} else if at := time.Unix(iat, 0); at.After(now.Add(clockSkew)) || at.Before(now.Add(-24*time.Hour)) {
		fail("iat %s is in the future or more than a day old", at.UTC().Format(time.RFC3339))
	}
	if exp, ok := tok.Time("exp"); !ok {
		fail("no exp NumericDate (Back-Channel Logout 2.4)")
	} else if time.Unix(exp, 0).Before(now.Add(-clockSkew)) {
		fail("it expired at %s", time.Unix(exp, 0).UTC().Format(time.RFC3339))
	}
	if tok.Str("jti") == "" {
		fail("no jti")
	}
	t.checkLogoutEvents(tok.Claims["events"], fail)
	sid, sub := tok.Str("sid"), tok.Str("sub")
	if sid == "" && sub == "" {
		fail("neither sub nor sid")
	}
	if sid == "" {
		fail("no sid, which backchannel_logout_session_required asks for")
	} else if f.IDToken != nil && sid != f.IDToken.Str("sid") {
		fail("sid is not the ID token's sid")
	}
	if sub != "" && f.IDToken != nil && sub != f.IDToken.Str("sub") {
		fail("sub is not the ID token's sub")
	}
	if _, present := tok.Claims["nonce"]; present {
		fail("it carries a nonce, which a logout token must not (Back-Channel Logout 2.4)")
	}
}

// backchannelEvent is the event member of a logout token.
const backchannelEvent = "http://schemas.openid.net/event/backchannel-logout"

func (t *T) checkLogoutEvents(v any, fail func(string, ...any)) {
	events, ok := v.(map[string]any)
	if !ok {
		fail("events is %s, want a JSON object", jsonType(v))
		return
	}
	ev, present := events[backchannelEvent]
	if !present {
		fail("events has no %s member", backchannelEvent)
		return
	}
	obj, ok := ev.(map[string]any)
	if !ok {
		fail("the %s event is %s, want a JSON object", backchannelEvent, jsonType(ev))
		return
	}
	if len(obj) != 0 {
		b, _ := json.Marshal(obj)
		t.Warnf("logout token: the event value should be {} (Back-Channel Logout 2.4), got %s", b)
	}
	if len(events) != 1 {
		t.Warnf("logout token: events has %d members besides the logout event", len(events)-1)
	}
}
