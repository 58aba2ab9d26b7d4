package alert

import (
	"fmt"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// Config is how alerts are deduplicated, grouped and timed, with per-rule
// and per-tenant overrides.
type Config struct {
	// Dedup is the default deduplication: rule + host + user within 1 h.
	Dedup Dedup `yaml:"dedup"`
	// Rules override Dedup per rule ID (for every tenant).
	Rules map[string]Dedup `yaml:"rules"`
	// Group is how alerts fall into incidents.
	Group Group `yaml:"group"`
	// SLA is the time to acknowledge and to resolve, per level.
	SLA map[string]SLA `yaml:"sla"`
	// Tenants override any of the above for one tenant.
	Tenants map[tenant.ID]TenantConfig `yaml:"tenants"`
	// EventMemory is how long the store remembers which events each rule
	// already counted (so an event replayed from the bus or sent again
	// counts once) and which incident saw each entity last (for
	// grouping), after the last time it was raised; older entries are
	// forgotten by the retention job. At least bus.max_age.
	EventMemory time.Duration `yaml:"event_memory"`
}

// TenantConfig is one tenant's overrides; an unset part keeps the default.
type TenantConfig struct {
	Dedup *Dedup           `yaml:"dedup"`
	Rules map[string]Dedup `yaml:"rules"`
	SLA   map[string]SLA   `yaml:"sla"`
}

// Dedup says which detections of a rule make one alert.
type Dedup struct {
	// Key lists the fields whose values, with the rule, key an alert: an
	// entity type (host, user, source.ip, ...) or an event field name.
	Key []string `yaml:"key"`
	// Window is how long after an alert's first event a detection with
	// the same key joins it; later ones open a new alert.
	Window time.Duration `yaml:"window"`
}

// Group says which alerts make one incident.
type Group struct {
	// By lists the entity types alerts must share.
	By []string `yaml:"by"`
	// Window is how close in time they must be.
	Window time.Duration `yaml:"window"`
}

// SLA is a service level: the most time to acknowledge and to resolve.
type SLA struct {
	Acknowledge time.Duration `yaml:"acknowledge"`
	Resolve     time.Duration `yaml:"resolve"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Dedup:       Dedup{Key: []string{EntityHost, EntityUser}, Window: time.Hour},
		Group:       Group{By: []string{EntityHost, EntityUser}, Window: time.Hour},
		EventMemory: 30 * 24 * time.Hour,
		SLA: map[string]SLA{
			"critical":      {Acknowledge: 15 * time.Minute, Resolve: 4 * time.Hour},
			"high":          {Acknowledge: time.Hour, Resolve: 24 * time.Hour},
			"medium":        {Acknowledge: 4 * time.Hour, Resolve: 72 * time.Hour},
			"low":           {Acknowledge: 24 * time.Hour, Resolve: 7 * 24 * time.Hour},
			"informational": {Acknowledge: 72 * time.Hour, Resolve: 30 * 24 * time.Hour},
		},
	}
}

// Validate reports the first bad setting, naming its key.
func (c Config) Validate() error {
	if err := c.Dedup.validate("dedup"); err != nil {
		return err
	}
	for id, d := range c.Rules {
		if err := d.validate("rules." + id); err != nil {
			return err
		}
	}
	if c.Group.Window < 0 {
		return fmt.Errorf("group.window: must not be negative")
	}
	if c.EventMemory < 24*time.Hour {
		return fmt.Errorf("event_memory: %s is shorter than one day", c.EventMemory)
	}
	if err := validSLA("sla", c.SLA); err != nil {
		return err
	}
	for t, tc := range c.Tenants {
		if _, err := tenant.Parse(string(t)); err != nil {
			return fmt.Errorf("tenants.%s: %w", t, err)
		}
		if tc.Dedup != nil {
			if err := tc.Dedup.validate("tenants." + string(t) + ".dedup"); err != nil {
				return err
			}
		}
		for id, d := range tc.Rules {
			if err := d.validate("tenants." + string(t) + ".rules." + id); err != nil {
				return err
			}
		}
		if err := validSLA("tenants."+string(t)+".sla", tc.SLA); err != nil {
			return err
		}
	}
	return nil
}

func (d Dedup) validate(key string) error {
	if d.Window <= 0 {
		return fmt.Errorf("%s.window: must be more than 0", key)
	}
	return nil
}

func validSLA(key string, m map[string]SLA) error {
	for l, s := range m {
		if !ValidLevel(l) {
			return fmt.Errorf("%s.%s: not a level (%s)", key, l, Levels)
		}
		if s.Acknowledge < 0 || s.Resolve < 0 {
			return fmt.Errorf("%s.%s: times must not be negative", key, l)
		}
	}
	return nil
}

// dedupFor returns the deduplication of rule id in tenant t: the tenant's
// rule override, the rule's, the tenant's default, else the default.
func (c Config) dedupFor(t tenant.ID, id string) (d Dedup, ruleOwn bool) {
	tc, ok := c.Tenants[t]
	if ok {
		if d, ok := tc.Rules[id]; ok {
			return d, true
		}
	}
	if d, ok := c.Rules[id]; ok {
		return d, true
	}
	if ok && tc.Dedup != nil {
		return *tc.Dedup, false
	}
	return c.Dedup, false
}

// SLAFor returns tenant t's service level for alerts of level l (zero
// durations: none).
func (c Config) SLAFor(t tenant.ID, l string) SLA {
	if s, ok := c.Tenants[t].SLA[l]; ok {
		return s
	}
	return c.SLA[l]
}

// SLAState is where an alert stands against its service level.
type SLAState struct {
	// AcknowledgeBy and ResolveBy are the deadlines (zero: none).
	AcknowledgeBy time.Time `json:"acknowledge_by,omitzero"`
	ResolveBy     time.Time `json:"resolve_by,omitzero"`
	// Breached parts: acknowledged (or still not) after AcknowledgeBy,
	// resolved (or still open) after ResolveBy.
	AcknowledgeBreached bool `json:"acknowledge_breached"`
	ResolveBreached     bool `json:"resolve_breached"`
}

// SLAOf returns a's standing against its tenant's service level at now;
// escalating to the member stops the resolve clock.
func (c Config) SLAOf(a Alert, now time.Time) SLAState {
	s := c.SLAFor(a.Tenant, a.Level)
	var st SLAState
	if s.Acknowledge > 0 {
		st.AcknowledgeBy = a.Created.Add(s.Acknowledge)
		at := a.Acknowledged
		if at.IsZero() {
			at = now
		}
		st.AcknowledgeBreached = at.After(st.AcknowledgeBy)
	}
	if s.Resolve > 0 {
		st.ResolveBy = a.Created.Add(s.Resolve)
		at := now
		switch a.Status {
		case StatusResolved:
			at = a.Resolved
		case StatusEscalated:
			at = a.Escalated
		}
		st.ResolveBreached = at.After(st.ResolveBy)
	}
	return st
}
