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
	"github.com/tarian-soc/tarian/internal/parsers/windows/windowstest"
	"github.com/tarian-soc/tarian/internal/sigma"
)

func TestScratchDetect(t *testing.T) {
	root := os.Getenv("TARIAN_CORPUS")
	var rules []*sigma.Rule
	for _, tree := range []string{"rules", "rules-emerging-threats", "rules-threat-hunting"} {
		filepath.WalkDir(filepath.Join(root, "sigma", tree), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yml") {
				return err
			}
			data, _ := os.ReadFile(path)
			rel, _ := filepath.Rel(filepath.Join(root, "sigma"), path)
			rs, _ := sigma.Parse(rel, data)
			rules = append(rules, rs...)
			return nil
		})
	}
	eng, err := detect.Compile(rules, detect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	names, events := corpusEvents(t)
	var p Parser
	total, diffs := 0, 0
	conv := map[string]func([]byte) ([]byte, error){
		"evtx": func(b []byte) ([]byte, error) { return b, nil },
		"xml":  windowstest.ToXML, "wb": windowstest.ToWinlogbeat, "wbbare": windowstest.ToWinlogbeatBare, "flat": windowstest.ToFlat,
	}
	counts := map[string]int{}
	for i, raw := range events {
		var a []string
		_ = eng.Evaluate(raw, func(m detect.Match) { a = append(a, m.RuleID) })
		sort.Strings(a)
		total += len(a)
		isEvtx := shapeOf(raw) == ShapeEvtxJSON
		for cname, c := range conv {
			if !isEvtx && cname != "evtx" {
				continue
			}
			payload, err := c(raw)
			if err != nil {
				t.Fatal(err)
			}
			ev := &event.Event{}
			if err := p.Parse(payload, ev); err != nil {
				t.Fatal(err)
			}
			var b []string
			eng.EvaluateFields(nil, ev.Fields, func(m detect.Match) { b = append(b, m.RuleID) })
			sort.Strings(b)
			counts[cname] += len(b)
			if strings.Join(a, ",") != strings.Join(b, ",") {
				diffs++
				if diffs < 30 {
					t.Logf("%s %s: raw %v parsed %v", names[i], cname, a, b)
				}
			}
		}
	}
	t.Logf("%d raw matches, %v, %d diffs", total, counts, diffs)
}
