package envelope

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/event"
)

func f(name, value string) event.Field { return event.Field{Name: name, Value: value} }

func TestJSONParse(t *testing.T) {
	recv := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		in     string
		time   time.Time
		fields []event.Field
	}{
		{
			name: "nested, arrays, nulls, own time",
			in:   `{"@timestamp":"2026-11-24T09:30:00.5Z","message":"login ok","user":{"name":"alice","id":7},"tags":["a","b"],"ok":true,"gone":null}`,
			time: time.Date(2026, 11, 24, 9, 30, 0, 5e8, time.UTC),
			fields: []event.Field{
				f("@timestamp", "2026-11-24T09:30:00.5Z"), f("message", "login ok"), f("user.name", "alice"), f("user.id", "7"),
				f("tags", `["a","b"]`), f("ok", "true"),
				f("event.original", `{"@timestamp":"2026-11-24T09:30:00.5Z","message":"login ok","user":{"name":"alice","id":7},"tags":["a","b"],"ok":true,"gone":null}`),
				f("event.ingested", "2026-11-25T10:00:00Z"),
			},
		},
		{
			name: "no time: receive time",
			in:   `{"a.b":"dotted"}`,
			time: recv,
			fields: []event.Field{
				f("a.b", "dotted"), f("event.original", `{"a.b":"dotted"}`), f("event.ingested", "2026-11-25T10:00:00Z"),
			},
		},
		{
			name: "CloudTrail's eventTime",
			in:   `{"eventVersion":"1.08","eventTime":"2026-11-24T01:22:00Z","eventName":"StopLogging"}`,
			time: time.Date(2026, 11, 24, 1, 22, 0, 0, time.UTC),
			fields: []event.Field{
				f("eventVersion", "1.08"), f("eventTime", "2026-11-24T01:22:00Z"), f("eventName", "StopLogging"),
				f("event.original", `{"eventVersion":"1.08","eventTime":"2026-11-24T01:22:00Z","eventName":"StopLogging"}`),
				f("event.ingested", "2026-11-25T10:00:00Z"),
			},
		},
		{
			name: "Okta's published",
			in:   `{"uuid":"u1","published":"2026-12-07T08:15:02.123Z","eventType":"user.session.start"}`,
			time: time.Date(2026, 12, 7, 8, 15, 2, 123e6, time.UTC),
			fields: []event.Field{
				f("uuid", "u1"), f("published", "2026-12-07T08:15:02.123Z"), f("eventType", "user.session.start"),
				f("event.original", `{"uuid":"u1","published":"2026-12-07T08:15:02.123Z","eventType":"user.session.start"}`),
				f("event.ingested", "2026-11-25T10:00:00Z"),
			},
		},
		{
			name: "GitHub's created_at in milliseconds",
			in:   `{"action":"repo.destroy","created_at":1796631302000}`,
			time: time.Date(2026, 12, 7, 8, 15, 2, 0, time.UTC),
			fields: []event.Field{
				f("action", "repo.destroy"), f("created_at", "1796631302000"),
				f("event.original", `{"action":"repo.destroy","created_at":1796631302000}`),
				f("event.ingested", "2026-11-25T10:00:00Z"),
			},
		},
		{
			name: "Zeek's ts in epoch seconds with microseconds",
			in:   `{"ts":1796631302.123071,"uid":"C1","query":"example.org"}`,
			time: time.Date(2026, 12, 7, 8, 15, 2, 123071000, time.UTC),
			fields: []event.Field{
				f("ts", "1796631302.123071"), f("uid", "C1"), f("query", "example.org"),
				f("event.original", `{"ts":1796631302.123071,"uid":"C1","query":"example.org"}`),
				f("event.ingested", "2026-11-25T10:00:00Z"),
			},
		},
		{
			name: "OpenCanary's utc_time before its local_time",
			in:   `{"local_time":"2026-12-07 09:15:02.500000","utc_time":"2026-12-07 08:15:02.500000","logtype":2000}`,
			time: time.Date(2026, 12, 7, 8, 15, 2, 5e8, time.UTC),
			fields: []event.Field{
				f("local_time", "2026-12-07 09:15:02.500000"), f("utc_time", "2026-12-07 08:15:02.500000"), f("logtype", "2000"),
				f("event.original", `{"local_time":"2026-12-07 09:15:02.500000","utc_time":"2026-12-07 08:15:02.500000","logtype":2000}`),
				f("event.ingested", "2026-11-25T10:00:00Z"),
			},
		},
		{
			name: "evtx time, shipper's own original kept",
			in:   `{"Event":{"System":{"TimeCreated":{"#attributes":{"SystemTime":"2019-03-19T23:39:43.964311Z"}}}},"event":{"original":"<raw>"}}`,
			time: time.Date(2019, 3, 19, 23, 39, 43, 964311000, time.UTC),
			fields: []event.Field{
				f("Event.System.TimeCreated.#attributes.SystemTime", "2019-03-19T23:39:43.964311Z"), f("event.original", "<raw>"),
				f("event.ingested", "2026-11-25T10:00:00Z"),
			},
		},
	}
	var j JSON
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev event.Event
			if err := j.Parse(event.Raw{Received: recv, Data: []byte(tt.in)}, &ev); err != nil {
				t.Fatal(err)
			}
			if !ev.Time.Equal(tt.time) {
				t.Errorf("time = %v, want %v", ev.Time, tt.time)
			}
			if diff := cmp.Diff(tt.fields, ev.Fields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
	var ev event.Event
	if err := j.Parse(event.Raw{Data: []byte(`[1]`)}, &ev); err != ErrNotObject {
		t.Errorf("array: err = %v, want ErrNotObject", err)
	}
	if err := j.Parse(event.Raw{Data: []byte(`{"a":`)}, &ev); err == nil {
		t.Error("truncated JSON parsed")
	}
}

func FuzzJSONParse(f *testing.F) {
	f.Add([]byte(`{"a":{"b":[1,{"c":null}]},"@timestamp":"1700000000"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var j JSON
		var ev event.Event
		if err := j.Parse(event.Raw{Data: data}, &ev); err != nil {
			return
		}
		if _, ok := ev.Get(event.FieldIngested); !ok {
			t.Fatal("parsed event lacks event.ingested")
		}
	})
}
