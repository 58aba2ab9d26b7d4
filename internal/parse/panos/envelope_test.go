package panos

import (
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/envelope"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

// A BSD syslog record goes through the syslog envelope first, as the
// pipeline does it; the envelope must not take the first CSV column
// ("1,2018/11/30") for a tag. (The parser also puts a record cut that way
// back together from log.syslog.appname, for envelopes that do.)
func TestSyslogEnvelope(t *testing.T) {
	raw := "<14>Mar  1 10:00:01 pa-edge 1,2024/03/01 10:00:01,013201001234,TRAFFIC,end,2561,2024/03/01 10:00:00,10.0.0.5,198.51.100.10,0.0.0.0,0.0.0.0,allow-web,,,ssl,vsys1,trust,untrust,ethernet1/2,ethernet1/1,fwd,2024/03/01 10:00:00,1001,1,51000,443,0,0,0x0,tcp,allow,500,300,200"
	var env envelope.Syslog
	ev := &event.Event{}
	if err := env.Parse(event.Raw{Received: received, Source: "syslog", Data: []byte(raw)}, ev); err != nil {
		t.Fatal(err)
	}
	msg, _ := ev.Get(event.FieldMessage)
	var p Parser
	if err := p.Parse([]byte(msg), ev); err != nil {
		t.Fatalf("Parse(%q) after the envelope: %v", msg, err)
	}
	got := parsertest.Fields(ev)
	for k, v := range map[string]string{
		"panw.panos.type": "TRAFFIC", "observer.serial_number": "013201001234", "source.ip": "10.0.0.5",
		"destination.port": "443", "host.hostname": "pa-edge", "event.created": "2024-03-01T10:00:01Z",
	} {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if want := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC); !ev.Time.Equal(want) {
		t.Errorf("time %s, want %s", ev.Time, want)
	}
	// The envelope keeps the record whole: its first column is not a tag.
	if app, ok := ev.Get(envelope.FieldSyslogAppname); ok {
		t.Errorf("the envelope took %q for the app-name", app)
	}
	if err := p.Parse([]byte(msg), &event.Event{Time: received}); err != nil {
		t.Errorf("the message alone: %v", err)
	}
}
