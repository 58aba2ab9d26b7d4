package linuxauth

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden is a txtar-shaped file: a comment, then "-- input --" with one
// line per event and "-- output --" with the events the parser made of
// them. Tests own the output section: -update rewrites it.
type golden struct {
	comment string
	input   []string
}

func readGolden(t *testing.T, path string) (golden, string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	in := strings.Index(s, "-- input --\n")
	out := strings.Index(s, "-- output --\n")
	if in < 0 || out < in {
		t.Fatalf("%s: want sections -- input -- then -- output --", path)
	}
	g := golden{comment: s[:in]}
	for _, l := range strings.Split(strings.TrimRight(s[in+len("-- input --\n"):out], "\n"), "\n") {
		if l != "" {
			g.input = append(g.input, l)
		}
	}
	return g, s[out+len("-- output --\n"):]
}

// render writes each event's time and fields, one per line, quoted.
func render(i int, in string, ev *event.Event, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %d %s\n", i+1, in)
	if err != nil {
		fmt.Fprintf(&b, "error: %v\n", err)
		return b.String()
	}
	fmt.Fprintf(&b, "time: %s\n", ev.Time.UTC().Format(time.RFC3339Nano))
	for _, f := range ev.Fields {
		fmt.Fprintf(&b, "%s: %s\n", f.Name, strconv.Quote(f.Value))
	}
	return b.String()
}

// runGolden parses every input line of testdata/<name>.txtar with parse and
// compares the rendering with the output section.
func runGolden(t *testing.T, name string, parse func(payload []byte, dst *event.Event) error) {
	path := filepath.Join("testdata", name+".txtar")
	g, want := readGolden(t, path)
	var out strings.Builder
	for i, in := range g.input {
		ev := event.Event{Time: ref}
		err := parse([]byte(in), &ev)
		out.WriteString(render(i, in, &ev, err))
	}
	got := out.String()
	if *update {
		var b strings.Builder
		b.WriteString(g.comment)
		b.WriteString("-- input --\n")
		for _, l := range g.input {
			b.WriteString(l + "\n")
		}
		b.WriteString("-- output --\n")
		b.WriteString(got)
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s: output line %d:\n got %s\nwant %s\n(run with -update after checking the change)", path, i+1, g, w)
			}
		}
	}
}

func TestGoldenAuth(t *testing.T) {
	var p Parser
	runGolden(t, "linux-auth", p.Parse)
}

func TestGoldenSyslog(t *testing.T) {
	var p SyslogParser
	runGolden(t, "syslog", p.Parse)
}
