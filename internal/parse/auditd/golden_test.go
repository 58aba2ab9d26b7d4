package auditd

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
)

// TestGolden parses the synthetic lines of testdata/auditd.txtar (a
// comment, "-- input --" with one line per event, "-- output --" with our
// events) and compares; -update rewrites the output section.
func TestGolden(t *testing.T) {
	path := filepath.Join("testdata", "auditd.txtar")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	in, out := strings.Index(s, "-- input --\n"), strings.Index(s, "-- output --\n")
	if in < 0 || out < in {
		t.Fatalf("%s: want -- input -- then -- output --", path)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(s[in+len("-- input --\n"):out], "\n"), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	var got strings.Builder
	for i, l := range lines {
		var p Parser
		ev := event.Event{Time: ref}
		fmt.Fprintf(&got, "# %d %s\n", i+1, l)
		if err := p.Parse([]byte(l), &ev); err != nil {
			fmt.Fprintf(&got, "error: %v\n", err)
			continue
		}
		fmt.Fprintf(&got, "time: %s\n", ev.Time.Format(time.RFC3339Nano))
		for _, f := range ev.Fields {
			fmt.Fprintf(&got, "%s: %s\n", f.Name, strconv.Quote(f.Value))
		}
	}
	if *update {
		if err := os.WriteFile(path, []byte(s[:out+len("-- output --\n")]+got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := s[out+len("-- output --\n"):]
	if got.String() != want {
		gl, wl := strings.Split(got.String(), "\n"), strings.Split(want, "\n")
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
