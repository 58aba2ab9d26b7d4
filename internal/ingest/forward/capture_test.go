package forward

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/ingest/ingesttest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// corpus returns $TARIAN_CORPUS or skips the test, saying why.
func corpus(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("TARIAN_CORPUS")
	if dir == "" {
		t.Skip("TARIAN_CORPUS not set: skipping the replays of captured Fluent Forward clients (set it to ../shared/corpus)")
	}
	return dir
}

func digest(b []byte) string {
	h := sha256.Sum256(b)
	return fmt.Sprintf("%d bytes sha256:%s", len(b), hex.EncodeToString(h[:12]))
}

// TestCaptures replays every captured Fluent Forward client stream
// ($TARIAN_CORPUS/wire/clients/*fluent*forward*.bin) over a real
// connection to a per-tenant listener and compares what is stored and
// answered with testdata/wire/<capture>.txtar: per record its tenant, time,
// tag, keys and a digest of its JSON; the acknowledgement (which must
// repeat the capture's chunk id, checked here against the capture's own
// option) as a digest. The goldens hold derived values, never corpus
// bytes.
func TestCaptures(t *testing.T) {
	dir := corpus(t)
	paths, err := filepath.Glob(filepath.Join(dir, "wire", "clients", "*fluent*forward*.bin"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no Fluent Forward captures in %s: %v", dir, err)
	}
	slices.Sort(paths)
	for _, p := range paths {
		name := filepath.Base(p)
		t.Run(name, func(t *testing.T) {
			capture, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			// The chunk ids the capture asks to be acknowledged, read
			// with a general MessagePack decoder, not ours.
			var wantAcks []string
			for msg := capture; len(msg) > 0; {
				n := scanAll(t, msg)
				c, err := lastChunk(msg[:n])
				if err != nil {
					t.Fatalf("capture: %v", err)
				}
				if c != "" {
					wantAcks = append(wantAcks, c)
				}
				msg = msg[n:]
			}
			r, sink := start(t, tcpConfig("alpha", "bravo"))
			c, err := net.Dial("tcp", r.Addrs()[0].String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Write(capture); err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			fmt.Fprintf(&out, "capture: wire/clients/%s\nbytes: %s\n-- acks --\n", name, digest(capture))
			for _, want := range wantAcks {
				got, err := readAck(t, c, 5*time.Second)
				if err != nil {
					t.Fatalf("no ack: %v", err)
				}
				if got != want {
					t.Errorf("ack %q, want the capture's chunk %q", got, want)
				}
				fmt.Fprintf(&out, "ack of chunk %s\n", digest([]byte(got)))
			}
			c.(*net.TCPConn).CloseWrite()
			ingesttest.WaitFor(t, 5*time.Second, "records", func() bool { return sink.Total() > 0 })
			time.Sleep(100 * time.Millisecond)
			out.WriteString("-- records --\n")
			for _, tn := range []string{"alpha", "bravo"} {
				for _, rec := range sink.Records(tenantOf(tn)) {
					var m map[string]any
					if err := json.Unmarshal(rec.Data, &m); err != nil {
						t.Fatalf("record is not a JSON object: %v", err)
					}
					var keys []string
					for k := range m {
						keys = append(keys, k)
					}
					slices.Sort(keys)
					fmt.Fprintf(&out, "%s %s @timestamp=%v fluent.tag=(%s) keys=%s %s\n", tn, rec.Source, m[KeyTimestamp], digest([]byte(fmt.Sprint(m[KeyTag]))), strings.Join(keys, ","), digest(rec.Data))
				}
			}
			fmt.Fprintf(&out, "dead letters: %d\n", sink.DeadTotal())
			golden := filepath.Join("testdata", "wire", name+".txtar")
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
}
