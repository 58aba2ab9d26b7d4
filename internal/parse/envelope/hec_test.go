package envelope

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/event"
)

func TestHECParse(t *testing.T) {
	recv := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		in     string
		time   time.Time
		fields []event.Field
	}{
		{
			name: "string event with metadata",
			in:   `{"time":"1700000000.25","host":"fw01","source":"udp:514","sourcetype":"cisco:asa","index":"net","fields":{"site":"hq","n":3},"event":"Deny tcp src outside:203.0.113.9"}`,
			time: time.Date(2023, 11, 14, 22, 13, 20, 250e6, time.UTC),
			fields: []event.Field{
				f("message", "Deny tcp src outside:203.0.113.9"), f("host.name", "fw01"), f("log.file.path", "udp:514"),
				f("event.dataset", "cisco:asa"), f("splunk.index", "net"), f("labels.site", "hq"), f("labels.n", "3"),
			},
		},
		{
			name: "object event, no time: the event's own",
			in:   `{"event":{"@timestamp":"2026-11-24T09:00:00Z","user":{"name":"alice"},"action":"login"}}`,
			time: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC),
			fields: []event.Field{
				f("@timestamp", "2026-11-24T09:00:00Z"), f("user.name", "alice"), f("action", "login"),
			},
		},
		{
			name:   "time in milliseconds, as some shippers send it",
			in:     `{"time":1700000000123,"event":"ms"}`,
			time:   time.Date(2023, 11, 14, 22, 13, 20, 123e6, time.UTC),
			fields: []event.Field{f("message", "ms")},
		},
		{
			name:   "time with microseconds, exactly",
			in:     `{"time":1700000000.123456,"event":"us"}`,
			time:   time.Date(2023, 11, 14, 22, 13, 20, 123456e3, time.UTC),
			fields: []event.Field{f("message", "us")},
		},
		{
			name:   "no time anywhere: receive time",
			in:     `{"event":42}`,
			time:   recv,
			fields: []event.Field{f("message", "42")},
		},
	}
	var h HEC
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev event.Event
			if err := h.Parse(event.Raw{Received: recv, Source: "hec", Data: []byte(tt.in)}, &ev); err != nil {
				t.Fatal(err)
			}
			if !ev.Time.Equal(tt.time) {
				t.Errorf("time = %v, want %v", ev.Time, tt.time)
			}
			want := append(tt.fields, f("event.original", tt.in), f("event.ingested", "2026-11-25T10:00:00Z"))
			if diff := cmp.Diff(want, ev.Fields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
	var ev event.Event
	if err := h.Parse(event.Raw{Data: []byte(`{"time":1}`)}, &ev); err != ErrNoEvent {
		t.Errorf("no event: %v", err)
	}
}

func FuzzHECParse(f *testing.F) {
	f.Add([]byte(`{"event":{"a":[1]},"time":"1.5","fields":{"x":null}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var h HEC
		var ev event.Event
		_ = h.Parse(event.Raw{Data: data}, &ev)
	})
}
