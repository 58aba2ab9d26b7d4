package notify

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
)

// Route says which alert changes a channel wants. The zero Route wants
// every new alert, at any hour.
type Route struct {
	// MinSeverity is the lowest alert level notified ("": any).
	MinSeverity string `json:"min_severity,omitempty"`
	// Tags: the alert must have one of them ("": any alert). A trailing
	// "*" matches a prefix; case does not matter.
	Tags []string `json:"tags,omitempty"`
	// Hours are the windows in which changes are notified (none: always),
	// each "DAYS HH:MM-HH:MM ZONE": DAYS is "*" or a list of days and
	// ranges (mon-fri, sat,sun); the zone an IANA name such as
	// Europe/London.
	Hours []string `json:"hours,omitempty"`
	// Changes are the alert changes notified (none: created): created,
	// updated, and the analysts' ack, assign, resolve, escalate, reopen,
	// comment.
	Changes []string `json:"changes,omitempty"`
	// UpdateInterval is the least time between two notifications of one
	// alert's updates, as a Go duration ("": 1h).
	UpdateInterval string `json:"update_interval,omitempty"`
}

// Changes a route may name.
var changes = []string{alert.ChangeCreated, alert.ChangeUpdated, alert.VerbAck, alert.VerbAssign, alert.VerbResolve, alert.VerbEscalate, alert.VerbReopen, alert.VerbComment}

// DefaultUpdateInterval is a route's UpdateInterval when it names none.
const DefaultUpdateInterval = time.Hour

// route is a Route checked and ready to match.
type route struct {
	minRank     int
	tags        []string // lower case; a trailing * kept
	windows     []window
	changes     []string
	updateEvery time.Duration
}

// compile checks r and returns its matcher.
func (r Route) compile() (route, error) {
	var c route
	if r.MinSeverity != "" {
		if !alert.ValidLevel(r.MinSeverity) {
			return c, fmt.Errorf("%w: route.min_severity %q: want one of %s", ErrInvalid, r.MinSeverity, alert.Levels)
		}
		c.minRank = rank(r.MinSeverity)
	}
	for _, t := range r.Tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" || t == "*" || len(t) > 200 {
			return c, fmt.Errorf("%w: route.tags: %q is not a tag", ErrInvalid, t)
		}
		c.tags = append(c.tags, t)
	}
	for _, h := range r.Hours {
		w, err := parseWindow(h)
		if err != nil {
			return c, fmt.Errorf("%w: route.hours: %v", ErrInvalid, err)
		}
		c.windows = append(c.windows, w)
	}
	c.changes = r.Changes
	if len(c.changes) == 0 {
		c.changes = []string{alert.ChangeCreated}
	}
	for _, ch := range c.changes {
		if !slices.Contains(changes, ch) {
			return c, fmt.Errorf("%w: route.changes: %q: want some of %s", ErrInvalid, ch, strings.Join(changes, ", "))
		}
	}
	c.updateEvery = DefaultUpdateInterval
	if r.UpdateInterval != "" {
		d, err := time.ParseDuration(r.UpdateInterval)
		if err != nil || d < time.Minute || d > 7*24*time.Hour {
			return c, fmt.Errorf("%w: route.update_interval %q: want a duration from 1m to 168h", ErrInvalid, r.UpdateInterval)
		}
		c.updateEvery = d
	}
	return c, nil
}

// match reports whether change c, at now, is one the route wants (the
// update interval is the Service's to enforce).
func (r *route) match(c alert.Change, now time.Time) bool {
	if !slices.Contains(r.changes, c.What) || rank(c.Alert.Level) < r.minRank {
		return false
	}
	if len(r.tags) > 0 && !r.tagged(c.Alert.Tags) {
		return false
	}
	if len(r.windows) == 0 {
		return true
	}
	for _, w := range r.windows {
		if w.contains(now) {
			return true
		}
	}
	return false
}

func (r *route) tagged(tags []string) bool {
	for _, t := range tags {
		t = strings.ToLower(t)
		for _, want := range r.tags {
			if p, ok := strings.CutSuffix(want, "*"); ok && strings.HasPrefix(t, p) || want == t {
				return true
			}
		}
	}
	return false
}

// rank orders alert levels; an unknown level ranks lowest.
func rank(level string) int {
	switch level {
	case "low":
		return 1
	case "medium":
		return 2
	case "high":
		return 3
	case "critical":
		return 4
	}
	return 0
}

// window is one "DAYS HH:MM-HH:MM ZONE" of a route's hours.
type window struct {
	days     [7]bool // by time.Weekday
	from, to int     // minutes after midnight; to may be 1440
	loc      *time.Location
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// parseWindow reads "DAYS HH:MM-HH:MM ZONE", e.g. "mon-fri 18:00-08:00
// Europe/London" (the zone may be left out for UTC).
func parseWindow(s string) (window, error) {
	var w window
	f := strings.Fields(s)
	if len(f) != 2 && len(f) != 3 {
		return w, fmt.Errorf("%q: want \"DAYS HH:MM-HH:MM ZONE\", e.g. \"mon-fri 18:00-08:00 Europe/London\"", s)
	}
	if err := parseDays(f[0], &w.days); err != nil {
		return w, fmt.Errorf("%q: %v", s, err)
	}
	from, to, ok := strings.Cut(f[1], "-")
	var err error
	if !ok {
		return w, fmt.Errorf("%q: times: want HH:MM-HH:MM", s)
	}
	if w.from, err = parseClock(from); err != nil {
		return w, fmt.Errorf("%q: %v", s, err)
	}
	if w.to, err = parseClock(to); err != nil {
		return w, fmt.Errorf("%q: %v", s, err)
	}
	if w.from == w.to || w.from == 24*60 {
		return w, fmt.Errorf("%q: an empty window", s)
	}
	w.loc = time.UTC
	if len(f) == 3 {
		if w.loc, err = time.LoadLocation(f[2]); err != nil || f[2] == "Local" {
			return w, fmt.Errorf("%q: unknown time zone %q (want an IANA name such as Europe/London)", s, f[2])
		}
	}
	return w, nil
}

func parseDays(s string, days *[7]bool) error {
	if s == "*" {
		for i := range days {
			days[i] = true
		}
		return nil
	}
	for part := range strings.SplitSeq(strings.ToLower(s), ",") {
		a, b, isRange := strings.Cut(part, "-")
		da, ok := dayNames[a]
		if !ok {
			return fmt.Errorf("days: %q is not a day (mon, tue, wed, thu, fri, sat, sun or *)", a)
		}
		db := da
		if isRange {
			if db, ok = dayNames[b]; !ok {
				return fmt.Errorf("days: %q is not a day (mon, tue, wed, thu, fri, sat, sun or *)", b)
			}
		}
		for d := da; ; d = (d + 1) % 7 {
			days[d] = true
			if d == db {
				break
			}
		}
	}
	return nil
}

// parseClock reads HH:MM (24:00 allowed, as the end of a day).
func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 || hh > 24 || hh == 24 && mm != 0 {
		return 0, fmt.Errorf("time %q: want HH:MM, 00:00 to 24:00", s)
	}
	return hh*60 + mm, nil
}

// contains reports whether t falls in the window; a window that ends
// before it starts runs past midnight, and belongs to its starting day.
func (w window) contains(t time.Time) bool {
	t = t.In(w.loc)
	day, m := t.Weekday(), t.Hour()*60+t.Minute()
	if w.from < w.to {
		return w.days[day] && m >= w.from && m < w.to
	}
	return w.days[day] && m >= w.from || w.days[(day+6)%7] && m < w.to
}
