package sophos

import (
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

// FuzzParse: no input panics; a payload is refused (event untouched) or
// becomes an event with its classification and each field once.
func FuzzParse(f *testing.F) {
	for _, s := range []string{fwAllowed, sfos19, authFailed, cfDenied,
		`log_id=1 log_type="Firewall" duration=99999999999999999999 src_ip="`, `device="SFW" x==y "=" ="a`,
		`<1>Jan  1 00:00:00 h log_type=Event log_id=000000617703 name=x auth_client=SSLVPN`,
		`device_name=a timestamp=2024-13-45T99:99:99+9999 date=2024-02-30 time=25:00:00 timezone=+99`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Parser
		ev := &event.Event{Time: received}
		if err := p.Parse(b, ev); err != nil {
			if len(ev.Fields) != 0 || !ev.Time.Equal(received) {
				t.Fatalf("error %v but the event changed", err)
			}
			return
		}
		parsertest.CheckFields(t, ev, "event.category", "event.type", "observer.vendor")
	})
}
