package esbulk

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/tenant"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// corpus returns $TARIAN_CORPUS or skips the test, saying why.
func corpus(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("TARIAN_CORPUS")
	if dir == "" {
		t.Skip("TARIAN_CORPUS not set: skipping the tests on captured Elasticsearch client requests (set it to ../shared/corpus)")
	}
	return dir
}

// esCaptures are the capture folders of Elasticsearch clients.
var esCaptures = []string{"wire/clients/es-go", "wire/clients/es-node"}

// readCapture reads one captured request (request line, headers, body,
// exactly as the client sent them).
func readCapture(t testing.TB, path string) *http.Request {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(b)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return req
}

func digest(b []byte) string {
	h := sha256.Sum256(b)
	return fmt.Sprintf("%d bytes sha256:%s", len(b), hex.EncodeToString(h[:12]))
}

// TestCaptures replays every captured client request against the handler
// and compares the replies and the records with testdata/wire/<name>.txtar
// (counts and digests, not copies of the corpus). The captures' credentials
// (basic tenant-a:s3cret, API key testid:testkey) map to tenant cardiff.
func TestCaptures(t *testing.T) {
	dir := corpus(t)
	for _, c := range esCaptures {
		t.Run(filepath.Base(c), func(t *testing.T) {
			r, sink, _ := newTest(t, DefaultConfig())
			paths, err := filepath.Glob(filepath.Join(dir, c, "*.http"))
			if err != nil || len(paths) == 0 {
				t.Fatalf("no captures in %s: %v", c, err)
			}
			slices.Sort(paths)
			var out strings.Builder
			fmt.Fprintf(&out, "capture: %s\nrequests: %d\n-- replies --\n", c, len(paths))
			for _, p := range paths {
				req := readCapture(t, p)
				rec := httptest.NewRecorder()
				r.Handler().ServeHTTP(rec, req)
				if rec.Header().Get("X-Elastic-Product") != "Elasticsearch" {
					t.Errorf("%s: no X-Elastic-Product", p)
				}
				fmt.Fprintf(&out, "%s %s -> %d", req.Method, req.URL.Path, rec.Code)
				if strings.HasSuffix(req.URL.Path, "/_bulk") {
					br := parseBulk(t, rec.Body.Bytes())
					fmt.Fprintf(&out, " errors=%v items=%s", br.Errors, strings.Join(br.outcomes(t), ", "))
				}
				out.WriteString("\n")
			}
			out.WriteString("-- records --\n")
			for _, tn := range []string{"cardiff", "swansea"} {
				for _, d := range sink.docs(tnID(tn)) {
					if !json.Valid([]byte(d)) {
						t.Errorf("record is not JSON: %s", d)
					}
					fmt.Fprintf(&out, "%s %s %s\n", tn, Source, digest([]byte(d)))
				}
			}
			golden := filepath.Join("testdata", "wire", filepath.Base(c)+".txtar")
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

func tnID(s string) tenant.ID { return tenant.ID(s) }
