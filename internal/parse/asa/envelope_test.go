package asa

import (
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/envelope"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

// Records go through the syslog envelope first, as in the pipeline. Its
// RFC 3164 reader parses some ASA headers itself, takes the ASA's own
// date as message text, or takes the %ASA tag for an app name; every one
// must still parse.
func TestSyslogEnvelope(t *testing.T) {
	for _, c := range []struct {
		raw  string
		time time.Time
		host string
	}{
		{"<166>Oct 10 2018 12:34:56 asa01 : %ASA-6-609001: Built local-host inside:10.0.0.1", time.Date(2018, 10, 10, 12, 34, 56, 0, time.UTC), "asa01"},
		{"<166>Oct 10 12:34:56 asa01 : %ASA-6-609001: Built local-host inside:10.0.0.1", time.Date(2025, 10, 10, 12, 34, 56, 0, time.UTC), "asa01"},
		{"<166>2018-10-10T12:34:56Z asa01 %ASA-6-609001: Built local-host inside:10.0.0.1", time.Date(2018, 10, 10, 12, 34, 56, 0, time.UTC), "asa01"},
		{"<166>%ASA-6-609001: Built local-host inside:10.0.0.1", received, ""},
	} {
		var env envelope.Syslog
		ev := &event.Event{}
		if err := env.Parse(event.Raw{Received: received, Source: "syslog", Data: []byte(c.raw)}, ev); err != nil {
			t.Fatal(err)
		}
		msg, _ := ev.Get(event.FieldMessage)
		var p Parser
		if err := p.Parse([]byte(msg), ev); err != nil {
			t.Errorf("%q: Parse(%q) after the envelope: %v", c.raw, msg, err)
			continue
		}
		got := parsertest.Fields(ev)
		if got["event.code"] != "609001" || got["source.ip"] != "10.0.0.1" || got["observer.hostname"] != c.host {
			t.Errorf("%q: event.code %q source.ip %q observer.hostname %q", c.raw, got["event.code"], got["source.ip"], got["observer.hostname"])
		}
		if !ev.Time.Equal(c.time) {
			t.Errorf("%q: time %s, want %s", c.raw, ev.Time, c.time)
		}
	}
}

// TestHeaderZone: a zone abbreviation after the device's time, followed by
// the colon ASA writes ("CET:"), is the time's zone, not a host; a ':'
// right after the PRI is no host either.
func TestHeaderZone(t *testing.T) {
	const msg = " %ASA-6-302013: Built inbound TCP connection 5 for outside:198.51.100.1/1 (198.51.100.1/1) to inside:10.0.0.9/22 (10.0.0.9/22)"
	for _, c := range []struct {
		raw      string
		time     time.Time
		tz, host string
	}{
		{"<166>Nov 07 2026 11:02:36 CET:" + msg, time.Date(2026, 11, 7, 10, 2, 36, 0, time.UTC), "CET", ""},
		{"<166>Nov 07 2026 11:02:36 EST:" + msg, time.Date(2026, 11, 7, 16, 2, 36, 0, time.UTC), "EST", ""},
		{"<166>Nov 07 2026 11:02:36 UTC:" + msg, time.Date(2026, 11, 7, 11, 2, 36, 0, time.UTC), "UTC", ""},
		{"<166>Nov 07 2026 11:02:36 CET asa-edge-9 :" + msg, time.Date(2026, 11, 7, 10, 2, 36, 0, time.UTC), "CET", "asa-edge-9"},
		{"<166>Nov 07 2026 11:02:36 asa-edge-9:" + msg, time.Date(2026, 11, 7, 11, 2, 36, 0, time.UTC), "UTC", "asa-edge-9"},
		{"<166>Jul 07 2026 11:02:36 CEST:" + msg, time.Date(2026, 7, 7, 9, 2, 36, 0, time.UTC), "CEST", ""},
		{"<166>:Nov 07 2026 11:02:35 UTC:" + msg, time.Date(2026, 11, 7, 11, 2, 35, 0, time.UTC), "UTC", ""},
		{"<166>:Nov 07 2026 11:02:35 PDT:" + msg, time.Date(2026, 11, 7, 18, 2, 35, 0, time.UTC), "PDT", ""},
		{"Nov 07 2026 11:02:36 CET:" + msg, time.Date(2026, 11, 7, 10, 2, 36, 0, time.UTC), "CET", ""},
		// An abbreviation ecs.Zone does not know stays a host name.
		{"<166>Nov 07 2026 11:02:36 IST:" + msg, time.Date(2026, 11, 7, 11, 2, 36, 0, time.UTC), "UTC", "IST"},
	} {
		var env envelope.Syslog
		ev := &event.Event{}
		if err := env.Parse(event.Raw{Received: received, Source: "syslog", Data: []byte(c.raw)}, ev); err != nil {
			t.Fatal(err)
		}
		m, _ := ev.Get(event.FieldMessage)
		var p Parser
		if err := p.Parse([]byte(m), ev); err != nil {
			t.Fatalf("%q: %v", c.raw, err)
		}
		got := parsertest.Fields(ev)
		if !ev.Time.Equal(c.time) || got["event.timezone"] != c.tz || got["observer.hostname"] != c.host || got["host.hostname"] != c.host {
			t.Errorf("%q: time %s event.timezone %q observer.hostname %q host.hostname %q; want %s %q %q",
				c.raw, ev.Time.UTC(), got["event.timezone"], got["observer.hostname"], got["host.hostname"], c.time, c.tz, c.host)
		}
	}
}
