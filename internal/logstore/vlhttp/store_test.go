package vlhttp

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/zstd"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/logstore/logstoretest"
	"github.com/tarian-soc/tarian/internal/logstore/vltest"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string // part of the error; "" for none
	}{
		{Config{URL: "http://127.0.0.1:9428"}, ""},
		{Config{URL: "https://vl.example:9428/", StorageNodes: []string{"http://a:9428", "http://b:9428"}}, ""},
		{Config{}, "url is required"},
		{Config{URL: "127.0.0.1:9428"}, "url:"},
		{Config{URL: "ftp://h:1"}, "scheme"},
		{Config{URL: "http://h:1/select"}, "no path"},
		{Config{URL: "http://h:1", StorageNodes: []string{"ftp://x"}}, "storage node"},
		{Config{URL: "http://h:1", Retention: time.Hour}, "retention"},
		{Config{URL: "http://h:1", FutureRetention: time.Hour}, "future retention"},
		{Config{URL: "http://h:1", StreamFields: []string{"_msg"}}, "stream field"},
		{Config{URL: "http://h:1", Compression: "brotli"}, "compression"},
		{Config{URL: "http://h:1", BatchBytes: 100}, "batch bytes"},
		{Config{URL: "http://h:1", NodeFlushInterval: time.Millisecond}, "flush interval"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v: %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

// fake is a victoria-logs single node as far as Add sees it.
type fake struct {
	mu   sync.Mutex
	reqs []*http.Request
	// lines are the decoded JSON lines received.
	lines [][]byte
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/flags":
		io.WriteString(w, "-defaultMsgValue=\"\"\n-retentionPeriod=\"100y\"\n")
	case "/internal/partition/snapshot/list":
		io.WriteString(w, "[]")
	case "/internal/force_flush":
	case "/insert/jsonline":
		var body io.Reader = r.Body
		switch r.Header.Get("Content-Encoding") {
		case "zstd":
			d, _ := zstd.NewReader(r.Body)
			defer d.Close()
			body = d
		case "gzip":
			body, _ = gzip.NewReader(r.Body)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, r)
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			f.lines = append(f.lines, append([]byte(nil), sc.Bytes()...))
		}
		f.mu.Unlock()
	default:
		http.NotFound(w, r)
	}
}

// TestAddRequests checks what Add sends: headers, parameters, the JSON lines,
// compression and batching.
func TestAddRequests(t *testing.T) {
	for _, comp := range []string{"zstd", "gzip", "none"} {
		t.Run(comp, func(t *testing.T) {
			f := &fake{}
			srv := httptest.NewServer(f)
			defer srv.Close()
			s, err := Open(Config{URL: srv.URL, Compression: comp, BatchBytes: 64 << 10}, logstoretest.Resolver{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			at := time.Now().Add(-time.Hour).UTC()
			var evs []event.Event
			for i := range 300 {
				evs = append(evs, logstoretest.Ev(at.Add(time.Duration(i)), "message", strings.Repeat("m", 500), "host.name", "h", "@timestamp", "ignored", "_stream", "x"))
			}
			if err := s.Add(t.Context(), logstoretest.B, evs); err != nil {
				t.Fatal(err)
			}
			if len(f.reqs) < 2 {
				t.Errorf("%d requests for ~170 KB, want batches of 64 KiB", len(f.reqs))
			}
			for _, r := range f.reqs {
				q := r.URL.Query()
				h := r.Header
				got := []string{h.Get("Content-Type"), h.Get("AccountID"), h.Get("ProjectID"), h.Get("Content-Encoding"), q.Get("_time_field"), q.Get("_msg_field"), q.Get("_stream_fields")}
				enc := comp
				if comp == "none" {
					enc = ""
				}
				want := []string{"application/stream+json", "2", "0", enc, "_time", "_msg", "host.name,event.module"}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("request (-want +got):\n%s", diff)
				}
			}
			if len(f.lines) != 300 {
				t.Fatalf("%d lines, want 300", len(f.lines))
			}
			var first map[string]string
			if err := json.Unmarshal(f.lines[0], &first); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"_time": at.Format(time.RFC3339Nano), "_msg": strings.Repeat("m", 500), "host.name": "h"}
			if diff := cmp.Diff(want, first); diff != "" {
				t.Errorf("first line (-want +got):\n%s", diff)
			}
		})
	}
}

// TestServerLimits: Open refuses a server that would change events, and Add
// refuses what the server's flags would make it drop.
func TestServerLimits(t *testing.T) {
	url := vltest.Single(t, "-defaultMsgValue=none given")
	if _, err := Open(Config{URL: url}, logstoretest.Resolver{}, nil); err == nil || !strings.Contains(err.Error(), "defaultMsgValue") {
		t.Errorf("server filling missing messages: %v", err)
	}
	url = vltest.Single(t, "-retentionPeriod=30d")
	if _, err := Open(Config{URL: url}, logstoretest.Resolver{}, nil); err == nil || !strings.Contains(err.Error(), "retentionPeriod") {
		t.Errorf("server retention shorter than the store's: %v", err)
	}
	s, err := Open(Config{URL: url, Retention: 30 * 24 * time.Hour}, logstoretest.Resolver{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	url = vltest.Single(t, "-insert.maxFieldsPerLine=50", "-insert.maxLineSizeBytes=4KiB")
	s, err = Open(Config{URL: url}, logstoretest.Resolver{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	wide := logstoretest.Ev(time.Now())
	for i := range 50 {
		wide.Fields = append(wide.Fields, event.Field{Name: "f" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Value: "v"})
	}
	if err := s.Add(t.Context(), logstoretest.A, []event.Event{wide}); !errors.Is(err, logstore.ErrTooLarge) {
		t.Errorf("51 fields on a server taking 50: %v", err)
	}
	long := logstoretest.Ev(time.Now(), "message", strings.Repeat("x", 5000))
	if err := s.Add(t.Context(), logstoretest.A, []event.Event{long}); !errors.Is(err, logstore.ErrTooLarge) {
		t.Errorf("5 KB line on a server taking 4 KiB: %v", err)
	}
	if err := s.Add(t.Context(), logstoretest.A, []event.Event{wide, long}[:0]); err != nil {
		t.Error(err)
	}
}

// TestFrontWithoutNodes: a cluster front alone still flushes, by waiting
// out the nodes' flush interval.
func TestFrontWithoutNodes(t *testing.T) {
	front, _ := vltest.Cluster(t)
	s, err := Open(Config{URL: front, NodeFlushInterval: time.Second}, logstoretest.Resolver{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Add(t.Context(), logstoretest.A, []event.Event{logstoretest.Ev(time.Now(), "message", "hello")}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 2*time.Second {
		t.Errorf("flush took %s, want the node flush interval and a second", d)
	}
	if st := s.Stats(); st != (logstore.Stats{}) {
		t.Errorf("stats without nodes: %+v, want zero", st)
	}
}
