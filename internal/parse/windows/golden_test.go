package windows

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
)

var update = flag.Bool("update", false, "rewrite the golden files' expected fields")

// TestGolden parses the input of each testdata/golden/*.txtar (events we
// wrote, one per shape and channel) and compares every field, in order,
// with the archive's "fields" section. go test -update rewrites it.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.txtar"))
	if err != nil || len(files) < 10 {
		t.Fatalf("%d golden files, %v", len(files), err)
	}
	p := Parser{aliases: true}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			arch := parseTxtar(data)
			input, ok := arch.file("input")
			if !ok {
				t.Fatal("no input section")
			}
			ev := &event.Event{}
			shape, err := p.ParseShape(bytes.TrimSuffix(input, []byte("\n")), ev)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			var got bytes.Buffer
			got.WriteString("shape: " + shape.String() + "\n")
			got.WriteString("time: " + ev.Time.UTC().Format(time.RFC3339Nano) + "\n")
			for _, f := range ev.Fields {
				got.WriteString(f.Name + ": " + strconv.Quote(f.Value) + "\n")
			}
			if *update {
				arch.set("fields", got.Bytes())
				if err := os.WriteFile(path, arch.format(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, _ := arch.file("fields")
			if !bytes.Equal(want, got.Bytes()) {
				t.Errorf("fields differ (go test -run TestGolden -update rewrites them):\n%s", lineDiff(string(want), got.String()))
			}
		})
	}
}

// txtar is a txtar archive (golang.org/x/tools/txtar's format): a comment,
// then files introduced by "-- name --" lines.
type txtar struct {
	comment []byte
	names   []string
	files   [][]byte
}

func parseTxtar(data []byte) *txtar {
	a := &txtar{}
	cur := -1
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i+1], data[i+1:]
		} else {
			data = nil
		}
		trimmed := bytes.TrimRight(line, "\r\n")
		if bytes.HasPrefix(trimmed, []byte("-- ")) && bytes.HasSuffix(trimmed, []byte(" --")) && len(trimmed) > 6 {
			a.names = append(a.names, string(trimmed[3:len(trimmed)-3]))
			a.files = append(a.files, nil)
			cur++
			continue
		}
		if cur < 0 {
			a.comment = append(a.comment, line...)
		} else {
			a.files[cur] = append(a.files[cur], line...)
		}
	}
	return a
}

func (a *txtar) file(name string) ([]byte, bool) {
	for i, n := range a.names {
		if n == name {
			return a.files[i], true
		}
	}
	return nil, false
}

func (a *txtar) set(name string, data []byte) {
	for i, n := range a.names {
		if n == name {
			a.files[i] = data
			return
		}
	}
	a.names = append(a.names, name)
	a.files = append(a.files, data)
}

func (a *txtar) format() []byte {
	var b bytes.Buffer
	b.Write(a.comment)
	for i, n := range a.names {
		b.WriteString("-- " + n + " --\n")
		b.Write(a.files[i])
		if len(a.files[i]) > 0 && a.files[i][len(a.files[i])-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// lineDiff lists the lines only one side has.
func lineDiff(want, got string) string {
	w, g := map[string]bool{}, map[string]bool{}
	for _, l := range strings.Split(want, "\n") {
		w[l] = true
	}
	for _, l := range strings.Split(got, "\n") {
		g[l] = true
	}
	var out []string
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}
