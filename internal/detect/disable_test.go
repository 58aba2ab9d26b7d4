package detect

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sprayRules are the base rules and a correlation over one (c: 3 failures
// from one address); chainedRules add a correlation over c (cc: c twice),
// which silences c as the base rule is silenced by c.
const sprayRules = rangeBase + `---
title: spray
id: c
name: spray
correlation:
  type: event_count
  rules: [failed]
  group-by: [IpAddress]
  timespan: 10m
  condition: {gte: 3}
`

const chainedRules = sprayRules + `---
title: spray twice
id: cc
correlation:
  type: event_count
  rules: [spray]
  group-by: [IpAddress]
  timespan: 1h
  condition: {gte: 2}
`

// TestSetDisabled: a rule switched off for a tenant reports nothing; a
// correlation that is off keeps no window, so matches seen while it was
// off do not count once it is on again; a base rule that is off still
// feeds a correlation that is on, and so does a correlation that is off
// but used by one that is on.
func TestSetDisabled(t *testing.T) {
	single, chained := compileRules(t, sprayRules, Options{}), compileRules(t, chainedRules, Options{})
	type step struct {
		off    []string // switched off before the events (nil: all on)
		events []string
	}
	fail := func(min int) string { return failedAt(min, "192.0.2.1", "u") }
	tests := []struct {
		name  string
		e     *Engine
		steps []step
		want  []string // rule ids reported, in order
	}{
		{"all on", single, []step{{nil, []string{fail(0), fail(1), fail(2)}}}, []string{"c"}},
		{"correlation off", single, []step{{[]string{"c", "cc"}, []string{fail(0), fail(1), fail(2)}}}, nil},
		{"base rule off: the correlation still counts it", single, []step{{[]string{"f1"}, []string{fail(0), fail(1), fail(2)}}}, []string{"c"}},
		// Two failures while c was off, one after: no window of three.
		{"on again: what came while it was off does not count", single, []step{
			{[]string{"c", "cc"}, []string{fail(0), fail(1)}},
			{nil, []string{fail(2)}},
		}, nil},
		{"on again: it fires on what comes after", single, []step{
			{[]string{"c", "cc"}, []string{fail(0), fail(1)}},
			{nil, []string{fail(2), fail(3), fail(4)}},
		}, []string{"c"}},
		// c off but cc on: c's windows still run for cc, silently.
		{"chained: the inner correlation off feeds the outer", chained, []step{{[]string{"c"}, []string{fail(0), fail(1), fail(2), fail(3), fail(4), fail(5)}}}, []string{"cc"}},
		{"chained: both on", chained, []step{{nil, []string{fail(0), fail(1), fail(2), fail(3), fail(4), fail(5)}}}, []string{"cc"}},
		{"chained: the outer off", chained, []step{{[]string{"cc"}, []string{fail(0), fail(1), fail(2), fail(3), fail(4), fail(5)}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := NewState()
			var got []string
			for _, s := range tt.steps {
				off := map[string]bool{}
				for _, id := range s.off {
					off[id] = true
				}
				st.SetDisabled(off)
				for _, evt := range s.events {
					if err := tt.e.EvaluateWith(st, []byte(evt), func(m Match) { got = append(got, m.RuleID) }); err != nil {
						t.Fatal(err)
					}
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("matches (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSetDisabledAtClose: a window judged when it closes reports nothing
// when its correlation is off by then.
func TestSetDisabledAtClose(t *testing.T) {
	e := compileRules(t, rangeBase+"---\ntitle: exactly two\nid: c\ncorrelation:\n  type: event_count\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 5m\n  condition: {eq: 2}\n", Options{})
	for _, off := range []bool{false, true} {
		st := NewState()
		var got []string
		for i, evt := range []string{failedAt(0, "192.0.2.1", "u"), failedAt(1, "192.0.2.1", "u"), laterEvent(30)} {
			if i == 2 && off {
				st.SetDisabled(map[string]bool{"c": true})
			}
			if err := e.EvaluateWith(st, []byte(evt), func(m Match) { got = append(got, m.RuleID) }); err != nil {
				t.Fatal(err)
			}
		}
		if want := map[bool]int{false: 1, true: 0}[off]; len(got) != want {
			t.Errorf("switched off before the close: %v: matches %v, want %d", off, got, want)
		}
	}
}
