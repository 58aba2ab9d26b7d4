package panos

import (
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
)

// FuzzParse: no input panics; a payload is refused with ErrNotPANOS and
// the event untouched, or becomes an event with its type, classification
// and each field once.
func FuzzParse(f *testing.F) {
	for _, s := range []string{trafficEnd, threatURL, threatFile, system, config, globalprotect, userid, auth, hip, decryption,
		"1,2020/01/01 00:00:00,1,TRAFFIC,", `1,2020/01/01 00:00:00,1,THREAT,url,0,2020/01/01 00:00:00,"`, "1,2020/01/01 00:00:00,1,X,{,",
		`<1>Jan  1 00:00:00 h 1,2020/01/01 00:00:00,1,DECRYPTION,0,0,2020/01/01 00:00:00,,,,,,,,,,,,,,,,,,,,,,0x,tcp`} {
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
		seen := map[string]bool{}
		for _, fl := range ev.Fields {
			if seen[fl.Name] {
				t.Fatalf("field %s twice", fl.Name)
			}
			seen[fl.Name] = true
			if (strings.HasPrefix(fl.Name, "related.") || fl.Name == "event.type") && !strings.HasPrefix(fl.Value, "[") {
				t.Fatalf("%s = %q", fl.Name, fl.Value)
			}
		}
		for _, k := range []string{"panw.panos.type", "event.category", "event.type"} {
			if !seen[k] {
				t.Fatalf("no %s", k)
			}
		}
	})
}
