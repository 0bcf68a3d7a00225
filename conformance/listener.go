package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Listener is the runner's own HTTP server on the redirect URI's loopback
// address. It receives authorization responses (query and form_post), serves
// request_uri documents to the provider, and lets plans mount more RP
// endpoints (front- and back-channel logout receivers, for example).
//
// A request to the redirect URI — or to any path the Listener does not
// serve — is answered with a JSON description of what arrived (Received),
// which the driver reads back, so that what a module judges is what really
// crossed the wire.
type Listener struct {
	redirect *url.URL
	ln       net.Listener
	srv      *http.Server

	mu       sync.Mutex
	handlers map[string]http.Handler
}

// Received is what the Listener got on a callback.
type Received struct {
	Method      string     `json:"method"`
	Path        string     `json:"path"`
	Query       url.Values `json:"query"`
	ContentType string     `json:"content_type"`
	Form        url.Values `json:"form"`
}

// Listen starts the Listener for redirectURI. When ln is nil it listens on
// the URI's host and port; a caller that already holds a listener (tests,
// or a port chosen by the system) passes it.
func Listen(redirectURI string, ln net.Listener) (*Listener, error) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return nil, fmt.Errorf("redirect URI %q: %w", redirectURI, err)
	}
	if ln == nil {
		ln, err = net.Listen("tcp", u.Host)
		if err != nil {
			return nil, fmt.Errorf("listen on redirect URI %s: %w", redirectURI, err)
		}
	}
	l := &Listener{redirect: u, ln: ln, handlers: map[string]http.Handler{}}
	l.srv = &http.Server{Handler: l, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = l.srv.Serve(ln) }()
	return l, nil
}

// RedirectURI is the registered redirect URI, as configured.
func (l *Listener) RedirectURI() string { return l.redirect.String() }

// URL returns an absolute URL on the Listener's origin for path.
func (l *Listener) URL(path string) string {
	u := url.URL{Scheme: l.redirect.Scheme, Host: l.redirect.Host, Path: path}
	return u.String()
}

// Owns reports whether u points at the Listener's origin: any redirect there
// is a response to the runner, wanted or not.
func (l *Listener) Owns(u *url.URL) bool {
	return u != nil && strings.EqualFold(u.Scheme, l.redirect.Scheme) && strings.EqualFold(u.Host, l.redirect.Host)
}

// IsRedirectURI reports whether u is the registered redirect URI (its
// query aside, which the provider must keep and may extend).
func (l *Listener) IsRedirectURI(u *url.URL) bool {
	return l.Owns(u) && u.Path == l.redirect.Path
}

// Serve publishes a document at path (a request_uri, for example) until
// remove is called; it returns the document's absolute URL.
func (l *Listener) Serve(path, contentType string, body []byte) (string, func()) {
	return l.URL(path), l.Handle(path, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(body)
	}))
}

// Handle mounts h at exactly path until remove is called.
func (l *Listener) Handle(path string, h http.Handler) (remove func()) {
	l.mu.Lock()
	l.handlers[path] = h
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		delete(l.handlers, path)
		l.mu.Unlock()
	}
}

// ServeHTTP dispatches to a mounted handler or records the callback.
func (l *Listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	h := l.handlers[r.URL.Path]
	l.mu.Unlock()
	if h != nil {
		h.ServeHTTP(w, r)
		return
	}
	rec := Received{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), ContentType: r.Header.Get("Content-Type")}
	if r.Method == http.MethodPost {
		if mt, _, _ := mime.ParseMediaType(rec.ContentType); mt == "application/x-www-form-urlencoded" {
			body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
			if err == nil {
				rec.Form, _ = url.ParseQuery(string(body))
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(rec)
}

// Close stops the server.
func (l *Listener) Close(ctx context.Context) error {
	if err := l.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("stop callback listener: %w", err)
	}
	return nil
}
