package detect

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/event"
)

// TestCorrelationRefs: a correlation's match names the events that took
// part (EvaluateEvent's references), in the window's order and each once,
// not another group's: when it fires at the match (gte) and when its
// window closes (eq), where the event at hand is a later, unrelated one.
// The references survive the state's save and restore between events.
func TestCorrelationRefs(t *testing.T) {
	type ev struct {
		ref event.Ref
		min int
		id  int
		ip  string
	}
	events := []ev{
		{event.Ref{Seq: 1, Idx: 0}, 0, 4625, "198.51.100.1"},
		{event.Ref{Seq: 1, Idx: 1}, 1, 4625, "198.51.100.1"},
		{event.Ref{Seq: 1, Idx: 2}, 1, 4625, "198.51.100.2"}, // another group
		{event.Ref{Seq: 2, Idx: 0}, 2, 4625, "198.51.100.1"},
		{event.Ref{Seq: 2, Idx: 1}, 3, 4625, "198.51.100.1"},
		{event.Ref{Seq: 3, Idx: 0}, 30, 1, ""}, // closes the windows
	}
	for _, c := range []struct {
		name, cond string
		want       []string
	}{
		{"at the match", "{gte: 3}", []string{"1:0", "1:1", "2:0"}},
		{"at the close", "{eq: 4}", []string{"1:0", "1:1", "2:0", "2:1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := compileRules(t, rangeBase+"---\ntitle: corr\nid: c\ncorrelation:\n  type: event_count\n  rules: [failed]\n  group-by: [IpAddress]\n  timespan: 10m\n  condition: "+c.cond+"\n", Options{})
			st := NewState()
			var got [][]string
			for _, x := range events {
				st = restored(t, st)
				fields := []event.Field{{Name: "EventID", Value: strconv.Itoa(x.id)}, {Name: "Channel", Value: "Security"},
					{Name: "@timestamp", Value: rangeT0.Add(time.Duration(x.min) * time.Minute).Format(time.RFC3339)}}
				if x.ip != "" {
					fields = append(fields, event.Field{Name: "IpAddress", Value: x.ip})
				}
				e.EvaluateEvent(st, x.ref, fields, func(m Match) {
					if m.Correlation != nil {
						got = append(got, m.Correlation.Refs)
					}
				})
			}
			if diff := cmp.Diff([][]string{c.want}, got); diff != "" {
				t.Errorf("the match's references (-want +got):\n%s", diff)
			}
		})
	}
}
