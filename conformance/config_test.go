package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func validConfig() Config {
	return Config{
		Issuer:  "https://op.example.com",
		Clients: Clients{SecretBasic: Client{ClientID: "a", ClientSecret: "s"}},
		User:    User{Identifier: "ada@example.com", Password: "pw"},
	}.WithDefaults()
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string // "" for valid
	}{
		{"valid", func(*Config) {}, ""},
		{"issuer missing", func(c *Config) { c.Issuer = "" }, "issuer"},
		{"issuer relative", func(c *Config) { c.Issuer = "/op" }, "issuer"},
		{"issuer with query", func(c *Config) { c.Issuer = "https://op.example.com?x=1" }, "no query"},
		{"redirect not loopback", func(c *Config) { c.RedirectURI = "http://example.com:8080/cb" }, "loopback"},
		{"redirect https", func(c *Config) { c.RedirectURI = "https://127.0.0.1:8080/cb" }, "plain http"},
		{"redirect without port", func(c *Config) { c.RedirectURI = "http://127.0.0.1/cb" }, "explicit port"},
		{"redirect with fragment", func(c *Config) { c.RedirectURI = "http://127.0.0.1:1/cb#x" }, "fragment"},
		{"redirect IPv6 loopback", func(c *Config) { c.RedirectURI = "http://[::1]:9000/cb" }, ""},
		{"basic client secret missing", func(c *Config) { c.Clients.SecretBasic.ClientSecret = "" }, "client_secret_basic"},
		{"post client secret missing", func(c *Config) { c.Clients.SecretPost = Client{ClientID: "p"} }, "client_secret_post"},
		{"public client with secret", func(c *Config) { c.Clients.Public = Client{ClientID: "p", ClientSecret: "x"} }, "public"},
		{"user password missing", func(c *Config) { c.User.Password = "" }, "user"},
		{"bad url pattern", func(c *Config) { c.Login.URLPattern = "(" }, "url_pattern"},
		{"negative logout wait", func(c *Config) { c.LogoutWait = -1 }, "logout_wait"},
		{"unknown application type", func(c *Config) { c.Registration.ApplicationType = "desktop" }, "application_type"},
	}
	for _, tc := range tests {
		c := validConfig()
		tc.change(&c)
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: Validate() = %v, want nil", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: Validate() = %v, want an error mentioning %q", tc.name, err, tc.want)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	got := Config{User: User{Identifier: "ada"}}.WithDefaults()
	want := Config{
		RedirectURI: DefaultRedirectURI,
		User:        User{Identifier: "ada"},
		Login: LoginForm{IdentifierField: "identifier", PasswordField: "password",
			Consent: Button{Name: "action", Value: "allow"}, OrganizationField: "org_id",
			LogoutConfirm: Button{Name: "action", Value: "logout"}},
		LoginHint: "ada", UILocales: "se", ClaimsLocales: "se", Timeout: Duration(30 * time.Second),
		Registration:    Registration{ApplicationType: "native"},
		KeyRotationWait: Duration(90 * time.Second), JWKSRefreshDelay: Duration(10 * time.Second), LogoutWait: Duration(30 * time.Second),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("WithDefaults (-want +got):\n%s", diff)
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `{"issuer":"https://op.example.com","timeout":"5s",
		"clients":{"client_secret_basic":{"client_id":"a","client_secret":"s"}},
		"user":{"identifier":"ada","password":"pw","claims":{"email_verified":true}},
		"login":{"identifier_field":"username","submit":{"name":"op","value":"signin"}}}`)
	c, err := LoadConfig(good)
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	if c.Timeout != Duration(5*time.Second) || c.Login.Submit.Value != "signin" || c.User.Claims["email_verified"] != true {
		t.Errorf("LoadConfig = %+v; want timeout 5s, submit op=signin, claims read", c)
	}
	if _, err := LoadConfig(write("typo.json", `{"isuer":"x"}`)); err == nil || !strings.Contains(err.Error(), "isuer") {
		t.Errorf("LoadConfig with a misspelt field = %v, want an error naming it", err)
	}
	if _, err := LoadConfig(write("dur.json", `{"timeout":"soon"}`)); err == nil {
		t.Errorf("LoadConfig with a bad duration = nil error")
	}
	if c, err := LoadConfig(write("secs.json", `{"timeout":2.5}`)); err != nil || c.Timeout != Duration(2500*time.Millisecond) {
		t.Errorf("LoadConfig timeout in seconds = %v, %v; want 2.5s", c.Timeout, err)
	}
	if _, err := LoadConfig(filepath.Join(dir, "missing.json")); err == nil {
		t.Errorf("LoadConfig of a missing file = nil error")
	}
}

// The example configurations in testdata are documentation; they must stay
// loadable and valid.
func TestExampleConfigs(t *testing.T) {
	for _, name := range []string{"example-config.json", "other-provider-config.json"} {
		c, err := LoadConfig(filepath.Join("testdata", name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if err := c.WithDefaults().Validate(); err != nil {
			t.Errorf("%s: Validate() = %v", name, err)
		}
	}
}
