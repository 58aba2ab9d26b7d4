package vlrow

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/logstore"
)

func TestAppend(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	w := NewWindow(now, 30*24*time.Hour, 48*time.Hour)
	ingested := now.Add(-time.Minute)
	for _, tt := range []struct {
		name  string
		time  time.Time
		extra []event.Field
		at    time.Time
		moved bool
		stamp string // @timestamp kept, or ""
	}{
		{"inside", now.Add(-time.Hour), nil, now.Add(-time.Hour), false, ""},
		{"too old, ingest time", now.Add(-60 * 24 * time.Hour), []event.Field{{Name: event.FieldIngested, Value: ingested.Format(time.RFC3339Nano)}}, ingested, true, now.Add(-60 * 24 * time.Hour).Format(time.RFC3339Nano)},
		{"too far ahead, no ingest time", now.Add(72 * time.Hour), nil, now, true, now.Add(72 * time.Hour).Format(time.RFC3339Nano)},
		{"no time", time.Time{}, nil, now, true, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := event.Event{Time: tt.time, Fields: append([]event.Field{
				{Name: event.FieldMessage, Value: "hello"},
				{Name: event.FieldTimestamp, Value: "dropped"},
				{Name: "_stream", Value: "dropped"},
				{Name: "host.name", Value: "h"},
			}, tt.extra...)}
			fields, at, moved := Append(nil, &e, w)
			if !at.Equal(tt.at) || moved != tt.moved {
				t.Errorf("at %v moved %v, want %v %v", at, moved, tt.at, tt.moved)
			}
			got := map[string]string{}
			for _, f := range fields {
				got[f.Name] = f.Value
			}
			if got["_msg"] != "hello" || got["host.name"] != "h" || got["_stream"] != "" {
				t.Errorf("fields %v", fields)
			}
			if got[event.FieldTimestamp] != tt.stamp {
				t.Errorf("@timestamp %q, want %q", got[event.FieldTimestamp], tt.stamp)
			}
		})
	}
}

func TestCheckLimits(t *testing.T) {
	ok := []logstorage.Field{{Name: "a", Value: "b"}}
	if err := CheckLimits(ok, 1, 2); err != nil {
		t.Errorf("2 fields of 2: %v", err)
	}
	for name, fields := range map[string][]logstorage.Field{
		"fields":    {{Name: "a"}, {Name: "b"}},
		"name":      {{Name: strings.Repeat("n", MaxFieldNameSize+1)}},
		"row bytes": {{Name: "a", Value: strings.Repeat("v", MaxRowSize)}},
	} {
		if err := CheckLimits(fields, 1, 2); !errors.Is(err, logstore.ErrTooLarge) {
			t.Errorf("%s: %v, want ErrTooLarge", name, err)
		}
	}
}

func TestBounds(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	w := NewWindow(now, 365*24*time.Hour, 48*time.Hour)
	hour := now.Add(-time.Hour)
	old := time.Date(2020, 10, 5, 20, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name       string
		from, to   time.Time
		start, end int64
		filter     string
	}{
		{"inside the window: stored time only", hour, now, hour.UnixNano(), now.UnixNano() - 1, ""},
		{"from inside, open", hour, time.Time{}, hour.UnixNano(), math.MaxInt64, ""},
		{"past the window", old, old.Add(24 * time.Hour), old.UnixNano(), w.Newest.UnixNano(),
			`_time:[2020-10-05T20:00:00.000000000Z, 2020-10-06T20:00:00.000000000Z) or "@timestamp":range[2020-10-05T20:00:00.000000000Z, 2020-10-06T20:00:00.000000000Z)`},
		{"no start", time.Time{}, hour, math.MinInt64, w.Newest.UnixNano(),
			`_time:<2026-12-06T11:00:00.000000000Z or "@timestamp":<2026-12-06T11:00:00.000000000Z`},
		{"past the window, open", old, time.Time{}, old.UnixNano(), math.MaxInt64,
			`_time:>=2020-10-05T20:00:00.000000000Z or "@timestamp":>=2020-10-05T20:00:00.000000000Z`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := Bounds(tt.from, tt.to, w)
			if b.Start != tt.start {
				t.Errorf("start %d, want %d", b.Start, tt.start)
			}
			if b.End != tt.end {
				t.Errorf("end %d, want %d", b.End, tt.end)
			}
			if b.Filter != tt.filter {
				t.Errorf("filter\n %s, want\n %s", b.Filter, tt.filter)
			}
			if b.Filter == "" {
				return
			}
			f, err := logstorage.ParseFilter(b.Filter)
			if err != nil {
				t.Fatalf("filter does not parse: %v", err)
			}
			in := old.Add(time.Hour).Format(time.RFC3339Nano)
			if tt.from.IsZero() || !tt.to.IsZero() && tt.to.Before(old.Add(time.Hour)) {
				return
			}
			if !f.MatchRow([]logstorage.Field{{Name: "@timestamp", Value: in}}) {
				t.Errorf("filter does not match an event stored with @timestamp %s", in)
			}
		})
	}
}
