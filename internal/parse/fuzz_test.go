package parse_test

import (
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse"
)

// FuzzPipeline feeds any record through every receiver's envelope and
// detection: it must never panic, and every event it yields has a
// @timestamp, the raw record and no name twice.
func FuzzPipeline(f *testing.F) {
	for _, seed := range []string{
		`{"Event":{"System":{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational"}}}`,
		"<134>Nov 25 10:00:00 fw01 CEF:0|a|b|1|2|n|5|src=10.0.0.1",
		`<189>date=2026-04-02 time=17:31:09 devname="FW" logid="0100032002" type="event"`,
		`{"records":[{"category":"SignInLogs","properties":{}},{"category":"SignInLogs"}]}`,
		"<Event xmlns='x'><System><EventID>4624</EventID></System></Event>",
		`{"event":"raw text","host":"h"}`,
		"%ASA-6-302013: Built outbound TCP connection",
		"",
	} {
		f.Add([]byte(seed), uint8(0))
	}
	// JSON in a syslog message, plain and as an @cee: record.
	f.Add([]byte(`<134>Nov 25 10:00:00 web1 app[1]: {"user":"bob","message":"m","a":{"b":[1,{"c":null}]}}`), uint8(1))
	f.Add([]byte(`<134>1 2026-11-25T10:00:00Z web1 app - - - @cee: {"@timestamp":"2026-11-25T09:00:00Z","x":"{"}`), uint8(1))
	receivers := []string{"http", "syslog", "hec", "file", "poller/entra-signin"}
	p, err := parse.New(parse.Config{})
	if err != nil {
		f.Fatal(err)
	}
	pp := p.NewParser()
	f.Fuzz(func(t *testing.T, data []byte, r uint8) {
		raw := event.Raw{Received: time.Unix(1_800_000_000, 0), Source: receivers[int(r)%len(receivers)], Data: data}
		var evs []event.Event
		var err error
		if raw.Source == "file" {
			evs, err = pp.ParseAs(parse.Auto, raw, nil)
		} else {
			evs, err = pp.Parse("council-a", raw, nil)
		}
		if err != nil {
			return
		}
		for _, ev := range evs {
			names := map[string]bool{}
			for _, fl := range ev.Fields {
				if names[fl.Name] {
					t.Fatalf("field %s twice in %v", fl.Name, ev.Fields)
				}
				names[fl.Name] = true
			}
			if !names[event.FieldTimestamp] {
				t.Fatalf("no @timestamp: %v", ev.Fields)
			}
			// The default raw policy keeps the record of what no format parsed.
			if !names[parse.FieldType] && !names[event.FieldOriginal] {
				t.Fatalf("unparsed event without event.original: %v", ev.Fields)
			}
		}
	})
}
