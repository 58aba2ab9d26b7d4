package server

import (
	"context"
	"errors"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// Retention metrics: what the retention job deleted, per tenant.
const (
	MetricRetentionEvents      = "tarian_retention_deleted_events_total"
	MetricRetentionRawDays     = "tarian_retention_deleted_raw_days_total"
	MetricRetentionDeadLetters = "tarian_retention_deleted_dead_letters_total"
	MetricRetentionRuns        = "tarian_retention_runs_total"
	// What the alerts forgot (alerts.event_memory): the marks of counted
	// events and the entities last seen by an incident, every tenant.
	MetricRetentionAlertEvents   = "tarian_retention_forgotten_alert_events_total"
	MetricRetentionAlertEntities = "tarian_retention_forgotten_alert_entities_total"
	MetricRetentionErrors        = "tarian_retention_errors_total"
)

// Deleted is what retention deleted for one tenant.
type Deleted struct {
	Tenant      tenant.ID `json:"tenant"`
	Events      int       `json:"events"`
	RawDays     int       `json:"raw_days"`
	DeadLetters int64     `json:"dead_letters"`
}

// runRetention applies retention at start and every retention.interval
// (as the configuration reloaded last says) until ctx is done.
func (s *Server) runRetention(ctx context.Context) {
	for {
		if _, err := s.ApplyRetention(ctx, time.Now()); err != nil && ctx.Err() == nil {
			s.log.Error("retention", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.reloaded().Retention.Interval):
		}
	}
}

// ApplyRetention deletes, for every tenant with a retention of its own
// (config retention, over events.retention), what is older than it at
// now: events by their stored time, raw archive days (the days records
// were received) that ended before the cut-off (raw, else events), dead
// letters by when they were received; and for every tenant, the alerts'
// memory of counted events and seen entities older than
// alerts.event_memory. Each tenant's
// deletion is scoped to it; running it again deletes nothing more. It
// goes on past a tenant that fails and returns every error joined, with
// what it did delete.
func (s *Server) ApplyRetention(ctx context.Context, now time.Time) ([]Deleted, error) {
	// One run at a time, and none during a removal.
	s.removeMu.Lock()
	defer s.removeMu.Unlock()
	ts, err := s.db.Tenants(ctx)
	if err != nil {
		return nil, err
	}
	s.metrics.Inc(MetricRetentionRuns)
	retention := s.reloaded().Retention
	var out []Deleted
	var errs []error
	for _, tn := range ts {
		keep := retention.For(tn.ID)
		d := Deleted{Tenant: tn.ID}
		fail := func(kind string, err error) {
			s.metrics.Inc(MetricRetentionErrors)
			s.log.Error("retention failed", "tenant", tn.ID, "kind", kind, "err", err)
			errs = append(errs, err)
		}
		if keep.Events > 0 {
			n, err := s.events.Delete(ctx, tn.ID, now.Add(-keep.Events))
			d.Events = n
			if err != nil {
				fail("events", err)
			}
			s.metrics.Count(MetricRetentionEvents, tn.ID, n)
		}
		if raw := keep.RawOrEvents(); raw > 0 {
			n, err := s.raw.DropBefore(tn.ID, now.Add(-raw))
			d.RawDays = n
			if err != nil {
				fail("raw", err)
			}
			s.metrics.Count(MetricRetentionRawDays, tn.ID, n)
		}
		if keep.DeadLetters > 0 {
			n, err := s.db.DeleteDeadLettersBefore(ctx, tn.ID, now.Add(-keep.DeadLetters))
			d.DeadLetters = n
			if err != nil {
				fail("dead_letters", err)
			}
			s.metrics.Count(MetricRetentionDeadLetters, tn.ID, int(n))
		}
		if d.Events > 0 || d.RawDays > 0 || d.DeadLetters > 0 {
			s.log.Info("retention deleted", "tenant", tn.ID, "events", d.Events, "raw_days", d.RawDays, "dead_letters", d.DeadLetters,
				"events_before", cutoff(now, keep.Events), "raw_before", cutoff(now, keep.RawOrEvents()), "dead_letters_before", cutoff(now, keep.DeadLetters))
		}
		if keep.Events > 0 || keep.RawOrEvents() > 0 || keep.DeadLetters > 0 {
			out = append(out, d)
		}
	}
	// The alerts' own bookkeeping, for every tenant alike: which events
	// each rule counted and which incident saw an entity last, older than
	// alerts.event_memory. The alerts stay.
	events, entities, err := s.alerts.Forget(ctx, now)
	if err != nil {
		s.metrics.Inc(MetricRetentionErrors)
		s.log.Error("retention failed", "kind", "alert_memory", "err", err)
		errs = append(errs, err)
	}
	s.metrics.Add(MetricRetentionAlertEvents, int(events))
	s.metrics.Add(MetricRetentionAlertEntities, int(entities))
	if events > 0 || entities > 0 {
		s.log.Info("retention: alerts forgot old events and entities", "events", events, "entities", entities,
			"before", now.Add(-s.alerts.Config().EventMemory).UTC().Format(time.RFC3339))
	}
	return out, errors.Join(errs...)
}

// cutoff is now-d as logged, or "" when d keeps everything.
func cutoff(now time.Time, d time.Duration) string {
	if d == 0 {
		return ""
	}
	return now.Add(-d).UTC().Format(time.RFC3339)
}
