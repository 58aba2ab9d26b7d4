package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// socPeriod is the period measured when the request names no from.
const socPeriod = 30 * 24 * time.Hour

// maxSeriesBuckets bounds a series: 90 days of hours fit, a year of
// minutes does not.
const maxSeriesBuckets = 5000

// MeanJSON is an average duration: over how many alerts, and in seconds.
type MeanJSON struct {
	Count       int64   `json:"count"`
	MeanSeconds float64 `json:"mean_seconds"`
}

// RuleStatsJSON is one rule's alerts in the period.
type RuleStatsJSON struct {
	RuleID            string  `json:"rule_id"`
	Title             string  `json:"title"`
	Alerts            int64   `json:"alerts"`
	Resolved          int64   `json:"resolved"`
	FalsePositives    int64   `json:"false_positives"`
	FalsePositiveRate float64 `json:"false_positive_rate"`
}

// SOCStatsJSON is GET /api/v1/metrics/soc's answer: one tenant's measures,
// or, for a provider's tenant=*, every tenant's together with Tenants
// holding each one's.
type SOCStatsJSON struct {
	Tenant string    `json:"tenant"`
	From   time.Time `json:"from,omitzero"`
	To     time.Time `json:"to"`
	Alerts int64     `json:"alerts"`
	Events int64     `json:"events"`
	MTTD   struct {
		IngestLag    MeanJSON `json:"ingest_lag"`
		DetectionLag MeanJSON `json:"detection_lag"`
		Total        MeanJSON `json:"total"`
	} `json:"mttd"`
	MTTA         MeanJSON                   `json:"mtta"`
	MTTR         MeanJSON                   `json:"mttr"`
	BySeverity   map[string]int64           `json:"by_severity"`
	ByStatus     map[alert.Status]int64     `json:"by_status"`
	ByResolution map[alert.Resolution]int64 `json:"by_resolution"`
	SLABreaches  struct {
		Acknowledge int64 `json:"acknowledge"`
		Resolve     int64 `json:"resolve"`
	} `json:"sla_breaches"`
	// Techniques counts the alerts per ATT&CK technique ("T1059.001")
	// their tags name.
	Techniques map[string]int64 `json:"techniques"`
	// Rules are noisiest first (most false positives, then the highest
	// false-positive rate).
	Rules []RuleStatsJSON `json:"rules"`
	// Series, when the request names a step, counts the alerts per
	// interval of it, oldest first.
	Series  []BucketJSON   `json:"series,omitempty"`
	Tenants []SOCStatsJSON `json:"tenants,omitempty"`
}

// BucketJSON is one interval of a series: the alerts created in [Time,
// Time + step), by severity.
type BucketJSON struct {
	Time       time.Time        `json:"time"`
	Alerts     int64            `json:"alerts"`
	BySeverity map[string]int64 `json:"by_severity"`
}

// series counts alerts per interval of step over [from, to), the
// intervals aligned on multiples of step in UTC (a day starts at
// midnight UTC), the first one holding from.
type series struct {
	from, to, start time.Time
	step            time.Duration
	buckets         []BucketJSON
}

// newSeries returns the series of [from, to) by step, or nil when step
// is 0 (no series asked).
func newSeries(from, to time.Time, step time.Duration) *series {
	if step == 0 {
		return nil
	}
	s := &series{from: from, to: to, start: from.UTC().Truncate(step), step: step}
	for t := s.start; t.Before(to); t = t.Add(step) {
		s.buckets = append(s.buckets, BucketJSON{Time: t, BySeverity: map[string]int64{}})
	}
	return s
}

func (s *series) add(a alert.Alert) {
	if s == nil || a.Created.Before(s.from) || !a.Created.Before(s.to) {
		return
	}
	b := &s.buckets[a.Created.Sub(s.start)/s.step]
	b.Alerts++
	b.BySeverity[a.Level]++
}

func (s *series) json() []BucketJSON {
	if s == nil {
		return nil
	}
	return s.buckets
}

// parseStep reads a series' step (1h, 1d, 15m: at least a minute), and
// checks [from, to) has at most maxSeriesBuckets of them; "" is none.
func parseStep(v string, from, to time.Time) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	step, err := parseDuration(v)
	if err != nil || step < time.Minute {
		return 0, fmt.Errorf("%q is not a duration of at least a minute (15m, 1h, 1d)", v)
	}
	if n := to.Sub(from.UTC().Truncate(step))/step + 1; n > maxSeriesBuckets {
		return 0, fmt.Errorf("%d intervals of %s; at most %d", n, v, maxSeriesBuckets)
	}
	return step, nil
}

func meanJSON(m alert.Mean) MeanJSON {
	return MeanJSON{Count: m.Count, MeanSeconds: m.Value.Seconds()}
}

// NewSOCStatsJSON shows st as the API does.
func NewSOCStatsJSON(t string, st alert.Stats) SOCStatsJSON {
	j := SOCStatsJSON{
		Tenant: t, From: st.From, To: st.To, Alerts: st.Alerts, Events: st.Events,
		MTTA: meanJSON(st.Acknowledge), MTTR: meanJSON(st.Resolve),
		BySeverity: st.ByLevel, ByStatus: st.ByStatus, ByResolution: st.ByResolution, Techniques: st.Techniques,
		Rules: make([]RuleStatsJSON, 0, len(st.Rules)),
	}
	if j.Techniques == nil {
		j.Techniques = map[string]int64{}
	}
	j.MTTD.IngestLag, j.MTTD.DetectionLag, j.MTTD.Total = meanJSON(st.IngestLag), meanJSON(st.DetectionLag), meanJSON(st.Detect)
	j.SLABreaches.Acknowledge, j.SLABreaches.Resolve = st.SLA.Acknowledge, st.SLA.Resolve
	for _, r := range st.Rules {
		j.Rules = append(j.Rules, RuleStatsJSON(r))
	}
	return j
}

// getSOCMetrics is GET /api/v1/metrics/soc?tenant=&from=&to=&step=: MTTD
// (ingest and detection lag), MTTA, MTTR, volumes, false-positive rate
// per rule, ATT&CK techniques and SLA breaches over the alerts created in
// [from, to) (default: the last 30 days), scoped like the alerts list;
// with step, also the alerts per interval by severity.
func (a *API) getSOCMetrics(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	q := r.URL.Query()
	now := a.d.Alerts.Now()
	from, err := parseTime(q.Get("from"), now)
	if err != nil {
		return badRequest("from: " + err.Error())
	}
	to, err := parseTime(q.Get("to"), now)
	if err != nil {
		return badRequest("to: " + err.Error())
	}
	if q.Get("from") == "" {
		from = now.Add(-socPeriod)
	}
	if to.IsZero() {
		to = now
	}
	if !from.Before(to) {
		return badRequest("from must be before to")
	}
	step, err := parseStep(q.Get("step"), from, to)
	if err != nil {
		return badRequest("step: " + err.Error())
	}
	ids, err := a.scope(r, p, "metrics.soc.read")
	if err != nil {
		return err
	}
	cfg := a.d.Alerts.Config()
	total, totalSeries := alert.NewMeter(from, to, &cfg, now), newSeries(from, to, step)
	var per []SOCStatsJSON
	for _, t := range ids {
		m, ser := alert.NewMeter(from, to, &cfg, now), newSeries(from, to, step)
		if err := measureTenant(r.Context(), a.d.Alerts, t, from, to, func(al alert.Alert) {
			m.Add(al)
			total.Add(al)
			ser.add(al)
			totalSeries.add(al)
		}); err != nil {
			return err
		}
		j := NewSOCStatsJSON(string(t), m.Stats())
		j.Series = ser.json()
		per = append(per, j)
	}
	requested := q.Get("tenant")
	if requested != auth.AllTenants {
		writeJSON(w, http.StatusOK, per[0])
		return nil
	}
	out := NewSOCStatsJSON(auth.AllTenants, total.Stats())
	out.Series = totalSeries.json()
	sort.Slice(per, func(i, j int) bool { return per[i].Tenant < per[j].Tenant })
	out.Tenants = per
	if out.Tenants == nil {
		out.Tenants = []SOCStatsJSON{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// measureTenant hands fn tenant t's alerts created in [from, to), with
// their times and triage state only.
func measureTenant(ctx context.Context, as Alerts, t tenant.ID, from, to time.Time, fn func(alert.Alert)) error {
	err := as.AlertTimes(ctx, t, from, to, func(al alert.Alert) error {
		fn(al)
		return nil
	})
	if err != nil {
		return fmt.Errorf("alerts of %s: %w", t, err)
	}
	return nil
}

// OpenAlertCounter counts every tenant's open alerts by level and status
// (a tenant without any: one alert.Tally with no level or status).
type OpenAlertCounter interface {
	OpenAlertCounts(ctx context.Context) ([]alert.Tally, error)
}

// MetricAlertsOpen is the /metrics gauge of open alerts (new,
// acknowledged, in-progress) by tenant, level and status.
const MetricAlertsOpen = "tarian_alerts_open"

// openStatuses are the statuses MetricAlertsOpen shows.
var openStatuses = []alert.Status{alert.StatusNew, alert.StatusAcknowledged, alert.StatusInProgress}

// AlertGauges returns a metrics writer (metrics.Registry.Writer) that
// writes MetricAlertsOpen at each scrape from one store query, with a 0
// for every level and open status a tenant has none of. On a store error
// it writes nothing, so the gauges go stale rather than wrong.
func AlertGauges(s OpenAlertCounter) func(w io.Writer) {
	return func(w io.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		ts, err := s.OpenAlertCounts(ctx)
		if err != nil {
			return
		}
		writeAlertGauges(w, ts)
	}
}

func writeAlertGauges(w io.Writer, ts []alert.Tally) {
	type key struct {
		t      tenant.ID
		level  string
		status alert.Status
	}
	n := map[key]int64{}
	var tenants []tenant.ID
	for _, t := range ts {
		if len(tenants) == 0 || tenants[len(tenants)-1] != t.Tenant {
			tenants = append(tenants, t.Tenant)
		}
		n[key{t.Tenant, t.Level, t.Status}] += t.Alerts
	}
	slices.Sort(tenants)
	tenants = slices.Compact(tenants)
	var b []byte
	for _, t := range tenants {
		for _, l := range strings.Split(alert.Levels, ", ") {
			for _, st := range openStatuses {
				b = fmt.Appendf(b, "%s{tenant=%q,level=%q,status=%q} %d\n", MetricAlertsOpen, t, l, st, n[key{t, l, st}])
			}
		}
	}
	_, _ = w.Write(b)
}
