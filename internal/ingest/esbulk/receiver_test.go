package esbulk

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
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

// docs returns tenant t's documents.
func (s *memSink) docs(t tenant.ID) []string {
	var out []string
	for _, r := range s.Records(t) {
		if r.Source != Source {
			panic("source " + r.Source)
		}
		out = append(out, string(r.Data))
	}
	return out
}

// tokens is the token table; readerToken is refused as auth.Store refuses it.
type tokens = ingesttest.Tokens

const readerToken = ingesttest.ReaderToken

const (
	tokenA = "trn_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	tokenB = "trn_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

var testTokens = tokens{tokenA: "cardiff", tokenB: "swansea", "testkey": "cardiff", "s3cret": "cardiff"}

func newTest(t testing.TB, cfg Config) (*Receiver, *memSink, *httptest.Server) {
	t.Helper()
	sink := newMemSink()
	r, err := New(cfg, ingest.Deps{Sink: sink, DeadLetters: sink, Auth: testTokens, Metrics: sink})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r.Handler())
	t.Cleanup(srv.Close)
	return r, sink, srv
}

func apiKey(id, key string) string {
	return "ApiKey " + base64.StdEncoding.EncodeToString([]byte(id+":"+key))
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func do(t testing.TB, srv *httptest.Server, method, path, authz string, body []byte, hdr ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Header.Get("X-Elastic-Product"); got != "Elasticsearch" {
		t.Errorf("%s %s: X-Elastic-Product = %q", method, path, got)
	}
	return reply{res.StatusCode, res.Header, b}
}

// bulkReply is the part of a bulk response the tests look at.
type bulkReply struct {
	Errors bool
	Items  []map[string]struct {
		Index  string `json:"_index"`
		ID     string `json:"_id"`
		Status int
		Result string
		Error  struct{ Type string }
	}
}

// outcome is one item flattened: action index status result-or-error.
func (br bulkReply) outcomes(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, it := range br.Items {
		if len(it) != 1 {
			t.Fatalf("item with %d actions", len(it))
		}
		for a, r := range it {
			if r.ID == "" {
				t.Errorf("item without _id: %+v", r)
			}
			s := fmt.Sprintf("%s %s %d", a, r.Index, r.Status)
			if r.Result != "" {
				s += " " + r.Result
			}
			if r.Error.Type != "" {
				s += " " + r.Error.Type
			}
			out = append(out, s)
		}
	}
	return out
}

func parseBulk(t testing.TB, b []byte) bulkReply {
	t.Helper()
	var br bulkReply
	if err := json.Unmarshal(b, &br); err != nil {
		t.Fatalf("bulk reply %s: %v", b, err)
	}
	return br
}

func TestInfo(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Version = "8.19.3"
	_, _, srv := newTest(t, cfg)
	res := do(t, srv, "GET", "/", apiKey("any", tokenA), nil)
	var info struct {
		Version struct{ Number string }
		Tagline string
	}
	if err := json.Unmarshal(res.body, &info); err != nil || res.status != 200 {
		t.Fatalf("GET / = %d %s: %v", res.status, res.body, err)
	}
	if info.Version.Number != "8.19.3" || info.Tagline != "You Know, for Search" {
		t.Errorf("info = %+v", info)
	}
	if res := do(t, srv, "HEAD", "/", basic("x", tokenA), nil); res.status != 200 || len(res.body) != 0 {
		t.Errorf("HEAD / = %d %q", res.status, res.body)
	}
	res = do(t, srv, "GET", "/", apiKey("any", tokenA), nil, "Accept", "application/vnd.elasticsearch+json; compatible-with=8")
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/vnd.elasticsearch+json") {
		t.Errorf("compatible Content-Type = %q", ct)
	}
}

func TestSetupCallsAccepted(t *testing.T) {
	_, sink, srv := newTest(t, DefaultConfig())
	a := apiKey("beat", tokenA)
	for _, c := range []struct {
		method, path string
		want         string // a substring of the reply
	}{
		{"GET", "/_license?human=false", `"type":"basic"`},
		{"GET", "/_license", `"status":"active"`},
		{"GET", "/_xpack", `"ilm"`},
		{"GET", "/_cluster/health", `"status":"green"`},
		{"GET", "/_nodes/_local", `"nodes"`},
		{"GET", "/_nodes/ingest", `"nodes"`},
		{"HEAD", "/_index_template/winlogbeat-8.17.0", ""},
		{"GET", "/_index_template/winlogbeat-8.17.0", `"winlogbeat-8.17.0"`},
		{"PUT", "/_index_template/winlogbeat-8.17.0", `"acknowledged":true`},
		{"PUT", "/_component_template/logs-mappings", `"acknowledged":true`},
		{"PUT", "/_template/filebeat", `"acknowledged":true`},
		{"GET", "/_ilm/policy/winlogbeat", `"policy"`},
		{"PUT", "/_ilm/policy/winlogbeat", `"acknowledged":true`},
		{"GET", "/_ingest/pipeline/filebeat-8.17.0-system-auth-pipeline", `"processors"`},
		{"PUT", "/_ingest/pipeline/filebeat-8.17.0-system-auth-pipeline", `"acknowledged":true`},
		{"GET", "/_data_stream/logs-system.auth-default", `"data_streams"`},
		{"PUT", "/_data_stream/logs-system.auth-default", `"acknowledged":true`},
		{"HEAD", "/_alias/logstash", ""},
		{"PUT", "/logstash-000001", `"index":"logstash-000001"`},
		{"PUT", "/%3Clogstash-%7Bnow%2Fd%7D-000001%3E", `"index":"<logstash-{now/d}-000001>"`},
		{"PUT", "/logstash-000001/_mapping", `"acknowledged":true`},
		{"GET", "/_security/_authenticate", `"username"`},
	} {
		res := do(t, srv, c.method, c.path, a, []byte(`{"index_patterns":["x-*"]}`))
		if res.status != 200 || !strings.Contains(string(res.body), c.want) {
			t.Errorf("%s %s = %d %s; want 200 with %s", c.method, c.path, res.status, res.body, c.want)
		}
	}
	// Anything carrying documents outside _bulk is refused, never dropped.
	for _, p := range []string{"/logs/_doc", "/logs/_create/1", "/_monitoring/bulk"} {
		res := do(t, srv, "POST", p, a, []byte(`{"message":"x"}`))
		if res.status != 400 || !strings.Contains(string(res.body), "no handler found") {
			t.Errorf("POST %s = %d %s; want 400", p, res.status, res.body)
		}
	}
	if res := do(t, srv, "GET", "/_bulk", a, nil); res.status != 405 {
		t.Errorf("GET /_bulk = %d", res.status)
	}
	if n := sink.Total(); n != 0 {
		t.Errorf("setup calls wrote %d records", n)
	}
}

func TestBulk(t *testing.T) {
	_, sink, srv := newTest(t, DefaultConfig())
	body := `{"create":{"_index":"logs-a-default"}}
{"@timestamp":"2024-05-01T10:22:33Z","message":"one"}
{"index":{"_id":"fixed-id"}}
  {"message":"two"}  ` + "\r" + `

{"delete":{"_index":"x","_id":"1"}}
{"update":{"_index":"x","_id":"1"}}
{"doc":{"a":1}}
{"create":{}}
[1,2]
{"create":{}}
{"message": "broken
{"create":{}}
{"message":"three"}
{"create":{}}
`
	res := do(t, srv, "POST", "/winlogbeat-8.17.0/_bulk", basic("elastic", tokenA), []byte(body), "Content-Type", "application/x-ndjson")
	if res.status != 200 {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	br := parseBulk(t, res.body)
	want := []string{
		"create logs-a-default 201 created",
		"index winlogbeat-8.17.0 201 created",
		"delete x 400 illegal_argument_exception",
		"update x 400 illegal_argument_exception",
		"create winlogbeat-8.17.0 400 document_parsing_exception",
		"create winlogbeat-8.17.0 400 document_parsing_exception",
		"create winlogbeat-8.17.0 201 created",
		"create winlogbeat-8.17.0 400 action_request_validation_exception",
	}
	if diff := cmp.Diff(want, br.outcomes(t)); diff != "" || !br.Errors {
		t.Errorf("items (-want +got):\n%s\nerrors=%v", diff, br.Errors)
	}
	if id := br.Items[1]["index"].ID; id != "fixed-id" {
		t.Errorf("_id = %q, want the one sent", id)
	}
	wantDocs := []string{
		`{"@timestamp":"2024-05-01T10:22:33Z","message":"one"}`,
		`{"message":"two"}`,
		`{"message":"three"}`,
	}
	if diff := cmp.Diff(wantDocs, sink.docs("cardiff")); diff != "" {
		t.Errorf("documents (-want +got):\n%s", diff)
	}
	if sink.Writes() != 1 {
		t.Errorf("%d sink writes, want one per request", sink.Writes())
	}
	var dead []string
	for _, dl := range sink.DeadLetters("cardiff") {
		dead = append(dead, fmt.Sprintf("%d %s", dl.Line, dl.Data))
		if dl.Reason == "" || dl.Source != Source {
			t.Errorf("dead letter %+v", dl)
		}
	}
	wantDead := []string{`8 {"doc":{"a":1}}`, `10 [1,2]`, `12 {"message": "broken`, `15 {"create":{}}`}
	if diff := cmp.Diff(wantDead, dead); diff != "" {
		t.Errorf("dead letters (-want +got):\n%s", diff)
	}
	if got := sink.Counted(MetricEvents, "cardiff"); got != 3 {
		t.Errorf("events counted %d", got)
	}
	if got := sink.Counted(MetricRejected, "cardiff"); got != 4 {
		t.Errorf("rejected counted %d", got)
	}
}

func TestBulkMalformed(t *testing.T) {
	_, sink, srv := newTest(t, DefaultConfig())
	for _, c := range []struct{ body, typ string }{
		{"", "action_request_validation_exception"},
		{"\n\n", "action_request_validation_exception"},
		{`{"frobnicate":{}}` + "\n{}\n", "illegal_argument_exception"},
		{"not json\n{}\n", "illegal_argument_exception"},
		{`{"create":{},"index":{}}` + "\n{}\n", "illegal_argument_exception"},
		{`{"create":[]}` + "\n{}\n", "illegal_argument_exception"},
		{`{"create":{"_index":1}}` + "\n{}\n", "illegal_argument_exception"},
	} {
		res := do(t, srv, "POST", "/_bulk", apiKey("k", tokenA), []byte(c.body))
		var e struct {
			Error  struct{ Type string }
			Status int
		}
		if err := json.Unmarshal(res.body, &e); err != nil || res.status != 400 || e.Status != 400 || e.Error.Type != c.typ {
			t.Errorf("%q: %d %s; want 400 %s", c.body, res.status, res.body, c.typ)
		}
	}
	if n := sink.Total(); n != 0 {
		t.Errorf("malformed requests wrote %d records", n)
	}
	// Every refused non-empty body is kept as a dead letter.
	if n := len(sink.DeadLetters("cardiff")); n != 5 {
		t.Errorf("%d dead letters, want 5", n)
	}
}

func TestGzipAndContentTypes(t *testing.T) {
	_, sink, srv := newTest(t, DefaultConfig())
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	io.WriteString(zw, `{"create":{"_index":"a"}}`+"\n"+`{"n":1}`+"\n")
	zw.Close()
	for _, ct := range []string{"application/x-ndjson", "application/vnd.elasticsearch+x-ndjson; compatible-with=8", "application/json", ""} {
		res := do(t, srv, "PUT", "/_bulk", apiKey("k", tokenA), zb.Bytes(), "Content-Encoding", "gzip", "Content-Type", ct)
		if res.status != 200 || parseBulk(t, res.body).Errors {
			t.Errorf("Content-Type %q: %d %s", ct, res.status, res.body)
		}
	}
	if got := len(sink.docs("cardiff")); got != 4 {
		t.Errorf("%d documents, want 4", got)
	}
	res := do(t, srv, "POST", "/_bulk", apiKey("k", tokenA), []byte("not gzip"), "Content-Encoding", "gzip")
	if res.status != 400 {
		t.Errorf("bad gzip: %d %s", res.status, res.body)
	}
}

func TestBodyLimit(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxLineBytes = 1024
	cfg.MaxBodyBytes = 4096
	_, sink, srv := newTest(t, cfg)
	body := strings.Repeat(`{"create":{}}`+"\n"+`{"message":"`+strings.Repeat("x", 200)+`"}`+"\n", 30)
	res := do(t, srv, "POST", "/_bulk", apiKey("k", tokenA), []byte(body))
	if res.status != 413 || !strings.Contains(string(res.body), `"status":413`) {
		t.Errorf("over the limit: %d %s", res.status, res.body)
	}
	// The same through gzip: the limit is on what it inflates to.
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	io.WriteString(zw, body)
	zw.Close()
	res = do(t, srv, "POST", "/_bulk", apiKey("k", tokenA), zb.Bytes(), "Content-Encoding", "gzip")
	if res.status != 413 {
		t.Errorf("gzip over the limit: %d %s", res.status, res.body)
	}
	// A document over max_line_bytes is one failed item, dead-lettered.
	long := `{"create":{}}` + "\n" + `{"message":"` + strings.Repeat("y", 1100) + `"}` + "\n" + `{"create":{}}` + "\n{}\n"
	br := parseBulk(t, do(t, srv, "POST", "/_bulk", apiKey("k", tokenA), []byte(long)).body)
	if diff := cmp.Diff([]string{"create  400 document_parsing_exception", "create  201 created"}, br.outcomes(t)); diff != "" {
		t.Errorf("long document (-want +got):\n%s", diff)
	}
	if sink.Total() != 1 || len(sink.DeadLetters("cardiff")) != 1 {
		t.Errorf("records %d, dead letters %d", sink.Total(), len(sink.DeadLetters("cardiff")))
	}
}

func TestBackpressure(t *testing.T) {
	_, sink, srv := newTest(t, DefaultConfig())
	sink.RefuseNext(1)
	body := []byte(`{"create":{"_index":"a"}}` + "\n{}\n" + `{"index":{"_index":"a"}}` + "\n[]\n")
	res := do(t, srv, "POST", "/_bulk", apiKey("k", tokenA), body)
	if res.status != 429 || res.header.Get("Retry-After") == "" {
		t.Fatalf("back-pressure: %d %v", res.status, res.header)
	}
	want := []string{"create a 429 es_rejected_execution_exception", "index a 429 es_rejected_execution_exception"}
	if diff := cmp.Diff(want, parseBulk(t, res.body).outcomes(t)); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	if sink.Total() != 0 || len(sink.DeadLetters("cardiff")) != 0 {
		t.Errorf("a refused request kept %d records, %d dead letters", sink.Total(), len(sink.DeadLetters("cardiff")))
	}
	// The retry goes through.
	res = do(t, srv, "POST", "/_bulk", apiKey("k", tokenA), body)
	want = []string{"create a 201 created", "index a 400 document_parsing_exception"}
	if diff := cmp.Diff(want, parseBulk(t, res.body).outcomes(t)); diff != "" || res.status != 200 {
		t.Errorf("retry %d (-want +got):\n%s", res.status, diff)
	}
	if got := sink.Counted(MetricBackpressure, "cardiff"); got != 2 {
		t.Errorf("back-pressure counted %d", got)
	}
}

func TestAuth(t *testing.T) {
	_, sink, srv := newTest(t, DefaultConfig())
	doc := func(n string) []byte { return []byte(`{"create":{}}` + "\n" + `{"n":"` + n + `"}` + "\n") }
	for _, c := range []struct {
		name, authz string
		tenant      tenant.ID
	}{
		{"api key id:token", apiKey("beats-host-1", tokenA), "cardiff"},
		{"api key any id", apiKey("x", tokenB), "swansea"},
		{"api key token as whole value", "ApiKey " + base64.StdEncoding.EncodeToString([]byte(tokenB)), "swansea"},
		{"api key raw token", "ApiKey " + tokenA, "cardiff"},
		{"basic", basic("elastic", tokenA), "cardiff"},
		{"basic any user", basic("", tokenB), "swansea"},
		{"bearer", "Bearer " + tokenB, "swansea"},
	} {
		res := do(t, srv, "POST", "/_bulk", c.authz, doc(c.name))
		if res.status != 200 {
			t.Errorf("%s: %d %s", c.name, res.status, res.body)
			continue
		}
		found := false
		for _, d := range sink.docs(c.tenant) {
			found = found || strings.Contains(d, c.name)
		}
		if !found {
			t.Errorf("%s: document not in tenant %s", c.name, c.tenant)
		}
	}
	before := sink.Total()
	for _, c := range []struct {
		name, authz string
		status      int
	}{
		{"none", "", 401},
		{"unknown api key", apiKey("id", "trn_nope"), 401},
		{"unknown basic", basic("u", "trn_nope"), 401},
		{"basic token as user", basic(tokenA, ""), 401},
		{"garbage", "Basic !!!", 401},
		{"unknown scheme", "Negotiate " + tokenA, 401},
		{"reader token", apiKey("id", readerToken), 403},
	} {
		for _, path := range []string{"/_bulk", "/"} {
			res := do(t, srv, "POST", path, c.authz, doc(c.name))
			var e struct {
				Error  struct{ Type string }
				Status int
			}
			if err := json.Unmarshal(res.body, &e); err != nil || res.status != c.status || e.Status != c.status || e.Error.Type != "security_exception" {
				t.Errorf("%s %s: %d %s; want %d security_exception", c.name, path, res.status, res.body, c.status)
			}
			if c.status == 401 && len(res.header.Values("WWW-Authenticate")) == 0 {
				t.Errorf("%s: 401 without WWW-Authenticate", c.name)
			}
		}
	}
	if n := sink.Total(); n != before {
		t.Errorf("refused requests wrote %d records", n-before)
	}
	if sink.DeadTotal() != 0 {
		t.Errorf("refused requests wrote dead letters: %d", sink.DeadTotal())
	}
}

// TestCrossTenant: the tenant comes from the token only; nothing in the
// path, action or document moves a record to another tenant.
func TestCrossTenant(t *testing.T) {
	_, sink, srv := newTest(t, DefaultConfig())
	body := []byte(`{"create":{"_index":"swansea"}}` + "\n" + `{"tenant":"swansea","tarian":{"tenant":"swansea"}}` + "\n")
	for _, path := range []string{"/_bulk", "/swansea/_bulk", "/_bulk?tenant=swansea"} {
		if res := do(t, srv, "POST", path, apiKey("swansea", tokenA), body, "X-Tenant", "swansea"); res.status != 200 {
			t.Fatalf("%s: %d", path, res.status)
		}
	}
	if got := len(sink.docs("swansea")); got != 0 {
		t.Errorf("tenant A's token wrote %d records into B", got)
	}
	if got := len(sink.docs("cardiff")); got != 3 {
		t.Errorf("%d records in A, want 3", got)
	}
}

type failingDead struct{ *memSink }

func (failingDead) AddDeadLetters(context.Context, tenant.ID, []ingest.DeadLetter) error {
	return errors.New("disk full (test)")
}

func TestDeadLetterStoreDown(t *testing.T) {
	sink := newMemSink()
	r, err := New(DefaultConfig(), ingest.Deps{Sink: sink, DeadLetters: failingDead{sink}, Auth: testTokens, Metrics: sink})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	res := do(t, srv, "POST", "/_bulk", apiKey("k", tokenA), []byte(`{"create":{"_index":"a"}}`+"\n{}\n"+`{"create":{"_index":"a"}}`+"\n1\n"))
	want := []string{"create a 201 created", "create a 503 unavailable_shards_exception"}
	if diff := cmp.Diff(want, parseBulk(t, res.body).outcomes(t)); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
}

func TestRun(t *testing.T) {
	sink := newMemSink()
	cfg := DefaultConfig()
	cfg.Listen = ":0"
	r, err := New(cfg, ingest.Deps{Sink: sink, DeadLetters: sink, Auth: testTokens, Metrics: sink})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	addr := r.Addr()
	if addr == nil || !strings.HasPrefix(addr.String(), "127.0.0.1:") {
		t.Fatalf("Addr = %v", addr)
	}
	req, _ := http.NewRequest("GET", "http://"+addr.String()+"/", nil)
	req.Header.Set("Authorization", apiKey("x", tokenA))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("GET / = %d", res.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	// Disabled: Run waits for ctx, Addr is nil.
	d, _ := New(DefaultConfig(), ingest.Deps{Sink: sink, DeadLetters: sink, Auth: testTokens, Metrics: sink})
	if d.Addr() != nil {
		t.Error("disabled receiver has an address")
	}
	ctx2, cancel2 := context.WithCancel(t.Context())
	cancel2()
	if err := d.Run(ctx2); err != nil {
		t.Errorf("disabled Run = %v", err)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		edit func(*Config)
		key  string // "" for valid
	}{
		{func(*Config) {}, ""},
		{func(c *Config) { c.Listen = ":9200" }, ""},
		{func(c *Config) { c.Version = "9.1.0" }, ""},
		{func(c *Config) { c.Listen = "9200" }, "listen:"},
		{func(c *Config) { c.Version = "8.16.1" }, "version:"},
		{func(c *Config) { c.Version = "7.17.0" }, "version:"},
		{func(c *Config) { c.Version = "8.x" }, "version:"},
		{func(c *Config) { c.MaxLineBytes = 10 }, "max_line_bytes:"},
		{func(c *Config) { c.MaxBodyBytes = 1000 }, "max_body_bytes:"},
		{func(c *Config) { c.TLSCert = "a.pem" }, "tls_cert:"},
	} {
		cfg := DefaultConfig()
		c.edit(&cfg)
		err := cfg.Validate()
		if c.key == "" && err != nil || c.key != "" && (err == nil || !strings.HasPrefix(err.Error(), c.key)) {
			t.Errorf("%+v: Validate() = %v, want key %q", cfg, err, c.key)
		}
	}
}

func TestSample(t *testing.T) {
	cfg := DefaultConfig()
	dec := yaml.NewDecoder(strings.NewReader(Sample))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9200" {
		t.Errorf("listen = %q", cfg.Listen)
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New(DefaultConfig(), ingest.Deps{}); err == nil {
		t.Error("New without deps succeeded")
	}
	cfg := DefaultConfig()
	cfg.Version = "1.0.0"
	sink := newMemSink()
	if _, err := New(cfg, ingest.Deps{Sink: sink, DeadLetters: sink, Auth: testTokens, Metrics: sink}); err == nil || !strings.Contains(err.Error(), "version") {
		t.Errorf("New(bad version) = %v", err)
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "ctl\x00\x1f\n\r\t", "ünï", "bad\xff\xfeutf8", "\u2028"} {
		var got string
		if err := json.Unmarshal(appendString(nil, s), &got); err != nil {
			t.Errorf("%q: %v", s, err)
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if s == "bad\xff\xfeutf8" {
			want = "bad\ufffd\ufffdutf8"
		}
		if got != want {
			t.Errorf("%q round-trips to %q", s, got)
		}
	}
}

// TestBeatStartSequence replays the order of calls a Filebeat 8 makes when
// it starts with the default setup (as seen by other Elasticsearch
// emulations): every call succeeds and the licence is one Beats accept.
func TestBeatStartSequence(t *testing.T) {
	_, sink, srv := newTest(t, DefaultConfig())
	a := apiKey("filebeat", tokenA)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/", ""},
		{"GET", "/_license?human=false", ""},
		{"GET", "/", ""},
		{"HEAD", "/_index_template/filebeat-8.17.0", ""},
		{"PUT", "/_index_template/filebeat-8.17.0", `{"index_patterns":["filebeat-8.17.0"],"data_stream":{}}`},
		{"GET", "/_data_stream/filebeat-8.17.0", ""},
		{"GET", "/", ""},
		{"POST", "/_bulk", `{"create":{"_index":"filebeat-8.17.0"}}` + "\n" + `{"@timestamp":"2026-11-25T17:00:00Z","message":"hi"}` + "\n"},
	} {
		res := do(t, srv, c.method, c.path, a, []byte(c.body), "Content-Type", "application/json")
		if res.status != 200 {
			t.Fatalf("%s %s = %d %s", c.method, c.path, res.status, res.body)
		}
		if c.path == "/_license?human=false" {
			var l struct {
				License struct{ Type, Status, UID string }
			}
			if err := json.Unmarshal(res.body, &l); err != nil || l.License.Type != "basic" || l.License.Status != "active" || l.License.UID == "" {
				t.Errorf("licence %s: %v", res.body, err)
			}
		}
	}
	if got := sink.docs("cardiff"); len(got) != 1 {
		t.Errorf("documents %v", got)
	}
}
