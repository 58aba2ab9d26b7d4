package mail

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

// goldenInput returns the comment and input lines of testdata/<name>.txtar
// and its output section.
func goldenInput(tb testing.TB, name string) (head string, lines []string, output string) {
	tb.Helper()
	path := filepath.Join("testdata", name+".txtar")
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	s := string(b)
	in, out := strings.Index(s, "-- input --\n"), strings.Index(s, "-- output --\n")
	if in < 0 || out < in {
		tb.Fatalf("%s: want -- input -- then -- output --", path)
	}
	for _, l := range strings.Split(strings.TrimRight(s[in+len("-- input --\n"):out], "\n"), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return s[:out+len("-- output --\n")], lines, s[out+len("-- output --\n"):]
}

// TestGolden parses the synthetic lines of testdata/<type>.txtar with the
// parser of that type and compares our events with the output section;
// -update rewrites it.
func TestGolden(t *testing.T) {
	for _, typ := range []string{TypePostfix, TypeFortiMail, TypeMailScanner, TypeExchange} {
		t.Run(typ, func(t *testing.T) {
			head, lines, want := goldenInput(t, typ)
			parse := parsers()[typ]
			var got strings.Builder
			for i, l := range lines {
				ev := event.Event{Time: ref}
				fmt.Fprintf(&got, "# %d %s\n", i+1, l)
				if err := parse([]byte(l), &ev); err != nil {
					fmt.Fprintf(&got, "error: %v\n", err)
					continue
				}
				fmt.Fprintf(&got, "time: %s\n", ev.Time.Format(time.RFC3339Nano))
				for _, f := range ev.Fields {
					fmt.Fprintf(&got, "%s: %s\n", f.Name, strconv.Quote(f.Value))
				}
			}
			path := filepath.Join("testdata", typ+".txtar")
			if *update {
				if err := os.WriteFile(path, []byte(head+got.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
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
		})
	}
}
