package hec

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/ingest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestDecodeEvents(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		code int
		n    int
	}{
		{`{"event":"a"}{"event":"b"}`, []string{`{"event":"a"}`, `{"event":"b"}`}, 0, 0},
		{"\n {\"event\":\"a\"}\r\n\t{\"event\":{\"m\":\"}{\\\"\"}} \n", []string{`{"event":"a"}`, `{"event":{"m":"}{\""}}`}, 0, 0},
		{`{"event":1,"time":"1.5","host":null,"fields":{"a":["x",1]}}`, []string{`{"event":1,"time":"1.5","host":null,"fields":{"a":["x",1]}}`}, 0, 0},
		{``, nil, 5, -1},
		{`{"event":"a"},{"event":"b"}`, nil, 6, 1},
		{`{"event":"a"`, nil, 6, 0},
		{`{"event":"a\`, nil, 6, 0},
		{`{"event":"a"]`, nil, 6, 0},
		{`{"event":null}`, nil, 12, 0},
		{`{"event":""}`, nil, 13, 0},
		{`{"event":"a","time":"soon"}`, nil, 6, 0},
		{`{"event":"a","time":true}`, nil, 6, 0},
		{`{"event":"a","host":7}`, nil, 6, 0},
		{`{"event":"a","fields":[1]}`, nil, 15, 0},
		{`{"event":"a","fields":{"x":[[1]]}}`, nil, 15, 0},
		{`{"event":"a"} x`, nil, 6, 1},
	} {
		var p fastjson.Parser
		recs, bad := decodeEvents(&p, []byte(tc.in), 1<<20, time.Unix(0, 0), nil)
		var got []string
		for _, r := range recs {
			got = append(got, string(r.Data))
		}
		code, n := 0, 0
		if bad != nil {
			code, n, got = bad.st.code, bad.n, nil
		}
		if code != tc.code || n != tc.n || !cmp.Equal(got, tc.want) {
			t.Errorf("%q: got code %d n %d %q, want code %d n %d %q (%v)", tc.in, code, n, got, tc.code, tc.n, tc.want, bad)
		}
	}
}

// FuzzDecodeEvents: no input panics; accepted envelopes are valid JSON
// objects with an event, and together with whitespace they are the body,
// in order (nothing skipped, nothing invented).
func FuzzDecodeEvents(f *testing.F) {
	for _, s := range []string{`{"event":"a"}{"event":{"b":[1,2]}}`, "{\"event\":\"x\\\"}\"}\n{\"event\":1}", `[{"event":1}]`, `{"event":"a","fields":{"k":["v"]}}`, `{"time":"1.5","event":"\u00e9"}`, `{`, `"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var p fastjson.Parser
		recs, bad := decodeEvents(&p, body, 1<<20, time.Time{}, nil)
		if bad != nil {
			if len(recs) > bad.n && bad.n >= 0 {
				t.Fatalf("invalid event %d but %d records kept", bad.n, len(recs))
			}
			return
		}
		rest := body
		for _, r := range recs {
			v, err := fastjson.ParseBytes(r.Data)
			if err != nil || v.Type() != fastjson.TypeObject || v.Get("event") == nil {
				t.Fatalf("accepted %q: %v", r.Data, err)
			}
			rest = bytes.TrimLeft(rest, " \t\r\n")
			if !bytes.HasPrefix(rest, r.Data) {
				t.Fatalf("record %q is not the next bytes of the body %q", r.Data, rest)
			}
			rest = rest[len(r.Data):]
		}
		if len(bytes.TrimLeft(rest, " \t\r\n")) != 0 {
			t.Fatalf("left over: %q", rest)
		}
	})
}

// FuzzDecodeRaw: every line's envelope is valid JSON whose event is the
// line (or, for bytes that are not UTF-8, whose event_base64 is).
func FuzzDecodeRaw(f *testing.F) {
	f.Add([]byte("a\nb\r\n\n\"q\"\t\x01\xff"), "h")
	f.Fuzz(func(t *testing.T, body []byte, host string) {
		recs, bad := decodeRaw(body, 1<<20, rawMeta{host: host}, time.Time{}, nil)
		if bad != nil {
			return
		}
		for _, r := range recs {
			v, err := fastjson.ParseBytes(r.Data)
			if err != nil {
				t.Fatalf("%q: %v", r.Data, err)
			}
			if host != "" && v.Get("host") == nil {
				t.Fatalf("%q: no host", r.Data)
			}
		}
	})
}

// TestCaptures replays each HEC request captured from a real client
// ($TARIAN_CORPUS/wire/clients/hec-*) through the handler and compares the
// reply and the records (as digests) with testdata/wire/*.txtar.
func TestCaptures(t *testing.T) {
	dir := os.Getenv("TARIAN_CORPUS")
	if dir == "" {
		t.Skip("TARIAN_CORPUS not set: skipping the tests on captured HEC requests (set it to ../shared/corpus)")
	}
	files, err := filepath.Glob(filepath.Join(dir, "wire", "clients", "hec-*", "*.http"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no HEC captures under %s: %v", dir, err)
	}
	for _, f := range files {
		name := filepath.Base(filepath.Dir(f)) + "_" + strings.TrimSuffix(filepath.Base(f), ".http")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(b)))
			if err != nil {
				t.Fatal(err)
			}
			// The capture's token is not a real one: map it to a tenant.
			sink := newMemSink()
			tok := strings.TrimPrefix(req.Header.Get("Authorization"), "Splunk ")
			r, err := New(DefaultConfig(), ingest.Deps{Sink: sink, DeadLetters: sink, Auth: tokens{tok: "alpha"}, Metrics: sink})
			if err != nil {
				t.Fatal(err)
			}
			req.RequestURI = ""
			w := httptest.NewRecorder()
			r.Handler().ServeHTTP(w, req.WithContext(t.Context()))
			var got bytes.Buffer
			rel, _ := filepath.Rel(dir, f)
			fmt.Fprintf(&got, "capture: %s\nrequest: %s %s\nreply: %d %s\nrecords: %d\n-- records --\n", rel, req.Method, req.URL.Path, w.Code, strings.TrimSpace(w.Body.String()), len(sink.data("alpha")))
			for _, d := range sink.data("alpha") {
				sum := sha256.Sum256([]byte(d))
				fmt.Fprintf(&got, "%d bytes sha256:%x\n", len(d), sum[:12])
			}
			golden := filepath.Join("testdata", "wire", name+".txtar")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got.String()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", golden, diff)
			}
		})
	}
}
