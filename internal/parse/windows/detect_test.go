package windows

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/detect"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
	"github.com/tarian-soc/tarian/internal/parse/windows/windowstest"
	"github.com/tarian-soc/tarian/internal/sigma"
)

// TestSigmaShapesAgree runs every Sigma rule of the corpus over every
// corpus event twice: as internal/detect reads the raw evtx-style JSON
// record (its own field mapping), and over the fields this parser gives
// the event converted to each shape (evtx JSON, XML, Winlogbeat with and
// without event.original, flat NXLog). The same rules must fire.
func TestSigmaShapesAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the whole Sigma corpus: skipped in -short mode")
	}
	root := parsertest.Corpus(t)
	var rules []*sigma.Rule
	for _, tree := range []string{"rules", "rules-emerging-threats", "rules-threat-hunting"} {
		err := filepath.WalkDir(filepath.Join(root, "sigma", tree), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yml") {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(filepath.Join(root, "sigma"), path)
			rs, _ := sigma.Parse(rel, data)
			rules = append(rules, rs...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	eng, err := detect.Compile(rules, detect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	names, events := corpusEvents(t)
	shapes := []struct {
		name string
		conv func([]byte) ([]byte, error)
	}{
		{"evtx", func(b []byte) ([]byte, error) { return b, nil }},
		{"xml", windowstest.ToXML},
		{"winlogbeat", windowstest.ToWinlogbeat},
		{"winlogbeat-bare", windowstest.ToWinlogbeatBare},
		{"flat", windowstest.ToFlat},
	}
	p := Parser{aliases: true}
	raw, diffs := 0, 0
	matches := map[string]int{}
	for i, record := range events {
		var want []string
		if err := eng.Evaluate(record, func(m detect.Match) { want = append(want, m.RuleID) }); err != nil {
			t.Fatalf("%s: %v", names[i], err)
		}
		sort.Strings(want)
		raw += len(want)
		evtx := shapeOf(record) == ShapeEvtxJSON
		for _, s := range shapes {
			if !evtx && s.name != "evtx" {
				continue // the flat OTRF records are checked as they are
			}
			payload, err := s.conv(record)
			if err != nil {
				t.Fatalf("%s: %s: %v", names[i], s.name, err)
			}
			ev := &event.Event{}
			if err := p.Parse(payload, ev); err != nil {
				t.Fatalf("%s: %s: %v", names[i], s.name, err)
			}
			var got []string
			eng.EvaluateFields(nil, ev.Fields, func(m detect.Match) { got = append(got, m.RuleID) })
			sort.Strings(got)
			matches[s.name] += len(got)
			if strings.Join(want, ",") != strings.Join(got, ",") {
				diffs++
				if diffs <= 20 {
					t.Errorf("%s as %s: rules %v on the raw record, %v on the parsed fields", names[i], s.name, want, got)
				}
			}
		}
	}
	t.Logf("%d rules, %d matches on the raw records; on the parsed fields by shape: %v", eng.Rules(), raw, matches)
	if raw == 0 {
		t.Fatal("no rule fired on the corpus")
	}
}
