package health_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/health"
	"github.com/tarian-soc/tarian/internal/parse"
	"github.com/tarian-soc/tarian/internal/stage"
)

// BenchmarkProcess measures what the monitor adds to the event path: one
// op is one event of 40 fields (a Windows event's size), counted by its
// source, in messages of 1,000.
func BenchmarkProcess(b *testing.B) {
	r := newRig(b, health.DefaultConfig(), nil)
	fields := make([]event.Field, 0, 40)
	for i := range 36 {
		fields = append(fields, event.Field{Name: fmt.Sprintf("winlog.event_data.Field%d", i), Value: "value"})
	}
	fields = append(fields, event.Field{Name: "Computer", Value: "ws-1"}, event.Field{Name: parse.FieldType, Value: "windows"},
		event.Field{Name: "@timestamp", Value: "2026-12-06T00:00:00Z"}, event.Field{Name: "message", Value: "x"})
	var batches []*stage.Batch
	for i := 0; i < b.N; i += 1000 {
		bt := r.batch("riverside", src{receiver: "http"}, t0, min(1000, b.N-i))
		for j := range bt.Msgs[0].Events {
			bt.Msgs[0].Events[j].Fields = fields
		}
		batches = append(batches, bt)
	}
	b.ResetTimer()
	for _, bt := range batches {
		if err := r.mon.Process(context.Background(), bt); err != nil {
			b.Fatal(err)
		}
	}
}
