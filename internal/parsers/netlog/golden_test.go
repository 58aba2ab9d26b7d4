package netlog

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/event"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// received is the receive time the tests give the envelope; it is also
// the reference year for times without one.
var received = time.Date(2026, 4, 3, 12, 0, 0, 0, time.UTC)

// archive is a txtar file (golang.org/x/tools/txtar format): a comment,
// then "-- name --" sections.
type archive struct {
	comment string
	files   []archiveFile
}

type archiveFile struct{ name, data string }

func readArchive(t testing.TB, path string) archive {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	var a archive
	cur := -1
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if strings.HasPrefix(line, "-- ") && strings.HasSuffix(line, " --\n") {
			a.files = append(a.files, archiveFile{name: line[3 : len(line)-4]})
			cur++
			continue
		}
		if cur < 0 {
			a.comment += line
		} else {
			a.files[cur].data += line
		}
	}
	return a
}

func (a archive) format() []byte {
	var b bytes.Buffer
	b.WriteString(a.comment)
	for _, f := range a.files {
		fmt.Fprintf(&b, "-- %s --\n%s", f.name, f.data)
	}
	return b.Bytes()
}

// dump writes what a parse gave: the time and every field, in order.
func dump(ev *event.Event, err error) string {
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "time: %s\n", ev.Time.UTC().Format(time.RFC3339Nano))
	for _, f := range ev.Fields {
		fmt.Fprintf(&b, "%s: %s\n", f.Name, strconv.Quote(f.Value))
	}
	return b.String()
}

// parserFor returns the parser a golden sample names: "squid-..." or
// "iptables-...".
func parserFor(name string) interface {
	Parse([]byte, *event.Event) error
} {
	if strings.HasPrefix(name, "squid-") {
		return &Squid{}
	}
	return &IPTables{}
}

// TestGolden parses our own sample lines (testdata/golden.txtar, one
// "<name>.in" section each) and compares every field with "<name>.out".
func TestGolden(t *testing.T) {
	path := "testdata/golden.txtar"
	a := readArchive(t, path)
	var out archive
	out.comment = a.comment
	for _, f := range a.files {
		name, ok := strings.CutSuffix(f.name, ".in")
		if !ok {
			continue
		}
		in := strings.TrimSuffix(f.data, "\n")
		ev := event.Event{Time: received}
		err := parserFor(name).Parse([]byte(in), &ev)
		got := dump(&ev, err)
		out.files = append(out.files, archiveFile{f.name, f.data}, archiveFile{name + ".out", got})
		if *update {
			continue
		}
		var want string
		for _, g := range a.files {
			if g.name == name+".out" {
				want = g.data
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	if *update {
		if err := os.WriteFile(path, out.format(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// digest is a short hex digest of s.
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return fmt.Sprintf("%x", sum[:8])
}

// corpusLine is one line of a corpus golden: digests of the input and of
// the fields parsed from it, and the names of those fields (ours), so the
// golden records no corpus text.
func corpusLine(in string, ev *event.Event, err error) string {
	if err != nil {
		return fmt.Sprintf("%s error: %v\n", digest(in), err)
	}
	names := make([]string, 0, len(ev.Fields))
	for _, f := range ev.Fields {
		names = append(names, f.Name)
	}
	sort.Strings(names)
	return fmt.Sprintf("%s fields:%s time:%s %s\n", digest(in), digest(dump(ev, nil)), ev.Time.UTC().Format(time.RFC3339), strings.Join(names, ","))
}
