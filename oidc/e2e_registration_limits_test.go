package oidc_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

// clientFrom is an HTTP client whose connections come from the loopback
// address ip (all of 127.0.0.0/8 is this machine).
func clientFrom(ip string) *http.Client {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: dialer.DialContext}}
}

// registerFrom posts a registration from c and returns the status and
// the Retry-After header.
func registerFrom(t *testing.T, c *http.Client, srv *servertest.Server, meta map[string]any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(meta)
	resp, err := c.Post(srv.Issuer+oidc.PathRegister, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

func TestRegistrationRateLimits(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		clock := new(servertest.Clock)
		srv := startDynamic(t, dbURL, oidc.RegistrationModeOpen, servertest.WithClock(clock), servertest.WithConfig(func(c *server.Config) {
			c.RegistrationMaxPerIPPerHour = 3
			c.RegistrationMaxPerHour = 5
		}))
		meta := map[string]any{"redirect_uris": []string{"https://app.example.com/cb"}, "client_name": "Flood"}
		a, b := clientFrom("127.0.0.1"), clientFrom("127.0.0.2")
		want := func(what string, c *http.Client, status int) string {
			t.Helper()
			got, retry := registerFrom(t, c, srv, meta)
			if got != status {
				t.Fatalf("%s: status %d, want %d", what, got, status)
			}
			return retry
		}
		for i := range 3 {
			want(fmt.Sprintf("address A, registration %d", i+1), a, http.StatusCreated)
		}
		if retry := want("address A, 4th in the hour", a, http.StatusTooManyRequests); retry == "" || retry == "0" {
			t.Errorf("Retry-After = %q, want seconds", retry)
		}
		// Another address is not limited by A's counter ...
		want("address B, 1st", b, http.StatusCreated)
		want("address B, 2nd", b, http.StatusCreated)
		// ... but by the hourly cap for everyone (5 registered).
		want("address B, past the hourly cap", b, http.StatusTooManyRequests)
		// Invalid metadata is refused before the cap is consulted.
		if got, _ := registerFrom(t, clientFrom("127.0.0.3"), srv, map[string]any{"redirect_uris": []string{"http://evil.example/cb"}}); got != http.StatusBadRequest {
			t.Errorf("invalid registration under the cap: status %d, want 400", got)
		}

		clock.Advance(61 * time.Minute)
		want("address A, next hour", a, http.StatusCreated)
		want("address B, next hour", b, http.StatusCreated)
	})
}
