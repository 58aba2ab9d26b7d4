package health

import (
	"time"
)

// track is one source's counters: what is saved with the checkpoint.
type track struct {
	Name     string    `json:"name,omitempty"`
	First    time.Time `json:"first"`
	Last     time.Time `json:"last"`
	Events   int64     `json:"events"`
	Unparsed int64     `json:"unparsed"`
	// Counts holds events per minute of receipt over the last hour;
	// Minutes[i] is the Unix minute slot i counts.
	Counts  [60]int64 `json:"counts"`
	Minutes [60]int64 `json:"minutes"`
	// Hour is the start of the hour being counted; HourEvents its count.
	Hour       time.Time `json:"hour"`
	HourEvents int64     `json:"hour_events"`
	// Base is the learned count per hour of day, working days' and
	// weekends' apart (slot).
	Base [slots]mean `json:"base"`
	// Alerted is the Last whose silence was alerted (zero: none);
	// Dropped the start of the hour last alerted as a drop.
	Alerted time.Time `json:"alerted,omitzero"`
	Dropped time.Time `json:"dropped,omitzero"`
	// Months counts events per calendar month of receipt (UTC), the
	// last keepMonths (member reports).
	Months []monthCount `json:"months,omitempty"`
}

// monthCount is one month's events: Start is the month's first instant.
type monthCount struct {
	Start  time.Time `json:"start"`
	Events int64     `json:"events"`
}

// keepMonths is how many months a track counts: a year and the month
// before, so last year's same month can still be reported.
const keepMonths = 13

// addMonth counts n events received at `at` in their month.
func (t *track) addMonth(at time.Time, n int64) {
	if k := len(t.Months); k > 0 {
		last := &t.Months[k-1]
		if !at.Before(last.Start) && at.Before(last.Start.AddDate(0, 1, 0)) {
			last.Events += n
			return
		}
	}
	at = at.UTC()
	start := time.Date(at.Year(), at.Month(), 1, 0, 0, 0, 0, time.UTC)
	i := len(t.Months)
	for i > 0 && t.Months[i-1].Start.After(start) {
		i--
	}
	if i > 0 && t.Months[i-1].Start.Equal(start) {
		t.Months[i-1].Events += n
		return
	}
	t.Months = append(t.Months[:i], append([]monthCount{{Start: start, Events: n}}, t.Months[i:]...)...)
	if len(t.Months) > keepMonths {
		t.Months = t.Months[len(t.Months)-keepMonths:]
	}
}

// inMonth is the events received in the month starting at start.
func (t *track) inMonth(start time.Time) int64 {
	for _, m := range t.Months {
		if m.Start.Equal(start) {
			return m.Events
		}
	}
	return 0
}

// mean is a running mean: the plain mean of the first week's samples,
// then an exponentially weighted one over about a week.
type mean struct {
	M float64 `json:"m"`
	N int     `json:"n"`
}

// slots are the baseline's hours: 24 of a working day (Monday to
// Friday), then 24 of a weekend day, in the monitor's time zone: a
// council's Saturday is not its Tuesday.
const slots = 48

// slot is the baseline slot of the hour at.
func slot(at time.Time, loc *time.Location) int {
	l := at.In(loc)
	if wd := l.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return 24 + l.Hour()
	}
	return l.Hour()
}

// learnDays is how many samples the running mean averages plainly before
// it starts to forget; baselineDays how many make it trusted for drops.
const (
	learnDays    = 7
	baselineDays = 3
)

func (m *mean) add(x float64) {
	m.N++
	m.M += (x - m.M) / float64(min(m.N, learnDays))
}

// maxRoll bounds how many hours one roll folds: after a week away the
// baseline keeps what it had learned and counting starts again.
const maxRoll = 24 * learnDays

// roll moves the hour being counted up to now's, folding each finished
// hour into the baseline after judge has compared it with what that hour
// of day usually brings. The hour a source was first heard in is partial
// and teaches nothing.
func (t *track) roll(now time.Time, loc *time.Location, judge func(hour time.Time, got int64, usual mean)) {
	h := now.Truncate(time.Hour)
	if t.Hour.IsZero() {
		t.Hour = h
		return
	}
	for n := 0; t.Hour.Before(h); n++ {
		if n == maxRoll {
			t.Hour, t.HourEvents = h, 0
			return
		}
		if !t.Hour.Equal(t.First.Truncate(time.Hour)) {
			b := &t.Base[slot(t.Hour, loc)]
			if judge != nil {
				judge(t.Hour, t.HourEvents, *b)
			}
			b.add(float64(t.HourEvents))
		}
		t.Hour, t.HourEvents = t.Hour.Add(time.Hour), 0
	}
}

// observe counts n events received at `at`, unparsed of them of no
// recognised format.
func (t *track) observe(at time.Time, n, unparsed int64, loc *time.Location, judge func(time.Time, int64, mean)) {
	if t.First.IsZero() || at.Before(t.First) {
		t.First = at
	}
	t.roll(at, loc, judge)
	if at.After(t.Last) {
		t.Last = at
	}
	t.Events += n
	t.Unparsed += unparsed
	t.addMonth(at, n)
	m := at.Unix() / 60
	i := m % 60
	switch {
	case t.Minutes[i] < m:
		t.Minutes[i], t.Counts[i] = m, n
	case t.Minutes[i] == m:
		t.Counts[i] += n
	}
	if !at.Before(t.Hour) {
		t.HourEvents += n
	}
}

// rateWindow is the span Rate averages over.
const rateWindow = 15 * time.Minute

// rate is events per second over the rateWindow before now.
func (t *track) rate(now time.Time) float64 {
	to := now.Unix() / 60
	from := to - int64(rateWindow/time.Minute)
	var n int64
	for i, m := range t.Minutes {
		if m > from && m <= to {
			n += t.Counts[i]
		}
	}
	return float64(n) / rateWindow.Seconds()
}

// usual is what the hour of day of at usually brings, and whether that is
// learned yet.
func (t *track) usual(at time.Time, loc *time.Location) (float64, bool) {
	b := t.Base[slot(at, loc)]
	return b.M, b.N > 0
}

// expected is how many events the source was expected to send between
// from and to: the learned hours of day where known, else its average
// rate since first heard (when heard for over an hour; otherwise nothing
// is known and nothing expected).
func (t *track) expected(from, to time.Time, loc *time.Location) float64 {
	var avg float64
	if span := t.Last.Sub(t.First); span >= time.Hour {
		avg = float64(t.Events) / span.Hours()
	}
	if to.Sub(from) > maxRoll*time.Hour {
		from = to.Add(-maxRoll * time.Hour)
	}
	var sum float64
	for at := from; at.Before(to); {
		next := at.Truncate(time.Hour).Add(time.Hour)
		if next.After(to) {
			next = to
		}
		per, ok := t.usual(at, loc)
		if !ok {
			per = avg
		}
		sum += per * next.Sub(at).Hours()
		at = next
	}
	return sum
}
