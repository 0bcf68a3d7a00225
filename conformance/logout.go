package conformance

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// The relying party's side of logout: the runner sends the browser to the
// end_session_endpoint (RP-Initiated Logout 1.0), follows what comes back
// — a redirect to its post_logout_redirect_uri, a confirmation page it may
// confirm, a signed-out page with front-channel iframes it loads as a
// browser would — and receives front- and back-channel logout requests on
// its Listener.

// Listener paths the logout plans register.
const (
	pathPostLogout   = "/post_logout_redirect"
	pathFrontchannel = "/frontchannel_logout"
	pathBackchannel  = "/backchannel_logout"
)

// logoutReceiver records the front- and back-channel logout requests the
// provider sends while a module runs.
type logoutReceiver struct {
	mu     sync.Mutex
	front  []*http.Request
	back   []backchannelRequest
	notify chan struct{}
	remove []func()
}

// backchannelRequest is a back-channel logout request as received.
type backchannelRequest struct {
	Method      string
	ContentType string
	Form        url.Values
	ReadErr     error
}

// receiveLogouts mounts the receivers on the Listener until the module ends.
func (t *T) receiveLogouts() *logoutReceiver {
	r := &logoutReceiver{notify: make(chan struct{}, 16)}
	l := t.Env.Listener
	r.remove = append(r.remove, l.Handle(pathFrontchannel, http.HandlerFunc(r.serveFront)))
	r.remove = append(r.remove, l.Handle(pathBackchannel, http.HandlerFunc(r.serveBack)))
	return r
}

func (r *logoutReceiver) close() {
	for _, f := range r.remove {
		f()
	}
}

// serveFront answers a front-channel logout iframe (Front-Channel Logout
// 1.0 §2: the RP's page; no caching).
func (r *logoutReceiver) serveFront(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.front = append(r.front, req.Clone(context.WithoutCancel(req.Context())))
	r.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte("<!doctype html><title>Signed out</title>"))
}

// serveBack answers a back-channel logout request with 200 (Back-Channel
// Logout 1.0 §2.8) after recording it.
func (r *logoutReceiver) serveBack(w http.ResponseWriter, req *http.Request) {
	br := backchannelRequest{Method: req.Method, ContentType: req.Header.Get("Content-Type")}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxBody))
	if err == nil {
		br.Form, err = url.ParseQuery(string(body))
	}
	br.ReadErr = err
	r.mu.Lock()
	r.back = append(r.back, br)
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

func (r *logoutReceiver) frontRequests() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*http.Request(nil), r.front...)
}

func (r *logoutReceiver) backRequests() []backchannelRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]backchannelRequest(nil), r.back...)
}

// logoutOutcome is where an end-session navigation ended.
type logoutOutcome struct {
	// Redirect is the provider's redirect to the runner (the
	// post_logout_redirect_uri), if it came.
	Redirect *Callback
	// Page is the last page shown (signed out, error, confirmation).
	Page *Stop
	// Frames are the iframes of the signed-out page and FramePage that
	// page (front-channel logout).
	Frames    []*url.URL
	FramePage *Stop
	// Confirmed is set when the runner confirmed on a confirmation page.
	Confirmed bool
}

// endSession sends the browser to the end_session_endpoint with params
// and follows the provider: it confirms a confirmation page when confirm
// is set, loads the front-channel iframes that point at the runner, and
// follows a meta refresh or a link to the runner. It fails the module and
// returns nil on a transport error.
func (t *T) endSession(b *Browser, params url.Values, confirm bool) *logoutOutcome {
	p, ok := t.provider()
	if !ok {
		return nil
	}
	endpoint := p.Metadata.EndSessionEndpoint
	if endpoint == "" {
		t.Failf("the discovery document has no end_session_endpoint (RP-Initiated Logout 2.1)")
		return nil
	}
	target := endpoint
	if len(params) > 0 {
		sep := "?"
		if strings.Contains(endpoint, "?") {
			sep = "&"
		}
		target += sep + params.Encode()
	}
	req, err := http.NewRequestWithContext(t.Ctx, http.MethodGet, target, nil)
	if err != nil {
		t.Failf("end session request: %v", transportError(err))
		return nil
	}
	res := &logoutOutcome{}
	for step := 0; step < 6; step++ {
		out, err := b.Navigate(t.Ctx, req, Navigation{NoInteraction: true})
		if err != nil {
			t.Failf("end session: %v", err)
			return nil
		}
		if out.Callback != nil {
			res.Redirect = out.Callback
			return res
		}
		stop := out.Stop
		res.Page = stop
		if stop.Page == nil || stop.Status != http.StatusOK {
			return res
		}
		if confirm && !res.Confirmed {
			if form, btn := b.logoutConfirmForm(stop.Page); form != nil {
				res.Confirmed = true
				if req, err = b.submitRequest(t.Ctx, stop.PageURL, form, btn, nil); err != nil {
					t.Failf("confirm the sign-out: %v", err)
					return nil
				}
				continue
			}
		}
		if len(stop.Page.Frames) > 0 && res.Frames == nil {
			res.Frames, res.FramePage = stop.Page.Frames, stop
			for _, f := range stop.Page.Frames {
				if b.listener.Owns(f) {
					if _, _, err := b.do(b.frameRequest(t.Ctx, f, stop.PageURL)); err != nil {
						t.Failf("load the front-channel logout iframe: %v", err)
					}
				}
			}
		}
		next := stop.Page.Refresh
		if next == nil {
			for _, l := range stop.Page.Links {
				if b.listener.Owns(l) {
					next = l
					break
				}
			}
		}
		if next == nil {
			return res
		}
		if b.listener.Owns(next) {
			cb, err := b.arriveByRedirect(t.Ctx, next)
			if err != nil {
				t.Failf("go to the post-logout redirect URI: %v", err)
				return nil
			}
			res.Redirect = cb
			return res
		}
		if req, err = http.NewRequestWithContext(t.Ctx, http.MethodGet, next.String(), nil); err != nil {
			t.Failf("follow the signed-out page: %v", transportError(err))
			return nil
		}
	}
	return res
}

// logoutConfirmForm finds the confirmation form and its button.
func (b *Browser) logoutConfirmForm(p *Page) (*Form, *Field) {
	want := b.logoutConfirm
	for _, f := range p.Forms {
		if btn := f.Button(want.Name, want.Value); btn != nil {
			return f, btn
		}
	}
	return nil, nil
}

// frameRequest is the request a browser makes for an iframe.
func (b *Browser) frameRequest(ctx context.Context, frame, page *url.URL) *http.Request {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, frame.String(), nil) // frame parsed already
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Sec-Fetch-Dest", "iframe")
	return req
}

// checkLoggedOut sends prompt=none with the browser after a logout: the
// provider must answer with an error that needs a user interface, because
// the session has ended (RP-Initiated Logout 2; OIDC Core 3.1.2.6).
func (t *T) checkLoggedOut(b *Browser) {
	f := t.authorize(b, FlowOptions{Extra: Params{{"prompt", "none"}}, NoInteraction: true})
	if f == nil {
		return
	}
	if s := f.Outcome.Stop; s != nil {
		t.Failf("prompt=none after the logout must not show a page: %s", s.Describe())
		return
	}
	params := t.responseParams(f.Req, f.Outcome)
	if params == nil {
		return
	}
	if params.Has("code") {
		t.Failf("after the logout, prompt=none still returned a code: the session did not end")
		return
	}
	t.checkErrorResponse(f.Req, params, "login_required", "interaction_required", "account_selection_required", "consent_required")
}

// checkPostLogoutRedirect checks the redirect to the post_logout_redirect_uri:
// the right endpoint, the state sent (or none), no other parameters (a
// warning, RP-Initiated Logout 3).
func (t *T) checkPostLogoutRedirect(cb *Callback, state string) {
	want, _ := url.Parse(t.Env.Listener.URL(pathPostLogout))
	if !sameEndpoint(cb.URL, want) {
		t.Failf("the provider redirected to %s, not to the registered post_logout_redirect_uri", stripQuery(cb.URL))
		return
	}
	q := cb.Query
	switch {
	case state == "" && q.Has("state"):
		t.Failf("the post-logout redirect carries a state although the request sent none (RP-Initiated Logout 3)")
	case state != "" && q.Get("state") != state:
		t.Failf("the post-logout redirect's state %q is not the request's (RP-Initiated Logout 3)", excerpt([]byte(q.Get("state"))))
	}
	for k := range q {
		if k != "state" {
			t.Warnf("the post-logout redirect carries an unexpected parameter %q", k)
		}
	}
}

// idTokenWithAlgNone turns a signed ID token into an unsigned one with the
// same claims: a modified id_token_hint.
func idTokenWithAlgNone(raw string) string {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return raw
	}
	return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
}

// forgedIDToken signs the ID token's claims with a key of the runner's:
// an id_token_hint the provider did not issue.
func forgedIDToken(tok *IDToken) (string, error) {
	keys, err := NewClientKeys()
	if err != nil {
		return "", err
	}
	k := keys.Signing()
	return signJWT(k.Key, "RS256", tok.Kid, tok.Claims, "JWT")
}

// checkFrameCSP checks that the page's Content-Security-Policy, if any,
// lets the browser load frame (frame-src, else child-src, else
// default-src).
func checkFrameCSP(header http.Header, frame *url.URL) error {
	for _, policy := range header.Values("Content-Security-Policy") {
		directives := map[string][]string{}
		for _, d := range strings.Split(policy, ";") {
			fields := strings.Fields(d)
			if len(fields) > 0 {
				directives[strings.ToLower(fields[0])] = fields[1:]
			}
		}
		sources, ok := directives["frame-src"]
		if !ok {
			sources, ok = directives["child-src"]
		}
		if !ok {
			sources, ok = directives["default-src"]
		}
		if ok && !cspAllows(sources, frame) {
			return fmt.Errorf("the page's Content-Security-Policy (%q) does not allow frames from %s, so a browser would not load the front-channel logout iframe", policy, frame.Scheme+"://"+frame.Host)
		}
	}
	return nil
}

// cspAllows reports whether a source list matches u (origins, schemes, *).
func cspAllows(sources []string, u *url.URL) bool {
	origin := strings.ToLower(u.Scheme + "://" + u.Host)
	for _, s := range sources {
		s = strings.ToLower(strings.Trim(s, "'"))
		switch {
		case s == "*" && (u.Scheme == "http" || u.Scheme == "https"):
			return true
		case s == u.Scheme+":":
			return true
		case strings.TrimSuffix(s, "/") == origin:
			return true
		}
	}
	return false
}

// formMediaType is the back-channel logout request's body type.
func formMediaType(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/x-www-form-urlencoded"
}
