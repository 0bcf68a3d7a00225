package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/identity"
	"github.com/orgid/orgid/internal/clientip"
	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/oidc"
	"github.com/orgid/orgid/oidc/keys"
	"github.com/orgid/orgid/rbac"
	"github.com/orgid/orgid/templates"
	"github.com/orgid/orgid/tenancy"
	"github.com/orgid/orgid/webhook"
)

// PathPrefix is where the API is mounted.
const PathPrefix = "/v1"

// Deps are the services the API drives. All but Logger, Metrics,
// RequestID and Now are required.
type Deps struct {
	// DB runs multi-step requests in one transaction and holds api_keys.
	DB *bun.DB
	// Secrets hashes secret keys.
	Secrets   *secret.Keyring
	Identity  *identity.Service
	Tenancy   *tenancy.Service
	RBAC      *rbac.Service
	Templates *templates.Service
	Webhooks  *webhook.Service
	Clients   *oidc.Clients
	Keys      *keys.Manager
	// Issuer is the iss of rendered template previews.
	Issuer string
	Logger *slog.Logger
	// Metrics receives orgid_api_auth_failures_total; nil registers nothing.
	Metrics prometheus.Registerer
	// RequestID returns the request id the server's middleware assigned
	// (clerk_trace_id in errors); nil reads the X-Request-Id response
	// header the middleware set.
	RequestID func(ctx context.Context) string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Handler serves the management API.
type Handler struct {
	d        Deps
	keys     *Keys
	limiter  *failureLimiter
	failures prometheus.Counter
	openapi  rawJSON
	log      *slog.Logger
	now      func() time.Time
}

// New returns the API. It panics when a required dependency is missing: a
// wiring mistake no request could recover from.
func New(d Deps) *Handler {
	if d.DB == nil || d.Secrets == nil || d.Identity == nil || d.Tenancy == nil || d.RBAC == nil ||
		d.Templates == nil || d.Webhooks == nil || d.Clients == nil || d.Keys == nil {
		panic("api.New: DB, Secrets, Identity, Tenancy, RBAC, Templates, Webhooks, Clients and Keys are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	doc, err := openAPIDocument()
	if err != nil {
		panic("api.New: OpenAPI document: " + err.Error())
	}
	h := &Handler{
		d:       d,
		keys:    NewKeys(d.DB, d.Secrets, KeysOptions{Now: d.Now, Logger: d.Logger}),
		limiter: newFailureLimiter(d.Now, authFailureLimit, authFailureWindow, authFailureAddresses),
		openapi: doc,
		log:     d.Logger,
		now:     d.Now,
	}
	h.failures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "orgid_api_auth_failures_total",
		Help: "Management API requests refused for a missing, malformed, unknown or revoked secret key.",
	})
	if d.Metrics != nil {
		if err := d.Metrics.Register(h.failures); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				panic("api.New: register metrics: " + err.Error())
			}
			h.failures = are.ExistingCollector.(prometheus.Counter)
		}
	}
	return h
}

// Routes mounts the API under /v1, one named route per entry of the route
// table. Unknown paths and methods under /v1 answer in the error envelope,
// after authentication, so that the API's shape is not probed for free.
func (h *Handler) Routes(r *mux.Router) {
	v1 := r.PathPrefix(PathPrefix + "/").Subrouter()
	// paths knows every path regardless of method, to tell 405 from 404.
	paths := mux.NewRouter()
	for _, rt := range routeTable() {
		v1.Handle(rt.path, h.endpoint(&rt)).Methods(rt.method).Name(rt.name)
		paths.Path(PathPrefix + rt.path)
	}
	// A catch-all route rather than the subrouter's NotFoundHandler and
	// MethodNotAllowedHandler: every route of a subrouter also carries the
	// prefix matcher, which clears mux's method-mismatch state, so a wrong
	// method would otherwise read as an unknown path.
	v1.PathPrefix("/").Handler(h.authenticated(func(w http.ResponseWriter, r *http.Request) {
		if paths.Match(r, &mux.RouteMatch{}) {
			h.writeError(w, r, errMethod)
			return
		}
		h.writeError(w, r, errNotFound)
	})).Name("api_unmatched")
}

// endpoint runs one route in fixed phases: authenticate, read and check
// the parameters and body, act, write.
func (h *Handler) endpoint(rt *route) http.Handler {
	serve := func(w http.ResponseWriter, r *http.Request) {
		c, err := newCall(rt, r)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		result, err := rt.serve(h, c)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		writeResult(w, rt, c, result)
	}
	if rt.public {
		return http.HandlerFunc(serve)
	}
	return h.authenticated(serve)
}

// authenticated lets a request through with a valid secret key in
// Authorization: Bearer, and counts failures per client address.
func (h *Handler) authenticated(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := clientAddr(r)
		wait, blocked := h.limiter.blocked(addr)
		if err := h.authenticate(r); err != nil {
			if !errors.Is(err, ErrInvalidKey) {
				h.writeError(w, r, err)
				return
			}
			h.failures.Inc()
			h.limiter.fail(addr)
			if blocked {
				h.writeError(w, r, errThrottled(wait))
				return
			}
			h.writeError(w, r, errUnauthenticated)
			return
		}
		next(w, r)
	})
}

// authenticate checks the bearer secret key. Any failure that is the
// client's is ErrInvalidKey.
func (h *Handler) authenticate(r *http.Request) error {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ErrInvalidKey
	}
	_, err := h.keys.Authenticate(r.Context(), strings.TrimSpace(token))
	return err
}

// clientAddr is the client's address: the peer, or what trusted proxies
// forwarded (package clientip).
func clientAddr(r *http.Request) string { return clientip.From(r) }

// writeError answers err in Clerk's envelope. An internal error is logged
// with the request id and answered without detail.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := toAPIError(err)
	traceID := h.requestID(w, r)
	if ae.status >= http.StatusInternalServerError {
		h.log.ErrorContext(r.Context(), "api: request failed", "request_id", traceID, "path", r.URL.Path, "error", ae.cause)
	}
	if ae.retryAfter > 0 {
		w.Header().Set("Retry-After", retryAfterHeader(ae.retryAfter))
	}
	if ae.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="orgid management API"`)
	}
	writeJSON(w, ae.status, ErrorsJSON{Errors: ae.errs, ClerkTraceID: traceID})
}

func (h *Handler) requestID(w http.ResponseWriter, r *http.Request) string {
	if h.d.RequestID != nil {
		if id := h.d.RequestID(r.Context()); id != "" {
			return id
		}
	}
	return w.Header().Get("X-Request-Id")
}
