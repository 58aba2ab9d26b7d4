package parsertest

import (
	"bytes"
	"crypto/sha256"
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

// Archive is a txtar file (golang.org/x/tools/txtar format): a comment,
// then "-- name --" sections.
type Archive struct {
	Comment string
	Files   []ArchiveFile
}

// ArchiveFile is one section of an Archive.
type ArchiveFile struct{ Name, Data string }

// ReadArchive reads the txtar file at path.
func ReadArchive(t testing.TB, path string) Archive {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	var a Archive
	cur := -1
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if strings.HasPrefix(line, "-- ") && strings.HasSuffix(line, " --\n") {
			a.Files = append(a.Files, ArchiveFile{Name: line[3 : len(line)-4]})
			cur++
			continue
		}
		if cur < 0 {
			a.Comment += line
		} else {
			a.Files[cur].Data += line
		}
	}
	return a
}

// Format is the archive as a txtar file.
func (a Archive) Format() []byte {
	var b bytes.Buffer
	b.WriteString(a.Comment)
	for _, f := range a.Files {
		fmt.Fprintf(&b, "-- %s --\n%s", f.Name, f.Data)
	}
	return b.Bytes()
}

// Dump writes what a parse gave: the time and every field, in order.
func Dump(ev *event.Event, err error) string {
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

// Golden parses each "<name>.in" section of the txtar file at path (our
// own sample lines) into an event that starts at time received, and
// compares Dump of it with the "<name>.out" section; with update it
// rewrites the outputs instead.
func Golden(t *testing.T, path string, update bool, received time.Time, parse func(name string, in []byte, ev *event.Event) error) {
	t.Helper()
	a := ReadArchive(t, path)
	out := Archive{Comment: a.Comment}
	for _, f := range a.Files {
		name, ok := strings.CutSuffix(f.Name, ".in")
		if !ok {
			continue
		}
		ev := event.Event{Time: received}
		err := parse(name, []byte(strings.TrimSuffix(f.Data, "\n")), &ev)
		got := Dump(&ev, err)
		out.Files = append(out.Files, ArchiveFile{f.Name, f.Data}, ArchiveFile{name + ".out", got})
		if update {
			continue
		}
		var want string
		for _, g := range a.Files {
			if g.Name == name+".out" {
				want = g.Data
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	if update {
		if err := os.WriteFile(path, out.Format(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Digest is a short hex digest of s.
func Digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return fmt.Sprintf("%x", sum[:8])
}

// CorpusLine is one line of a corpus golden: digests of the input and of
// the fields parsed from it, and the names of those fields (ours), so the
// golden records no corpus text.
func CorpusLine(in string, ev *event.Event, err error) string {
	if err != nil {
		return fmt.Sprintf("%s error: %v\n", Digest(in), err)
	}
	names := make([]string, 0, len(ev.Fields))
	for _, f := range ev.Fields {
		names = append(names, f.Name)
	}
	sort.Strings(names)
	return fmt.Sprintf("%s fields:%s time:%s %s\n", Digest(in), Digest(Dump(ev, nil)), ev.Time.UTC().Format(time.RFC3339), strings.Join(names, ","))
}
