package webhook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/orgid/orgid/storage"
)

// Delivery results counted by orgid_webhook_deliveries_total, one per
// attempt: "success" (2xx), "retry" (failed, another attempt is scheduled)
// and "failed" (failed for good: schedule exhausted, 410 Gone, or the
// endpoint was disabled).
const (
	metricSuccess = "success"
	metricRetry   = "retry"
	metricFailed  = "failed"
)

// metrics are the worker's Prometheus collectors. The queue gauges are set
// by the worker from one cheap indexed query every QueueMetricsInterval
// rather than by a collector querying on each scrape: scrapes stay free and
// every replica reports the same database-wide numbers (aggregate with max).
type metrics struct {
	deliveries *prometheus.CounterVec
	duration   prometheus.Histogram
	queueDepth prometheus.Gauge
	oldestAge  prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orgid_webhook_deliveries_total",
			Help: "Webhook delivery attempts by result (success, retry, failed).",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "orgid_webhook_delivery_duration_seconds",
			Help:    "Time from sending a webhook request to the end of reading its response.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15},
		}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "orgid_webhook_queue_depth",
			Help: "Webhook deliveries pending (due now or scheduled for a retry).",
		}),
		oldestAge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "orgid_webhook_oldest_pending_age_seconds",
			Help: "Age of the oldest pending webhook delivery since it was queued (0 when none).",
		}),
	}
	for _, r := range []string{metricSuccess, metricRetry, metricFailed} {
		m.deliveries.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.deliveries, err = register(reg, m.deliveries)
	if err != nil {
		return nil, err
	}
	if m.duration, err = register(reg, m.duration); err != nil {
		return nil, err
	}
	if m.queueDepth, err = register(reg, m.queueDepth); err != nil {
		return nil, err
	}
	if m.oldestAge, err = register(reg, m.oldestAge); err != nil {
		return nil, err
	}
	return m, nil
}

// register adds c to reg, or returns the collector already registered
// under its name, so that two workers in one process share their metrics.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	if err != nil {
		var zero C
		return zero, fmt.Errorf("register webhook metrics: %w", err)
	}
	return c, nil
}

// RefreshQueueMetrics sets the queue depth and oldest-pending-age gauges
// from the database. Run calls it every QueueMetricsInterval.
func (w *Worker) RefreshQueueMetrics(ctx context.Context) error {
	conn := storage.Conn(ctx, w.db)
	n, err := conn.NewSelect().Model((*deliveryRow)(nil)).Where("status = ?", StatusPending).Count(ctx)
	if err != nil {
		return fmt.Errorf("count pending deliveries: %w", err)
	}
	var oldest []time.Time
	if err := conn.NewSelect().Model((*deliveryRow)(nil)).Column("queued_at").
		Where("status = ?", StatusPending).Order("queued_at").Limit(1).Scan(ctx, &oldest); err != nil {
		return fmt.Errorf("oldest pending delivery: %w", err)
	}
	w.metrics.queueDepth.Set(float64(n))
	age := 0.0
	if len(oldest) > 0 {
		age = max(w.now().Sub(oldest[0]).Seconds(), 0)
	}
	w.metrics.oldestAge.Set(age)
	return nil
}
