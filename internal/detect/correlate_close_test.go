package detect

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// eventAt is a Security event at minute min after rangeT0 with the given
// extra fields (JSON members without braces).
func eventAt(min float64, id int, fields string) string {
	return fmt.Sprintf(`{"EventID":%d,"Channel":"Security",%s,"@timestamp":%q}`,
		id, fields, rangeT0.Add(time.Duration(min*float64(time.Minute))).Format(time.RFC3339Nano))
}

// TestCorrelationEqNeq is the tester's case: carol fails five times in a
// minute, dave twice; a later event closes the 5-minute windows. eq and neq
// are judged on the window's final count, once per window.
func TestCorrelationEqNeq(t *testing.T) {
	var events []string
	for i := range 5 {
		events = append(events, eventAt(float64(i)/6, 4625, `"IpAddress":"carol"`))
	}
	events = append(events, eventAt(1, 4625, `"IpAddress":"dave"`), eventAt(1+1.0/6, 4625, `"IpAddress":"dave"`), laterEvent(30))
	closeCarol, closeDave := rangeT0.Add(5*time.Minute), rangeT0.Add(6*time.Minute)
	count := func(cond string) string {
		return "type: event_count\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 5m\n  condition: " + cond
	}
	tests := []struct {
		name string
		corr string
		want []corrFiring
	}{
		// Before the fix eq acted like gte: carol fired at her third failure.
		{"eq 3: nobody has exactly 3", count("{eq: 3}"), nil},
		{"eq 5: carol", count("{eq: 5}"), []corrFiring{{Event: 7, Value: 5, Group: "carol", At: closeCarol}}},
		{"eq 2: dave", count("{eq: 2}"), []corrFiring{{Event: 7, Value: 2, Group: "dave", At: closeDave}}},
		// Before the fix neq fired at every event (count 1 differs from 2)
		// and started the window again.
		{"neq 2: carol once, not dave", count("{neq: 2}"), []corrFiring{{Event: 7, Value: 5, Group: "carol", At: closeCarol}}},
		{"neq 5: dave once", count("{neq: 5}"), []corrFiring{{Event: 7, Value: 2, Group: "dave", At: closeDave}}},
		{"gte 3 still fires at the match", count("{gte: 3}"), []corrFiring{{Event: 2, Value: 3, Group: "carol", At: rangeT0.Add(20 * time.Second)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runCorrelation(t, tt.corr, events)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("correlation matches (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCorrelationEqNeqPerType checks eq and neq on the final value of each
// kind of correlation, and that none of them fires before the window
// closes.
func TestCorrelationEqNeqPerType(t *testing.T) {
	const group = "\n  group-by: [IpAddress]\n  timespan: 1h\n  condition: "
	closeAt := rangeT0.Add(time.Hour)
	// Four failures from a by users 5, 5, 7, 3 (numbers, for value_sum);
	// three distinct users, sum 20; then a success from a.
	events := []string{failedAt(0, "a", "5"), failedAt(1, "a", "5"), failedAt(2, "a", "7"), failedAt(3, "a", "3"),
		eventAt(4, 4624, `"IpAddress":"a","TargetUserName":"x"`)}
	tests := []struct {
		name string
		corr string
		want []corrFiring // with the closing event, index 5
	}{
		{"value_count eq", "type: value_count\n  rules: [failed]" + group + "{field: TargetUserName, eq: 3}", []corrFiring{{Event: 5, Value: 3, Group: "a", At: closeAt}}},
		// Distinct users pass 2 on the way to 3.
		{"value_count eq passed", "type: value_count\n  rules: [failed]" + group + "{field: TargetUserName, eq: 2}", nil},
		{"value_count neq", "type: value_count\n  rules: [failed]" + group + "{field: TargetUserName, neq: 1}", []corrFiring{{Event: 5, Value: 3, Group: "a", At: closeAt}}},
		{"value_count neq final", "type: value_count\n  rules: [failed]" + group + "{field: TargetUserName, neq: 3}", nil},
		{"value_sum eq", "type: value_sum\n  rules: [failed]" + group + "{field: TargetUserName, eq: 20}", []corrFiring{{Event: 5, Value: 20, Group: "a", At: closeAt}}},
		// The sum is 10 after the second failure, 20 at the end.
		{"value_sum eq passed", "type: value_sum\n  rules: [failed]" + group + "{field: TargetUserName, eq: 10}", nil},
		{"value_sum neq", "type: value_sum\n  rules: [failed]" + group + "{field: TargetUserName, neq: 5}", []corrFiring{{Event: 5, Value: 20, Group: "a", At: closeAt}}},
		{"value_sum neq final", "type: value_sum\n  rules: [failed]" + group + "{field: TargetUserName, neq: 20}", nil},
		{"temporal eq", "type: temporal\n  rules: [failed, success]" + group + "{eq: 2}", []corrFiring{{Event: 5, Value: 2, Group: "a", At: closeAt}}},
		// One rule has matched after the first failure, two at the end.
		{"temporal eq passed", "type: temporal\n  rules: [failed, success]" + group + "{eq: 1}", nil},
		{"temporal_ordered neq", "type: temporal_ordered\n  rules: [failed, success]" + group + "{neq: 1}", []corrFiring{{Event: 5, Value: 2, Group: "a", At: closeAt}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runCorrelation(t, tt.corr, events); got != nil {
				t.Errorf("fired before the window closed: %+v", got)
			}
			got := runCorrelation(t, tt.corr, slices.Concat(events, []string{laterEvent(120), laterEvent(180)}))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("correlation matches (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCorrelationAverageAtClose is the tester's case: bob sends 1000 bytes,
// then 10 three times, within 30 s. The window's average is 257.5 and its
// median 10, though the first value alone is 1000.
func TestCorrelationAverageAtClose(t *testing.T) {
	var events []string
	for i, b := range []int{1000, 10, 10, 10} {
		events = append(events, eventAt(float64(i)/6, 4625, fmt.Sprintf(`"IpAddress":"bob","Bytes":%d`, b)))
	}
	events = append(events, laterEvent(30))
	closeAt := rangeT0.Add(5 * time.Minute)
	corr := func(typ, cond string) string {
		return "type: " + typ + "\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 5m\n  condition: " + cond
	}
	tests := []struct {
		name string
		corr string
		want []corrFiring
	}{
		// Before the fix both fired at the first event.
		{"average over 500", corr("value_avg", "{field: Bytes, gt: 500}"), nil},
		{"average over 200", corr("value_avg", "{field: Bytes, gt: 200}"), []corrFiring{{Event: 4, Value: 257.5, Group: "bob", At: closeAt}}},
		{"average under 300", corr("value_avg", "{field: Bytes, lt: 300}"), []corrFiring{{Event: 4, Value: 257.5, Group: "bob", At: closeAt}}},
		{"median at least 100", corr("value_percentile", "{field: Bytes, percentile: 50, gte: 100}"), nil},
		{"median at most 10", corr("value_percentile", "{field: Bytes, percentile: 50, lte: 10}"), []corrFiring{{Event: 4, Value: 10, Group: "bob", At: closeAt}}},
		{"95th percentile at least 100", corr("value_percentile", "{field: Bytes, percentile: 95, gte: 100}"), []corrFiring{{Event: 4, Value: 1000, Group: "bob", At: closeAt}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runCorrelation(t, tt.corr, events)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("correlation matches (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCorrelationValueCountFields counts distinct combinations of a
// condition.field list (linked by AND); an event missing one of the
// fields does not count.
func TestCorrelationValueCountFields(t *testing.T) {
	ev := func(min float64, user, ws string) string {
		f := `"IpAddress":"a"`
		if user != "" {
			f += fmt.Sprintf(`,"TargetUserName":%q`, user)
		}
		if ws != "" {
			f += fmt.Sprintf(`,"WorkstationName":%q`, ws)
		}
		return eventAt(min, 4625, f)
	}
	corr := func(cond string) string {
		return "type: value_count\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 5m\n  condition: " + cond
	}
	events := []string{ev(0, "alice", "ws1"), ev(1, "alice", "ws1"), ev(2, "alice", "ws2"), ev(3, "bob", "ws1"), ev(3.5, "carol", ""),
		eventAt(3.7, 4625, `"IpAddress":"a","TargetUserName":"dave","WorkstationName":""`)}
	tests := []struct {
		name string
		corr string
		want []corrFiring
	}{
		{"pairs reach 3", corr("{field: [TargetUserName, WorkstationName], gte: 3}"), []corrFiring{{Event: 3, Value: 3, Group: "a", At: rangeT0.Add(3 * time.Minute)}}},
		// Users alone: alice, bob, carol.
		{"users reach 3", corr("{field: TargetUserName, gte: 3}"), []corrFiring{{Event: 4, Value: 3, Group: "a", At: rangeT0.Add(3*time.Minute + 30*time.Second)}}},
		// carol has no workstation, dave an empty one: their events are not pairs.
		{"pairs never reach 4", corr("{field: [TargetUserName, WorkstationName], gte: 4}"), nil},
		{"pairs eq 3 at close", corr("{field: [TargetUserName, WorkstationName], eq: 3}"), []corrFiring{{Event: 6, Value: 3, Group: "a", At: rangeT0.Add(5 * time.Minute)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runCorrelation(t, tt.corr, slices.Concat(events, []string{laterEvent(30)}))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("correlation matches (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCorrelationValueCountFieldsChained counts combinations of the group-by
// values of a correlation it uses.
func TestCorrelationValueCountFieldsChained(t *testing.T) {
	src := rangeBase + `---
title: pair fails twice
name: pair
correlation:
  type: event_count
  rules: [failed]
  group-by: [IpAddress, TargetUserName, WorkstationName]
  timespan: 1h
  condition: {gte: 2}
  generate: false
---
title: many pairs
id: c
correlation:
  type: value_count
  rules: [pair]
  group-by: [IpAddress]
  timespan: 1h
  condition: {field: [TargetUserName, WorkstationName], gte: 2}
`
	e := compileRules(t, src, Options{})
	st := NewState()
	var got []string
	pair := func(min float64, user, ws string) string {
		return eventAt(min, 4625, fmt.Sprintf(`"IpAddress":"a","TargetUserName":%q,"WorkstationName":%q`, user, ws))
	}
	for i, evt := range []string{pair(0, "u", "w1"), pair(1, "u", "w1"), pair(2, "u", "w2"), pair(3, "u", "w2")} {
		if err := e.EvaluateWith(st, []byte(evt), func(m Match) {
			if m.RuleID == "c" {
				got = append(got, fmt.Sprintf("event %d value %g", i, m.Correlation.Value))
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]string{"event 3 value 2"}, got); diff != "" {
		t.Errorf("matches (-want +got):\n%s", diff)
	}
}

// TestCloseWindows judges the windows still open at the end of the input,
// once.
func TestCloseWindows(t *testing.T) {
	src := rangeBase + "---\ntitle: exactly two\nid: c\ncorrelation:\n  type: event_count\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 1h\n  condition: {eq: 2}\n"
	e := compileRules(t, src, Options{})
	st := NewState()
	var got []string
	record := func(m Match) {
		if m.Correlation != nil {
			got = append(got, fmt.Sprintf("%s %g %s", fieldValue(m.Fields, "IpAddress"), m.Correlation.Value, m.Time.Format(time.RFC3339)))
		}
	}
	// a fails twice, b once, c twice but in two windows.
	for _, evt := range []string{failedAt(0, "c", "u"), failedAt(10, "a", "u"), failedAt(11, "a", "u"), failedAt(12, "b", "u"), failedAt(70, "c", "u")} {
		if err := e.EvaluateWith(st, []byte(evt), record); err != nil {
			t.Fatal(err)
		}
	}
	// c's first window closed at minute 60 with one failure: eq 2 did not
	// hold. a's closes at 70, which no event has passed.
	if got != nil {
		t.Fatalf("fired before the end: %q", got)
	}
	e.CloseWindows(st, record)
	want := []string{"a 2 " + rangeT0.Add(70*time.Minute).Format(time.RFC3339)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("matches (-want +got):\n%s", diff)
	}
	if st.Groups() != 0 {
		t.Errorf("%d groups left open", st.Groups())
	}
	got = nil
	e.CloseWindows(st, record)
	if got != nil {
		t.Errorf("second CloseWindows fired again: %q", got)
	}
}

// TestCloseWindowsChained: a window CloseWindows closes opens one of a
// correlation that uses it, which is closed in turn.
func TestCloseWindowsChained(t *testing.T) {
	src := rangeBase + `---
title: exactly two
name: two
correlation:
  type: event_count
  rules: [failed]
  group-by: [IpAddress]
  timespan: 1h
  condition: {eq: 2}
---
title: one such window
id: chain
correlation:
  type: event_count
  rules: [two]
  group-by: [IpAddress]
  timespan: 1h
  condition: {eq: 1}
`
	e := compileRules(t, src, Options{})
	st := NewState()
	var got []string
	record := func(m Match) { got = append(got, m.Title) }
	for _, evt := range []string{failedAt(0, "a", "u"), failedAt(1, "a", "u")} {
		if err := e.EvaluateWith(st, []byte(evt), record); err != nil {
			t.Fatal(err)
		}
	}
	e.CloseWindows(st, record)
	if diff := cmp.Diff([]string{"one such window"}, got); diff != "" {
		t.Errorf("matches (-want +got):\n%s", diff)
	}
}

// TestCorrelationEqFromOldState restores a window saved when eq was judged
// at each match (no close time): the correlation starts it afresh and
// judges the new window when it closes, instead of keeping one that never
// closes.
func TestCorrelationEqFromOldState(t *testing.T) {
	src := rangeBase + "---\ntitle: corr\nid: c\ncorrelation:\n  type: event_count\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 1h\n  condition: {eq: 2}\n"
	e := compileRules(t, src, Options{})
	t0 := rangeT0.UnixNano()
	snap := fmt.Sprintf(`{"version":1,"last":%q,"groups":{"c\u0000a":{"e":[{"t":%d,"m":0}],"s":%d}}}`,
		rangeT0.Format(time.RFC3339Nano), t0, int64(time.Hour))
	st := NewState()
	if err := st.UnmarshalBinary([]byte(snap)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, evt := range []string{failedAt(10, "a", "u"), failedAt(11, "a", "u"), laterEvent(120)} {
		if err := e.EvaluateWith(st, []byte(evt), func(m Match) {
			if m.Correlation != nil {
				got = append(got, fmt.Sprintf("%g %s", m.Correlation.Value, m.Time.Format(time.RFC3339)))
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"2 " + rangeT0.Add(70*time.Minute).Format(time.RFC3339)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("matches (-want +got):\n%s", diff)
	}
}

// TestCorrelationClosedOnce replays the same closing past and checks a
// window judged at close is reported once, however many later events
// arrive, with the state saved and restored between events.
func TestCorrelationClosedOnce(t *testing.T) {
	corr := "type: event_count\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 5m\n  condition: {neq: 7}"
	events := []string{failedAt(0, "a", "u"), laterEvent(6), laterEvent(7), failedAt(8, "b", "u"), laterEvent(20), laterEvent(21)}
	got := runCorrelation(t, corr, events)
	want := []corrFiring{
		{Event: 1, Value: 1, Group: "a", At: rangeT0.Add(5 * time.Minute)},
		{Event: 4, Value: 1, Group: "b", At: rangeT0.Add(13 * time.Minute)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("correlation matches (-want +got):\n%s", diff)
	}
}
