package egress_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/egress"
)

// receiver is a loopback server that counts its requests.
func receiver(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	hits := new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, hits
}

func ok(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }

func get(t *testing.T, c *http.Client, u string) (*http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err == nil {
		t.Cleanup(func() { resp.Body.Close() })
	}
	return resp, err
}

func TestLoopbackRefusedUnlessAllowed(t *testing.T) {
	srv, hits := receiver(t, ok)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	localhostURL := "http://localhost:" + strconv.Itoa(port) + "/"

	tests := []struct {
		name    string
		opts    egress.Options
		url     string
		allowed bool
	}{
		{"default refuses 127.0.0.1", egress.Options{}, srv.URL, false},
		{"default refuses a name resolving to loopback", egress.Options{}, localhostURL, false},
		{"AllowPrivate reaches 127.0.0.1", egress.Options{AllowPrivate: true}, srv.URL, true},
		{"AllowHosts by prefix", egress.Options{AllowHosts: []string{"127.0.0.0/8"}}, srv.URL, true},
		{"AllowHosts by address", egress.Options{AllowHosts: []string{"127.0.0.1"}}, srv.URL, true},
		{"AllowHosts by name", egress.Options{AllowHosts: []string{"LOCALHOST"}}, localhostURL, true},
		{"AllowHosts for another name", egress.Options{AllowHosts: []string{"example.com", "10.0.0.0/8"}}, srv.URL, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := hits.Load()
			resp, err := get(t, egress.NewClient(tc.opts), tc.url)
			if tc.allowed {
				if err != nil {
					t.Fatalf("GET %s: %v, want success", tc.url, err)
				}
				if resp.StatusCode != http.StatusOK {
					t.Errorf("status = %d, want 200", resp.StatusCode)
				}
				return
			}
			if !errors.Is(err, egress.ErrDestinationNotAllowed) {
				t.Fatalf("GET %s: err = %v, want ErrDestinationNotAllowed", tc.url, err)
			}
			if n := hits.Load() - before; n != 0 {
				t.Errorf("the receiver was reached %d times, want 0", n)
			}
			// The error names the URL the caller gave and nothing it resolved to.
			var ue *url.Error
			if !errors.As(err, &ue) || ue.Err != egress.ErrDestinationNotAllowed {
				t.Errorf("err = %#v, want a url.Error wrapping only the sentinel", err)
			}
			if strings.Contains(err.Error(), "127.0.0.1") && !strings.Contains(tc.url, "127.0.0.1") {
				t.Errorf("error %q leaks the resolved address", err)
			}
		})
	}
}

func TestMetadataAddressRefused(t *testing.T) {
	// Refused before any packet is sent, so this never depends on the network.
	_, err := get(t, egress.NewClient(egress.Options{Timeout: 2 * time.Second}), "http://169.254.169.254/latest/meta-data/")
	if !errors.Is(err, egress.ErrDestinationNotAllowed) {
		t.Fatalf("err = %v, want ErrDestinationNotAllowed", err)
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	target, targetHits := receiver(t, ok)
	srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusFound)
	})
	resp, err := get(t, egress.NewClient(egress.Options{AllowPrivate: true}), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusFound {
		t.Errorf("status = %d, want 302 returned as is", resp.StatusCode)
	}
	if n := targetHits.Load(); n != 0 {
		t.Errorf("redirect target was requested %d times, want 0", n)
	}
}

func TestResponseSizeLimit(t *testing.T) {
	srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 100))
	})
	tests := []struct {
		max     int64
		wantErr bool
	}{{100, false}, {99, true}, {10, true}}
	for _, tc := range tests {
		resp, err := get(t, egress.NewClient(egress.Options{AllowPrivate: true, MaxResponseBytes: tc.max}), srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		if tc.wantErr {
			if !errors.Is(err, egress.ErrResponseTooLarge) {
				t.Errorf("max %d: ReadAll err = %v, want ErrResponseTooLarge", tc.max, err)
			}
			if int64(len(b)) > tc.max {
				t.Errorf("max %d: read %d bytes", tc.max, len(b))
			}
			continue
		}
		if err != nil || len(b) != 100 {
			t.Errorf("max %d: ReadAll = %d bytes, %v; want 100, nil", tc.max, len(b), err)
		}
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv, _ := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	_, err := get(t, egress.NewClient(egress.Options{AllowPrivate: true, Timeout: 50 * time.Millisecond}), srv.URL)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
}
