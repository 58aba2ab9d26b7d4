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
