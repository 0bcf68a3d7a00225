package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/egress"
	"github.com/orgid/orgid/internal/id"
	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/oidc/keys"
	"github.com/orgid/orgid/storage"
)

// BackchannelWorker delivers back-channel logout notifications (OpenID
// Connect Back-Channel Logout 1.0): it claims due rows of
// oauth2_logout_deliveries with a lease (FOR UPDATE SKIP LOCKED on
// PostgreSQL; SQLite's single writer elsewhere), signs a fresh logout
// token for each — typ logout+jwt; iss, aud, iat, exp, jti, the events
// claim, sub and sid; never a nonce — with the key that signs the client's
// ID tokens, POSTs it as logout_token through the egress client, and
// records the outcome: delivered on any 2xx, else another attempt on the
// retry schedule until it is exhausted. A worker that dies leaves its
// claim to expire; another claims the row again (at least once, and the
// RP tells duplicates apart by jti-independent sid/sub). Any number of
// workers may run against one database.
type BackchannelWorker struct {
	db       *bun.DB
	keys     *keys.Manager
	issuer   string
	client   *http.Client
	opts     BackchannelOptions
	schedule []time.Duration
	now      func() time.Time
	log      *slog.Logger
	kick     <-chan struct{}
	results  *prometheus.CounterVec
}

// BackchannelOptions configure NewBackchannelWorker; DB, Keys and Issuer
// are required.
type BackchannelOptions struct {
	DB     *bun.DB
	Keys   *keys.Manager
	Issuer string
	// Client sends the notifications; nil means an internal/egress client
	// (SSRF-safe) that may reach AllowHosts. It must not follow redirects.
	Client     *http.Client
	AllowHosts []string
	// Concurrency is the number of notifications in flight (default 4).
	Concurrency int
	// Lease is how long a claimed row stays reserved (default 2 minutes);
	// it must exceed RequestTimeout (default 10 seconds).
	Lease          time.Duration
	RequestTimeout time.Duration
	// PollInterval is how often Run looks for due rows when idle (default
	// one second); Kick wakes it earlier.
	PollInterval time.Duration
	// RetrySchedule is the delay before each retry (DefaultLogoutRetries
	// when nil); after len(RetrySchedule)+1 failed attempts a row fails.
	RetrySchedule []time.Duration
	// Retention is how long finished rows are kept (default 7 days).
	Retention time.Duration
	// Kick, when it receives, makes Run look for due rows at once.
	Kick <-chan struct{}
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logger receives one line per failed attempt (never the token).
	Logger *slog.Logger
	// Registerer receives orgid_backchannel_logout_deliveries_total.
	Registerer prometheus.Registerer
}

// DefaultLogoutRetries spread about a day of attempts.
func DefaultLogoutRetries() []time.Duration {
	return []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute,
		30 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour}
}

// logoutTokenLifetime is the exp of a logout token after its iat; the RP
// must receive it within this time (Back-Channel Logout 1.0 §2.4
// recommends a short lifetime).
const logoutTokenLifetime = 2 * time.Minute

// backchannelEvent is the events member of a logout token.
const backchannelEvent = "http://schemas.openid.net/event/backchannel-logout"

// NewBackchannelWorker checks opts and fills the defaults.
func NewBackchannelWorker(opts BackchannelOptions) (*BackchannelWorker, error) {
	if opts.DB == nil || opts.Keys == nil || opts.Issuer == "" {
		return nil, errors.New("backchannel worker: DB, Keys and Issuer are required")
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 10 * time.Second
	}
	if opts.Lease <= 0 {
		opts.Lease = 2 * time.Minute
	}
	if opts.Lease <= opts.RequestTimeout {
		return nil, fmt.Errorf("backchannel worker: lease %s must exceed the request timeout %s", opts.Lease, opts.RequestTimeout)
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.Retention <= 0 {
		opts.Retention = 7 * 24 * time.Hour
	}
	w := &BackchannelWorker{db: opts.DB, keys: opts.Keys, issuer: opts.Issuer, client: opts.Client, opts: opts,
		schedule: opts.RetrySchedule, now: opts.Now, log: opts.Logger, kick: opts.Kick}
	if w.client == nil {
		w.client = egress.NewClient(egress.Options{AllowHosts: opts.AllowHosts, Timeout: opts.RequestTimeout, MaxResponseBytes: 64 << 10})
	}
	if w.schedule == nil {
		w.schedule = DefaultLogoutRetries()
	}
	if w.now == nil {
		w.now = time.Now
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	w.results = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orgid_backchannel_logout_deliveries_total",
		Help: "Back-channel logout attempts, by result (delivered, retry, failed).",
	}, []string{"result"})
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(w.results); err != nil {
			var already prometheus.AlreadyRegisteredError
			if !errors.As(err, &already) {
				return nil, err
			}
			w.results = already.ExistingCollector.(*prometheus.CounterVec)
		}
	}
	return w, nil
}

// Run delivers until ctx ends, then lets the attempts in flight finish
// and be recorded, and returns nil.
func (w *BackchannelWorker) Run(ctx context.Context) error {
	var lastPrune time.Time
	for {
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(lastPrune) >= time.Hour {
			if _, err := w.Prune(ctx); err != nil && ctx.Err() == nil {
				w.log.Warn("prune back-channel logout deliveries", "error", err)
			}
			lastPrune = time.Now()
		}
		n, err := w.RunOnce(context.WithoutCancel(ctx))
		if err != nil && ctx.Err() == nil {
			w.log.Error("back-channel logout", "error", err)
		}
		if n == w.opts.Concurrency {
			continue // there may be more due right now
		}
		timer := time.NewTimer(w.opts.PollInterval)
		select {
		case <-ctx.Done():
		case <-timer.C:
		case <-w.kick:
		}
		timer.Stop()
	}
}

// RunOnce claims up to Concurrency due notifications, attempts them in
// parallel, records the outcomes and returns how many it attempted.
func (w *BackchannelWorker) RunOnce(ctx context.Context) (int, error) {
	jobs, err := w.claim(ctx)
	if err != nil {
		return 0, err
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.process(ctx, &jobs[i])
		}()
	}
	wg.Wait()
	return len(jobs), errors.Join(errs...)
}

// logoutJob is a claimed notification with its client's registration.
type logoutJob struct {
	logoutDeliveryRow `bun:",extend"`
	ClientMetadata    string `bun:"client_metadata"`
}

// claim leases due notifications to this worker.
func (w *BackchannelWorker) claim(ctx context.Context) ([]logoutJob, error) {
	now := w.now().UTC().Truncate(time.Microsecond)
	token := secret.RandomString(16)
	due := "status = ? AND next_attempt_at <= ? AND (lease_expires_at IS NULL OR lease_expires_at <= ?)"
	pick := "SELECT id FROM oauth2_logout_deliveries WHERE " + due + " ORDER BY next_attempt_at, id LIMIT ?"
	set := "UPDATE oauth2_logout_deliveries SET lease_token = ?, lease_expires_at = ?, updated_at = ? "
	dueArgs := []any{logoutPending, now, now}
	pickArgs := append(slices.Clone(dueArgs), w.opts.Concurrency)
	setArgs := []any{token, now.Add(w.opts.Lease), now}
	var query string
	var args []any
	if storage.IsPostgres(w.db) {
		// Concurrent claimers skip each other's rows instead of waiting or
		// taking them twice; the outer condition guards again.
		query = "WITH picked AS MATERIALIZED (" + pick + " FOR UPDATE SKIP LOCKED) " + set +
			"WHERE id IN (SELECT id FROM picked) AND " + due
		args = slices.Concat(pickArgs, setArgs, dueArgs)
	} else {
		query = set + "WHERE id IN (" + pick + ") AND " + due
		args = slices.Concat(setArgs, pickArgs, dueArgs)
	}
	var jobs []logoutJob
	err := storage.InTx(ctx, w.db, func(ctx context.Context) error {
		conn := storage.Conn(ctx, w.db)
		res, err := conn.NewRaw(query, args...).Exec(ctx)
		if err != nil {
			return fmt.Errorf("lease logout deliveries: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return conn.NewSelect().Model(&jobs).
			ColumnExpr("d.*").ColumnExpr("c.metadata AS client_metadata").
			ModelTableExpr("oauth2_logout_deliveries AS d").
			Join("JOIN oauth2_clients AS c ON c.id = d.client_id").
			Where("d.lease_token = ?", token).Scan(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("claim logout deliveries: %w", err)
	}
	return jobs, nil
}

// process makes one attempt and records it.
func (w *BackchannelWorker) process(ctx context.Context, j *logoutJob) error {
	status, sendErr := w.send(ctx, j)
	now := w.now().UTC().Truncate(time.Microsecond)
	attempts := j.Attempts + 1
	q := storage.Conn(ctx, w.db).NewUpdate().Model((*logoutDeliveryRow)(nil)).
		Set("attempts = ?", attempts).Set("lease_token = NULL").Set("lease_expires_at = NULL").Set("updated_at = ?", now)
	if status != 0 {
		q = q.Set("last_status_code = ?", status)
	}
	result := logoutDelivered
	switch {
	case sendErr == nil:
		q = q.Set("status = ?", logoutDelivered).Set("next_attempt_at = NULL").Set("last_error = ''")
	case attempts > len(w.schedule):
		result = logoutFailed
		q = q.Set("status = ?", logoutFailed).Set("next_attempt_at = NULL").Set("last_error = ?", truncateText(sendErr.Error(), 500))
	default:
		result = "retry"
		q = q.Set("next_attempt_at = ?", now.Add(w.schedule[attempts-1])).Set("last_error = ?", truncateText(sendErr.Error(), 500))
	}
	res, err := q.Where("id = ?", j.ID).Where("lease_token = ?", *j.LeaseToken).Exec(ctx)
	if err != nil {
		return fmt.Errorf("record logout delivery %s: %w", j.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		w.log.Warn("back-channel logout attempt not recorded: the lease was lost", "delivery_id", j.ID)
		return nil
	}
	w.results.WithLabelValues(result).Inc()
	if sendErr != nil {
		w.log.Info("back-channel logout attempt failed", "delivery_id", j.ID, "client_id", j.ClientID,
			"attempt", attempts, "status_code", status, "result", result, "error", sendErr.Error())
	}
	return nil
}

// send signs a logout token and POSTs it; it returns the HTTP status (0
// when there was no response) and nil for a 2xx.
func (w *BackchannelWorker) send(ctx context.Context, j *logoutJob) (int, error) {
	var m ClientMetadata
	if err := json.Unmarshal([]byte(j.ClientMetadata), &m); err != nil {
		return 0, fmt.Errorf("decode client metadata: %w", err)
	}
	token, err := w.logoutToken(ctx, j, m.IDTokenSignedResponseAlg)
	if err != nil {
		return 0, fmt.Errorf("sign logout token: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, w.opts.RequestTimeout)
	defer cancel()
	body := url.Values{"logout_token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.URL, strings.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "orgid")
	resp, err := w.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the row already
		}
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("the relying party answered HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// logoutToken signs the notification's logout token.
func (w *BackchannelWorker) logoutToken(ctx context.Context, j *logoutJob, alg string) (string, error) {
	now := w.now().UTC()
	claims := map[string]any{
		"iss":    w.issuer,
		"aud":    j.ClientID,
		"iat":    now.Unix(),
		"exp":    now.Add(logoutTokenLifetime).Unix(),
		"jti":    id.New("jti"),
		"sub":    j.Subject,
		"sid":    j.SessionID,
		"events": map[string]any{backchannelEvent: map[string]any{}},
	}
	return w.keys.Sign(ctx, alg, claims, map[string]any{"typ": "logout+jwt"})
}

// Prune deletes finished notifications older than the retention period.
func (w *BackchannelWorker) Prune(ctx context.Context) (int64, error) {
	cutoff := w.now().UTC().Add(-w.opts.Retention)
	res, err := w.db.NewDelete().Model((*logoutDeliveryRow)(nil)).
		Where("status <> ?", logoutPending).Where("updated_at < ?", cutoff).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune logout deliveries: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// BackchannelWorker returns a worker for this provider's database, keys,
// issuer and egress client, woken whenever a session ends in this
// process. opts may set the rest (Logger, Registerer, schedule).
func (p *Provider) BackchannelWorker(opts BackchannelOptions) (*BackchannelWorker, error) {
	opts.DB, opts.Keys, opts.Issuer, opts.Kick = p.store.db, p.keys, p.cfg.Issuer, p.logoutKick
	if opts.Client == nil {
		opts.Client = p.egress
	}
	if opts.Now == nil {
		opts.Now = p.now
	}
	return NewBackchannelWorker(opts)
}
