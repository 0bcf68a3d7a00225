package server_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
)

// The operator's view: health probes, Prometheus metrics by route, grant
// and sign-in result, and a request id on every response.
func TestProbesMetricsAndRequestIDs(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		srv := servertest.Start(t, dbURL)
		get := func(path string) (int, string, http.Header) {
			resp, err := http.Get(srv.Issuer + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b), resp.Header
		}
		for _, p := range []string{"/healthz", "/readyz"} {
			if status, body, _ := get(p); status != 200 || strings.TrimSpace(body) != "ok" {
				t.Errorf("%s = %d %q", p, status, body)
			}
		}

		c, secret := srv.CreateClient(t, oidc.NewClient{Name: "svc", Metadata: oidc.ClientMetadata{GrantTypes: []string{oidc.GrantClientCredentials}}})
		req, _ := http.NewRequest(http.MethodPost, srv.Issuer+oidc.PathToken, strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Request-Id", "trace-abc-123")
		req.SetBasicAuth(c.ID, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("X-Request-Id") != "trace-abc-123" {
			t.Errorf("token: %d, X-Request-Id %q", resp.StatusCode, resp.Header.Get("X-Request-Id"))
		}
		if _, _, h := get("/healthz"); len(h.Get("X-Request-Id")) < 8 {
			t.Errorf("no generated request id: %q", h.Get("X-Request-Id"))
		}
		user := srv.CreateUser(t, "m@example.com")
		b := servertest.NewBrowser(t)
		b.SignIn(b.Get(srv.Issuer+"/sign-in"), srv.Issuer, user.Email, "wrong password!!")
		b.SignIn(b.Get(srv.Issuer+"/sign-in"), srv.Issuer, user.Email, servertest.Password)

		_, metrics, _ := get("/metrics")
		for _, want := range []string{
			`orgid_http_requests_total{code="200",route="token"} 1`,
			`orgid_http_request_duration_seconds_bucket{route="token",le=`,
			`orgid_tokens_issued_total{grant_type="client_credentials"} 1`,
			`orgid_sign_ins_total{method="password",result="success"} 1`,
			`orgid_sign_ins_total{method="password",result="invalid_credentials"} 1`,
			`orgid_webhook_queue_depth`,
		} {
			if !strings.Contains(metrics, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
	})
}
