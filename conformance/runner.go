package conformance

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"time"
)

// defaultModuleTimeout bounds one module; the slowest (code reuse after 30
// seconds) takes well under a minute against a responsive provider.
const defaultModuleTimeout = 3 * time.Minute

// Runner runs plans against one provider.
type Runner struct {
	Config Config
	// Out receives one line per module as it finishes, then the summary.
	Out io.Writer
	Log *slog.Logger
	// HTTPClient supplies the transport (nil: http.DefaultTransport).
	HTTPClient *http.Client
	// Listener, if set, is already listening on the redirect URI's address.
	Listener net.Listener
	// Now and Sleep are the clock (nil: the real one).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// ModuleTimeout bounds each module (0: 3 minutes).
	ModuleTimeout time.Duration
	// Only, when not empty, runs just the modules with these names.
	Only []string
	// RotateKeys, if set, makes the provider rotate its signing keys
	// instead of Config.RotateKeysCommand (tests drive a fake provider).
	RotateKeys func(ctx context.Context) error
}

// Run validates the configuration, starts the Listener, discovers the
// provider and runs every module of every plan in order. The error is for
// what stops the whole run (bad configuration, the redirect URI's port in
// use); failures of the provider are in the Report.
func (r *Runner) Run(ctx context.Context, plans []Plan) (*Report, error) {
	cfg := r.Config.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("conformance config: %w", err)
	}
	env, closeEnv, err := r.newEnv(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer closeEnv()

	report := &Report{Object: "conformance_report", Issuer: cfg.Issuer, StartedAt: env.Now().UnixMilli()}
	for _, plan := range plans {
		report.Plans = append(report.Plans, r.runPlan(ctx, plan, *env))
	}
	report.FinishedAt = env.Now().UnixMilli()
	report.count()
	if r.Out != nil {
		fmt.Fprintln(r.Out, report.Summary())
	}
	return report, nil
}

func (r *Runner) newEnv(ctx context.Context, cfg Config) (*Env, func(), error) {
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base := r.HTTPClient
	if base == nil {
		base = &http.Client{Transport: http.DefaultTransport}
	}
	httpClient := &http.Client{
		Transport:     base.Transport,
		Timeout:       time.Duration(cfg.Timeout),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	listener, err := Listen(cfg.RedirectURI, r.Listener)
	if err != nil {
		return nil, nil, err
	}
	env := &Env{Config: cfg, Listener: listener, HTTP: httpClient, Now: r.Now, Sleep: r.Sleep, Log: log, RotateKeys: r.RotateKeys}
	if env.RotateKeys == nil && cfg.RotateKeysCommand != "" {
		env.RotateKeys = commandRotation(cfg.RotateKeysCommand)
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.Sleep == nil {
		env.Sleep = sleep
	}
	env.Provider, env.ProviderErr = Discover(ctx, httpClient, cfg.Issuer)
	if env.ProviderErr != nil {
		log.Warn("discovery failed", "issuer", cfg.Issuer, "error", env.ProviderErr)
	}
	closeEnv := func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := listener.Close(sctx); err != nil {
			log.Warn("stop listener", "error", err)
		}
	}
	return env, closeEnv, nil
}

func (r *Runner) runPlan(ctx context.Context, plan Plan, env Env) PlanReport {
	env.Variant = plan.Variant
	pr := PlanReport{Name: plan.Name, Title: plan.Title}
	var setupErr error
	if plan.Setup != nil {
		setupErr = plan.Setup(ctx, &env)
	}
	for _, m := range plan.Modules {
		if len(r.Only) > 0 && !slices.Contains(r.Only, m.Name) {
			continue
		}
		start := time.Now()
		var res Result
		if setupErr != nil {
			res = Fail("plan setup failed: %v", setupErr)
		} else {
			res = r.runModule(ctx, m, &env)
		}
		mr := ModuleResult{Plan: plan.Name, Module: m.Name, Result: res, Duration: time.Since(start)}
		if r.Out != nil {
			fmt.Fprintln(r.Out, mr.Line())
		}
		env.Log.Debug("module finished", "plan", plan.Name, "module", m.Name, "status", res.Status, "duration", mr.Duration)
		pr.Results = append(pr.Results, newModuleReport(mr))
	}
	if plan.Teardown != nil {
		plan.Teardown(ctx, &env)
	}
	return pr
}

// runModule runs one module with its own deadline; a panic in a module is
// the runner's defect, reported as a failure rather than ending the run.
func (r *Runner) runModule(ctx context.Context, m Module, env *Env) (res Result) {
	timeout := r.ModuleTimeout
	if timeout == 0 {
		timeout = defaultModuleTimeout
	}
	mctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			res = Fail("runner defect: module panicked: %v", p)
		}
	}()
	return m.Run(mctx, env)
}
