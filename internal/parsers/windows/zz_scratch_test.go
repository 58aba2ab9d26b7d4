package windows

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parsers/parsertest"
)

func TestScratch(t *testing.T) {
	dir := parsertest.Corpus(t, "logs", "elastic-integrations", "windows-sysmon_operational")
	in, _ := os.ReadFile(dir + "/test-image-loaded-failed-signature.json")
	exp, _ := os.ReadFile(dir + "/test-image-loaded-failed-signature.json-expected.json")
	var doc struct{ Events []json.RawMessage }
	json.Unmarshal(in, &doc)
	var ed struct{ Expected []json.RawMessage }
	json.Unmarshal(exp, &ed)
	want, _ := parsertest.Flatten(ed.Expected[0])
	var p Parser
	ev := &event.Event{}
	if err := p.Parse(doc.Events[0], ev); err != nil {
		t.Fatal(err)
	}
	got := parsertest.Fields(ev)
	got["@timestamp"] = ev.Time.Format("2006-01-02T15:04:05.000Z07:00")
	t.Logf("%s", parsertest.Agreement(want, got))
	var orig struct{ Event struct{ Original string } }
	json.Unmarshal(doc.Events[0], &orig)
	ev2 := &event.Event{}
	if err := p.Parse([]byte(orig.Event.Original), ev2); err != nil {
		t.Fatal(err)
	}
	got2 := parsertest.Fields(ev2)
	got2["@timestamp"] = ev2.Time.Format("2006-01-02T15:04:05.000Z07:00")
	got2["event.original"] = orig.Event.Original
	t.Logf("%s", parsertest.Agreement(want, got2))
	for _, f := range ev2.Fields {
		t.Logf("%s = %q", f.Name, f.Value)
	}
}
