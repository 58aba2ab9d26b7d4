package zeek

import (
	"errors"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
	"github.com/tarian-soc/tarian/internal/parse/sniff"
)

// FuzzParse: no input panics; a record is either refused (not JSON, or
// not Zeek's: ErrNotZeek) with the event untouched, or becomes an event
// of a zeek dataset whose array-valued ECS fields are JSON arrays;
// SniffJSON agrees with Parse on JSON objects. (A key a record repeats
// gives its field twice, as the envelope's JSON does; the pipeline keeps
// the last.)
func FuzzParse(f *testing.F) {
	a := parsertest.ReadArchive(f, "testdata/golden.txtar")
	for _, file := range a.Files {
		if strings.HasSuffix(file.Name, ".in") {
			f.Add([]byte(strings.TrimSuffix(file.Data, "\n")))
		}
	}
	for _, s := range []string{
		`{"ts":1,"_path":""}`, `{"ts":"x","_path":"../x y"}`, `{"ts":1,"uid":{},"id.orig_h":null}`, `{"ts":1,"certificate.serial":"","":1}`,
		`{"ts":1,"fuid":"F","seen_bytes":0,"md5":[1]}`, `{"ts":1,"_path":"dns","answers":"1.2.3.4"}`, `{"ts":1,"_path":"dns","answers":[1,null,"::1"]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Parser
		ev := &event.Event{Time: received}
		err := p.Parse(b, ev)
		if err != nil {
			if len(ev.Fields) != 0 || !ev.Time.Equal(received) {
				t.Fatalf("error %v but the event changed", err)
			}
			if errors.Is(err, ErrNotZeek) && SniffJSON(sniff.Of(b)) && !strings.Contains(string(b), `\`) {
				t.Fatalf("sniffed but refused: %v", err)
			}
			return
		}
		ds, _ := ev.Get("event.dataset")
		if ds != "zeek" && !strings.HasPrefix(ds, "zeek.") {
			t.Fatalf("event.dataset %q", ds)
		}
		for _, fl := range ev.Fields {
			if fl.Name == "" {
				t.Fatal("a field without a name")
			}
			if (strings.HasPrefix(fl.Name, "related.") || fl.Name == "event.category" || fl.Name == "dns.resolved_ip") && !strings.HasPrefix(fl.Value, "[") {
				t.Fatalf("%s = %q", fl.Name, fl.Value)
			}
		}
	})
}
