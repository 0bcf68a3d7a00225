// Package servertest starts a complete orgid on loopback for end-to-end
// tests: the same wiring as `orgid serve` (internal/server), a real HTTP
// server, a real database of either dialect, cheap password hashing.
package servertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/identity/identitytest"
	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/oidc"
)

// Server is an orgid listening on 127.0.0.1.
type Server struct {
	*server.Server
	Issuer string
	HTTP   *httptest.Server
}

// Option adjusts a test server.
type Option func(*options)

type options struct {
	mutate []func(*server.Config)
	clock  *Clock
}

// WithConfig changes the configuration before the server starts.
func WithConfig(f func(*server.Config)) Option {
	return func(o *options) { o.mutate = append(o.mutate, f) }
}

// WithClock makes the server read time from c.
func WithClock(c *Clock) Option { return func(o *options) { o.clock = c } }

// Clock is a settable clock: real time plus an offset the test advances.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is time.Now plus the offset.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// Start runs orgid on dbURL (from storagetest) until t ends.
func Start(t testing.TB, dbURL string, opts ...Option) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	cfg := server.Defaults()
	cfg.Listen = ln.Addr().String()
	cfg.Issuer = issuer
	cfg.DatabaseURL = dbURL
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.Secret = "servertest master secret, not for production use"
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	for _, m := range o.mutate {
		m(&cfg)
	}
	level := slog.LevelWarn
	if os.Getenv("ORGID_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level}))
	ctx := context.Background()
	base, err := server.OpenBase(ctx, cfg, logger)
	if err != nil {
		t.Fatalf("servertest: %v", err)
	}
	params := identitytest.CheapPasswordParams()
	sopts := server.Options{PasswordParams: &params}
	if o.clock != nil {
		sopts.Now = o.clock.Now
	}
	srv, err := server.New(ctx, base, sopts)
	if err != nil {
		base.Close()
		t.Fatalf("servertest: %v", err)
	}
	hs := httptest.NewUnstartedServer(srv.Handler)
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	t.Cleanup(func() {
		hs.Close()
		base.Close()
	})
	return &Server{Server: srv, Issuer: issuer, HTTP: hs}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Password is the password CreateUser gives users.
const Password = identitytest.Password

// CreateUser creates a verified user with Password.
func (s *Server) CreateUser(t testing.TB, email string, mutate ...func(*identity.NewUser)) *identity.User {
	t.Helper()
	nu := identity.NewUser{Email: email, Password: Password, FirstName: "Ada", LastName: "Lovelace", EmailVerified: true}
	for _, m := range mutate {
		m(&nu)
	}
	u, err := s.Identity.CreateUser(context.Background(), nu)
	if err != nil {
		t.Fatalf("servertest: create user %s: %v", email, err)
	}
	return u
}

// CreateClient registers a client and returns it with its secret.
func (s *Server) CreateClient(t testing.TB, nc oidc.NewClient) (*oidc.Client, string) {
	t.Helper()
	c, secret, err := s.Clients.Create(context.Background(), nc)
	if err != nil {
		t.Fatalf("servertest: create client %s: %v", nc.Name, err)
	}
	return c, secret
}

// Browser is a cookie-keeping HTTP client that does not follow redirects
// by itself, so tests see every hop.
type Browser struct {
	*http.Client
	t testing.TB
}

// NewBrowser returns a browser with an empty cookie jar.
func NewBrowser(t testing.TB) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{t: t, Client: &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// Response is a page or redirect the browser received.
type Response struct {
	Status   int
	Location *url.URL
	Body     string
	Header   http.Header
}

// Get fetches rawURL (absolute) without following redirects.
func (b *Browser) Get(rawURL string) *Response {
	b.t.Helper()
	resp, err := b.Client.Get(rawURL)
	if err != nil {
		b.t.Fatalf("GET %s: %v", rawURL, err)
	}
	return b.read(resp)
}

// PostForm posts a form (with the Origin a browser would send) without
// following redirects.
func (b *Browser) PostForm(rawURL string, form url.Values) *Response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	u, _ := url.Parse(rawURL)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", u.Scheme+"://"+u.Host)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.Client.Do(req)
	if err != nil {
		b.t.Fatalf("POST %s: %v", rawURL, err)
	}
	return b.read(resp)
}

func (b *Browser) read(resp *http.Response) *Response {
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	out := &Response{Status: resp.StatusCode, Body: string(body), Header: resp.Header}
	if loc, err := resp.Location(); err == nil {
		out.Location = loc
	}
	return out
}

// Follow follows redirects from start until a response is not a redirect
// to this server (the client's redirect URI is returned, not fetched).
func (b *Browser) Follow(start *Response, issuer string) *Response {
	b.t.Helper()
	r := start
	for i := 0; r.Location != nil && i < 20; i++ {
		if !strings.HasPrefix(r.Location.String(), issuer) {
			return r
		}
		r = b.Get(r.Location.String())
	}
	return r
}

// SignIn submits the sign-in form on page (a response rendering it) with
// the given credentials and follows orgid's redirects; it returns the first
// response that leaves orgid (the client redirect) or the last page.
func (b *Browser) SignIn(page *Response, issuer, identifier, password string) *Response {
	b.t.Helper()
	form, action, err := FindForm(page.Body, "identifier")
	if err != nil {
		b.t.Fatalf("sign-in page: %v\n%s", err, page.Body)
	}
	form.Set("identifier", identifier)
	form.Set("password", password)
	return b.Follow(b.PostForm(issuer+action, form), issuer)
}

// FindForm returns the fields (hidden values included) and action of the
// first form on the page that has an input named field.
func FindForm(page, field string) (url.Values, string, error) {
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		return nil, "", err
	}
	var found url.Values
	var action string
	var walk func(n *html.Node, form *html.Node)
	walk = func(n *html.Node, form *html.Node) {
		if found != nil {
			return
		}
		if n.Type == html.ElementNode && n.Data == "form" {
			vals, hasField := url.Values{}, false
			var collect func(*html.Node)
			collect = func(c *html.Node) {
				if c.Type == html.ElementNode && c.Data == "input" {
					name, value := attr(c, "name"), attr(c, "value")
					if name == field {
						hasField = true
					}
					if name != "" && attr(c, "type") != "submit" {
						vals.Set(name, value)
					}
				}
				for ch := c.FirstChild; ch != nil; ch = ch.NextSibling {
					collect(ch)
				}
			}
			collect(n)
			if hasField {
				found, action = vals, attr(n, "action")
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, form)
		}
	}
	walk(doc, nil)
	if found == nil {
		return nil, "", errors.New("no form with field " + field)
	}
	return found, action, nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// Sprint helps error messages show a response.
func (r *Response) String() string {
	return fmt.Sprintf("status %d location %v body %.300s", r.Status, r.Location, r.Body)
}
