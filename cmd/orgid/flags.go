package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"strings"
	"time"

	"github.com/orgid/orgid/internal/server"
)

// errUsage reports a command line the flag package already explained.
var errUsage = errors.New("usage")

// invocation is one run of a command: its arguments and where it writes.
type invocation struct {
	name   string
	args   []string
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}

// flags is a command's flag set: the shared server configuration flags, the
// --json switch, and the command's own flags. Every flag has an ORGID_
// environment twin, used when the flag is not on the command line.
type flags struct {
	*flag.FlagSet
	inv  *invocation
	cfg  server.Config
	json bool
	// env overrides the environment twin of a flag (flag name → variable).
	env map[string]string
}

// newFlags starts a flag set. Commands that touch data call configFlags too.
func (inv *invocation) newFlags() *flags {
	fs := flag.NewFlagSet("orgid "+inv.name, flag.ContinueOnError)
	fs.SetOutput(inv.stderr)
	f := &flags{FlagSet: fs, inv: inv, cfg: server.Defaults(), env: map[string]string{}}
	if inv.name != "serve" && inv.name != "migrate" {
		// Commands print their result; their logs matter only when
		// something goes wrong.
		f.cfg.LogLevel = "warn"
	}
	fs.BoolVar(&f.json, "json", false, "print the result as JSON")
	return f
}

// configFlags registers the configuration every data-touching command shares.
func (f *flags) configFlags() {
	c := &f.cfg
	f.StringVar(&c.Listen, "listen", c.Listen, "address to listen on")
	f.StringVar(&c.Issuer, "issuer", c.Issuer, "public issuer URL")
	f.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "sqlite:PATH or postgres://…")
	f.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for the SQLite file and the development secret")
	f.StringVar(&c.Secret, f.masterSecretFlag(), c.Secret, "master secret (≥ 32 characters) that encrypts keys at rest")
	f.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	f.StringVar(&c.SigningAlgorithm, "signing-algorithm", c.SigningAlgorithm, "algorithm of new signing keys: RS256 or ES256")
	f.DurationVar(&c.KeyRotationInterval, "key-rotation-interval", c.KeyRotationInterval, "rotate the signing key this often (0: only on command)")
	f.DurationVar(&c.AccessTokenLifetime, "access-token-lifetime", c.AccessTokenLifetime, "access token lifetime")
	f.DurationVar(&c.IDTokenLifetime, "id-token-lifetime", c.IDTokenLifetime, "ID token lifetime")
	f.DurationVar(&c.RefreshTokenLifetime, "refresh-token-lifetime", c.RefreshTokenLifetime, "refresh token lifetime")
	f.DurationVar(&c.AuthCodeLifetime, "auth-code-lifetime", c.AuthCodeLifetime, "authorization code lifetime (≤ 10m)")
	f.DurationVar(&c.SessionIdleTimeout, "session-idle-timeout", c.SessionIdleTimeout, "end browser sessions idle this long")
	f.DurationVar(&c.SessionMaxLifetime, "session-max-lifetime", c.SessionMaxLifetime, "end browser sessions this old")
	f.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "graceful shutdown limit")
	f.BoolVar(&c.RequireOrganization, "require-organization", c.RequireOrganization, "disable personal accounts: every session needs an active organization")
	f.BoolVar(&c.DisableSignUp, "disable-sign-up", c.DisableSignUp, "remove the hosted sign-up page: accounts come from operators (and upstream sign-in may only reach existing accounts)")
	f.BoolVar(&c.WebhookAllowPrivate, "webhook-allow-private", c.WebhookAllowPrivate, "let webhooks reach private and loopback addresses (development only)")
	f.BoolVar(&c.RequirePAR, "require-par", c.RequirePAR, "every client must push its authorization requests to /oauth2/par first (RFC 9126)")
	f.IntVar(&c.RegistrationMaxPerIPPerHour, "registration-max-per-ip-per-hour", c.RegistrationMaxPerIPPerHour, "dynamic client registration requests one client address may send in an hour (0: no limit)")
	f.IntVar(&c.RegistrationMaxPerHour, "registration-max-per-hour", c.RegistrationMaxPerHour, "clients that may register themselves in an hour, from anywhere (0: no limit)")
	f.Var(stringsValue{&c.TrustedProxies}, "trusted-proxies", "addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed (comma-separated; default none: the TCP peer is the client)")
	f.StringVar(&c.Registration, "registration", c.Registration, "dynamic client registration: off, open, or token (needs an initial access token: orgid registration-tokens create)")
	f.Var(stringsValue{&c.EgressAllowHosts}, "egress-allow-hosts", "hosts, IPs or CIDRs that fetches of client URLs (jwks_uri, sector_identifier_uri, request_uri) and back-channel logout may reach although private or loopback (comma-separated; development only)")
	f.DurationVar(&c.KeyReloadInterval, "key-reload-interval", c.KeyReloadInterval, "reload signing keys changed by another process this often")
	f.DurationVar(&c.WebhookLease, "webhook-lease", c.WebhookLease, "how long a replica holds a webhook delivery it claimed")
	f.StringVar(&c.BrandName, "brand-name", c.BrandName, "name shown on the hosted pages (default orgid)")
	f.StringVar(&c.BrandLogoURL, "brand-logo-url", c.BrandLogoURL, "logo on the hosted pages: an https URL or a data:image/… URL")
	f.StringVar(&c.BrandAccentColor, "brand-accent-color", c.BrandAccentColor, "accent colour of buttons and links, #rgb or #rrggbb (default #4f46e5; text on it is picked for contrast)")
	f.StringVar(&c.BrandBackgroundColor, "brand-background-color", c.BrandBackgroundColor, "page background behind the card, #rgb or #rrggbb (default: light or dark by the browser's scheme)")
	f.StringVar(&c.SMTPHost, "smtp-host", c.SMTPHost, "SMTP server for mail (default: write mail to <data-dir>/outbox.jsonl)")
	f.IntVar(&c.SMTPPort, "smtp-port", 587, "SMTP port (465: implicit TLS)")
	f.StringVar(&c.SMTPUsername, "smtp-username", c.SMTPUsername, "SMTP user")
	f.StringVar(&c.SMTPPassword, "smtp-password", c.SMTPPassword, "SMTP password")
	f.StringVar(&c.SMTPFrom, "smtp-from", c.SMTPFrom, "sender address of mail")
}

// masterSecretFlag is --secret, except in commands that use --secret for
// something else (clients create imports a client secret with it); there
// the master secret is --master-secret. Its environment twin is
// ORGID_SECRET either way.
func (f *flags) masterSecretFlag() string {
	if f.inv.name == "clients create" {
		f.env["master-secret"] = "ORGID_SECRET"
		return "master-secret"
	}
	return "secret"
}

// parse reads the command line, then fills every flag not given there from
// its environment twin (--database-url ← ORGID_DATABASE_URL).
func (f *flags) parse() error {
	if err := f.Parse(f.inv.args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	set := map[string]bool{}
	f.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	var errs []error
	f.VisitAll(func(fl *flag.Flag) {
		if set[fl.Name] {
			return
		}
		env := envName(fl.Name)
		if e, ok := f.env[fl.Name]; ok {
			env = e
		}
		if v := f.inv.getenv(env); v != "" {
			if err := fl.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", env, err))
			}
		}
	})
	return errors.Join(errs...)
}

// envName is the environment twin of a flag: ORGID_ and the name in
// upper snake case.
func envName(flagName string) string {
	return "ORGID_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// noArgs fails when positional arguments remain after the flags.
func (f *flags) noArgs() error {
	if f.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(f.Args(), " "))
	}
	return nil
}

// logger writes JSON logs to stderr at the configured level.
func (f *flags) logger() *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(f.cfg.LogLevel))
	return slog.New(slog.NewJSONHandler(f.inv.stderr, &slog.HandlerOptions{Level: level}))
}

// openBase opens the configured database, migrated, with the keyring.
func (f *flags) openBase(ctx context.Context) (*server.Base, error) {
	return server.OpenBase(ctx, f.cfg, f.logger())
}

// openServices opens the configured database and wires every service the
// way `orgid serve` does, so CLI changes emit the same webhook events and
// revoke the same tokens.
func (f *flags) openServices(ctx context.Context) (*server.Base, *server.Services, error) {
	base, err := f.openBase(ctx)
	if err != nil {
		return nil, nil, err
	}
	svc, err := server.NewServices(ctx, base, server.Options{})
	if err != nil {
		base.Close()
		return nil, nil, err
	}
	return base, svc, nil
}

// withServices runs a command that takes only the shared flags: it parses
// them, opens the services and calls fn.
func withServices(ctx context.Context, inv *invocation, fn func(f *flags, base *server.Base, svc *server.Services) error) error {
	f := inv.newFlags()
	f.configFlags()
	if err := f.parse(); err != nil {
		return err
	}
	if err := f.noArgs(); err != nil {
		return err
	}
	base, svc, err := f.openServices(ctx)
	if err != nil {
		return err
	}
	defer base.Close()
	return fn(f, base, svc)
}

// output prints v as indented JSON with --json, else the text lines.
func (f *flags) output(v any, text ...string) error {
	if f.json {
		enc := json.NewEncoder(f.inv.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	for _, line := range text {
		fmt.Fprintln(f.inv.stdout, line)
	}
	return nil
}

// listFlag is a repeatable string flag; each use may also hold a
// comma-separated list when split is true.
type listFlag struct {
	values []string
	split  bool
}

func (l *listFlag) String() string { return strings.Join(l.values, ",") }

func (l *listFlag) Set(v string) error {
	if !l.split {
		l.values = append(l.values, v)
		return nil
	}
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			l.values = append(l.values, p)
		}
	}
	return nil
}

// stringsValue is a comma-separated list flag that writes into a
// configuration field.
type stringsValue struct{ p *[]string }

func (v stringsValue) String() string {
	if v.p == nil {
		return ""
	}
	return strings.Join(*v.p, ",")
}

func (v stringsValue) Set(s string) error {
	*v.p = nil
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*v.p = append(*v.p, part)
		}
	}
	return nil
}

// since formats an instant for text output.
func since(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
