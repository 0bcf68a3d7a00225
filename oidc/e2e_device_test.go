package oidc_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/orgid/orgid/internal/servertest"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/storage/storagetest"
	"github.com/orgid/orgid/tenancy"
)

// device is a device client (RFC 8628): it asks for a code and polls.
type device struct {
	t        *testing.T
	srv      *servertest.Server
	clientID string
}

// authorize asks the device authorization endpoint for codes.
func (d *device) authorize(scope string) (int, map[string]any) {
	d.t.Helper()
	return postJSONForm(d.t, d.srv.Issuer+oidc.PathDeviceAuthorization, url.Values{"client_id": {d.clientID}, "scope": {scope}})
}

// poll asks the token endpoint once.
func (d *device) poll(deviceCode string) (int, map[string]any) {
	d.t.Helper()
	status, body, _ := postToken(d.t, d.srv.Issuer, url.Values{
		"grant_type": {oidc.GrantDeviceCode}, "device_code": {deviceCode}, "client_id": {d.clientID},
	}, "", "")
	return status, body
}

// wantPoll fails unless a poll answers the OAuth error code.
func (d *device) wantPoll(deviceCode, code string) {
	d.t.Helper()
	status, body := d.poll(deviceCode)
	if status != http.StatusBadRequest || body["error"] != code {
		d.t.Fatalf("poll = %d %v, want 400 %s", status, body, code)
	}
}

// postJSONForm posts a form and decodes the JSON answer.
func postJSONForm(t *testing.T, target string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(target, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, jsonObject(t, b)
}

var userCodeFormat = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

// enterCode opens the verification URI in the browser, types code and
// follows orgid's redirects.
func enterCode(t *testing.T, srv *servertest.Server, b *servertest.Browser, page, code string) *servertest.Response {
	t.Helper()
	entry := b.Get(page)
	if entry.Status != http.StatusOK || !strings.Contains(entry.Body, `name="user_code"`) {
		t.Fatalf("verification page: %v", entry)
	}
	return submit(t, b, srv, entry, "user_code", map[string]string{"user_code": code})
}

// confirm answers the device confirmation page with action.
func confirm(t *testing.T, srv *servertest.Server, b *servertest.Browser, page *servertest.Response, action string) *servertest.Response {
	t.Helper()
	if !strings.Contains(page.Body, `value="allow"`) || !strings.Contains(page.Body, `id="confirm-code"`) {
		t.Fatalf("want the device confirmation, got %v", page)
	}
	form, formAction, err := servertest.FindForm(page.Body, "flow")
	if err != nil {
		t.Fatal(err)
	}
	form.Set("action", action)
	return b.Follow(b.PostForm(srv.Issuer+formAction, form), srv.Issuer)
}

func TestDeviceAuthorizationGrant(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		clock := new(servertest.Clock)
		// The device advances the server's clock instead of waiting; it
		// starts in the past so that sign-ins never lie in fosite's future.
		clock.Advance(-5 * time.Minute)
		srv := servertest.Start(t, dbURL, servertest.WithClock(clock))
		ctx := context.Background()
		user := srv.CreateUser(t, "ada@example.com")
		acme, err := srv.Tenancy.CreateOrganization(ctx, tenancy.Operator(), tenancy.NewOrganization{Name: "Acme", CreatedBy: user.ID})
		if err != nil {
			t.Fatal(err)
		}
		tv, _ := srv.CreateClient(t, oidc.NewClient{Name: "Living-room TV", Public: true, Metadata: oidc.ClientMetadata{
			GrantTypes: []string{oidc.GrantDeviceCode, oidc.GrantRefreshToken},
		}})
		d := &device{t: t, srv: srv, clientID: tv.ID}
		provider, err := gooidc.NewProvider(ctx, srv.Issuer)
		if err != nil {
			t.Fatal(err)
		}
		verifier := provider.Verifier(&gooidc.Config{ClientID: tv.ID, Now: clock.Now})

		t.Run("approved while polling", func(t *testing.T) {
			status, auth := d.authorize("openid profile organization offline_access")
			code, _ := auth["user_code"].(string)
			deviceCode, _ := auth["device_code"].(string)
			if status != http.StatusOK || !userCodeFormat.MatchString(code) || len(deviceCode) < 43 ||
				auth["verification_uri"] != srv.Issuer+oidc.PathDevice || auth["verification_uri_complete"] != srv.Issuer+oidc.PathDevice+"?user_code="+code ||
				auth["expires_in"] != float64(600) || auth["interval"] != float64(5) {
				t.Fatalf("device authorization = %d %v", status, auth)
			}
			d.wantPoll(deviceCode, "authorization_pending")
			// Polling again at once is too soon, and stretches the interval
			// to 10 s: 5 s later is still too soon.
			d.wantPoll(deviceCode, "slow_down")
			clock.Advance(5 * time.Second)
			d.wantPoll(deviceCode, "slow_down")
			clock.Advance(15 * time.Second)
			d.wantPoll(deviceCode, "authorization_pending")

			// The user types the code (any case, without the dash).
			b := servertest.NewBrowser(t)
			page := enterCode(t, srv, b, srv.Issuer+oidc.PathDevice, strings.ToLower(strings.ReplaceAll(code, "-", "")))
			if !strings.Contains(page.Body, `name="identifier"`) {
				t.Fatalf("want the sign-in page, got %v", page)
			}
			clock.Advance(20 * time.Second)
			d.wantPoll(deviceCode, "authorization_pending")
			page = b.SignIn(page, srv.Issuer, user.Email, servertest.Password)
			if !strings.Contains(page.Body, code) || !strings.Contains(page.Body, "Living-room TV") {
				t.Errorf("the confirmation shows neither the code %s nor the client's name: %v", code, page)
			}
			clock.Advance(20 * time.Second)
			d.wantPoll(deviceCode, "authorization_pending")
			page = confirm(t, srv, b, page, "allow")
			// The organization chooser, as for any authorization.
			if !strings.Contains(page.Body, `name="org_id"`) {
				t.Fatalf("want the organization chooser, got %v", page)
			}
			clock.Advance(20 * time.Second)
			d.wantPoll(deviceCode, "authorization_pending")
			done := submit(t, b, srv, page, "flow", map[string]string{"org_id": acme.ID})
			if done.Status != http.StatusOK || !strings.Contains(done.Body, "Device connected") {
				t.Fatalf("want the approval page, got %v", done)
			}

			// Ten polls at once: one gets the tokens.
			clock.Advance(20 * time.Second)
			var wg sync.WaitGroup
			results := make(chan map[string]any, 10)
			for range 10 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, body := d.poll(deviceCode)
					results <- body
				}()
			}
			wg.Wait()
			close(results)
			var tok map[string]any
			for body := range results {
				switch {
				case body["access_token"] != nil && tok == nil:
					tok = body
				case body["access_token"] != nil:
					t.Errorf("a second poll got tokens too")
				case body["error"] != "invalid_grant" && body["error"] != "slow_down":
					t.Errorf("a losing poll answered %v, want invalid_grant or slow_down", body)
				}
			}
			if tok == nil {
				t.Fatal("no poll got the tokens")
			}
			clock.Advance(20 * time.Second)
			d.wantPoll(deviceCode, "invalid_grant")

			idt, err := verifier.Verify(ctx, tok["id_token"].(string))
			if err != nil {
				t.Fatalf("verify the ID token through discovery: %v", err)
			}
			if err := idt.VerifyAccessToken(tok["access_token"].(string)); err != nil {
				t.Errorf("at_hash: %v", err)
			}
			var claims map[string]any
			_ = idt.Claims(&claims)
			if claims["sub"] != user.ID || claims["org_id"] != acme.ID || claims["sid"] == nil || claims["name"] != "Ada Lovelace" {
				t.Errorf("ID token claims = %v", claims)
			}
			checkAccessToken(t, srv.Issuer, tok["access_token"].(string), tv.ID, user.ID)
			if at := claimsOf(t, tok["access_token"].(string)); at["org_id"] != acme.ID || at["scope"] != "openid profile organization offline_access" {
				t.Errorf("access token claims = %v", at)
			}
			info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok["access_token"].(string)}))
			if err != nil || info.Subject != user.ID {
				t.Errorf("userinfo = %+v, %v", info, err)
			}
			// The refresh token works like any other.
			status, refreshed, _ := postToken(t, srv.Issuer, url.Values{
				"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {tv.ID},
			}, "", "")
			if status != http.StatusOK || refreshed["access_token"] == nil || refreshed["id_token"] == nil {
				t.Errorf("refresh = %d %v", status, refreshed)
			}
		})

		t.Run("denied", func(t *testing.T) {
			_, auth := d.authorize("openid")
			b := signedInBrowser(t, srv, user.Email)
			page := enterCode(t, srv, b, srv.Issuer+oidc.PathDevice+"?user_code="+url.QueryEscape(auth["user_code"].(string)), auth["user_code"].(string))
			if done := confirm(t, srv, b, page, "deny"); !strings.Contains(done.Body, "Request denied") {
				t.Fatalf("want the denial page, got %v", done)
			}
			d.wantPoll(auth["device_code"].(string), "access_denied")
		})

		t.Run("approved, then the session ended", func(t *testing.T) {
			_, auth := d.authorize("openid")
			b := signedInBrowser(t, srv, user.Email)
			page := enterCode(t, srv, b, srv.Issuer+oidc.PathDevice, auth["user_code"].(string))
			if done := confirm(t, srv, b, page, "allow"); !strings.Contains(done.Body, "Device connected") {
				t.Fatalf("want the approval page, got %v", done)
			}
			if out := b.PostForm(srv.Issuer+oidc.PathSignOut, url.Values{}); out.Status != http.StatusOK {
				t.Fatalf("sign out: %v", out)
			}
			d.wantPoll(auth["device_code"].(string), "invalid_grant")
		})

		t.Run("expired", func(t *testing.T) {
			_, auth := d.authorize("openid")
			b := signedInBrowser(t, srv, user.Email)
			clock.Advance(11 * time.Minute)
			defer clock.Advance(-11 * time.Minute)
			d.wantPoll(auth["device_code"].(string), "expired_token")
			page := enterCode(t, srv, b, srv.Issuer+oidc.PathDevice, auth["user_code"].(string))
			if page.Status != http.StatusBadRequest || !strings.Contains(page.Body, "That code is not valid") {
				t.Errorf("an expired code on the page: %v", page)
			}
		})

		t.Run("expires during the confirmation", func(t *testing.T) {
			_, auth := d.authorize("openid")
			b := signedInBrowser(t, srv, user.Email)
			page := enterCode(t, srv, b, srv.Issuer+oidc.PathDevice, auth["user_code"].(string))
			clock.Advance(11 * time.Minute)
			defer clock.Advance(-11 * time.Minute)
			if done := confirm(t, srv, b, page, "allow"); done.Status != http.StatusBadRequest || !strings.Contains(done.Body, "can no longer be used") {
				t.Errorf("want the expired page, got %v", done)
			}
			d.wantPoll(auth["device_code"].(string), "expired_token")
		})

		t.Run("refusals", func(t *testing.T) {
			web := newRP(t, srv, false, true)
			req, _ := http.NewRequest(http.MethodPost, srv.Issuer+oidc.PathDeviceAuthorization, strings.NewReader("scope=openid"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(web.client.ID, web.config.ClientSecret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			status, body := resp.StatusCode, jsonObject(t, raw)
			if status != http.StatusBadRequest || body["error"] != "unauthorized_client" {
				t.Errorf("client without the grant: %d %v", status, body)
			}
			if status, body := d.authorize("openid admin"); status != http.StatusBadRequest || body["error"] != "invalid_scope" {
				t.Errorf("unknown scope: %d %v", status, body)
			}
			if status, body := postJSONForm(t, srv.Issuer+oidc.PathDeviceAuthorization, url.Values{"client_id": {"nobody"}}); status != http.StatusUnauthorized || body["error"] != "invalid_client" {
				t.Errorf("unknown client: %d %v", status, body)
			}
			d.wantPoll("not-a-device-code", "invalid_grant")
			// Another client cannot redeem the TV's code.
			other, _ := srv.CreateClient(t, oidc.NewClient{Name: "Other device", Public: true, Metadata: oidc.ClientMetadata{GrantTypes: []string{oidc.GrantDeviceCode}}})
			_, auth := d.authorize("openid")
			(&device{t: t, srv: srv, clientID: other.ID}).wantPoll(auth["device_code"].(string), "invalid_grant")
		})
	})
}

func TestDeviceCodeEntryIsThrottled(t *testing.T) {
	storagetest.RunURL(t, func(t *testing.T, dbURL string) {
		clock := new(servertest.Clock)
		srv := servertest.Start(t, dbURL, servertest.WithClock(clock))
		b := servertest.NewBrowser(t)
		for i := 1; i <= 21; i++ {
			page := enterCode(t, srv, b, srv.Issuer+oidc.PathDevice, "BCDF-GHJK")
			want := http.StatusBadRequest
			if i == 21 {
				want = http.StatusTooManyRequests
			}
			if page.Status != want {
				t.Fatalf("attempt %d: status %d, want %d: %v", i, page.Status, want, page)
			}
		}
		clock.Advance(16 * time.Minute)
		if page := enterCode(t, srv, b, srv.Issuer+oidc.PathDevice, "BCDF-GHJK"); page.Status != http.StatusBadRequest {
			t.Errorf("after the window: status %d, want 400", page.Status)
		}
	})
}
