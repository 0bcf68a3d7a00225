package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/orgid/orgid/account"
	"github.com/orgid/orgid/api"
	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/clientip"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/ui"
	"github.com/orgid/orgid/webhook"
)

// Options adjust a Server beyond its Config, for tests.
type Options struct {
	// PasswordParams overrides argon2id's parameters (tests use cheap ones).
	PasswordParams *identity.PasswordParams
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Server is a running orgid: its services and the HTTP handler.
type Server struct {
	*Services
	Base     *Base
	Registry *prometheus.Registry
	Provider *oidc.Provider
	Handler  http.Handler
	// Logouts delivers back-channel logout notifications.
	Logouts *oidc.BackchannelWorker
	worker  *webhook.Worker
	log     *slog.Logger
}

// New builds the server on an opened base.
func New(ctx context.Context, base *Base, opts Options) (*Server, error) {
	cfg := base.Config
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	svc, err := NewServices(ctx, base, opts)
	if err != nil {
		return nil, err
	}
	s := &Server{Services: svc, Base: base, Registry: prometheus.NewRegistry(), log: base.Logger}
	s.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	pages, err := ui.New(cfg.Brand())
	if err != nil {
		return nil, err
	}
	issuer, _ := url.Parse(cfg.Issuer)
	s.Provider, err = oidc.NewProvider(oidc.Config{
		Issuer:                      cfg.Issuer,
		AccessTokenLifetime:         cfg.AccessTokenLifetime,
		IDTokenLifetime:             cfg.IDTokenLifetime,
		RefreshTokenLifetime:        cfg.RefreshTokenLifetime,
		AuthCodeLifetime:            cfg.AuthCodeLifetime,
		SecureCookies:               issuer.Scheme == "https",
		RequireOrganization:         cfg.RequireOrganization,
		Registration:                cfg.Registration,
		EgressAllowHosts:            cfg.EgressAllowHosts,
		DisableSignUp:               cfg.DisableSignUp,
		RequirePAR:                  cfg.RequirePAR,
		RegistrationMaxPerIPPerHour: cfg.RegistrationMaxPerIPPerHour,
		RegistrationMaxPerHour:      cfg.RegistrationMaxPerHour,
	}, oidc.Deps{
		DB: base.DB, Secrets: base.Keys, Keys: svc.Keys, Identity: svc.Identity, Tenancy: svc.Tenancy, Templates: svc.Templates,
		Clients: svc.Clients, Pages: pages, Logger: base.Logger, Metrics: s.Registry, Now: now,
		Mailer: svc.Mailer,
	})
	if err != nil {
		return nil, err
	}
	s.worker, err = webhook.NewWorker(webhook.WorkerOptions{
		DB: base.DB, Keys: base.Keys, AllowPrivate: cfg.WebhookAllowPrivate, Lease: cfg.WebhookLease, Now: now,
		Logger: base.Logger, Registerer: s.Registry,
	})
	if err != nil {
		return nil, fmt.Errorf("webhook worker: %w", err)
	}

	s.Logouts, err = s.Provider.BackchannelWorker(oidc.BackchannelOptions{Logger: base.Logger, Registerer: s.Registry})
	if err != nil {
		return nil, fmt.Errorf("back-channel logout worker: %w", err)
	}

	httpm, err := newHTTPMetrics(s.Registry)
	if err != nil {
		return nil, err
	}
	r := mux.NewRouter()
	s.Provider.Routes(r)
	account.New(account.Config{RequireOrganization: cfg.RequireOrganization}, account.Deps{DB: base.DB, Sessions: s.Provider, Identity: svc.Identity, Tenancy: svc.Tenancy, RBAC: svc.RBAC, Pages: pages, Logger: base.Logger}).Routes(r)
	api.New(api.Deps{DB: base.DB, Secrets: base.Keys, Identity: svc.Identity, Tenancy: svc.Tenancy, RBAC: svc.RBAC, Templates: svc.Templates, Webhooks: svc.Webhooks, Clients: svc.Clients, Keys: svc.Keys, Issuer: cfg.Issuer, Logger: base.Logger, Metrics: s.Registry, RequestID: RequestID, Now: now}).Routes(r)
	r.Handle("/assets/{file:.*}", ui.Static()).Methods(http.MethodGet).Name("assets")
	r.Handle("/theme.css", pages.Theme()).Methods(http.MethodGet).Name("assets")
	r.Handle("/metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{})).Methods(http.MethodGet).Name("metrics")
	r.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	}).Methods(http.MethodGet).Name("healthz")
	r.HandleFunc("/readyz", s.ready).Methods(http.MethodGet).Name("readyz")
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not found", http.StatusNotFound)
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	})
	clients, err := clientip.New(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	s.Handler = clients.Middleware(instrument(r, base.Logger, httpm))
	return s, nil
}

// ready reports whether this replica can serve: database reachable, keys
// loaded.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain")
	if err := s.Base.DB.PingContext(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database unreachable\n"))
		return
	}
	if !s.Keys.Ready() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("signing keys not loaded\n"))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

// cleanupInterval is how often expired rows are deleted.
const cleanupInterval = 10 * time.Minute

// RunBackground runs the periodic jobs until ctx ends: reloading keys that
// another replica or `orgid keys rotate` changed, scheduled rotation, and
// deleting expired rows. Every job is safe on several replicas at once.
func (s *Server) RunBackground(ctx context.Context) {
	reload := time.NewTicker(s.Base.Config.KeyReloadInterval)
	cleanup := time.NewTicker(cleanupInterval)
	defer reload.Stop()
	defer cleanup.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-reload.C:
			if d := s.Base.Config.KeyRotationInterval; d > 0 {
				if rotated, err := s.Keys.RotateIfOlderThan(ctx, d); err != nil {
					s.log.ErrorContext(ctx, "scheduled key rotation", "error", err)
				} else if rotated {
					s.log.InfoContext(ctx, "rotated signing keys on schedule")
				}
			}
			if err := s.Keys.Reload(ctx); err != nil {
				s.log.ErrorContext(ctx, "reload signing keys", "error", err)
			}
		case <-cleanup.C:
			if n, err := s.Provider.DeleteExpired(ctx); err != nil {
				s.log.ErrorContext(ctx, "delete expired tokens", "error", err)
			} else if n > 0 {
				s.log.InfoContext(ctx, "deleted expired tokens", "rows", n)
			}
			if _, err := s.Identity.ExpireSessions(ctx, 1000); err != nil {
				s.log.ErrorContext(ctx, "expire sessions", "error", err)
			}
			if _, err := s.Identity.PruneThrottle(ctx); err != nil {
				s.log.ErrorContext(ctx, "prune sign-in throttle", "error", err)
			}
			if _, err := s.Identity.PruneExpired(ctx); err != nil {
				s.log.ErrorContext(ctx, "prune email codes and links", "error", err)
			}
			if _, err := s.Keys.Prune(ctx); err != nil {
				s.log.ErrorContext(ctx, "prune signing keys", "error", err)
			}
		}
	}
}

// Serve serves HTTP on ln and runs the background jobs until ctx ends,
// then shuts down gracefully: in-flight requests finish (up to the
// configured timeout) before Serve returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	bgCtx, stopBG := context.WithCancel(ctx)
	bgDone := make(chan struct{}, 3)
	go func() { defer func() { bgDone <- struct{}{} }(); s.RunBackground(bgCtx) }()
	go func() {
		defer func() { bgDone <- struct{}{} }()
		if err := s.worker.Run(bgCtx); err != nil {
			s.log.ErrorContext(bgCtx, "webhook worker stopped", "error", err)
		}
	}()
	go func() {
		defer func() { bgDone <- struct{}{} }()
		if err := s.Logouts.Run(bgCtx); err != nil {
			s.log.ErrorContext(bgCtx, "back-channel logout worker stopped", "error", err)
		}
	}()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), s.Base.Config.ShutdownTimeout)
		err = srv.Shutdown(shutdownCtx)
		cancel()
		if err == nil {
			err = <-errc
		}
	}
	stopBG()
	// Codes and links the sign-in pages were still mailing go out.
	s.Provider.FlushMail()
	<-bgDone
	<-bgDone
	<-bgDone
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
