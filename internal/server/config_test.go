package server

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"defaults", func(*Config) {}, ""},
		{"postgres", func(c *Config) { c.DatabaseURL = "postgres://u@h/db" }, ""},
		{"https issuer with path", func(c *Config) { c.Issuer = "https://id.example.com/tenant" }, ""},
		{"http issuer off loopback", func(c *Config) { c.Issuer = "http://id.example.com" }, "must be https"},
		{"issuer trailing slash", func(c *Config) { c.Issuer = "https://id.example.com/" }, "slash"},
		{"issuer with query", func(c *Config) { c.Issuer = "https://id.example.com?x=1" }, "query"},
		{"bad listen", func(c *Config) { c.Listen = "8080" }, "listen"},
		{"mysql", func(c *Config) { c.DatabaseURL = "mysql://x" }, "database-url"},
		{"bad alg", func(c *Config) { c.SigningAlgorithm = "HS256" }, "signing-algorithm"},
		{"zero lifetime", func(c *Config) { c.AccessTokenLifetime = 0 }, "access-token-lifetime"},
		{"long code", func(c *Config) { c.AuthCodeLifetime = time.Hour }, "auth-code-lifetime"},
		{"log level", func(c *Config) { c.LogLevel = "loud" }, "log-level"},
		{"registration token", func(c *Config) { c.Registration = "token" }, ""},
		{"registration mode", func(c *Config) { c.Registration = "anyone" }, "registration"},
		{"key reload", func(c *Config) { c.KeyReloadInterval = 0 }, "key-reload-interval"},
		{"brand", func(c *Config) {
			c.BrandName, c.BrandLogoURL, c.BrandAccentColor, c.BrandBackgroundColor = "Acme ID", "https://cdn.example.com/l.svg", "#0a0", "#fafafa"
		}, ""},
		{"brand logo over http", func(c *Config) { c.BrandLogoURL = "http://cdn.example.com/l.svg" }, "logo"},
		{"brand accent colour", func(c *Config) { c.BrandAccentColor = "red" }, "accent"},
		{"brand background colour", func(c *Config) { c.BrandBackgroundColor = "#12" }, "background"},
		{"key reload beyond the publish margin", func(c *Config) { c.KeyReloadInterval = time.Hour }, "key-reload-interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Defaults()
			tc.mutate(&c)
			err := c.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Validate() = %v, want an error mentioning %q", err, tc.wantErr)
			}
		})
	}
}
