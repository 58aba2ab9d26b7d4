package otlp

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/ingest/ingesttest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// corpus returns $TARIAN_CORPUS or skips the test, saying why.
func corpus(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("TARIAN_CORPUS")
	if dir == "" {
		t.Skip("TARIAN_CORPUS not set: skipping the replay of captured OTLP client requests (set it to ../shared/corpus)")
	}
	return dir
}

// captureTokens are the bearer tokens in the captures, mapped to tenant
// cardiff; captureToken is added to a capture that sent none.
var captureTokens = ingesttest.Tokens{"tenant-token-123": "cardiff", "tenant-a-token": "cardiff"}

const captureToken = "tenant-a-token"

func digest(b []byte) string {
	h := sha256.Sum256(b)
	return fmt.Sprintf("%d bytes sha256:%s", len(b), hex.EncodeToString(h[:12]))
}

// TestCaptures replays every OTLP request captured from a real client
// ($TARIAN_CORPUS/wire/clients/otlp-*: the JS exporters, JSON and
// protobuf, chunked; the Collector's otlphttp exporter, gzip protobuf and
// JSON) through the handler and compares the replies and the events with
// testdata/wire/<capture>.txtar: statuses, event keys and timestamps
// (derived), and digests of the events (not copies of the corpus). A
// capture without a token is refused, then replayed with one.
func TestCaptures(t *testing.T) {
	dir := corpus(t)
	caps, err := filepath.Glob(filepath.Join(dir, "wire", "clients", "otlp-*"))
	if err != nil || len(caps) == 0 {
		t.Fatalf("no OTLP captures under %s/wire/clients: %v", dir, err)
	}
	for _, c := range caps {
		name := filepath.Base(c)
		t.Run(name, func(t *testing.T) {
			sink := newMemSink()
			r, err := New(DefaultConfig(), ingest.Deps{Sink: sink, DeadLetters: sink, Auth: captureTokens, Metrics: sink})
			if err != nil {
				t.Fatal(err)
			}
			paths, err := filepath.Glob(filepath.Join(c, "*.http"))
			if err != nil || len(paths) == 0 {
				t.Fatalf("no captures in %s: %v", c, err)
			}
			slices.Sort(paths)
			var out strings.Builder
			fmt.Fprintf(&out, "capture: wire/clients/%s\nrequests: %d\n-- replies --\n", name, len(paths))
			for _, p := range paths {
				raw, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				replay := func(addToken bool) int {
					req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
					if err != nil {
						t.Fatalf("%s: %v", p, err)
					}
					if addToken {
						req.Header.Set("Authorization", "Bearer "+captureToken)
					}
					w := httptest.NewRecorder()
					r.Handler().ServeHTTP(w, req)
					fmt.Fprintf(&out, "%s %s type=%s encoding=%q chunked=%v token-added=%v -> %d %s\n", req.Method, req.URL.Path,
						req.Header.Get("Content-Type"), req.Header.Get("Content-Encoding"), slices.Contains(req.TransferEncoding, "chunked"),
						addToken, w.Code, w.Header().Get("Content-Type"))
					if w.Code == http.StatusUnauthorized && !addToken {
						// The capture carries no token (the Collector's JSON
						// exporter was configured without one).
						return w.Code
					}
					if w.Code != 200 {
						t.Errorf("%s: %d %s", p, w.Code, w.Body.Bytes())
					}
					if w.Body.Len() > 2 {
						t.Errorf("%s: reply %q, want an empty ExportLogsServiceResponse", p, w.Body.Bytes())
					}
					return w.Code
				}
				if replay(false) == http.StatusUnauthorized {
					replay(true)
				}
			}
			fmt.Fprintf(&out, "resources naming another tenant in tenant.id: %d\n-- events --\n", sink.Counted(MetricMismatch, "cardiff"))
			recs := sink.Records("cardiff")
			if len(recs) == 0 || sink.Total() != len(recs) || sink.DeadTotal() != 0 {
				t.Errorf("%d events for cardiff, %d in all, %d dead letters", len(recs), sink.Total(), sink.DeadTotal())
			}
			for _, rec := range recs {
				var ev map[string]json.RawMessage
				if err := json.Unmarshal(rec.Data, &ev); err != nil {
					t.Fatalf("event is not a JSON object: %v", err)
				}
				keys := make([]string, 0, len(ev))
				for k := range ev {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				fmt.Fprintf(&out, "cardiff %s @timestamp=%s keys=%s %s\n", rec.Source, ev["@timestamp"], strings.Join(keys, ","), digest(rec.Data))
			}
			golden := filepath.Join("testdata", "wire", name+".txtar")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
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

// TestCaptureEventsMatchPdata checks the events of each capture against
// an independent reading of the same body: pdata's own JSON encoding of
// every record, compared field by field with the event.
func TestCaptureEventsMatchPdata(t *testing.T) {
	dir := corpus(t)
	caps, _ := filepath.Glob(filepath.Join(dir, "wire", "clients", "otlp-*", "*.http"))
	if len(caps) == 0 {
		t.Fatalf("no OTLP captures under %s", dir)
	}
	for _, p := range caps {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+captureToken)
		sink := newMemSink()
		r, _ := New(DefaultConfig(), ingest.Deps{Sink: sink, DeadLetters: sink, Auth: captureTokens, Metrics: sink})
		w := httptest.NewRecorder()
		r.Handler().ServeHTTP(w, req)
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", p, w.Code, w.Body.Bytes())
		}
		// The decoded body, independently: the request as pdata reads it.
		req, _ = http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		want := pdataRecords(t, req)
		got := sink.Records("cardiff")
		if len(got) != len(want) {
			t.Fatalf("%s: %d events, %d records", p, len(got), len(want))
		}
		for i, rec := range got {
			var ev struct {
				Message  string         `json:"message"`
				Level    string         `json:"log.level"`
				Severity int            `json:"event.severity"`
				Attrs    map[string]any `json:"attributes"`
				Res      map[string]any `json:"resource.attributes"`
				Scope    string         `json:"scope.name"`
				Service  string         `json:"service.name"`
				Host     string         `json:"host.name"`
			}
			if err := json.Unmarshal(rec.Data, &ev); err != nil {
				t.Fatal(err)
			}
			w := want[i]
			if ev.Message != w.body || ev.Level != w.level || ev.Severity != w.severity || ev.Scope != w.scope ||
				!cmp.Equal(ev.Attrs, w.attrs) || !cmp.Equal(ev.Res, w.res) || ev.Service != w.service || ev.Host != w.host {
				t.Errorf("%s record %d:\nevent %s\nwant  %+v", p, i, rec.Data, w)
			}
		}
	}
}

// pdataRecord is one log record as pdata reads it.
type pdataRecord struct {
	body, level, scope, service, host string
	severity                          int
	attrs, res                        map[string]any
}

// pdataRecords decodes req's body with pdata alone and lists its records.
func pdataRecords(t *testing.T, req *http.Request) []pdataRecord {
	t.Helper()
	var src io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(src)
		if err != nil {
			t.Fatal(err)
		}
		src = zr
	}
	body, err := io.ReadAll(src)
	if err != nil {
		t.Fatal(err)
	}
	ereq := plogotlp.NewExportRequest()
	if req.Header.Get("Content-Type") == typeJSON {
		err = ereq.UnmarshalJSON(body)
	} else {
		err = ereq.UnmarshalProto(body)
	}
	if err != nil {
		t.Fatal(err)
	}
	asJSON := func(m pcommon.Map) map[string]any {
		if m.Len() == 0 {
			return nil
		}
		b, err := json.Marshal(m.AsRaw())
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	var out []pdataRecord
	for _, rl := range ereq.Logs().ResourceLogs().All() {
		ra := rl.Resource().Attributes()
		str := func(k string) string {
			v, _ := ra.Get(k)
			return v.Str()
		}
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				out = append(out, pdataRecord{body: lr.Body().Str(), level: lr.SeverityText(), severity: int(lr.SeverityNumber()),
					scope: sl.Scope().Name(), service: str("service.name"), host: str("host.name"),
					attrs: asJSON(lr.Attributes()), res: asJSON(ra)})
			}
		}
	}
	return out
}
