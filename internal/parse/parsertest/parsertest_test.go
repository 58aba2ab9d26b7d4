package parsertest

import (
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
)

func TestAgreement(t *testing.T) {
	exp, err := Flatten([]byte(`{"source":{"ip":"10.0.0.1","port":443},"event":{"category":["network","authentication"],"kind":"event"},"tags":["x"],"n":null,"ok":true}`))
	if err != nil {
		t.Fatal(err)
	}
	ev := &event.Event{Fields: []event.Field{
		{Name: "source.ip", Value: "10.0.0.2"},
		{Name: "source.ip", Value: "10.0.0.1"}, // a later field wins
		{Name: "source.port", Value: "443"},
		{Name: "event.category", Value: `["authentication","network"]`},
		{Name: "tags", Value: "x"},
		{Name: "ok", Value: "false"},
	}}
	s := Agreement(exp, Fields(ev), "event.kind")
	if s.Total != 5 || s.Matched != 4 || len(s.Wrong) != 1 || len(s.Missing) != 0 {
		t.Fatalf("score %+v", s)
	}
	if got := Agreement(exp, Fields(ev)); got.Total != 6 || len(got.Missing) != 1 || got.Missing[0] != "event.kind" {
		t.Fatalf("without ignore: %+v", got)
	}
}

func TestEqual(t *testing.T) {
	for _, c := range []struct {
		got, want string
		eq        bool
	}{
		{"a", "a", true},
		{`["a","b"]`, `["b","a"]`, true},
		{"a", `["a"]`, true},
		{`["a"]`, `["a","b"]`, false},
		{"1", "1.0", false},
		{"[broken", "[broken", true},
		{"2026-04-03T00:31:09.000Z", "2026-04-02T17:31:09.000-07:00", true},
		{"2026-04-03T00:31:09Z", "2026-04-03T00:31:10Z", false},
	} {
		if got := Equal(c.got, c.want); got != c.eq {
			t.Errorf("Equal(%q, %q) = %v", c.got, c.want, got)
		}
	}
}
