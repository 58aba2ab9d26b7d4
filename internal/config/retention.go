package config

import (
	"fmt"
	"sort"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// Keep says how long one tenant's data of each kind is kept. A zero field
// keeps the kind as long as the server keeps it for everyone
// (events.retention for events, for ever for dead letters); a zero Raw
// follows Events (see RawOrEvents).
type Keep struct {
	// Events is how long events stay in the event store, by their stored
	// time.
	Events time.Duration `yaml:"events"`
	// Raw is how long the raw archive keeps a day of records after it
	// ended.
	Raw time.Duration `yaml:"raw"`
	// DeadLetters is how long rejected lines are kept, by the time they
	// were received.
	DeadLetters time.Duration `yaml:"dead_letters"`
}

// RawOrEvents is how long raw records are kept: Raw, or when it is zero
// Events (a raw record is there to show an event's source; once the event
// is gone, so may it be).
func (k Keep) RawOrEvents() time.Duration {
	if k.Raw != 0 {
		return k.Raw
	}
	return k.Events
}

// Retention is per-tenant retention: a default for every tenant and
// overrides per tenant ID, in the form of limits. Alerts, cases and the
// audit trail are kept until the tenant is removed (docs/operations.md,
// "Retention and offboarding", says why).
type Retention struct {
	// Default applies to every tenant without an entry in Tenants.
	Default Keep `yaml:"default"`
	// Tenants overrides Default per tenant ID, field by field: a zero
	// field takes the default's.
	Tenants map[string]Keep `yaml:"tenants"`
	// Interval is how often the retention job runs (it also runs once at
	// start); default one hour.
	Interval time.Duration `yaml:"interval"`
}

// DefaultRetention is the default: nothing beyond events.retention, the
// job hourly.
func DefaultRetention() Retention { return Retention{Interval: time.Hour} }

// For returns tenant t's retention: its entry over the default.
func (r Retention) For(t tenant.ID) Keep {
	k := r.Default
	o, ok := r.Tenants[string(t)]
	if !ok {
		return k
	}
	if o.Events != 0 {
		k.Events = o.Events
	}
	if o.Raw != 0 {
		k.Raw = o.Raw
	}
	if o.DeadLetters != 0 {
		k.DeadLetters = o.DeadLetters
	}
	return k
}

// Validate reports the first bad setting, naming its key (under
// retention). events is the event store's own retention, which no tenant's
// may exceed: the store drops older days for everyone first.
func (r Retention) Validate(events time.Duration) error {
	if r.Interval < time.Minute {
		return fmt.Errorf("interval: %s is shorter than a minute", r.Interval)
	}
	if err := r.Default.validate(events); err != nil {
		return fmt.Errorf("default.%w", err)
	}
	ids := make([]string, 0, len(r.Tenants))
	for id := range r.Tenants {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if _, err := tenant.Parse(id); err != nil {
			return fmt.Errorf("tenants.%s: %w", id, err)
		}
		if err := r.Tenants[id].validate(events); err != nil {
			return fmt.Errorf("tenants.%s.%w", id, err)
		}
	}
	return nil
}

func (k Keep) validate(events time.Duration) error {
	for _, f := range []struct {
		key string
		d   time.Duration
	}{{"events", k.Events}, {"raw", k.Raw}, {"dead_letters", k.DeadLetters}} {
		switch {
		case f.d < 0:
			return fmt.Errorf("%s: %s is negative", f.key, f.d)
		case f.d > 0 && f.d < 24*time.Hour:
			return fmt.Errorf("%s: %s is shorter than one day", f.key, f.d)
		case f.key != "dead_letters" && f.d > events:
			return fmt.Errorf("%s: %s is longer than events.retention (%s), which drops them first", f.key, f.d, events)
		}
	}
	return nil
}
