package lumberjack

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// corpus returns $TARIAN_CORPUS or skips the test, saying why.
func corpus(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("TARIAN_CORPUS")
	if dir == "" {
		t.Skip("TARIAN_CORPUS not set: skipping the replays of captured go-lumber windows (set it to ../shared/corpus)")
	}
	return dir
}

// captures are the go-lumber client's windows in the corpus: two events,
// uncompressed and at compression level 3.
func captures(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(corpus(t), "wire", "clients", "go-lumber-v2-window*.bin"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no go-lumber captures in $TARIAN_CORPUS/wire/clients: %v", err)
	}
	slices.Sort(paths)
	return paths
}

func digest(b []byte) string {
	h := sha256.Sum256(b)
	return fmt.Sprintf("%d bytes sha256:%s", len(b), hex.EncodeToString(h[:12]))
}

// describe derives what the golden file keeps of a record: its size and
// digest and its top-level keys, not its bytes.
func describe(t testing.TB, data []byte) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("record is not a JSON object: %v", err)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
	return fmt.Sprintf("%s keys=%s", digest(data), strings.Join(keys, ","))
}

// TestCaptures replays each captured window over a TCP connection and
// compares the ACKs and records with testdata/wire/<name>.txtar (digests
// and derived values; go test -args -update rewrites them). Both captures
// carry the same events, so their records must be the same too.
func TestCaptures(t *testing.T) {
	var records []string
	for _, p := range captures(t) {
		name := filepath.Base(p)
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			r, sink := start(t, config(Listener{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "alpha"}))
			c := dialRaw(t, r.Addrs()[0])
			c.send(b)
			// The capture is one whole window: its ACK comes, and the
			// connection stays open for the next one.
			acks, closed := c.acks(time.Second)
			if closed {
				t.Error("connection closed after a whole window")
			}
			var out strings.Builder
			fmt.Fprintf(&out, "capture: wire/clients/%s\ninput: %s\n-- acks --\n", name, digest(b))
			for _, a := range acks {
				fmt.Fprintf(&out, "2A %d\n", a)
			}
			out.WriteString("-- records --\n")
			var these []string
			for _, rec := range sink.Records("alpha") {
				d := describe(t, rec.Data)
				these = append(these, d)
				fmt.Fprintf(&out, "alpha %s %s\n", rec.Source, d)
			}
			records = append(records, strings.Join(these, "\n"))
			out.WriteString("-- dead letters --\n")
			for _, dl := range sink.DeadLetters("alpha") {
				fmt.Fprintf(&out, "%s: %s\n", dl.Reason, digest(dl.Data))
			}
			if ts := sink.Tenants(); len(ts) > 1 {
				t.Errorf("records in tenants %v", ts)
			}
			golden := filepath.Join("testdata", "wire", strings.TrimSuffix(name, ".bin")+".txtar")
			if *update {
				if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), out.String()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", golden, diff)
			}
		})
	}
	if len(records) == 2 && records[0] != records[1] {
		t.Errorf("the compressed and uncompressed captures gave different records:\n%s\n---\n%s", records[0], records[1])
	}
}
