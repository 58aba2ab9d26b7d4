package metrics

import (
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	r := New()
	r.Count("tarian_ingest_events_total", "council-a", 3)
	r.Count("tarian_ingest_events_total", "council-a", 2)
	r.Count("tarian_ingest_events_total", "council-b", 1)
	r.Gauge("tarian_bus_lag_messages", func() float64 { return 7 })
	var b strings.Builder
	r.Write(&b)
	for _, want := range []string{
		`tarian_ingest_events_total{tenant="council-a"} 5`,
		`tarian_ingest_events_total{tenant="council-b"} 1`,
		`tarian_bus_lag_messages 7`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, b.String())
		}
	}
}

func TestWriter(t *testing.T) {
	r := New()
	calls := 0
	r.Writer(func(w io.Writer) {
		calls++
		fmt.Fprintf(w, "tarian_alerts_open{tenant=%q} %d\n", "council-a", calls)
	})
	var b strings.Builder
	r.Write(&b)
	r.Write(&b)
	if calls != 2 || !strings.Contains(b.String(), `tarian_alerts_open{tenant="council-a"} 2`) {
		t.Errorf("writer called %d times; metrics:\n%s", calls, b.String())
	}
}
