package sophos

import (
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/envelope"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

// A record behind an RFC 3164 header goes through the syslog envelope
// first, as in the pipeline; its reader takes the first pair for a tag.
// The parser gives the pair back.
func TestSyslogEnvelope(t *testing.T) {
	raw := `<30>Mar  1 10:00:00 xg-1 device_name="XG125" log_id=010101600001 log_type="Firewall" log_subtype="Allowed" status="Allow" src_ip=10.0.0.5 dst_ip=198.51.100.7`
	var env envelope.Syslog
	ev := &event.Event{}
	if err := env.Parse(event.Raw{Received: received, Source: "syslog", Data: []byte(raw)}, ev); err != nil {
		t.Fatal(err)
	}
	msg, _ := ev.Get(event.FieldMessage)
	var p Parser
	if err := p.Parse([]byte(msg), ev); err != nil {
		t.Fatalf("Parse(%q): %v", msg, err)
	}
	got := parsertest.Fields(ev)
	for k, v := range map[string]string{"observer.hostname": "XG125", "sophos.xg.device_name": "XG125", "source.ip": "10.0.0.5", "event.type": `["allowed","connection"]`} {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}
