package notify

import (
	"errors"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
)

func TestRouteMatch(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	// Monday 5 January 2026 (GMT = UTC in winter) and Monday 6 July 2026
	// (BST = UTC+1).
	mon := func(hh, mm int) time.Time { return time.Date(2026, 1, 5, hh, mm, 0, 0, london) }
	day := func(d, hh, mm int) time.Time { return time.Date(2026, 1, 4+d, hh, mm, 0, 0, london) } // d: 0 sun .. 6 sat
	created := func(level string, tags ...string) alert.Change {
		return alert.Change{What: alert.ChangeCreated, Alert: alert.Alert{ID: 1, Tenant: "council-a", Level: level, Tags: tags}}
	}
	outOfHours := []string{"mon-fri 18:00-08:00 Europe/London", "sat,sun 00:00-24:00 Europe/London"}
	for _, c := range []struct {
		name   string
		route  Route
		change alert.Change
		at     time.Time
		want   bool
	}{
		{"zero route: any new alert", Route{}, created("informational"), mon(12, 0), true},
		{"zero route: not an update", Route{}, alert.Change{What: alert.ChangeUpdated, Alert: alert.Alert{Level: "critical"}}, mon(12, 0), false},
		{"zero route: not an escalation", Route{}, alert.Change{What: alert.VerbEscalate, Alert: alert.Alert{Level: "critical"}}, mon(12, 0), false},
		{"escalations asked for", Route{Changes: []string{"escalate"}}, alert.Change{What: alert.VerbEscalate, Alert: alert.Alert{Level: "low"}}, mon(12, 0), true},
		{"assignments asked for, creation not", Route{Changes: []string{"assign"}}, created("high"), mon(12, 0), false},
		{"comments asked for", Route{Changes: []string{"comment"}}, alert.Change{What: alert.VerbComment, Alert: alert.Alert{Level: "low"}}, mon(12, 0), true},
		{"zero route: not a comment", Route{}, alert.Change{What: alert.VerbComment, Alert: alert.Alert{Level: "critical"}}, mon(12, 0), false},
		{"severity below", Route{MinSeverity: "high"}, created("medium"), mon(12, 0), false},
		{"severity equal", Route{MinSeverity: "high"}, created("high"), mon(12, 0), true},
		{"severity above", Route{MinSeverity: "high"}, created("critical"), mon(12, 0), true},
		{"unknown level ranks lowest", Route{MinSeverity: "low"}, created("weird"), mon(12, 0), false},
		{"tag: one of", Route{Tags: []string{"attack.t1003", "attack.t1059"}}, created("low", "attack.execution", "attack.t1059"), mon(12, 0), true},
		{"tag: none of", Route{Tags: []string{"attack.t1003"}}, created("low", "attack.t1059"), mon(12, 0), false},
		{"tag: no tags", Route{Tags: []string{"attack.t1003"}}, created("low"), mon(12, 0), false},
		{"tag: case and prefix", Route{Tags: []string{"ATTACK.T1059*"}}, created("low", "attack.t1059.001"), mon(12, 0), true},
		{"tag: prefix is not substring", Route{Tags: []string{"t1059*"}}, created("low", "attack.t1059.001"), mon(12, 0), false},
		{"hours: Monday evening", Route{Hours: outOfHours}, created("high"), mon(19, 30), true},
		{"hours: Monday noon", Route{Hours: outOfHours}, created("high"), mon(12, 0), false},
		{"hours: Monday 07:59 ends no night (Sunday has none)", Route{Hours: []string{"mon-fri 18:00-08:00 Europe/London"}}, created("high"), mon(7, 59), false},
		{"hours: Tuesday 07:59 ends Monday's night", Route{Hours: []string{"mon-fri 18:00-08:00 Europe/London"}}, created("high"), day(2, 7, 59), true},
		{"hours: Tuesday 08:00 is office time", Route{Hours: []string{"mon-fri 18:00-08:00 Europe/London"}}, created("high"), day(2, 8, 0), false},
		{"hours: Saturday 03:00 ends Friday's night", Route{Hours: []string{"mon-fri 18:00-08:00 Europe/London"}}, created("high"), day(6, 3, 0), true},
		{"hours: Saturday 09:00 weekend window", Route{Hours: outOfHours}, created("high"), day(6, 9, 0), true},
		{"hours: Sunday 23:59 weekend window", Route{Hours: outOfHours}, created("high"), day(0, 23, 59), true},
		{"hours: office hours, UTC instant in summer time", Route{Hours: []string{"mon-fri 09:00-17:00 Europe/London"}}, created("high"), time.Date(2026, 7, 6, 8, 30, 0, 0, time.UTC), true},
		{"hours: office hours, before 09:00 BST", Route{Hours: []string{"mon-fri 09:00-17:00 Europe/London"}}, created("high"), time.Date(2026, 7, 6, 7, 30, 0, 0, time.UTC), false},
		{"hours: wrapping day range", Route{Hours: []string{"fri-mon 10:00-11:00"}}, created("high"), day(0, 10, 30).In(time.UTC), true},
		{"hours: every day, UTC by default", Route{Hours: []string{"* 00:00-01:00"}}, created("high"), time.Date(2026, 3, 3, 0, 30, 0, 0, time.UTC), true},
		{"all conditions", Route{MinSeverity: "medium", Tags: []string{"attack.*"}, Hours: outOfHours}, created("critical", "attack.t1110"), mon(22, 0), true},
		{"all but one", Route{MinSeverity: "medium", Tags: []string{"attack.*"}, Hours: outOfHours}, created("critical", "sysmon"), mon(22, 0), false},
	} {
		r, err := c.route.compile()
		if err != nil {
			t.Errorf("%s: compile: %v", c.name, err)
			continue
		}
		if got := r.match(c.change, c.at); got != c.want {
			t.Errorf("%s: match at %s = %v, want %v", c.name, c.at.Format(time.RFC3339), got, c.want)
		}
	}
}

func TestRouteInvalid(t *testing.T) {
	for _, r := range []Route{
		{MinSeverity: "urgent"},
		{Tags: []string{""}},
		{Tags: []string{"*"}},
		{Hours: []string{"weekdays 09:00-17:00"}},
		{Hours: []string{"mon-fri 9-17"}},
		{Hours: []string{"mon-fri 09:00-25:00"}},
		{Hours: []string{"mon 09:00-09:00"}},
		{Hours: []string{"mon 09:00-17:00 Mars/Olympus"}},
		{Hours: []string{"mon 09:00-17:00 Local"}},
		{Hours: []string{"mon 09:00-17:00 Europe/London extra"}},
		{Changes: []string{"deleted"}},
		{UpdateInterval: "5s"},
		{UpdateInterval: "soon"},
	} {
		if _, err := r.compile(); !errors.Is(err, ErrInvalid) {
			t.Errorf("compile(%+v) = %v, want ErrInvalid", r, err)
		}
	}
}
