package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/escapegate/escapegate/store"
)

// metrics are escapegate's Prometheus series, on a registry of the server's own.
type metrics struct {
	reg      *prometheus.Registry
	received *prometheus.CounterVec
	handled  *prometheus.CounterVec
	duration *prometheus.HistogramVec
	queued   prometheus.Gauge
	rejected *prometheus.CounterVec
	inbox    *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "escapegate_webhooks_received_total", Help: "Webhook deliveries accepted for processing, by event.",
		}, []string{"event"}),
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "escapegate_webhooks_handled_total", Help: "Webhook deliveries handled, by event and outcome (ok, error).",
		}, []string{"event", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "escapegate_webhook_handle_seconds", Help: "Time to handle one webhook delivery, by event.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"event"}),
		queued: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "escapegate_queue_depth", Help: "Webhook deliveries waiting or in progress.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "escapegate_webhooks_rejected_total", Help: "Webhook deliveries refused, by reason (invalid, capacity, error).",
		}, []string{"reason"}),
		inbox: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "escapegate_inbox_events_total", Help: "What the durable inbox did with deliveries: accepted, duplicate, handled, retried, dead.",
		}, []string{"kind"}),
	}
	m.reg.MustRegister(m.received, m.handled, m.duration, m.queued, m.rejected, m.inbox,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) startEvent(event string) func(error) {
	start := time.Now()
	m.received.WithLabelValues(event).Inc()
	return func(err error) {
		m.duration.WithLabelValues(event).Observe(time.Since(start).Seconds())
		outcome := "ok"
		if err != nil {
			outcome = "error"
		}
		m.handled.WithLabelValues(event, outcome).Inc()
	}
}

// watchInbox exports the inbox's load (load may be nil: River's is in the database) and
// its dead letters, read at each scrape.
func (m *metrics) watchInbox(load func() (pending, running int), count func(context.Context) (map[string]int, error)) {
	read := func(state string) func() float64 {
		return func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			n, err := count(ctx)
			if err != nil {
				return -1
			}
			return float64(n[state])
		}
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "escapegate_inbox_pending", Help: "Deliveries accepted and not yet handled (waiting, running or in backoff).",
		}, read(store.DeliveryPending)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "escapegate_inbox_dead_letters", Help: "Deliveries that gave up after their attempts (escapegate deliveries lists them).",
		}, read(store.DeliveryDead)),
	)
	if load != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "escapegate_inbox_running", Help: "Deliveries being handled now by this process.",
		}, func() float64 { _, r := load(); return float64(r) }))
	}
}

// RegisterMetrics serves other packages' series (app/recovery's) on /metrics too.
func (s *Server) RegisterMetrics(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := s.metrics.reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
