package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/orgid/orgid/conformance"
)

// conformanceCommands are the `orgid conformance …` subcommands. They talk
// to any OpenID Provider over HTTP, so they take no server configuration.
var conformanceCommands = []command{
	{"conformance run", "run OpenID conformance plans against an issuer (any provider)", runConformance},
	{"conformance plans", "list the conformance plans and their modules", listConformancePlans},
}

// conformanceFailed makes a run with failed modules exit with status 1.
type conformanceFailed struct{ failed, total int }

func (e conformanceFailed) Error() string {
	return fmt.Sprintf("%d of %d modules failed", e.failed, e.total)
}

func (e conformanceFailed) ExitCode() int { return 1 }

func runConformance(ctx context.Context, inv *invocation) error {
	// --json names a report file here, so its environment twin (a switch
	// for the other commands) must not leak in.
	scoped := *inv
	scoped.getenv = func(k string) string {
		if k == "ORGID_JSON" {
			return ""
		}
		return inv.getenv(k)
	}
	fs := flag.NewFlagSet("orgid "+inv.name, flag.ContinueOnError)
	fs.SetOutput(inv.stderr)
	f := &flags{FlagSet: fs, inv: &scoped}

	var (
		configFile, plan, jsonFile, only string
		verbose                          bool
		cfg                              conformance.Config
		timeout                          time.Duration
	)
	f.StringVar(&configFile, "config", "", "JSON configuration file; flags override its values")
	f.StringVar(&plan, "plan", "all", "plans to run: basic, config, formpost or all (comma-separated)")
	f.StringVar(&jsonFile, "json", "", "also write the report as JSON to `FILE`")
	f.StringVar(&only, "module", "", "run only these modules (comma-separated names)")
	f.BoolVar(&verbose, "verbose", false, "log each step to stderr")
	f.StringVar(&cfg.Issuer, "issuer", "", "issuer URL of the provider under test")
	f.StringVar(&cfg.RedirectURI, "redirect-uri", "", "loopback redirect URI registered for every client (default "+conformance.DefaultRedirectURI+")")
	f.StringVar(&cfg.Clients.SecretBasic.ClientID, "client-id", "", "client_secret_basic client id")
	f.StringVar(&cfg.Clients.SecretBasic.ClientSecret, "client-secret", "", "client_secret_basic client secret")
	f.StringVar(&cfg.Clients.SecretPost.ClientID, "post-client-id", "", "client_secret_post client id")
	f.StringVar(&cfg.Clients.SecretPost.ClientSecret, "post-client-secret", "", "client_secret_post client secret")
	f.StringVar(&cfg.Clients.Public.ClientID, "public-client-id", "", "public (PKCE) client id")
	f.StringVar(&cfg.User.Identifier, "user", "", "test user's identifier (e-mail or username)")
	f.StringVar(&cfg.User.Password, "password", "", "test user's password")
	f.StringVar(&cfg.Login.URLPattern, "login-url-pattern", "", "regular expression the login page URL must match")
	f.StringVar(&cfg.Login.IdentifierField, "login-identifier-field", "", "name of the login form's identifier input (default identifier)")
	f.StringVar(&cfg.Login.PasswordField, "login-password-field", "", "name of the login form's password input (default password)")
	f.StringVar(&cfg.LoginHint, "login-hint", "", "login_hint the login_hint module sends (default: --user)")
	f.DurationVar(&timeout, "timeout", 0, "limit for each HTTP request (default 30s)")
	if err := f.parse(); err != nil {
		return err
	}
	if err := f.noArgs(); err != nil {
		return err
	}

	merged := conformance.Config{}
	if configFile != "" {
		var err error
		if merged, err = conformance.LoadConfig(configFile); err != nil {
			return err
		}
	}
	overlayConfig(&merged, cfg)
	if timeout > 0 {
		merged.Timeout = conformance.Duration(timeout)
	}
	plans, err := conformance.SelectPlans(conformance.Plans(), plan)
	if err != nil {
		return err
	}
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	runner := &conformance.Runner{
		Config: merged,
		Out:    inv.stdout,
		Log:    slog.New(slog.NewTextHandler(inv.stderr, &slog.HandlerOptions{Level: level})),
		Only:   splitList(only),
	}
	report, err := runner.Run(ctx, plans)
	if err != nil {
		return err
	}
	if jsonFile != "" {
		if err := report.WriteFile(jsonFile); err != nil {
			return err
		}
	}
	if report.Failed > 0 {
		return conformanceFailed{failed: report.Failed, total: report.Passed + report.Failed + report.Skipped}
	}
	return nil
}

// overlayConfig copies every value given on the command line over the file's.
func overlayConfig(dst *conformance.Config, flags conformance.Config) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&dst.Issuer, flags.Issuer)
	set(&dst.RedirectURI, flags.RedirectURI)
	set(&dst.Clients.SecretBasic.ClientID, flags.Clients.SecretBasic.ClientID)
	set(&dst.Clients.SecretBasic.ClientSecret, flags.Clients.SecretBasic.ClientSecret)
	set(&dst.Clients.SecretPost.ClientID, flags.Clients.SecretPost.ClientID)
	set(&dst.Clients.SecretPost.ClientSecret, flags.Clients.SecretPost.ClientSecret)
	set(&dst.Clients.Public.ClientID, flags.Clients.Public.ClientID)
	set(&dst.User.Identifier, flags.User.Identifier)
	set(&dst.User.Password, flags.User.Password)
	set(&dst.Login.URLPattern, flags.Login.URLPattern)
	set(&dst.Login.IdentifierField, flags.Login.IdentifierField)
	set(&dst.Login.PasswordField, flags.Login.PasswordField)
	set(&dst.LoginHint, flags.LoginHint)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func listConformancePlans(_ context.Context, inv *invocation) error {
	f := inv.newFlags()
	if err := f.parse(); err != nil {
		return err
	}
	if err := f.noArgs(); err != nil {
		return err
	}
	type moduleJSON struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	type planJSON struct {
		Object  string       `json:"object"`
		Name    string       `json:"name"`
		Title   string       `json:"title"`
		Modules []moduleJSON `json:"modules"`
	}
	var plans []planJSON
	var lines []string
	for _, p := range conformance.Plans() {
		pj := planJSON{Object: "conformance_plan", Name: p.Name, Title: p.Title}
		lines = append(lines, fmt.Sprintf("%s (%s)", p.Name, p.Title))
		for _, m := range p.Modules {
			pj.Modules = append(pj.Modules, moduleJSON{Name: m.Name, Description: m.Description})
			lines = append(lines, "  "+m.Name)
		}
		plans = append(plans, pj)
	}
	return f.output(plans, lines...)
}
