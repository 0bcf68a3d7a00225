package conformance

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// The fake provider's logout: RP-initiated logout with a confirmation page
// when there is no id_token_hint, front-channel iframes and back-channel
// logout tokens (sent before the browser is answered).
const (
	faultNoEndSession          fault = "no-end-session-endpoint"
	faultLogoutStateDropped    fault = "logout-state-dropped"
	faultLogoutStateAlways     fault = "logout-state-always"
	faultLogoutAnyRedirect     fault = "logout-any-redirect"
	faultLogoutHintUnverified  fault = "logout-hint-unverified"
	faultLogoutNoHintRedirects fault = "logout-no-hint-redirects"
	faultLogoutKeepsSession    fault = "logout-keeps-session"
	faultNoFrontchannel        fault = "no-frontchannel"
	faultFrontchannelNoSID     fault = "frontchannel-no-sid"
	faultFrontchannelCSP       fault = "frontchannel-csp-blocks"
	faultNoBackchannel         fault = "no-backchannel"
	faultLogoutTokenNonce      fault = "logout-token-nonce"
	faultLogoutTokenTyp        fault = "logout-token-typ-jwt"
	faultNoBackchannelDelivery fault = "no-backchannel-delivery"
)

var confirmPage = template.Must(template.New("confirm").Parse(`<!doctype html><title>Sign out?</title>
<form method="post" action="/logout">{{range $k, $v := .}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<button name="action" value="cancel">Stay</button><button name="action" value="logout">Sign out</button></form>`))

var framesPage = template.Must(template.New("frames").Parse(`<!doctype html><title>Signed out</title>
{{if .Continue}}<meta http-equiv="refresh" content="0;url={{.Continue}}">{{end}}
<p>Signed out.</p>{{range .Frames}}<iframe src="{{.}}" hidden></iframe>{{end}}`))

// verifyHint checks an id_token_hint against the fake's keys.
func (op *fakeOP) verifyHint(raw string) (*IDToken, bool) {
	tok, err := parseIDToken(raw)
	if err != nil {
		return nil, false
	}
	if op.has(faultLogoutHintUnverified) {
		return tok, true
	}
	obj, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, false
	}
	op.cmu.Lock()
	keys := slices.Clone(op.keys)
	op.cmu.Unlock()
	for _, k := range keys {
		if k.kid == tok.Kid {
			if _, err := obj.Verify(&k.priv.PublicKey); err == nil {
				return tok, true
			}
		}
	}
	return nil, false
}

func (op *fakeOP) endSession(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	q := r.Form
	hint, redirect, state := q.Get("id_token_hint"), q.Get("post_logout_redirect_uri"), q.Get("state")
	var client *fakeClient
	if hint != "" {
		tok, ok := op.verifyHint(hint)
		if !ok {
			http.Error(w, "invalid id_token_hint", http.StatusBadRequest)
			return
		}
		client = op.client(tok.Str("aud"))
	}
	if redirect != "" && !op.has(faultLogoutAnyRedirect) && !(client == nil && op.has(faultLogoutNoHintRedirects)) {
		if client == nil || client.reg == nil || !slices.Contains(client.reg.postLogout, redirect) {
			http.Error(w, "post_logout_redirect_uri not registered", http.StatusBadRequest)
			return
		}
	}
	sess := op.session(r)
	if sess != nil && hint == "" && q.Get("action") == "" && !(redirect != "" && op.has(faultLogoutNoHintRedirects)) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fields := map[string]string{}
		for _, k := range []string{"post_logout_redirect_uri", "state"} {
			if v := q.Get(k); v != "" {
				fields[k] = v
			}
		}
		_ = confirmPage.Execute(w, fields)
		return
	}
	if q.Get("action") == "cancel" {
		fmt.Fprint(w, "<!doctype html><title>Still signed in</title>")
		return
	}
	var frames []string
	if sess != nil {
		frames = op.logoutSession(sess)
	}
	continueTo := ""
	if redirect != "" {
		u, _ := url.Parse(redirect)
		v := u.Query()
		switch {
		case state != "" && !op.has(faultLogoutStateDropped):
			v.Set("state", state)
		case state == "" && op.has(faultLogoutStateAlways):
			v.Set("state", "unrequested")
		}
		u.RawQuery = v.Encode()
		continueTo = u.String()
	}
	if len(frames) > 0 {
		csp := "default-src 'none'; frame-src " + strings.Join(frameOriginsOf(frames), " ")
		if op.has(faultFrontchannelCSP) {
			csp = "default-src 'none'"
		}
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = framesPage.Execute(w, map[string]any{"Frames": frames, "Continue": template.URL(continueTo)})
		return
	}
	if continueTo != "" {
		redirectTo(w, continueTo)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, "<!doctype html><title>Signed out</title><p>You are signed out.</p>")
}

func frameOriginsOf(frames []string) []string {
	var out []string
	for _, f := range frames {
		if u, err := url.Parse(f); err == nil && !slices.Contains(out, u.Scheme+"://"+u.Host) {
			out = append(out, u.Scheme+"://"+u.Host)
		}
	}
	return out
}

// logoutSession ends a session, notifies its clients' back-channel
// receivers and returns their front-channel iframe URLs.
func (op *fakeOP) logoutSession(sess *fakeSession) []string {
	op.mu.Lock()
	if !op.has(faultLogoutKeepsSession) {
		for k, s := range op.sessions {
			if s == sess {
				delete(op.sessions, k)
			}
		}
	}
	ids := make([]string, 0, len(sess.clients))
	for id := range sess.clients {
		ids = append(ids, id)
	}
	op.mu.Unlock()
	slices.Sort(ids)
	var clients []*fakeClient
	for _, id := range ids {
		if c := op.client(id); c != nil && c.reg != nil {
			clients = append(clients, c)
		}
	}
	var frames []string
	for _, c := range clients {
		if c.reg.front != "" {
			u, _ := url.Parse(c.reg.front)
			if c.reg.frontSID && !op.has(faultFrontchannelNoSID) {
				v := u.Query()
				v.Set("iss", op.issuer)
				v.Set("sid", sess.id)
				u.RawQuery = v.Encode()
			}
			frames = append(frames, u.String())
		}
		if c.reg.back != "" && !op.has(faultNoBackchannelDelivery) {
			op.sendLogoutToken(c, sess)
		}
	}
	return frames
}

// sendLogoutToken POSTs a logout token to the client's receiver.
func (op *fakeOP) sendLogoutToken(c *fakeClient, sess *fakeSession) {
	now := op.clock.Now()
	claims := map[string]any{"iss": op.issuer, "aud": c.id, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti": randomValue(12), "sub": op.subFor(c.id), "sid": sess.id,
		"events": map[string]any{backchannelEvent: map[string]any{}}}
	if op.has(faultLogoutTokenNonce) {
		claims["nonce"] = "n-0S6_WzA2Mj"
	}
	typ := "logout+jwt"
	if op.has(faultLogoutTokenTyp) {
		typ = "JWT"
	}
	k := op.signingKey()
	token, err := signJWT(k.priv, "RS256", k.kid, claims, typ)
	if err != nil {
		return
	}
	resp, err := http.PostForm(c.reg.back, url.Values{"logout_token": {token}})
	if err == nil {
		resp.Body.Close()
	}
}
