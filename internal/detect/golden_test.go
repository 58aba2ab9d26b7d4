package detect

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/sigma"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

type txtarFile struct {
	name string
	data []byte
}

// parseTxtar reads the txtar format (golang.org/x/tools/txtar).
func parseTxtar(data []byte) (comment []byte, files []txtarFile) {
	cur := -1
	for _, l := range bytes.SplitAfter(data, []byte("\n")) {
		t := bytes.TrimRight(l, "\r\n")
		if bytes.HasPrefix(t, []byte("-- ")) && bytes.HasSuffix(t, []byte(" --")) && len(t) >= 6 {
			files = append(files, txtarFile{name: string(t[3 : len(t)-3])})
			cur = len(files) - 1
			continue
		}
		if cur < 0 {
			comment = append(comment, l...)
		} else {
			files[cur].data = append(files[cur].data, l...)
		}
	}
	return comment, files
}

func formatTxtar(comment []byte, files []txtarFile) []byte {
	var b bytes.Buffer
	b.Write(comment)
	for _, f := range files {
		fmt.Fprintf(&b, "-- %s --\n", f.name)
		b.Write(f.data)
		if len(f.data) > 0 && f.data[len(f.data)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// TestGoldenEval compiles the rules.yml of each testdata/eval/*.txtar,
// evaluates events.jsonl (with correlation state) and compares the matches
// with the "want" section. -update rewrites it.
func TestGoldenEval(t *testing.T) {
	paths, err := filepath.Glob("testdata/eval/*.txtar")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			comment, files := parseTxtar(data)
			sections := map[string]int{}
			for i, f := range files {
				sections[f.name] = i
			}
			ri, ok1 := sections["rules.yml"]
			ei, ok2 := sections["events.jsonl"]
			if !ok1 || !ok2 {
				t.Fatal("need rules.yml and events.jsonl sections")
			}
			got := evalDump(t, files[ri].data, files[ei].data)
			wi, ok := sections["want"]
			if *update {
				if !ok {
					files = append(files, txtarFile{name: "want"})
					wi = len(files) - 1
				}
				files[wi].data = []byte(got)
				if err := os.WriteFile(path, formatTxtar(comment, files), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !ok {
				t.Fatal("no want section (run with -update)")
			}
			if want := string(files[wi].data); got != want {
				t.Errorf("matches differ (run with -update to accept)\n--- got ---\n%s--- want ---\n%s", got, want)
			}
		})
	}
}

func evalDump(t *testing.T, rulesSrc, events []byte) string {
	t.Helper()
	rules, err := sigma.Parse("rules.yml", rulesSrc)
	var b strings.Builder
	if err != nil {
		fmt.Fprintf(&b, "parse: %v\n", err)
	}
	e, err := Compile(rules, Options{Placeholders: map[string][]string{"admins": {"alice", "bob"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range e.Skipped() {
		fmt.Fprintf(&b, "skipped %q: %s\n", s.Rule.Title, s.Reason)
	}
	st := NewState()
	for i, line := range bytes.Split(bytes.TrimSpace(events), []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		err := e.EvaluateWith(st, line, func(m Match) {
			fmt.Fprintf(&b, "line %d: %s (%s)", i+1, m.Title, m.Level)
			for _, f := range m.Fields {
				fmt.Fprintf(&b, " %s=%q", f.Name, f.Value)
			}
			if c := m.Correlation; c != nil {
				fmt.Fprintf(&b, " correlation %s value=%g rules=%q", c.Type, c.Value, c.Rules)
			}
			b.WriteByte('\n')
		})
		if err != nil {
			fmt.Fprintf(&b, "line %d: error: %v\n", i+1, err)
		}
	}
	return b.String()
}
