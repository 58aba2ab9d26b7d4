package savedsearch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
)

// Schedule makes a saved search a detection of its own: every Every it
// searches the events of the window since its last run, ending Delay
// before now (so that late shippers' events have arrived), and raises an
// alert (producer "search") in each member's queue where at least
// Threshold events (result rows) matched. A provider's search runs for
// every member, each seeing only its own events.
type Schedule struct {
	Every     Duration `json:"every"`
	Delay     Duration `json:"delay"`
	Threshold int      `json:"threshold"`
	Level     string   `json:"level"`
	// Tags go on the alerts as a Sigma rule's do: ATT&CK techniques as
	// attack.t1110.003, tactics as attack.credential-access.
	Tags []string `json:"tags,omitempty"`
}

// Schedule limits and defaults.
const (
	MinEvery         = time.Minute
	MaxEvery         = 7 * 24 * time.Hour
	MaxDelay         = 24 * time.Hour
	DefaultDelay     = 5 * time.Minute
	DefaultThreshold = 1
	MaxThreshold     = 10000
	DefaultLevel     = "medium"
	MaxTags          = 20
	MaxTag           = 64
	// MaxWindow is the longest window one run searches: after a longer
	// outage the run starts MaxWindow back (and the log says what it
	// left out).
	MaxWindow = 7 * 24 * time.Hour
)

// Defaults fills the schedule's unset threshold and level. (A delay left
// out of JSON is DefaultDelay: UnmarshalJSON; zero is no delay.)
func (s Schedule) Defaults() Schedule {
	if s.Threshold == 0 {
		s.Threshold = DefaultThreshold
	}
	if s.Level == "" {
		s.Level = DefaultLevel
	}
	return s
}

// Validate reports the first thing wrong with a schedule (its defaults
// filled), wrapping ErrInvalid.
func (s Schedule) Validate() error {
	switch {
	case s.Every.D() < MinEvery || s.Every.D() > MaxEvery:
		return fmt.Errorf("%w: schedule.every: from %s to %s (%s)", ErrInvalid, Duration(MinEvery), Duration(MaxEvery), s.Every)
	case s.Delay.D() < 0 || s.Delay.D() > MaxDelay:
		return fmt.Errorf("%w: schedule.delay: from 0s to %s (%s)", ErrInvalid, Duration(MaxDelay), s.Delay)
	case s.Threshold < 1 || s.Threshold > MaxThreshold:
		return fmt.Errorf("%w: schedule.threshold: from 1 to %d events (%d)", ErrInvalid, MaxThreshold, s.Threshold)
	case !alert.ValidLevel(s.Level):
		return fmt.Errorf("%w: schedule.level: %q is not one of %s", ErrInvalid, s.Level, alert.Levels)
	case len(s.Tags) > MaxTags:
		return fmt.Errorf("%w: schedule.tags: at most %d", ErrInvalid, MaxTags)
	}
	for _, tag := range s.Tags {
		if !validTag(tag) {
			return fmt.Errorf("%w: schedule.tags: %q: lower-case letters, digits and . _ - only, up to %d (as attack.t1110.003)", ErrInvalid, tag, MaxTag)
		}
	}
	return nil
}

func validTag(tag string) bool {
	if tag == "" || len(tag) > MaxTag {
		return false
	}
	for _, c := range tag {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// UnmarshalJSON reads a schedule; a delay left out is DefaultDelay.
func (s *Schedule) UnmarshalJSON(b []byte) error {
	type plain Schedule
	v := struct {
		plain
		Delay *Duration `json:"delay"`
	}{}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	*s = Schedule(v.plain)
	s.Delay = Duration(DefaultDelay)
	if v.Delay != nil {
		s.Delay = *v.Delay
	}
	return nil
}

// Run is the record of a scheduled search's last run.
type Run struct {
	// Until is the end of the last window searched: the next run's window
	// starts there. Zero until a run succeeds.
	Until time.Time `json:"until,omitzero"`
	// At is when it last ran, or last failed.
	At time.Time `json:"at"`
	// Found is how many events (result rows) its window held, over every
	// member it ran for; Members how many of them reached the threshold
	// (an alert raised or added to in each).
	Found   int64 `json:"found"`
	Members int   `json:"members"`
	// Error is why the last run failed (it is tried again, from Until);
	// empty when it succeeded.
	Error string `json:"error,omitempty"`
}

// RuleID is the alerts' rule ID for search id: suppressions, tuning and
// the queue's filter name it so.
func RuleID(id int64) string { return "search:" + strconv.FormatInt(id, 10) }

// Duration is a time.Duration written as Go writes durations ("15m",
// "1h30m") in JSON.
type Duration time.Duration

// D is d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String writes d without zero units: "15m", "1h", "1h30m", "90s".
func (d Duration) String() string {
	s := time.Duration(d).String()
	for _, zero := range []struct{ suffix, cut string }{{"m0s", "m"}, {"h0m", "h"}} {
		if len(s) > len(zero.suffix) && s[len(s)-len(zero.suffix):] == zero.suffix {
			s = s[:len(s)-len(zero.suffix)] + zero.cut
		}
	}
	return s
}

// MarshalJSON writes d as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a string in Go's duration syntax.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"15m\" or \"1h\": %w", err)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ParseDuration reads s in Go's duration syntax ("15m", "1h30m"); ""
// is zero.
func ParseDuration(s string) (Duration, error) {
	if s == "" {
		return 0, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not a duration such as 15m or 1h", ErrInvalid, s)
	}
	return Duration(v), nil
}
