package hec

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/ingest/ingesttest"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// memSink is the shared in-memory pipeline boundary, with this package's
// view of its records.
type memSink struct{ *ingesttest.Sink }

func newMemSink() *memSink { return &memSink{ingesttest.NewSink()} }

// data returns tenant t's records' Data as strings.
func (s *memSink) data(t tenant.ID) []string {
	var out []string
	for _, r := range s.Records(t) {
		if r.Source != Source || r.Received.IsZero() {
			out = append(out, "BAD RECORD META")
		}
		out = append(out, string(r.Data))
	}
	return out
}

// tokens is the token table; ingesttest.ReaderToken is refused as
// auth.Store refuses a reader's token.
type tokens = ingesttest.Tokens

const (
	tokA = "aaaaaaaa-1111-2222-3333-444444444444"
	tokB = "bbbbbbbb-1111-2222-3333-444444444444"
)

var testTokens = tokens{tokA: "alpha", tokB: "bravo"}

// server serves a receiver's Handler until the test ends.
func server(t testing.TB, cfg Config) (*httptest.Server, *memSink) {
	t.Helper()
	sink := newMemSink()
	r, err := New(cfg, ingest.Deps{Sink: sink, DeadLetters: sink, Auth: testTokens, Metrics: sink})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r.Handler())
	t.Cleanup(srv.Close)
	return srv, sink
}

// post sends body to path with the headers and returns status and body.
func post(t testing.TB, url string, hdr map[string]string, body []byte) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b)), resp.Header
}

func splunk(tok string) map[string]string { return map[string]string{"Authorization": "Splunk " + tok} }

func TestEndpoints(t *testing.T) {
	srv, sink := server(t, DefaultConfig())
	two := []byte(`{"event":"one","time":1795627447.417,"host":"h"}` + "\n  " + `{"event":{"a":1},"sourcetype":"_json","fields":{"k":"v","n":[1,"x"]}}`)
	for _, tc := range []struct {
		name, method, path string
		hdr                map[string]string
		body               []byte
		status             int
		reply              string
	}{
		{"event", "POST", "/services/collector/event", splunk(tokA), two, 200, `{"text":"Success","code":0}`},
		{"bare collector", "POST", "/services/collector", splunk(tokA), two, 200, `{"text":"Success","code":0}`},
		{"event 1.0 trailing slash", "POST", "/services/collector/event/1.0/", splunk(tokA), two, 200, `{"text":"Success","code":0}`},
		{"health", "GET", "/services/collector/health", nil, nil, 200, `{"text":"HEC is healthy","code":17}`},
		{"health 1.0", "GET", "/services/collector/health/1.0", nil, nil, 200, `{"text":"HEC is healthy","code":17}`},
		{"unknown path", "POST", "/services/collector/nope", splunk(tokA), two, 404, `{"text":"The requested URL was not found on this server.","code":404}`},
		{"GET event", "GET", "/services/collector/event", splunk(tokA), nil, 405, `{"text":"Method Not Allowed","code":405}`},
		{"no token", "POST", "/services/collector/event", nil, two, 401, `{"text":"Token is required","code":2}`},
		{"bad scheme", "POST", "/services/collector/event", map[string]string{"Authorization": "Digest x"}, two, 401, `{"text":"Invalid authorization","code":3}`},
		{"unknown token", "POST", "/services/collector/event", splunk("nope"), two, 403, `{"text":"Invalid token","code":4}`},
		{"reader token", "POST", "/services/collector/event", splunk(ingesttest.ReaderToken), two, 403, `{"text":"Invalid token","code":4}`},
		// The token store is down: busy (retried), not a refusal.
		{"token store down", "POST", "/services/collector/event", splunk(ingesttest.UnavailableToken), two, 503, `{"text":"Server is busy","code":9}`},
		{"empty body", "POST", "/services/collector/event", splunk(tokA), nil, 400, `{"text":"No data","code":5}`},
		{"whitespace body", "POST", "/services/collector/event", splunk(tokA), []byte(" \n\t"), 400, `{"text":"No data","code":5}`},
		{"array", "POST", "/services/collector/event", splunk(tokA), []byte(`[{"event":"x"}]`), 400, `{"text":"Invalid data format","code":6,"invalid-event-number":0}`},
		{"second bad", "POST", "/services/collector/event", splunk(tokA), []byte(`{"event":"x"}{"event":"y"`), 400, `{"text":"Invalid data format","code":6,"invalid-event-number":1}`},
		{"no event", "POST", "/services/collector/event", splunk(tokA), []byte(`{"event":"x"}{"host":"y"}`), 400, `{"text":"Event field is required","code":12,"invalid-event-number":1}`},
		{"blank event", "POST", "/services/collector/event", splunk(tokA), []byte(`{"event":""}`), 400, `{"text":"Event field cannot be blank","code":13,"invalid-event-number":0}`},
		{"nested fields", "POST", "/services/collector/event", splunk(tokA), []byte(`{"event":"x","fields":{"a":{"b":1}}}`), 400, `{"text":"Error in handling indexed fields","code":15,"invalid-event-number":0}`},
		{"bad channel", "POST", "/services/collector/event?channel=a%20b", splunk(tokA), two, 400, `{"text":"Invalid data channel","code":11}`},
		{"ack without channel", "POST", "/services/collector/ack", splunk(tokA), []byte(`{"acks":[0]}`), 400, `{"text":"Data channel is missing","code":10}`},
		{"raw", "POST", "/services/collector/raw", splunk(tokA), []byte("l1\nl2\n"), 200, `{"text":"Success","code":0}`},
		{"raw bad time", "POST", "/services/collector/raw?time=yesterday", splunk(tokA), []byte("l1\n"), 400, `{"text":"Invalid data format","code":6}`},
		{"unknown encoding", "POST", "/services/collector/event", map[string]string{"Authorization": "Splunk " + tokA, "Content-Encoding": "br"}, two, 415, `{"text":"Unsupported Content-Encoding","code":415}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, bytes.NewReader(tc.body))
			for k, v := range tc.hdr {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || strings.TrimSpace(string(b)) != tc.reply {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, b, tc.status, tc.reply)
			}
			if tc.status == 503 && resp.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		})
	}
	if n := len(sink.data("alpha")); n != 8 {
		t.Errorf("alpha has %d records, want 8 (3 requests of 2 events, one of 2 raw lines)", n)
	}
	if n := len(sink.DeadLetters("alpha")); n != 6 {
		t.Errorf("alpha has %d dead letters, want 6 (the invalid bodies)", n)
	}
	if sink.Counted(MetricRefused, "") != 4 {
		t.Errorf("refused = %d, want 4", sink.Counted(MetricRefused, ""))
	}
}

// TestStoredShape pins what a record holds: /event keeps each envelope
// byte for byte; /raw builds one per line from the query string.
func TestStoredShape(t *testing.T) {
	srv, sink := server(t, DefaultConfig())
	body := "{\"event\": \"a\\\"b\",\n \"time\": \"1795627447.417\"}\r\n\n{\"event\":{\"x\":[1,{\"y\":\"}\"}]}}"
	if st, rep, _ := post(t, srv.URL+"/services/collector/event", splunk(tokA), []byte(body)); st != 200 {
		t.Fatalf("%d %s", st, rep)
	}
	raw := "first line\r\n\nsecond \"quoted\"\tline\n\xff\xfebinary\n"
	if st, rep, _ := post(t, srv.URL+"/services/collector/raw?channel=C-1&host=web01&sourcetype=access_combined&source=/var/log/x", splunk(tokA), []byte(raw)); st != 200 {
		t.Fatalf("%d %s", st, rep)
	}
	want := []string{
		"{\"event\": \"a\\\"b\",\n \"time\": \"1795627447.417\"}",
		`{"event":{"x":[1,{"y":"}"}]}}`,
		`{"event":"first line","channel":"C-1","host":"web01","source":"/var/log/x","sourcetype":"access_combined"}`,
		`{"event":"second \"quoted\"\tline","channel":"C-1","host":"web01","source":"/var/log/x","sourcetype":"access_combined"}`,
		`{"event":"\ufffd\ufffdbinary","event_base64":"//5iaW5hcnk=","channel":"C-1","host":"web01","source":"/var/log/x","sourcetype":"access_combined"}`,
	}
	if diff := cmp.Diff(want, sink.data("alpha")); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	if sink.Writes() != 2 {
		t.Errorf("%d sink writes, want one per request", sink.Writes())
	}
}

func TestGzip(t *testing.T) {
	srv, sink := server(t, DefaultConfig())
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	for i := range 100 {
		fmt.Fprintf(zw, `{"event":"e%d"}`, i)
	}
	zw.Close()
	st, rep, _ := post(t, srv.URL+"/services/collector/event", map[string]string{"Authorization": "Splunk " + tokA, "Content-Encoding": "gzip"}, zb.Bytes())
	if st != 200 || len(sink.data("alpha")) != 100 {
		t.Fatalf("%d %s, %d records", st, rep, len(sink.data("alpha")))
	}
	st, rep, _ = post(t, srv.URL+"/services/collector/event", map[string]string{"Authorization": "Splunk " + tokA, "Content-Encoding": "gzip"}, []byte("not gzip"))
	if st != 400 {
		t.Errorf("bad gzip: %d %s", st, rep)
	}
}

func TestLimits(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxEventBytes, cfg.MaxBodyBytes = 1024, 4096
	srv, sink := server(t, cfg)
	big := fmt.Sprintf(`{"event":"%s"}`, strings.Repeat("x", 1100))
	st, rep, _ := post(t, srv.URL+"/services/collector/event", splunk(tokA), []byte(`{"event":"ok"}`+big))
	if st != 400 || rep != `{"text":"Invalid data format","code":6,"invalid-event-number":1}` {
		t.Errorf("big event: %d %s", st, rep)
	}
	st, _, _ = post(t, srv.URL+"/services/collector/event", splunk(tokA), bytes.Repeat([]byte(`{"event":"ok"}`), 400))
	if st != 413 {
		t.Errorf("big body: %d", st)
	}
	// A gzip bomb is cut at the limit after gunzip.
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(bytes.Repeat([]byte(`{"event":"ok"}`), 400))
	zw.Close()
	st, _, _ = post(t, srv.URL+"/services/collector/event", map[string]string{"Authorization": "Splunk " + tokA, "Content-Encoding": "gzip"}, zb.Bytes())
	if st != 413 {
		t.Errorf("big gunzipped body: %d", st)
	}
	if n := sink.Total(); n != 0 {
		t.Errorf("%d records written by refused requests", n)
	}
	if d := sink.DeadLetters("alpha"); len(d) != 1 || !strings.Contains(d[0].Reason, "max_event_bytes") || len(d[0].Data) != 14+len(big) {
		t.Errorf("dead letters: %+v", d)
	}
}

func TestBackpressure(t *testing.T) {
	srv, sink := server(t, DefaultConfig())
	sink.FailWith(fmt.Errorf("%w: stream full", ingest.ErrBackpressure))
	st, rep, h := post(t, srv.URL+"/services/collector/event?channel=c1", splunk(tokA), []byte(`{"event":"x"}`))
	if st != 503 || rep != `{"text":"Server is busy","code":9}` || h.Get("Retry-After") == "" {
		t.Errorf("back-pressure: %d %s Retry-After=%q", st, rep, h.Get("Retry-After"))
	}
	sink.FailWith(errors.New("disk on fire"))
	st, rep, _ = post(t, srv.URL+"/services/collector/event", splunk(tokA), []byte(`{"event":"x"}`))
	if st != 500 || rep != `{"text":"Internal server error","code":8}` {
		t.Errorf("sink error: %d %s", st, rep)
	}
	sink.FailWith(nil)
	// No ackId was issued for the refused request: the first is 0.
	_, rep, _ = post(t, srv.URL+"/services/collector/event?channel=c1", splunk(tokA), []byte(`{"event":"x"}`))
	if rep != `{"text":"Success","code":0,"ackId":0}` {
		t.Errorf("after back-pressure: %s", rep)
	}
}

func TestAck(t *testing.T) {
	srv, _ := server(t, DefaultConfig())
	ch := map[string]string{"Authorization": "Splunk " + tokA, "X-Splunk-Request-Channel": "FE0ECFAD-13D5-401B-847D-77833BD77131"}
	for i := range 3 {
		_, rep, _ := post(t, srv.URL+"/services/collector/event", ch, []byte(`{"event":"x"}`))
		if want := fmt.Sprintf(`{"text":"Success","code":0,"ackId":%d}`, i); rep != want {
			t.Errorf("got %s, want %s", rep, want)
		}
	}
	_, rep, _ := post(t, srv.URL+"/services/collector/ack", ch, []byte(`{"acks":[0,2,3]}`))
	if want := `{"acks":{"0":true,"2":true,"3":false}}`; rep != want {
		t.Errorf("ack: %s, want %s", rep, want)
	}
	// The same channel under tenant B's token is a different channel.
	chB := map[string]string{"Authorization": "Splunk " + tokB, "X-Splunk-Request-Channel": ch["X-Splunk-Request-Channel"]}
	_, rep, _ = post(t, srv.URL+"/services/collector/ack", chB, []byte(`{"acks":[0]}`))
	if want := `{"acks":{"0":false}}`; rep != want {
		t.Errorf("ack of B: %s, want %s", rep, want)
	}
	if st, rep, _ := post(t, srv.URL+"/services/collector/ack", ch, []byte(`{"acks":"x"}`)); st != 400 {
		t.Errorf("bad ack body: %d %s", st, rep)
	}
}

func TestAckBound(t *testing.T) {
	a := newAcks()
	for i := range maxChannels + 10 {
		a.issue("alpha", fmt.Sprint(i))
	}
	if n := len(a.tenants["alpha"].byID); n != maxChannels {
		t.Errorf("%d channels kept, want %d", n, maxChannels)
	}
	if got := a.status("alpha", "0", []int64{0}); got[0] {
		t.Error("the least recently used channel was not forgotten")
	}
	if got := a.status("alpha", fmt.Sprint(maxChannels+9), []int64{0, 1}); !got[0] || got[1] {
		t.Errorf("newest channel: %v", got)
	}
}

// TestCrossTenant: each token writes only into its own tenant, whatever
// the body or query claims; bad tokens write nothing.
func TestCrossTenant(t *testing.T) {
	srv, sink := server(t, DefaultConfig())
	body := []byte(`{"event":"x","index":"bravo","fields":{"tenant":"bravo"}}`)
	post(t, srv.URL+"/services/collector/event?tenant=bravo&index=bravo", splunk(tokA), body)
	post(t, srv.URL+"/services/collector/raw?index=bravo", map[string]string{"Authorization": "Basic " + basic("bravo", tokA)}, []byte("line"))
	post(t, srv.URL+"/services/collector/event?token="+tokA, nil, body)
	for _, bad := range []map[string]string{splunk("nope"), splunk(tokB + "x"), splunk(ingesttest.ReaderToken), {"Authorization": "Basic " + basic(tokB, "wrong")}} {
		post(t, srv.URL+"/services/collector/event", bad, body)
	}
	if n := len(sink.data("alpha")); n != 3 {
		t.Errorf("alpha: %d records, want 3", n)
	}
	if n := sink.Total(); n != 3 {
		t.Errorf("%d records in all, want alpha's 3", n)
	}
	if sink.DeadTotal() != 0 {
		t.Errorf("dead letters for refused requests: %d", sink.DeadTotal())
	}
}

func basic(user, pass string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(user, pass)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

func TestRun(t *testing.T) {
	sink := newMemSink()
	cfg := DefaultConfig()
	cfg.Listen = ":0"
	r, err := New(cfg, ingest.Deps{Sink: sink, DeadLetters: sink, Auth: testTokens, Metrics: sink})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	addr := r.Addr()
	if addr == nil || !strings.HasPrefix(addr.String(), "127.0.0.1:") {
		t.Fatalf("Addr = %v, want 127.0.0.1:port", addr)
	}
	st, rep, _ := post(t, "http://"+addr.String()+"/services/collector/event", splunk(tokA), []byte(`{"event":"x"}`))
	if st != 200 {
		t.Errorf("%d %s", st, rep)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	// Disabled: Run returns at once and Addr is nil.
	r, _ = New(DefaultConfig(), ingest.Deps{Sink: sink, DeadLetters: sink, Auth: testTokens, Metrics: sink})
	if err := r.Run(context.Background()); err != nil || r.Addr() != nil {
		t.Errorf("disabled: Run = %v, Addr = %v", err, r.Addr())
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(*Config) {}, ""},
		{func(c *Config) { c.Listen = ":8088" }, ""},
		{func(c *Config) { c.Listen = "8088" }, "listen"},
		{func(c *Config) { c.MaxEventBytes = 10 }, "max_event_bytes"},
		{func(c *Config) { c.MaxBodyBytes = 1000 }, "max_body_bytes"},
		{func(c *Config) { c.TLSCert = "cert.pem" }, "tls_cert"},
	} {
		c := DefaultConfig()
		tc.mod(&c)
		err := c.Validate()
		if (err == nil) != (tc.want == "") || err != nil && !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", c, err, tc.want)
		}
	}
	if _, err := New(DefaultConfig(), ingest.Deps{}); err == nil {
		t.Error("New without Deps succeeded")
	}
}

func TestSample(t *testing.T) {
	c := DefaultConfig()
	if err := yaml.Unmarshal([]byte(Sample), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8088" {
		t.Errorf("sample listen = %q", c.Listen)
	}
}
