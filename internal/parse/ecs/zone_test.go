package ecs

import (
	"testing"
	"time"
)

func TestFixZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	const layout = "Jan _2 2006 15:04:05 MST"
	tests := []struct {
		in   string
		loc  *time.Location
		want string // "" when the time must not be read
	}{
		{"Nov 13 2026 10:00:00 UTC", time.UTC, "2026-11-13T10:00:00Z"},
		{"Nov 13 2026 10:00:00 GMT", time.UTC, "2026-11-13T10:00:00Z"},
		{"Nov 13 2026 10:00:00 EST", time.UTC, "2026-11-13T15:00:00Z"},
		{"Nov 13 2026 10:00:00 PDT", time.UTC, "2026-11-13T17:00:00Z"},
		{"Nov 13 2026 10:00:00 CET", time.UTC, "2026-11-13T09:00:00Z"},
		{"Jul 13 2026 10:00:00 BST", time.UTC, "2026-07-13T09:00:00Z"},
		{"Nov 13 2026 10:00:00 NST", time.UTC, "2026-11-13T13:30:00Z"},
		// The location knows its own abbreviation.
		{"Jul 13 2026 10:00:00 CEST", berlin, "2026-07-13T08:00:00Z"},
		// And another one is read from the table, not as the location's.
		{"Nov 13 2026 10:00:00 EST", berlin, "2026-11-13T15:00:00Z"},
		// Unknown or ambiguous: not UTC.
		{"Nov 13 2026 10:00:00 IST", time.UTC, ""},
		{"Nov 13 2026 10:00:00 XYZ", time.UTC, ""},
	}
	for _, tt := range tests {
		p, err := time.ParseInLocation(layout, tt.in, tt.loc)
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		got, ok := FixZone(p)
		switch {
		case tt.want == "" && ok:
			t.Errorf("%s (%s): read as %s, want not read", tt.in, tt.loc, got.UTC().Format(time.RFC3339))
		case tt.want != "" && (!ok || got.UTC().Format(time.RFC3339) != tt.want):
			t.Errorf("%s (%s): %s, %v; want %s", tt.in, tt.loc, got.UTC().Format(time.RFC3339), ok, tt.want)
		}
	}
	est := time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("EST", 0))
	if n := testing.AllocsPerRun(100, func() { FixZone(est) }); n != 0 {
		t.Errorf("FixZone allocates %v times", n)
	}
}
