package opencanary

import (
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

// FuzzParse: no input panics; a record is either refused with the event
// untouched, or becomes an OpenCanary event whose array-valued ECS fields
// are JSON arrays and whose fields all have names. (A key a record
// repeats gives its field twice, as the envelope's JSON does; the
// pipeline keeps the last.)
func FuzzParse(f *testing.F) {
	a := parsertest.ReadArchive(f, "testdata/golden.txtar")
	for _, file := range a.Files {
		if strings.HasSuffix(file.Name, ".in") {
			f.Add([]byte(strings.TrimSuffix(file.Data, "\n")))
		}
	}
	for _, s := range []string{`{"logtype":null,"node_id":{}}`, `{"logtype":"x","node_id":1,"logdata":{"":1,"USERNAME":2}}`, `{"logtype":[],"node_id":"","src_host":{"a":null}}`} {
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
		if ds, _ := ev.Get("event.dataset"); ds != "opencanary.events" {
			t.Fatalf("event.dataset %q", ds)
		}
		for _, fl := range ev.Fields {
			if fl.Name == "" {
				t.Fatalf("field name %q", fl.Name)
			}
			if (strings.HasPrefix(fl.Name, "related.") || fl.Name == "event.category") && !strings.HasPrefix(fl.Value, "[") {
				t.Fatalf("%s = %q", fl.Name, fl.Value)
			}
		}
	})
}
