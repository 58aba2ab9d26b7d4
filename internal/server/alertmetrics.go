package server

import (
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// observer records per-tenant durations (metrics.Registry).
type observer interface {
	Observe(name string, t tenant.ID, v float64)
}

// observeAlerts records the SOC's times per tenant as alerts change, for
// /metrics: time to detect (split into ingest and detection lag) when an
// alert is raised, to acknowledge when it first leaves new, to resolve
// when it is resolved. GET /api/v1/metrics/soc computes the same over any
// period from the store.
func observeAlerts(m observer, cs []alert.Change) {
	for _, c := range cs {
		a := c.Alert
		switch {
		case c.What == alert.ChangeCreated:
			if !a.EventTime.IsZero() {
				m.Observe("tarian_alert_time_to_detect_seconds", a.Tenant, seconds(a.Created.Sub(a.EventTime)))
			}
			if !a.Received.IsZero() {
				if !a.EventTime.IsZero() {
					m.Observe("tarian_alert_ingest_lag_seconds", a.Tenant, seconds(a.Received.Sub(a.EventTime)))
				}
				m.Observe("tarian_alert_detection_lag_seconds", a.Tenant, seconds(a.Created.Sub(a.Received)))
			}
		case c.What == alert.ChangeUpdated:
		default:
			// Apply sets Acknowledged and Updated together the first time.
			if !a.Acknowledged.IsZero() && a.Acknowledged.Equal(a.Updated) {
				m.Observe("tarian_alert_time_to_acknowledge_seconds", a.Tenant, seconds(a.Acknowledged.Sub(a.Created)))
			}
			if c.What == alert.VerbResolve {
				m.Observe("tarian_alert_time_to_resolve_seconds", a.Tenant, seconds(a.Resolved.Sub(a.Created)))
			}
		}
	}
}

// seconds is d in seconds, never negative (an event clock ahead of ours).
func seconds(d time.Duration) float64 { return max(0, d.Seconds()) }
