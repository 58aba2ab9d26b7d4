package alert

import (
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Deduplication and service levels: a tenant's rule override, then the
// rule's, then the tenant's default, then the default.
func TestConfigPrecedence(t *testing.T) {
	c := DefaultConfig()
	c.Rules = map[string]Dedup{"spray": {Key: []string{EntitySourceIP}, Window: 24 * time.Hour}}
	c.Tenants = map[tenant.ID]TenantConfig{
		"gwynedd": {
			Dedup: &Dedup{Key: []string{EntityHost}, Window: 2 * time.Hour},
			Rules: map[string]Dedup{"spray": {Key: []string{EntitySourceIP, EntityUser}, Window: time.Hour}},
			SLA:   map[string]SLA{"critical": {Acknowledge: 5 * time.Minute, Resolve: time.Hour}},
		},
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tenant  tenant.ID
		rule    string
		want    Dedup
		ruleOwn bool
	}{
		{"powys", "other", c.Dedup, false},
		{"powys", "spray", c.Rules["spray"], true},
		{"gwynedd", "other", *c.Tenants["gwynedd"].Dedup, false},
		{"gwynedd", "spray", c.Tenants["gwynedd"].Rules["spray"], true},
	} {
		if got, own := c.dedupFor(tc.tenant, tc.rule); got.Window != tc.want.Window || len(got.Key) != len(tc.want.Key) || got.Key[0] != tc.want.Key[0] || own != tc.ruleOwn {
			t.Errorf("dedupFor(%s, %s) = %+v, %v; want %+v, %v", tc.tenant, tc.rule, got, own, tc.want, tc.ruleOwn)
		}
	}
	if got := c.SLAFor("gwynedd", "critical"); got.Acknowledge != 5*time.Minute {
		t.Errorf("gwynedd's critical SLA = %+v, want its own", got)
	}
	if got := c.SLAFor("gwynedd", "high"); got != c.SLA["high"] {
		t.Errorf("gwynedd's high SLA = %+v, want the default", got)
	}
	if got := c.SLAFor("powys", "critical"); got != c.SLA["critical"] {
		t.Errorf("powys's critical SLA = %+v, want the default", got)
	}
}

func TestConfigValidate(t *testing.T) {
	for name, c := range map[string]Config{
		"zero window":     {Dedup: Dedup{Window: 0}},
		"bad rule window": {Dedup: Dedup{Window: time.Hour}, Rules: map[string]Dedup{"r": {}}},
		"bad level":       {Dedup: Dedup{Window: time.Hour}, SLA: map[string]SLA{"urgent": {}}},
		"negative SLA":    {Dedup: Dedup{Window: time.Hour}, SLA: map[string]SLA{"high": {Acknowledge: -time.Second}}},
		"bad tenant":      {Dedup: Dedup{Window: time.Hour}, Tenants: map[tenant.ID]TenantConfig{"Bad_ID": {}}},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate() = nil", name)
		}
	}
}

// SLA standing: late acknowledgement and resolution are breaches, still
// open past a deadline is one already, and escalating stops the resolve
// clock.
func TestSLAOf(t *testing.T) {
	c := DefaultConfig() // high: acknowledge 1h, resolve 24h
	created := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	a := Alert{Tenant: "gwynedd", Level: "high", Created: created, Status: StatusNew}
	if st := c.SLAOf(a, created.Add(30*time.Minute)); st.AcknowledgeBreached || st.ResolveBreached || !st.AcknowledgeBy.Equal(created.Add(time.Hour)) {
		t.Errorf("new, 30 min: %+v", st)
	}
	if st := c.SLAOf(a, created.Add(2*time.Hour)); !st.AcknowledgeBreached || st.ResolveBreached {
		t.Errorf("new, 2 h: %+v, want acknowledge breached", st)
	}
	acked := a
	if err := Apply(&acked, Action{Verb: VerbAck}, created.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if st := c.SLAOf(acked, created.Add(30*time.Hour)); st.AcknowledgeBreached || !st.ResolveBreached {
		t.Errorf("acknowledged in 10 min, open at 30 h: %+v, want only resolve breached", st)
	}
	escalated := acked
	if err := Apply(&escalated, Action{Verb: VerbEscalate}, created.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if st := c.SLAOf(escalated, created.Add(30*time.Hour)); st.ResolveBreached {
		t.Errorf("escalated at 3 h, 30 h later: %+v, want the resolve clock stopped", st)
	}
	resolved := acked
	if err := Apply(&resolved, Action{Verb: VerbResolve, Resolution: TruePositive}, created.Add(25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if st := c.SLAOf(resolved, created.Add(40*time.Hour)); !st.ResolveBreached {
		t.Errorf("resolved at 25 h: %+v, want resolve breached", st)
	}
}

// The pipeline keys a detection by its rule's key fields, lower-cased.
func TestKey(t *testing.T) {
	d := &Detection{Entities: []Entity{{EntityHost, "WS-07"}, {EntitySourceIP, "203.0.113.9"}}, Fields: []event.Field{{Name: "LogonType", Value: "3"}}}
	if got := key(d, []string{EntitySourceIP, "LogonType", EntityUser}); got != "203.0.113.9\x1f3\x1f" {
		t.Errorf("key = %q", got)
	}
	if got := key(d, []string{EntityHost}); got != "ws-07" {
		t.Errorf("key = %q", got)
	}
}
