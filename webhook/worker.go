package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"

	"github.com/orgid/orgid/internal/egress"
	"github.com/orgid/orgid/internal/secret"
	"github.com/orgid/orgid/storage"
)

// Worker defaults.
const (
	DefaultConcurrency          = 4
	DefaultLease                = 2 * time.Minute
	DefaultPollInterval         = time.Second
	DefaultRequestTimeout       = 15 * time.Second
	DefaultDisableAfter         = 5 * 24 * time.Hour
	DefaultQueueMetricsInterval = 15 * time.Second
	pruneInterval               = time.Hour
	// MaxStoredResponseBytes is how much of a response body an attempt
	// records.
	MaxStoredResponseBytes = 4 << 10
	// maxDrainBytes is how much more of a response is read, and dropped,
	// so that the connection can be reused.
	maxDrainBytes = 64 << 10
)

// WorkerOptions configure NewWorker. DB and Keys are required.
type WorkerOptions struct {
	DB   *bun.DB
	Keys *secret.Keyring
	// Client sends the requests. Nil means an internal/egress client that
	// refuses private and loopback destinations unless AllowPrivate is set.
	// A client given here must not follow redirects.
	Client *http.Client
	// AllowPrivate lets the default client reach loopback and private
	// networks (--webhook-allow-private, for tests and development).
	AllowPrivate bool
	// Concurrency is the number of requests in flight at once.
	Concurrency int
	// Lease is how long a claimed delivery stays reserved for this worker;
	// if the worker dies, another claims it after the lease. It must exceed
	// RequestTimeout.
	Lease time.Duration
	// PollInterval is how often Run looks for due deliveries when idle.
	PollInterval time.Duration
	// RequestTimeout bounds one attempt: success is a 2xx within it.
	RequestTimeout time.Duration
	// RetrySchedule is the delay before each retry (DefaultRetrySchedule
	// when nil); after len(RetrySchedule)+1 failed attempts a delivery
	// fails.
	RetrySchedule []time.Duration
	// DisableAfter disables an endpoint whose attempts have all failed for
	// this long.
	DisableAfter time.Duration
	// QueueMetricsInterval is how often Run refreshes the queue gauges.
	QueueMetricsInterval time.Duration
	// Retention is how long Run keeps messages that have nothing left to
	// deliver (DefaultRetention when zero; negative keeps them forever).
	// Run prunes once an hour.
	Retention time.Duration
	// Now is the clock for due times, leases and records (time.Now when
	// nil). Latency is measured with the monotonic clock regardless.
	Now func() time.Time
	// Rand returns uniform values in [0, 1) for retry jitter
	// (math/rand/v2.Float64 when nil).
	Rand func() float64
	// Logger receives one line per failed attempt and per disabled
	// endpoint (never bodies or secrets); nil discards.
	Logger *slog.Logger
	// Registerer receives the metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
}

// Worker delivers pending messages. Any number of workers, in one process
// or in several replicas, may run against one database.
type Worker struct {
	db       *bun.DB
	keys     *secret.Keyring
	client   *http.Client
	opts     WorkerOptions
	schedule []time.Duration
	now      func() time.Time
	rand     func() float64
	log      *slog.Logger
	metrics  *metrics
}

// NewWorker checks opts, fills defaults and registers the metrics.
func NewWorker(opts WorkerOptions) (*Worker, error) {
	if opts.DB == nil || opts.Keys == nil {
		return nil, errors.New("webhook worker: DB and Keys are required")
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.Lease <= opts.RequestTimeout {
		return nil, fmt.Errorf("webhook worker: lease %s must exceed the request timeout %s", opts.Lease, opts.RequestTimeout)
	}
	if opts.DisableAfter <= 0 {
		opts.DisableAfter = DefaultDisableAfter
	}
	if opts.Retention == 0 {
		opts.Retention = DefaultRetention
	}
	if opts.QueueMetricsInterval <= 0 {
		opts.QueueMetricsInterval = DefaultQueueMetricsInterval
	}
	if opts.Client == nil {
		opts.Client = egress.NewClient(egress.Options{
			AllowPrivate:     opts.AllowPrivate,
			Timeout:          opts.RequestTimeout,
			MaxResponseBytes: MaxStoredResponseBytes + maxDrainBytes,
		})
	}
	schedule := opts.RetrySchedule
	if schedule == nil {
		schedule = DefaultRetrySchedule()
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Float64
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	return &Worker{
		db: opts.DB, keys: opts.Keys, client: opts.Client, opts: opts,
		schedule: schedule, now: now, rand: rnd, log: logger, metrics: m,
	}, nil
}

// Run delivers until ctx is cancelled, then stops claiming, lets the
// attempts in flight finish and be recorded (each is bounded by the
// request timeout) and returns nil. Nothing is lost when the process dies
// instead: a claimed delivery is claimed again once its lease expires.
func (w *Worker) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	inFlight := make(chan struct{}, w.opts.Concurrency)
	done := make(chan struct{}, 1) // an attempt finished: a slot is free
	var lastMetrics, lastPrune time.Time
	for {
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(lastMetrics) >= w.opts.QueueMetricsInterval {
			if err := w.RefreshQueueMetrics(ctx); err != nil && ctx.Err() == nil {
				w.log.Warn("webhook queue metrics", "error", err)
			}
			lastMetrics = time.Now()
		}
		if w.opts.Retention > 0 && time.Since(lastPrune) >= pruneInterval {
			svc := NewService(w.db, w.keys, ServiceOptions{Now: w.now})
			if n, err := svc.Prune(ctx, w.now().Add(-w.opts.Retention)); err != nil && ctx.Err() == nil {
				w.log.Warn("webhook prune", "error", err)
			} else if n > 0 {
				w.log.Info("webhook messages pruned", "count", n)
			}
			lastPrune = time.Now()
		}
		free := cap(inFlight) - len(inFlight)
		var claimed []job
		if free > 0 {
			var err error
			claimed, err = w.claim(ctx, free)
			if err != nil && ctx.Err() == nil {
				w.log.Error("webhook claim", "error", err)
			}
		}
		for _, j := range claimed {
			inFlight <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Finish the attempt even when ctx ends: its result is
				// recorded, not lost.
				_ = w.process(context.WithoutCancel(ctx), j)
				<-inFlight
				select {
				case done <- struct{}{}:
				default:
				}
			}()
		}
		if free > 0 && len(claimed) == free {
			continue // there may be more due right now
		}
		timer := time.NewTimer(w.opts.PollInterval)
		select {
		case <-ctx.Done():
		case <-timer.C:
		case <-done:
		}
		timer.Stop()
	}
}

// RunOnce claims up to Concurrency due deliveries, attempts them in
// parallel, records the results and returns how many it attempted. Tests
// and tools drive the worker with it, one step at a time.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	jobs, err := w.claim(ctx, w.opts.Concurrency)
	if err != nil {
		return 0, err
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.process(ctx, j)
		}()
	}
	wg.Wait()
	return len(jobs), errors.Join(errs...)
}

// process makes one attempt and records it.
func (w *Worker) process(ctx context.Context, j job) error {
	o := w.send(ctx, j)
	w.metrics.duration.Observe(o.duration.Seconds())
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := w.record(ctx, j, o)
	if errors.Is(err, errLeaseLost) || errors.Is(err, storage.ErrNotFound) {
		// Another worker took over after this one's lease expired, or the
		// endpoint was deleted meanwhile: nothing left to record here.
		w.log.Warn("webhook attempt not recorded", "delivery_id", j.DeliveryID, "message_id", j.MessageID,
			"endpoint_id", j.EndpointID, "reason", err.Error())
		return nil
	}
	if err != nil {
		w.log.Error("webhook record attempt", "delivery_id", j.DeliveryID, "message_id", j.MessageID,
			"endpoint_id", j.EndpointID, "error", err)
		return fmt.Errorf("record attempt of delivery %q: %w", j.DeliveryID, err)
	}
	w.metrics.deliveries.WithLabelValues(res.metric).Inc()
	attrs := []any{"delivery_id", j.DeliveryID, "message_id", j.MessageID, "endpoint_id", j.EndpointID,
		"event_type", j.EventType, "attempt", res.attempt, "status_code", o.statusCode,
		"duration_ms", o.duration.Milliseconds(), "result", res.metric}
	switch {
	case o.success:
		w.log.Debug("webhook delivered", attrs...)
	case res.next.IsZero():
		w.log.Warn("webhook delivery failed", append(attrs, "error", o.errText)...)
	default:
		w.log.Info("webhook attempt failed", append(attrs, "error", o.errText, "next_attempt_at", res.next)...)
	}
	if res.disabled != "" {
		w.log.Warn("webhook endpoint disabled", "endpoint_id", j.EndpointID, "reason", res.disabled)
	}
	return nil
}

// drain reads and drops what is left of a response, up to a bound, so the
// connection can be reused.
func drain(r io.Reader) {
	_, _ = io.CopyN(io.Discard, r, maxDrainBytes)
}
