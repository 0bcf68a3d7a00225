package oidc_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage"
	"github.com/orgid/orgid/storage/storagetest"
)

// logoutRP is a relying party's back-channel logout endpoint.
type logoutRP struct {
	url    string
	down   atomic.Bool
	mu     sync.Mutex
	tokens []string
	hits   atomic.Int32
}

func newLogoutRP(t *testing.T) *logoutRP {
	rp := &logoutRP{}
	rp.url = newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp.hits.Add(1)
		if rp.down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.ParseForm() != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		rp.mu.Lock()
		rp.tokens = append(rp.tokens, r.PostForm.Get("logout_token"))
		rp.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})) + "/backchannel"
	return rp
}

func (rp *logoutRP) received() []string {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return slices.Clone(rp.tokens)
}

// signedIn is a browser session with a client's tokens.
type signedIn struct {
	b       *servertest.Browser
	idToken string
	sid     string
	sub     string
}

// staticLogoutClient creates a first-party client with logout receivers.
func staticLogoutClient(t *testing.T, srv *servertest.Server, redirect string, m oidc.ClientMetadata) (*oidc.Client, string) {
	t.Helper()
	m.RedirectURIs = []string{redirect}
	return srv.CreateClient(t, oidc.NewClient{Name: "logout app", FirstParty: true, Metadata: m})
}

// signInTo runs a code flow for each client in browser b (a new one when
// nil) and returns the session with the first client's ID token.
func signInTo(t *testing.T, srv *servertest.Server, b *servertest.Browser, email string, clients ...struct {
	c        *oidc.Client
	secret   string
	redirect string
}) signedIn {
	t.Helper()
	if b == nil {
		b = servertest.NewBrowser(t)
	}
	var out signedIn
	out.b = b
	for i, c := range clients {
		q := authorizeCode(t, srv, b, c.c.ID, c.redirect, email, nil)
		status, tok, _ := postToken(t, srv.Issuer, url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {c.redirect}}, c.c.ID, c.secret)
		if status != http.StatusOK {
			t.Fatalf("token: HTTP %d %v", status, tok)
		}
		if i == 0 {
			out.idToken = tok["id_token"].(string)
			claims := claimsOf(t, out.idToken)
			out.sid, out.sub = claims["sid"].(string), claims["sub"].(string)
		}
	}
	return out
}

type clientRef = struct {
	c        *oidc.Client
	secret   string
	redirect string
}

// checkLogoutToken verifies a logout token with the server's keys and
// checks its claims (Back-Channel Logout 1.0 §2.4).
func checkLogoutToken(t *testing.T, srv *servertest.Server, token, clientID, sid, sub string) {
	t.Helper()
	payload, header, err := srv.Keys.Verify(token)
	if err != nil {
		t.Fatalf("logout token does not verify with the server's keys: %v", err)
	}
	if typ, _ := header.ExtraHeaders["typ"].(string); typ != "logout+jwt" {
		t.Errorf("logout token typ = %q, want logout+jwt", typ)
	}
	claims := jsonObject(t, payload)
	for k, want := range map[string]any{"iss": srv.Issuer, "aud": clientID, "sid": sid, "sub": sub} {
		if claims[k] != want {
			t.Errorf("logout token %s = %v, want %v", k, claims[k], want)
		}
	}
	events, _ := claims["events"].(map[string]any)
	if ev, ok := events["http://schemas.openid.net/event/backchannel-logout"].(map[string]any); !ok || len(ev) != 0 || len(events) != 1 {
		t.Errorf("logout token events = %v", claims["events"])
	}
	if _, ok := claims["nonce"]; ok {
		t.Errorf("logout token carries a nonce")
	}
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	if jti, _ := claims["jti"].(string); jti == "" || iat == 0 || exp <= iat || exp-iat > 600 {
		t.Errorf("logout token jti %v, iat %v, exp %v: want a jti and a short lifetime", claims["jti"], iat, exp)
	}
}

// deliveries counts the back-channel logout rows by status.
func deliveries(t *testing.T, srv *servertest.Server) map[string]int {
	t.Helper()
	var rows []struct {
		Status string `bun:"status"`
	}
	if err := srv.Base.DB.NewSelect().TableExpr("oauth2_logout_deliveries").Column("status").Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Status]++
	}
	return out
}

func TestBackchannelLogoutIsDurable(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		clock := new(servertest.Clock)
		srv := startDynamic(t, dbURL, oidc.RegistrationModeOff, servertest.WithClock(clock))
		ctx := context.Background()
		user := srv.CreateUser(t, "durable@example.com")
		rp := newLogoutRP(t)
		notified, nsecret := staticLogoutClient(t, srv, "http://127.0.0.1:9/cb", oidc.ClientMetadata{
			BackchannelLogoutURI: rp.url, BackchannelLogoutSessionRequired: true, PostLogoutRedirectURIs: []string{"http://127.0.0.1:9/bye"}})
		silent, ssecret := staticLogoutClient(t, srv, "http://127.0.0.1:9/other", oidc.ClientMetadata{})
		s := signInTo(t, srv, nil, user.Email, clientRef{notified, nsecret, "http://127.0.0.1:9/cb"}, clientRef{silent, ssecret, "http://127.0.0.1:9/other"})

		rp.down.Store(true)
		resp := s.b.Get(srv.Issuer + oidc.PathEndSession + "?" + url.Values{"id_token_hint": {s.idToken},
			"post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}, "state": {"s1"}}.Encode())
		if resp.Location == nil || resp.Location.String() != "http://127.0.0.1:9/bye?state=s1" {
			t.Fatalf("logout: %v, want the redirect with state", resp)
		}
		if got := deliveries(t, srv); got["pending"] != 1 || len(got) != 1 {
			t.Fatalf("queued notifications = %v, want one pending (only the client with a backchannel_logout_uri)", got)
		}
		// The RP is down: the attempt fails and is retried later.
		if n, err := srv.Logouts.RunOnce(ctx); n != 1 || err != nil {
			t.Fatalf("first attempt: %d, %v", n, err)
		}
		if rp.hits.Load() != 1 || deliveries(t, srv)["pending"] != 1 {
			t.Fatalf("after a failed attempt: %d hits, rows %v; want it pending", rp.hits.Load(), deliveries(t, srv))
		}
		// orgid restarts: another process on the same database takes over.
		restarted := startDynamic(t, dbURL, oidc.RegistrationModeOff, servertest.WithClock(clock))
		rp.down.Store(false)
		if n, _ := restarted.Logouts.RunOnce(ctx); n != 0 {
			t.Errorf("a retry ran before its time: %d attempts", n)
		}
		clock.Advance(6 * time.Second)
		if n, err := restarted.Logouts.RunOnce(ctx); n != 1 || err != nil {
			t.Fatalf("retry: %d, %v", n, err)
		}
		tokens := rp.received()
		if len(tokens) != 1 {
			t.Fatalf("the RP received %d logout tokens, want 1", len(tokens))
		}
		checkLogoutToken(t, restarted, tokens[0], notified.ID, s.sid, s.sub)
		if got := deliveries(t, restarted); got["delivered"] != 1 || got["pending"] != 0 {
			t.Errorf("rows after delivery = %v", got)
		}
		if n, _ := restarted.Logouts.RunOnce(ctx); n != 0 {
			t.Errorf("a delivered notification was sent again: %d", n)
		}
	})
}

func TestBackchannelLogoutOnEverySessionEnd(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		clock := new(servertest.Clock)
		srv := startDynamic(t, dbURL, oidc.RegistrationModeOff, servertest.WithClock(clock))
		ctx := context.Background()
		rp := newLogoutRP(t)
		client, secret := staticLogoutClient(t, srv, "http://127.0.0.1:9/cb", oidc.ClientMetadata{BackchannelLogoutURI: rp.url})
		ref := clientRef{client, secret, "http://127.0.0.1:9/cb"}

		tests := []struct {
			name string
			end  func(t *testing.T, s signedIn, u *identity.User)
		}{
			{"hosted sign-out", func(t *testing.T, s signedIn, _ *identity.User) {
				if resp := s.b.PostForm(srv.Issuer+oidc.PathSignOut, url.Values{}); resp.Status != http.StatusOK {
					t.Fatalf("sign-out: %v", resp)
				}
			}},
			{"revoked by an operator", func(t *testing.T, s signedIn, _ *identity.User) {
				if err := srv.Identity.EndSession(ctx, s.sid, identity.EndRevoked); err != nil {
					t.Fatal(err)
				}
			}},
			{"user banned", func(t *testing.T, _ signedIn, u *identity.User) {
				if _, err := srv.Identity.BanUser(ctx, u.ID); err != nil {
					t.Fatal(err)
				}
			}},
			{"user deleted", func(t *testing.T, _ signedIn, u *identity.User) {
				if err := srv.Identity.DeleteUser(ctx, u.ID); err != nil {
					t.Fatal(err)
				}
			}},
			{"expired", func(t *testing.T, _ signedIn, _ *identity.User) {
				clock.Advance(8 * 24 * time.Hour)
				if _, err := srv.Identity.ExpireSessions(ctx, 100); err != nil {
					t.Fatal(err)
				}
			}},
		}
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				u := srv.CreateUser(t, "end"+string(rune('a'+i))+"@example.com")
				s := signInTo(t, srv, nil, u.Email, ref)
				before := len(rp.received())
				tc.end(t, s, u)
				if n, err := srv.Logouts.RunOnce(ctx); n != 1 || err != nil {
					t.Fatalf("delivery: %d attempts, %v; want 1", n, err)
				}
				tokens := rp.received()
				if len(tokens) != before+1 {
					t.Fatalf("the RP received %d new logout tokens, want 1", len(tokens)-before)
				}
				checkLogoutToken(t, srv, tokens[len(tokens)-1], client.ID, s.sid, s.sub)
			})
		}
	})
}

// The notification is written by the transaction that ends the session:
// when that transaction rolls back, the session stays and nothing is sent.
func TestBackchannelLogoutRollsBackWithTheSessionEnd(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := startDynamic(t, dbURL, oidc.RegistrationModeOff)
		ctx := context.Background()
		rp := newLogoutRP(t)
		client, secret := staticLogoutClient(t, srv, "http://127.0.0.1:9/cb", oidc.ClientMetadata{BackchannelLogoutURI: rp.url})
		user := srv.CreateUser(t, "rollback-logout@example.com")
		s := signInTo(t, srv, nil, user.Email, clientRef{client, secret, "http://127.0.0.1:9/cb"})
		abort := errors.New("abort")
		err := storage.InTx(ctx, srv.Base.DB, func(ctx context.Context) error {
			if err := srv.Identity.EndSession(ctx, s.sid, identity.EndRevoked); err != nil {
				return err
			}
			return abort
		})
		if !errors.Is(err, abort) {
			t.Fatalf("InTx = %v", err)
		}
		if got := deliveries(t, srv); len(got) != 0 {
			t.Errorf("notifications after the rolled-back session end: %v, want none", got)
		}
		sess, err := srv.Identity.GetSession(ctx, s.sid)
		if err != nil || sess.Status != identity.SessionActive {
			t.Errorf("session after rollback: %v %v, want active", sess, err)
		}
	})
}

func TestBackchannelLogoutGivesUp(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		clock := new(servertest.Clock)
		srv := startDynamic(t, dbURL, oidc.RegistrationModeOff, servertest.WithClock(clock))
		ctx := context.Background()
		rp := newLogoutRP(t)
		rp.down.Store(true)
		client, secret := staticLogoutClient(t, srv, "http://127.0.0.1:9/cb", oidc.ClientMetadata{BackchannelLogoutURI: rp.url})
		user := srv.CreateUser(t, "gives-up@example.com")
		s := signInTo(t, srv, nil, user.Email, clientRef{client, secret, "http://127.0.0.1:9/cb"})
		if err := srv.Identity.EndSession(ctx, s.sid, identity.EndRevoked); err != nil {
			t.Fatal(err)
		}
		w, err := srv.Provider.BackchannelWorker(oidc.BackchannelOptions{RetrySchedule: []time.Duration{time.Second, time.Minute}, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		for i, wait := range []time.Duration{0, time.Second, time.Minute} {
			clock.Advance(wait)
			if n, err := w.RunOnce(ctx); n != 1 || err != nil {
				t.Fatalf("attempt %d: %d, %v", i+1, n, err)
			}
		}
		if got := deliveries(t, srv); got["failed"] != 1 {
			t.Errorf("after the schedule: %v, want failed", got)
		}
		clock.Advance(time.Hour)
		if n, _ := w.RunOnce(ctx); n != 0 || rp.hits.Load() != 3 {
			t.Errorf("a failed notification was attempted again (%d, %d hits)", n, rp.hits.Load())
		}
	})
}

// frames parses the signed-out page's iframes and meta refresh.
func framesOf(t *testing.T, body string) (frames []string, refresh string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "iframe":
				frames = append(frames, attrOf(n, "src"))
			case "meta":
				if strings.EqualFold(attrOf(n, "http-equiv"), "refresh") {
					refresh = attrOf(n, "content")
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return frames, refresh
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func TestFrontchannelLogoutPage(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := startDynamic(t, dbURL, oidc.RegistrationModeOff)
		user := srv.CreateUser(t, "front@example.com")
		withSid, s1 := staticLogoutClient(t, srv, "http://127.0.0.1:9/cb", oidc.ClientMetadata{
			FrontchannelLogoutURI: "http://127.0.0.1:9/fcl", FrontchannelLogoutSessionRequired: true,
			PostLogoutRedirectURIs: []string{"http://127.0.0.1:9/bye"}})
		plain, s2 := staticLogoutClient(t, srv, "http://localhost:7/cb", oidc.ClientMetadata{FrontchannelLogoutURI: "http://localhost:7/fcl?app=2"})
		none, s3 := staticLogoutClient(t, srv, "http://127.0.0.1:9/none", oidc.ClientMetadata{})
		refs := []clientRef{{withSid, s1, "http://127.0.0.1:9/cb"}, {plain, s2, "http://localhost:7/cb"}, {none, s3, "http://127.0.0.1:9/none"}}

		t.Run("RP-initiated", func(t *testing.T) {
			s := signInTo(t, srv, nil, user.Email, refs...)
			resp := s.b.Get(srv.Issuer + oidc.PathEndSession + "?" + url.Values{"id_token_hint": {s.idToken},
				"post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}, "state": {"st"}}.Encode())
			if resp.Status != http.StatusOK || resp.Location != nil {
				t.Fatalf("logout: %v, want the signed-out page with frames", resp)
			}
			frames, refresh := framesOf(t, resp.Body)
			want := []string{"http://127.0.0.1:9/fcl?" + url.Values{"iss": {srv.Issuer}, "sid": {s.sid}}.Encode(), "http://localhost:7/fcl?app=2"}
			slices.Sort(frames)
			slices.Sort(want)
			if !slices.Equal(frames, want) {
				t.Errorf("iframes = %q, want %q", frames, want)
			}
			if refresh != "2;url=http://127.0.0.1:9/bye?state=st" {
				t.Errorf("meta refresh = %q, want the post-logout redirect with state", refresh)
			}
			csp := resp.Header.Get("Content-Security-Policy")
			var frameSrc []string
			for _, d := range strings.Split(csp, ";") {
				if f := strings.Fields(d); len(f) > 0 && f[0] == "frame-src" {
					frameSrc = f[1:]
				}
			}
			slices.Sort(frameSrc)
			if !slices.Equal(frameSrc, []string{"http://127.0.0.1:9", "http://localhost:7"}) || !strings.Contains(csp, "default-src 'none'") ||
				strings.Contains(csp, "script-src") || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("Content-Security-Policy = %q, want frames from exactly the two origins and nothing else", csp)
			}
		})
		t.Run("hosted sign-out", func(t *testing.T) {
			s := signInTo(t, srv, nil, user.Email, refs[0])
			resp := s.b.PostForm(srv.Issuer+oidc.PathSignOut, url.Values{})
			frames, refresh := framesOf(t, resp.Body)
			if resp.Status != http.StatusOK || len(frames) != 1 || !strings.Contains(frames[0], "sid="+url.QueryEscape(s.sid)) || refresh != "" {
				t.Errorf("sign-out page: status %d, frames %q, refresh %q", resp.Status, frames, refresh)
			}
		})
		t.Run("no front-channel clients", func(t *testing.T) {
			s := signInTo(t, srv, nil, user.Email, refs[2])
			resp := s.b.PostForm(srv.Issuer+oidc.PathSignOut, url.Values{})
			if frames, _ := framesOf(t, resp.Body); len(frames) != 0 || strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-src") {
				t.Errorf("sign-out without front-channel clients: frames %q, CSP %q", frames, resp.Header.Get("Content-Security-Policy"))
			}
		})
	})
}
