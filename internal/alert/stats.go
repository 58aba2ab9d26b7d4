package alert

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// Tally is how many of a tenant's stored alerts have one level and
// status (the /metrics gauges).
type Tally struct {
	Tenant tenant.ID
	Level  string
	Status Status
	Alerts int64
}

// Stats are a SOC's service measures over the alerts created in a period.
type Stats struct {
	// From and To bound the alerts' Created: [From, To); zero is unbounded.
	From, To time.Time
	// Alerts is how many alerts were created; Events how many events they
	// stand for.
	Alerts, Events int64
	// MTTD, split: IngestLag is Received − EventTime (the event reaching
	// Tarian), DetectionLag Created − Received (Tarian raising the alert),
	// Detect Created − EventTime (both). Alerts without the times are
	// left out; a negative lag (an event clock ahead of Tarian's) counts
	// as 0.
	IngestLag, DetectionLag, Detect Mean
	// Acknowledge (MTTA) is Acknowledged − Created over the alerts
	// acknowledged; Resolve (MTTR) Resolved − Created over those resolved.
	Acknowledge, Resolve Mean
	// Volumes by level, status and resolution.
	ByLevel      map[string]int64
	ByStatus     map[Status]int64
	ByResolution map[Resolution]int64
	// Techniques counts the alerts per ATT&CK technique their tags name
	// ("attack.t1059.001" → "T1059.001"); nil when none names one.
	Techniques map[string]int64
	// Rules are the alerts per rule, noisiest first: most false positives,
	// then the highest false-positive rate, then most alerts.
	Rules []RuleStats
	// SLA counts the alerts past their service level when measured.
	SLA SLABreaches
}

// Mean is an average duration over Count values (zero when Count is 0).
type Mean struct {
	Count int64
	Value time.Duration
}

// RuleStats are one rule's alerts in a period.
type RuleStats struct {
	RuleID string
	// Title is the rule's title on its latest alert.
	Title  string
	Alerts int64
	// Resolved alerts, of which FalsePositives were resolved as
	// false-positive; FalsePositiveRate is FalsePositives ÷ Resolved (0
	// when none is resolved).
	Resolved, FalsePositives int64
	FalsePositiveRate        float64
}

// SLABreaches count alerts acknowledged, or resolved, later than their
// service level allows (or not yet, and already late).
type SLABreaches struct {
	Acknowledge int64 `json:"acknowledge"`
	Resolve     int64 `json:"resolve"`
}

// Meter accumulates Stats one alert at a time, so that a period's alerts
// can be read a page at a time.
type Meter struct {
	cfg                     *Config
	now                     time.Time
	st                      Stats
	ingest, detection, both sum
	ack, resolve            sum
	rules                   map[string]*RuleStats
	titleAt                 map[string]time.Time
	// techniques counts alerts by technique number ("1059.001").
	techniques map[string]int64
}

// sum adds durations without overflow (a million alerts a day late each
// is beyond an int64 of nanoseconds): whole seconds and the nanoseconds
// left, kept apart.
type sum struct{ n, secs, nanos int64 }

func (s *sum) add(d time.Duration) {
	d = max(d, 0)
	s.n++
	s.secs += int64(d / time.Second)
	s.nanos += int64(d % time.Second)
}

func (s sum) mean() Mean {
	if s.n == 0 {
		return Mean{}
	}
	// secs/n whole seconds, plus the remainder's and the nanoseconds'
	// share, truncated to the nanosecond.
	rest := (s.secs%s.n)*int64(time.Second) + s.nanos
	return Mean{Count: s.n, Value: time.Duration(s.secs/s.n)*time.Second + time.Duration(rest/s.n)}
}

// NewMeter measures the alerts created in [from, to) (zero: unbounded).
// With cfg, it counts service-level breaches as of now.
func NewMeter(from, to time.Time, cfg *Config, now time.Time) *Meter {
	return &Meter{
		cfg: cfg, now: now,
		st: Stats{
			From: from, To: to,
			ByLevel: map[string]int64{}, ByStatus: map[Status]int64{}, ByResolution: map[Resolution]int64{},
		},
		rules: map[string]*RuleStats{}, titleAt: map[string]time.Time{},
	}
}

// Add counts a, if it was created in the period.
func (m *Meter) Add(a Alert) {
	if !m.st.From.IsZero() && a.Created.Before(m.st.From) || !m.st.To.IsZero() && !a.Created.Before(m.st.To) {
		return
	}
	m.st.Alerts++
	m.st.Events += a.Count
	if !a.EventTime.IsZero() && !a.Received.IsZero() {
		m.ingest.add(a.Received.Sub(a.EventTime))
	}
	if !a.Received.IsZero() {
		m.detection.add(a.Created.Sub(a.Received))
	}
	if !a.EventTime.IsZero() {
		m.both.add(a.Created.Sub(a.EventTime))
	}
	if !a.Acknowledged.IsZero() {
		m.ack.add(a.Acknowledged.Sub(a.Created))
	}
	resolved := a.Status == StatusResolved && !a.Resolved.IsZero()
	if resolved {
		m.resolve.add(a.Resolved.Sub(a.Created))
		m.st.ByResolution[a.Resolution]++
	}
	m.st.ByLevel[a.Level]++
	m.st.ByStatus[a.Status]++
	for i, tag := range a.Tags {
		if id, ok := technique(tag); ok && !slices.ContainsFunc(a.Tags[:i], func(t string) bool { p, _ := technique(t); return p == id }) { // each once
			if m.techniques == nil {
				m.techniques = map[string]int64{}
			}
			m.techniques[id]++
		}
	}
	r := m.rules[a.RuleID]
	if r == nil {
		r = &RuleStats{RuleID: a.RuleID}
		m.rules[a.RuleID] = r
	}
	if !a.Created.Before(m.titleAt[a.RuleID]) {
		r.Title, m.titleAt[a.RuleID] = a.Title, a.Created
	}
	r.Alerts++
	if resolved {
		r.Resolved++
		if a.Resolution == FalsePositive {
			r.FalsePositives++
		}
	}
	if m.cfg != nil {
		sla := m.cfg.SLAOf(a, m.now)
		if sla.AcknowledgeBreached {
			m.st.SLA.Acknowledge++
		}
		if sla.ResolveBreached {
			m.st.SLA.Resolve++
		}
	}
}

// Stats returns the measures so far.
func (m *Meter) Stats() Stats {
	st := m.st
	st.IngestLag, st.DetectionLag, st.Detect = m.ingest.mean(), m.detection.mean(), m.both.mean()
	st.Acknowledge, st.Resolve = m.ack.mean(), m.resolve.mean()
	st.ByLevel, st.ByStatus, st.ByResolution = maps.Clone(st.ByLevel), maps.Clone(st.ByStatus), maps.Clone(st.ByResolution)
	if m.techniques != nil {
		st.Techniques = make(map[string]int64, len(m.techniques))
		for id, n := range m.techniques {
			st.Techniques["T"+id] = n
		}
	}
	st.Rules = make([]RuleStats, 0, len(m.rules))
	for _, r := range m.rules {
		rs := *r
		if rs.Resolved > 0 {
			rs.FalsePositiveRate = float64(rs.FalsePositives) / float64(rs.Resolved)
		}
		st.Rules = append(st.Rules, rs)
	}
	sort.Slice(st.Rules, func(i, j int) bool {
		a, b := st.Rules[i], st.Rules[j]
		switch {
		case a.FalsePositives != b.FalsePositives:
			return a.FalsePositives > b.FalsePositives
		case a.FalsePositiveRate != b.FalsePositiveRate:
			return a.FalsePositiveRate > b.FalsePositiveRate
		case a.Alerts != b.Alerts:
			return a.Alerts > b.Alerts
		}
		return a.RuleID < b.RuleID
	})
	return st
}

// Techniques returns the ATT&CK technique IDs that tags name, each once,
// in order: "attack.t1566.001" is "T1566.001"; tactics ("attack.execution",
// "attack.ta0002") and other tags are not techniques.
func Techniques(tags []string) []string {
	var out []string
	for _, t := range tags {
		if id, ok := technique(t); ok && !slices.Contains(out, "T"+id) {
			out = append(out, "T"+id)
		}
	}
	return out
}

// technique returns the technique number a tag names ("attack.t1059.001"
// in any case: "1059.001"), without allocating.
func technique(tag string) (string, bool) {
	const prefix = "attack.t"
	if len(tag) <= len(prefix) || !strings.EqualFold(tag[:len(prefix)], prefix) {
		return "", false
	}
	id := tag[len(prefix):]
	digits := func(s string, n int) bool {
		if len(s) != n {
			return false
		}
		for i := range len(s) {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return true
	}
	if main, sub, found := strings.Cut(id, "."); !digits(main, 4) || found && !digits(sub, 3) {
		return "", false
	}
	return id, true
}

// Measure returns the Stats of the alerts created in [from, to); with
// cfg, service-level breaches are counted as of now.
func Measure(alerts []Alert, from, to time.Time, cfg *Config, now time.Time) Stats {
	m := NewMeter(from, to, cfg, now)
	for _, a := range alerts {
		m.Add(a)
	}
	return m.Stats()
}
