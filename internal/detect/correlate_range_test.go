package detect

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// rangeBase holds the detection rules the range correlations refer to.
const rangeBase = `title: failed logon
name: failed
id: f1
logsource: {product: windows, service: security}
detection:
  s: {EventID: 4625}
  condition: s
---
title: success logon
name: success
id: s1
logsource: {product: windows, service: security}
detection:
  s: {EventID: 4624}
  condition: s
`

var rangeT0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// failedAt is a failed logon from ip for user, min minutes after rangeT0.
func failedAt(min int, ip, user string) string {
	return fmt.Sprintf(`{"EventID":4625,"Channel":"Security","IpAddress":%q,"TargetUserName":%q,"@timestamp":%q}`,
		ip, user, rangeT0.Add(time.Duration(min)*time.Minute).Format(time.RFC3339))
}

// laterEvent is an unrelated event at minute min: it advances event time
// and so closes the windows it has passed.
func laterEvent(min int) string {
	return fmt.Sprintf(`{"EventID":1,"Channel":"Security","@timestamp":%q}`, rangeT0.Add(time.Duration(min)*time.Minute).Format(time.RFC3339))
}

// corrFiring is one match of the correlation under test.
type corrFiring struct {
	Event int       // index of the event being evaluated when it fired
	Value float64   // the count, sum … that met the condition
	Group string    // IpAddress
	At    time.Time // the match's time: the window's close for a judged-at-close condition
}

// runCorrelation compiles rangeBase plus the correlation body corr (id c)
// and evaluates events, saving and restoring the state between events.
func runCorrelation(t *testing.T, corr string, events []string) []corrFiring {
	t.Helper()
	src := rangeBase + "---\ntitle: corr\nid: c\ncorrelation:\n  " + corr + "\n"
	e := compileRules(t, src, Options{})
	st := NewState()
	var got []corrFiring
	for i, evt := range events {
		st = restored(t, st)
		err := e.EvaluateWith(st, []byte(evt), func(m Match) {
			if m.Correlation == nil {
				return
			}
			got = append(got, corrFiring{Event: i, Value: m.Correlation.Value, Group: fieldValue(m.Fields, "IpAddress"), At: m.Time})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return got
}

// repeat returns n failed logons from ip, one a minute from minute from,
// with users named by user(i).
func repeat(n, from int, ip string, user func(i int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = failedAt(from+i, ip, user(i))
	}
	return out
}

func sameUser(int) string        { return "u" }
func distinctUsers(i int) string { return fmt.Sprintf("u%d", i) }

func TestCorrelationRange(t *testing.T) {
	const (
		countRange = "type: event_count\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 1h\n  condition: {gt: 3, lte: 5}"
		usersRange = "type: value_count\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 1h\n  condition: {field: TargetUserName, gte: 2, lt: 4}"
	)
	closeAt := rangeT0.Add(time.Hour) // windows open at the first match, minute 0
	tests := []struct {
		name   string
		corr   string
		events []string
		want   []corrFiring
	}{
		{"event_count below the range", countRange,
			append(repeat(3, 0, "a", sameUser), laterEvent(120)), nil},
		{"event_count at the lower edge", countRange,
			append(repeat(4, 0, "a", sameUser), laterEvent(120)),
			[]corrFiring{{Event: 4, Value: 4, Group: "a", At: closeAt}}},
		{"event_count at the upper edge", countRange,
			append(repeat(5, 0, "a", sameUser), laterEvent(120)),
			[]corrFiring{{Event: 5, Value: 5, Group: "a", At: closeAt}}},
		{"event_count above the range", countRange,
			append(repeat(6, 0, "a", sameUser), laterEvent(120)), nil},
		{"event_count far above the range", countRange,
			append(repeat(40, 0, "a", sameUser), laterEvent(120)), nil},
		{"event_count not judged before the window closes", countRange,
			append(repeat(4, 0, "a", sameUser), laterEvent(60)), nil},
		{"event_count judged just after the window closes", countRange,
			append(repeat(4, 0, "a", sameUser), laterEvent(61)),
			[]corrFiring{{Event: 4, Value: 4, Group: "a", At: closeAt}}},
		{"event_count per group", countRange,
			// a: 4 (in range), b: 6 (above), interleaved.
			append(append(repeat(4, 0, "a", sameUser), repeat(6, 0, "b", sameUser)...), laterEvent(120)),
			[]corrFiring{{Event: 10, Value: 4, Group: "a", At: closeAt}}},
		{"event_count tumbling windows", "type: event_count\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 5m\n  condition: {gte: 2, lte: 3}",
			// Window [0,5]: 4 matches (above); window [10,15]: 2 (in range), closed by the match at 30.
			append(append(repeat(4, 0, "a", sameUser), repeat(2, 10, "a", sameUser)...), failedAt(30, "a", "u"), laterEvent(60)),
			[]corrFiring{{Event: 6, Value: 2, Group: "a", At: rangeT0.Add(15 * time.Minute)}}},
		{"value_count below the range", usersRange,
			append(repeat(5, 0, "a", sameUser), laterEvent(120)), nil},
		{"value_count in the range", usersRange,
			// 6 events, 3 distinct users.
			append(repeat(6, 0, "a", func(i int) string { return distinctUsers(i % 3) }), laterEvent(120)),
			[]corrFiring{{Event: 6, Value: 3, Group: "a", At: closeAt}}},
		{"value_count at the lower edge", usersRange,
			append(repeat(2, 0, "a", distinctUsers), laterEvent(120)),
			[]corrFiring{{Event: 2, Value: 2, Group: "a", At: closeAt}}},
		{"value_count above the range", usersRange,
			append(repeat(4, 0, "a", distinctUsers), laterEvent(120)), nil},
		{"value_sum above the range", "type: value_sum\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 1h\n  condition: {field: TargetUserName, gt: 10, lte: 20}",
			[]string{failedAt(0, "a", "6"), failedAt(1, "a", "5"), failedAt(2, "a", "15"), laterEvent(120)}, nil},
		{"value_sum in the range", "type: value_sum\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 1h\n  condition: {field: TargetUserName, gt: 10, lte: 20}",
			[]string{failedAt(0, "a", "6"), failedAt(1, "a", "5"), failedAt(2, "a", "9"), laterEvent(120)},
			[]corrFiring{{Event: 3, Value: 20, Group: "a", At: closeAt}}},
		{"lower bound and neq judged at close", "type: event_count\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 1h\n  condition: {gt: 2, neq: 3}",
			// The count passes 3 on its way to 8: only the final count counts.
			append(repeat(8, 0, "a", sameUser), laterEvent(120)),
			[]corrFiring{{Event: 8, Value: 8, Group: "a", At: closeAt}}},
		{"lower bound and neq, the count ends on the neq", "type: event_count\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 1h\n  condition: {gt: 2, neq: 3}",
			append(repeat(3, 0, "a", sameUser), laterEvent(120)), nil},
		{"lower bound alone fires at the match", "type: event_count\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 1h\n  condition: {gt: 2}",
			// A count only rises: once past a lower bound it stays past;
			// then the window starts again.
			repeat(8, 0, "a", sameUser),
			[]corrFiring{{Event: 2, Value: 3, Group: "a", At: rangeT0.Add(2 * time.Minute)}, {Event: 5, Value: 3, Group: "a", At: rangeT0.Add(5 * time.Minute)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runCorrelation(t, tt.corr, tt.events)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("correlation matches (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCorrelationRangeRestoresOldState restores a state snapshot in the
// format written before ranges existed (an open lt window) and checks that
// a range correlation with the same key judges it when it closes.
func TestCorrelationRangeRestoresOldState(t *testing.T) {
	src := rangeBase + "---\ntitle: corr\nid: c\ncorrelation:\n  type: event_count\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 1h\n  condition: {gt: 1, lt: 3}\n"
	e := compileRules(t, src, Options{})
	t0 := rangeT0.UnixNano()
	snap := fmt.Sprintf(`{"version":1,"last":%q,"groups":{"c\u0000a":{"e":[{"t":%d,"m":0},{"t":%d,"m":0}],"s":%d,"c":%d,"k":"c","g":["a"]}}}`,
		rangeT0.Add(time.Minute).Format(time.RFC3339Nano), t0, t0+int64(time.Minute), int64(time.Hour), t0+int64(time.Hour))
	st := NewState()
	if err := st.UnmarshalBinary([]byte(snap)); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := e.EvaluateWith(st, []byte(laterEvent(90)), func(m Match) {
		if m.Correlation != nil {
			got = append(got, fmt.Sprintf("%s %g %s", m.RuleID, m.Correlation.Value, m.Time.Format(time.RFC3339)))
		}
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"c 2 " + rangeT0.Add(time.Hour).Format(time.RFC3339)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("matches (-want +got):\n%s", diff)
	}
	if st.Groups() != 0 {
		t.Errorf("the closed window should be gone, %d groups left", st.Groups())
	}
}

// restored is st saved and loaded again, as a restart does.
func restored(t *testing.T, st *State) *State {
	t.Helper()
	snap, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	next := NewState()
	if err := next.UnmarshalBinary(snap); err != nil {
		t.Fatalf("restore: %v", err)
	}
	return next
}
