package recovery

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the sweep's and the reconcile's Prometheus series. The server registers
// them on its registry (Collectors).
type Metrics struct {
	sweeps       *prometheus.CounterVec
	listed       prometheus.Counter
	failed       prometheus.Counter
	redeliveries *prometheus.CounterVec
	skipped      *prometheus.CounterVec
	lastSweep    prometheus.Gauge

	reconciles    *prometheus.CounterVec
	installations prometheus.Gauge
	changes       *prometheus.CounterVec
	lastReconcile prometheus.Gauge
}

// NewMetrics creates the series, unregistered.
func NewMetrics() *Metrics {
	return &Metrics{
		sweeps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "escapegate_recovery_sweeps_total", Help: "Sweeps of the webhook delivery log, by outcome (ok, error, skipped: another replica had the slot).",
		}, []string{"outcome"}),
		listed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "escapegate_recovery_deliveries_listed_total", Help: "Entries of the webhook delivery log listed by sweeps.",
		}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "escapegate_recovery_failed_deliveries_total", Help: "Deliveries (GUIDs) found with a failed attempt, per sweep (one listed by two sweeps counts twice).",
		}),
		redeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "escapegate_recovery_redeliveries_total", Help: "Redeliveries of failed deliveries asked of GitHub, by outcome (requested, error).",
		}, []string{"outcome"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "escapegate_recovery_skipped_total", Help: "Failed deliveries a sweep did not redeliver, by reason (delivered_later, seen, event, pending, attempts, bound, rate_limited); per sweep.",
		}, []string{"reason"}),
		lastSweep: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "escapegate_recovery_last_sweep_timestamp_seconds", Help: "When this process last completed a sweep (Unix time).",
		}),
		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "escapegate_installations_reconciles_total", Help: "Reconciles of installations with GitHub's list, by outcome (ok, error, skipped).",
		}, []string{"outcome"}),
		installations: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "escapegate_installations_listed", Help: "Installations GitHub listed at the last reconcile.",
		}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "escapegate_installations_changes_total", Help: "Store records changed by reconciles, by change (installation_added, installation_updated, installation_deleted, repository_added, repository_removed).",
		}, []string{"change"}),
		lastReconcile: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "escapegate_installations_last_reconcile_timestamp_seconds", Help: "When this process last completed a reconcile (Unix time).",
		}),
	}
}

// Collectors returns every series, for a registry's Register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.sweeps, m.listed, m.failed, m.redeliveries, m.skipped, m.lastSweep,
		m.reconciles, m.installations, m.changes, m.lastReconcile}
}
