package alert

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestMeasure computes the measures on known timelines, exactly.
func TestMeasure(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	s := time.Second
	cfg := DefaultConfig()
	// One day of a SOC's alerts, each with its lags spelt out.
	day := []Alert{
		// ingest 30 s, detection 10 s; acknowledged after 5 min, resolved
		// false-positive after 1 h.
		{ID: 1, RuleID: "r1", Title: "old title", Level: "high", Count: 10,
			EventTime: at(0), Received: at(30 * s), Created: at(40 * s),
			Acknowledged: at(40*s + 5*time.Minute), Status: StatusResolved, Resolution: FalsePositive, Resolved: at(40*s + time.Hour)},
		// ingest 90 s, detection 10 s; acknowledged after 15 min, resolved
		// true-positive after 2 h.
		{ID: 2, RuleID: "r1", Title: "new title", Level: "high", Count: 5,
			EventTime: at(time.Hour), Received: at(time.Hour + 90*s), Created: at(time.Hour + 100*s),
			Acknowledged: at(time.Hour + 100*s + 15*time.Minute), Status: StatusResolved, Resolution: TruePositive, Resolved: at(3*time.Hour + 100*s)},
		// ingest 1 s, detection 2.5 s; never acknowledged: a critical
		// alert past both its deadlines (15 min, 4 h).
		{ID: 3, RuleID: "r2", Title: "r2", Level: "critical", Count: 1,
			EventTime: at(2 * time.Hour), Received: at(2*time.Hour + s), Created: at(2*time.Hour + 3500*time.Millisecond), Status: StatusNew},
		// No event or receive time (left out of the lags); acknowledged
		// after 1 min, then escalated.
		{ID: 4, RuleID: "r3", Title: "r3", Level: "low", Count: 2, Created: at(3 * time.Hour),
			Acknowledged: at(3*time.Hour + time.Minute), Status: StatusEscalated, Escalated: at(3*time.Hour + time.Minute)},
		// An event clock 10 s ahead: negative lags count as 0, detection
		// 5 s; resolved false-positive at once after 30 min.
		{ID: 6, RuleID: "r2", Title: "r2", Level: "medium", Count: 3,
			EventTime: at(4*time.Hour + 10*s), Received: at(4*time.Hour - 5*s), Created: at(4 * time.Hour),
			Acknowledged: at(4*time.Hour + 30*time.Minute), Status: StatusResolved, Resolution: FalsePositive, Resolved: at(4*time.Hour + 30*time.Minute)},
		// Outside [from, to): created before from, and at to.
		{ID: 5, RuleID: "r1", Level: "high", Count: 100, EventTime: at(-time.Hour), Received: at(-time.Hour), Created: at(-time.Nanosecond), Status: StatusNew},
		{ID: 7, RuleID: "r1", Level: "high", Count: 100, EventTime: at(24 * time.Hour), Received: at(24 * time.Hour), Created: at(24 * time.Hour), Status: StatusNew},
	}
	for _, tc := range []struct {
		name     string
		alerts   []Alert
		from, to time.Time
		cfg      *Config
		now      time.Time
		want     Stats
	}{
		{
			name: "a day", alerts: day, from: t0, to: at(24 * time.Hour), cfg: &cfg, now: at(48 * time.Hour),
			want: Stats{
				From: t0, To: at(24 * time.Hour), Alerts: 5, Events: 21,
				// (30 + 90 + 1 + 0) / 4 s
				IngestLag: Mean{4, 30250 * time.Millisecond},
				// (10 + 10 + 2.5 + 5) / 4 s
				DetectionLag: Mean{4, 6875 * time.Millisecond},
				// (40 + 100 + 3.5 + 0) / 4 s
				Detect: Mean{4, 35875 * time.Millisecond},
				// (5 + 15 + 1 + 30) / 4 min
				Acknowledge: Mean{4, 12*time.Minute + 45*s},
				// (60 + 120 + 30) / 3 min
				Resolve:      Mean{3, 70 * time.Minute},
				ByLevel:      map[string]int64{"high": 2, "critical": 1, "low": 1, "medium": 1},
				ByStatus:     map[Status]int64{StatusResolved: 3, StatusNew: 1, StatusEscalated: 1},
				ByResolution: map[Resolution]int64{FalsePositive: 2, TruePositive: 1},
				// r1 and r2 have one false positive each; r2's rate is higher.
				Rules: []RuleStats{
					{RuleID: "r2", Title: "r2", Alerts: 2, Resolved: 1, FalsePositives: 1, FalsePositiveRate: 1},
					{RuleID: "r1", Title: "new title", Alerts: 2, Resolved: 2, FalsePositives: 1, FalsePositiveRate: 0.5},
					{RuleID: "r3", Title: "r3", Alerts: 1},
				},
				SLA: SLABreaches{Acknowledge: 1, Resolve: 1},
			},
		},
		{
			name: "unbounded, no SLA", alerts: day[:1],
			want: Stats{
				Alerts: 1, Events: 10,
				IngestLag: Mean{1, 30 * s}, DetectionLag: Mean{1, 10 * s}, Detect: Mean{1, 40 * s},
				Acknowledge: Mean{1, 5 * time.Minute}, Resolve: Mean{1, time.Hour},
				ByLevel: map[string]int64{"high": 1}, ByStatus: map[Status]int64{StatusResolved: 1}, ByResolution: map[Resolution]int64{FalsePositive: 1},
				Rules: []RuleStats{{RuleID: "r1", Title: "old title", Alerts: 1, Resolved: 1, FalsePositives: 1, FalsePositiveRate: 1}},
			},
		},
		{
			name: "nothing in the period", alerts: day, from: at(30 * time.Hour), to: at(31 * time.Hour), cfg: &cfg, now: at(48 * time.Hour),
			want: Stats{
				From: at(30 * time.Hour), To: at(31 * time.Hour),
				ByLevel: map[string]int64{}, ByStatus: map[Status]int64{}, ByResolution: map[Resolution]int64{}, Rules: []RuleStats{},
			},
		},
		{
			name: "a reopened alert is not resolved", from: t0, to: at(time.Hour), alerts: []Alert{
				{RuleID: "r1", Level: "low", Created: at(0), Acknowledged: at(time.Minute), Status: StatusInProgress},
			},
			want: Stats{
				From: t0, To: at(time.Hour), Alerts: 1, Acknowledge: Mean{1, time.Minute},
				ByLevel: map[string]int64{"low": 1}, ByStatus: map[Status]int64{StatusInProgress: 1}, ByResolution: map[Resolution]int64{},
				Rules: []RuleStats{{RuleID: "r1", Alerts: 1}},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Measure(tc.alerts, tc.from, tc.to, tc.cfg, tc.now)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Measure (-want +got):\n%s", d)
			}
			// A page at a time, in any order, is the same.
			m := NewMeter(tc.from, tc.to, tc.cfg, tc.now)
			for i := len(tc.alerts) - 1; i >= 0; i-- {
				m.Add(tc.alerts[i])
			}
			if d := cmp.Diff(tc.want, m.Stats()); d != "" {
				t.Errorf("Meter in reverse (-want +got):\n%s", d)
			}
		})
	}
}

// TestMeanExact: means are exact to the nanosecond (truncated), and do
// not overflow where a sum of nanoseconds would.
func TestMeanExact(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		d    []time.Duration
		want Mean
	}{
		{"empty", 0, nil, Mean{}},
		{"truncated", 1, []time.Duration{time.Nanosecond, 2 * time.Nanosecond}, Mean{2, time.Nanosecond}},
		{"seconds and nanoseconds", 1, []time.Duration{1500 * time.Millisecond, 2*time.Second + 1}, Mean{2, 1750*time.Millisecond + 0}},
		{"remainder of seconds", 1, []time.Duration{time.Second, 2 * time.Second, 2 * time.Second}, Mean{3, 1666666666}},
		// 2,000,000 × 10 days is 1.7e21 ns, past an int64.
		{"no overflow", 2_000_000, []time.Duration{240 * time.Hour}, Mean{2_000_000, 240 * time.Hour}},
	} {
		var s sum
		for range tc.n {
			for _, d := range tc.d {
				s.add(d)
			}
		}
		if got := s.mean(); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestTechniques: the ATT&CK techniques of tags, and the Meter's count of
// alerts per technique (each alert once per technique, in the period only).
func TestTechniques(t *testing.T) {
	f := func(tags []string, want []string) {
		t.Helper()
		if got := Techniques(tags); !cmp.Equal(got, want) {
			t.Errorf("Techniques(%q) = %q, want %q", tags, got, want)
		}
	}
	f(nil, nil)
	f([]string{"attack.execution", "attack.ta0002", "attack.t1059.001", "ATTACK.T1033", "attack.t1033", "car.2013-05-002"}, []string{"T1059.001", "T1033"})
	f([]string{"attack.t103", "attack.t10333", "attack.t1059.1", "attack.t1059.", "attack.tx059", "attack.t1059.001.1"}, nil)

	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	m := NewMeter(t0, t0.Add(time.Hour), nil, t0)
	m.Add(Alert{ID: 1, Created: t0, Tags: []string{"attack.discovery", "attack.t1033", "attack.t1033"}})
	m.Add(Alert{ID: 2, Created: t0.Add(time.Minute), Tags: []string{"attack.t1033", "attack.t1059.001"}})
	m.Add(Alert{ID: 3, Created: t0.Add(2 * time.Minute)})
	m.Add(Alert{ID: 4, Created: t0.Add(time.Hour), Tags: []string{"attack.t1003"}}) // after the period
	if got, want := m.Stats().Techniques, map[string]int64{"T1033": 2, "T1059.001": 1}; !cmp.Equal(got, want) {
		t.Errorf("Techniques = %v, want %v", got, want)
	}
	if got := NewMeter(t0, time.Time{}, nil, t0).Stats().Techniques; got != nil {
		t.Errorf("Techniques of no alert = %v, want nil", got)
	}
}
