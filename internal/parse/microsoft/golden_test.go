package microsoft

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/event"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata/*.txtar")

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

// newParser returns the parser of a type.
func newParser(typ string) parser {
	switch typ {
	case TypeSignIn:
		return &SignIn{}
	case TypeAudit:
		return &Audit{}
	case TypeM365:
		return &M365{}
	case TypeDefender:
		return &Defender{}
	case TypeSentinel:
		return &Sentinel{}
	case TypeActivity:
		return &Activity{}
	}
	return nil
}

// dumpEvent writes an event's time and fields, one "name: value" a line,
// sorted by name.
func dumpEvent(b *bytes.Buffer, ev *event.Event) {
	fmt.Fprintf(b, "@time: %s\n", ev.Time.UTC().Format(time.RFC3339Nano))
	lines := make([]string, 0, len(ev.Fields))
	for _, f := range ev.Fields {
		lines = append(lines, f.Name+": "+strings.ReplaceAll(strings.ReplaceAll(f.Value, "\r", `\r`), "\n", `\n`))
	}
	sort.Strings(lines)
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
}

// TestGolden parses the input of each testdata/*.txtar as its type (Split
// first, as the pipeline does) and compares every field of every event
// with the want section; -update rewrites it. The inputs are synthetic
// records written for these tests.
func TestGolden(t *testing.T) {
	paths, err := filepath.Glob("testdata/*.txtar")
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
			ti, ok1 := sections["type"]
			ii, ok2 := sections["input.json"]
			if !ok1 || !ok2 {
				t.Fatal("need type and input.json sections")
			}
			p := newParser(strings.TrimSpace(string(files[ti].data)))
			if p == nil {
				t.Fatalf("unknown type %q", files[ti].data)
			}
			recs, err := Split(bytes.TrimSpace(files[ii].data))
			if err != nil {
				t.Fatalf("Split: %v", err)
			}
			var got bytes.Buffer
			for i, rec := range recs {
				if len(recs) > 1 {
					fmt.Fprintf(&got, "== record %d\n", i+1)
				}
				var ev event.Event
				if err := p.Parse(rec, &ev); err != nil {
					fmt.Fprintf(&got, "error: %v\n", err)
					continue
				}
				dumpEvent(&got, &ev)
			}
			wi, ok := sections["want"]
			if *update {
				if !ok {
					files = append(files, txtarFile{name: "want"})
					wi = len(files) - 1
				}
				files[wi].data = got.Bytes()
				if err := os.WriteFile(path, formatTxtar(comment, files), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !ok {
				t.Fatal("no want section: run go test -update")
			}
			if diff := cmp.Diff(string(files[wi].data), got.String()); diff != "" {
				t.Errorf("fields differ (-want +got):\n%s", diff)
			}
		})
	}
}
