// Package metrics is a server's own Prometheus registry: per-tenant
// counters and gauges, exposed in the text format at /metrics. Each server
// has its own Registry (no global state), so parallel test servers stay
// apart.
package metrics

import (
	"fmt"
	"io"

	vm "github.com/VictoriaMetrics/metrics"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// Registry holds one server's metrics.
type Registry struct {
	set *vm.Set
}

// New returns an empty registry.
func New() *Registry { return &Registry{set: vm.NewSet()} }

// Count adds n to the counter name{tenant=t}.
func (r *Registry) Count(name string, t tenant.ID, n int) {
	r.set.GetOrCreateCounter(fmt.Sprintf("%s{tenant=%q}", name, t)).Add(n)
}

// Observe records v in the histogram name{tenant=t} (VictoriaMetrics
// log-scale buckets: name_bucket{vmrange=...}, name_sum, name_count).
func (r *Registry) Observe(name string, t tenant.ID, v float64) {
	r.set.GetOrCreateHistogram(fmt.Sprintf("%s{tenant=%q}", name, t)).Update(v)
}

// Inc adds one to the counter name (a full metric name with labels).
func (r *Registry) Inc(name string) { r.set.GetOrCreateCounter(name).Inc() }

// Add adds n to the counter name (a full metric name with labels).
func (r *Registry) Add(name string, n int) { r.set.GetOrCreateCounter(name).Add(n) }

// Gauge registers name with a function read at each scrape. Registering a
// name twice keeps the first function.
func (r *Registry) Gauge(name string, f func() float64) {
	r.set.GetOrCreateGauge(name, f)
}

// Writer registers f to write metrics whose labels are known only at
// scrape time (one store query for many series), in the Prometheus text
// format, at each Write.
func (r *Registry) Writer(f func(w io.Writer)) { r.set.RegisterMetricsWriter(f) }

// Write writes every metric in the Prometheus text format.
func (r *Registry) Write(w io.Writer) { r.set.WritePrometheus(w) }
