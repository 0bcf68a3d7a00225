package oidc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/orgid/orgid/internal/server"
	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

// registerVia registers a client with the given X-Forwarded-For.
func registerVia(t *testing.T, srv *servertest.Server, xff string) int {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"redirect_uris": []string{"https://app.example.com/cb"}})
	req, _ := http.NewRequest(http.MethodPost, srv.Issuer+oidc.PathRegister, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", xff)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestTrustedProxies(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		onePerAddress := func(trusted ...string) servertest.Option {
			return servertest.WithConfig(func(c *server.Config) {
				c.RegistrationMaxPerIPPerHour = 1
				c.TrustedProxies = trusted
			})
		}

		t.Run("behind a trusted proxy", func(t *testing.T) {
			srv := startDynamic(t, dbURL, oidc.RegistrationModeOpen, onePerAddress("127.0.0.0/8"))
			steps := []struct {
				xff  string
				want int
			}{
				{"198.51.100.1", http.StatusCreated},
				{"198.51.100.1", http.StatusTooManyRequests},
				// The client wrote the left part; the proxy appended .2.
				{"198.51.100.1, 198.51.100.2", http.StatusCreated},
				// Forging a left-hand address does not make .1 someone else.
				{"203.0.113.9, 198.51.100.1", http.StatusTooManyRequests},
			}
			for _, s := range steps {
				if got := registerVia(t, srv, s.xff); got != s.want {
					t.Errorf("X-Forwarded-For %q: status %d, want %d", s.xff, got, s.want)
				}
			}
			// Sessions record the forwarded address.
			user := srv.CreateUser(t, "ada@example.com")
			req, _ := http.NewRequest(http.MethodPost, srv.Issuer+oidc.PathSignIn,
				strings.NewReader(url.Values{"identifier": {user.Email}, "password": {servertest.Password}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", "198.51.100.77")
			resp, err := servertest.NewBrowser(t).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			sessions, err := srv.Identity.ListSessions(context.Background(), user.ID, true)
			if err != nil || len(sessions) != 1 || sessions[0].IP != "198.51.100.77" {
				t.Errorf("sessions = %+v, %v; want one from 198.51.100.77", sessions, err)
			}
		})

		t.Run("without trusted proxies the header is ignored", func(t *testing.T) {
			srv := startDynamic(t, dbURL, oidc.RegistrationModeOpen, onePerAddress())
			if got := registerVia(t, srv, "198.51.100.1"); got != http.StatusCreated {
				t.Fatalf("first registration: %d", got)
			}
			if got := registerVia(t, srv, "198.51.100.2"); got != http.StatusTooManyRequests {
				t.Errorf("a spoofed X-Forwarded-For dodged the limit: status %d, want 429", got)
			}
		})
	})
}
