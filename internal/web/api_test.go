package web_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/bus"
	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// world is a server with tenants a and b and a token of every role.
type world struct {
	s      *servertest.Server
	tokens map[string]string // "a/ingest", "b/tenant-analyst", "provider-analyst", ...
}

func newWorld(t *testing.T) *world { return newWorldB(t) }

func newWorldB(t testing.TB) *world {
	t.Helper()
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	w := &world{s: s, tokens: map[string]string{"provider-admin": servertest.AdminToken}}
	for _, ten := range []string{"a", "b"} {
		id := "tenant-" + ten
		s.AddTenant(t, id)
		for _, role := range []string{"ingest", "tenant-viewer", "tenant-analyst", "tenant-admin"} {
			w.tokens[ten+"/"+role] = s.Token(t, id, role)
		}
	}
	w.tokens["provider-analyst"] = s.Token(t, "", "provider-analyst")
	return w
}

func errorCode(t *testing.T, body []byte) string {
	t.Helper()
	var e struct{ Error, Message string }
	if err := json.Unmarshal(body, &e); err != nil || e.Error == "" || e.Message == "" {
		t.Fatalf("error body %q is not {\"error\",\"message\"}", body)
	}
	return e.Error
}

// search returns the rows of a search, polling until want rows arrive (the
// store is eventually consistent, within about a second).
func (w *world) searchN(t *testing.T, token, query, ten string, want int) []map[string]string {
	t.Helper()
	q := url.Values{"q": {query}, "limit": {"100000"}}
	if ten != "" {
		q.Set("tenant", ten)
	}
	var rows []map[string]string
	deadline := time.Now().Add(20 * time.Second)
	for {
		status, body := w.s.Do(t, "GET", "/api/v1/search?"+q.Encode(), token, nil)
		if status != 200 {
			t.Fatalf("search %q: %d %s", query, status, body)
		}
		rows = rows[:0]
		for _, line := range bytes.Split(bytes.TrimSpace(body), []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			var r map[string]string
			if err := json.Unmarshal(line, &r); err != nil {
				t.Fatalf("result line %q: %v", line, err)
			}
			rows = append(rows, r)
		}
		if len(rows) >= want || time.Now().After(deadline) {
			return rows
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (w *world) ingest(t *testing.T, ten string, lines ...string) map[string]any {
	t.Helper()
	status, body := w.s.Do(t, "POST", "/api/v1/ingest", w.tokens[ten+"/ingest"], []byte(strings.Join(lines, "\n")))
	if status != 200 {
		t.Fatalf("ingest: %d %s", status, body)
	}
	var sum map[string]any
	if err := json.Unmarshal(body, &sum); err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestSearchIsTenantScoped(t *testing.T) {
	w := newWorld(t)
	// The body cannot choose its tenant: a "tenant" field stays data.
	w.ingest(t, "a", `{"message":"shared-marker from a","tenant":"tenant-b","user":{"name":"alice"}}`)
	w.ingest(t, "b", `{"message":"shared-marker from b","user":{"name":"bob"}}`)

	rows := w.searchN(t, w.tokens["a/tenant-analyst"], "shared-marker", "", 1)
	if len(rows) != 1 || rows[0]["tenant"] != "tenant-a" || rows[0]["_tenant_field"] != "tenant-b" || rows[0]["user.name"] != "alice" {
		t.Fatalf("a's analyst got %v", rows)
	}
	rows = w.searchN(t, w.tokens["b/tenant-viewer"], "shared-marker", "", 1)
	if len(rows) != 1 || rows[0]["tenant"] != "tenant-b" || rows[0]["message"] != "shared-marker from b" {
		t.Fatalf("b's viewer got %v", rows)
	}
	rows = w.searchN(t, w.tokens["provider-analyst"], "shared-marker", "*", 2)
	if len(rows) != 2 {
		t.Fatalf("provider-analyst with tenant=* got %d rows, want 2", len(rows))
	}
	rows = w.searchN(t, w.tokens["provider-analyst"], "user.name:bob", "tenant-b", 1)
	if len(rows) != 1 || rows[0]["tenant"] != "tenant-b" {
		t.Fatalf("provider-analyst tenant=tenant-b: %v", rows)
	}
	// Every provider read is audited.
	var audit struct {
		Records []struct{ Action, Scope, Role string }
	}
	w.s.JSON(t, "GET", "/api/v1/audit?limit=10", servertest.AdminToken, nil, &audit)
	scopes := map[string]bool{}
	for _, r := range audit.Records {
		if r.Action == "search" && r.Role == "provider-analyst" {
			scopes[r.Scope] = true
		}
	}
	if !scopes["*"] || !scopes["tenant-b"] {
		t.Errorf("audit trail lacks the provider's searches: %+v", audit.Records)
	}
}

func TestCrossTenantRefused(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name, method, path, token string
		body                      string
		status                    int
	}{
		{"analyst reads other tenant", "GET", "/api/v1/search?q=*&tenant=tenant-b", "a/tenant-analyst", "", 403},
		{"viewer reads all tenants", "GET", "/api/v1/search?q=*&tenant=*", "a/tenant-viewer", "", 403},
		{"admin reads other tenant", "GET", "/api/v1/search?q=*&tenant=tenant-b", "a/tenant-admin", "", 403},
		{"ingest token searches", "GET", "/api/v1/search?q=*", "a/ingest", "", 403},
		{"provider without scope", "GET", "/api/v1/search?q=*", "provider-analyst", "", 403},
		{"provider unknown tenant", "GET", "/api/v1/search?q=*&tenant=nobody", "provider-analyst", "", 404},
		{"no token", "GET", "/api/v1/search?q=*", "", "", 401},
		{"unknown token", "GET", "/api/v1/search?q=*", "trn_nope", "", 401},
		{"analyst ingests", "POST", "/api/v1/ingest", "a/tenant-analyst", `{"a":1}`, 403},
		{"provider ingests", "POST", "/api/v1/ingest", "provider-admin", `{"a":1}`, 403},
		{"tenant admin adds tenant", "POST", "/api/v1/tenants", "a/tenant-admin", `{"id":"evil","name":"x"}`, 403},
		{"provider analyst adds tenant", "POST", "/api/v1/tenants", "provider-analyst", `{"id":"evil","name":"x"}`, 403},
		{"tenant admin token for other tenant", "POST", "/api/v1/tokens", "a/tenant-admin", `{"tenant":"tenant-b","role":"ingest"}`, 403},
		{"tenant admin makes admin", "POST", "/api/v1/tokens", "a/tenant-admin", `{"tenant":"tenant-a","role":"tenant-admin"}`, 403},
		{"tenant admin makes provider", "POST", "/api/v1/tokens", "a/tenant-admin", `{"role":"provider-admin"}`, 403},
		{"analyst makes token", "POST", "/api/v1/tokens", "a/tenant-analyst", `{"tenant":"tenant-a","role":"ingest"}`, 403},
		{"provider analyst makes token", "POST", "/api/v1/tokens", "provider-analyst", `{"tenant":"tenant-a","role":"ingest"}`, 403},
		{"admin reads other dead letters", "GET", "/api/v1/deadletters?tenant=tenant-b", "a/tenant-admin", "", 403},
		{"analyst reads dead letters", "GET", "/api/v1/deadletters?tenant=tenant-a", "a/tenant-analyst", "", 403},
		{"tenant admin reads other audit", "GET", "/api/v1/audit?tenant=tenant-b", "a/tenant-admin", "", 403},
		{"tenant admin exports other audit", "GET", "/api/v1/audit/export?tenant=tenant-b", "a/tenant-admin", "", 403},
		{"tenant admin verifies other audit", "GET", "/api/v1/audit/verify?tenant=tenant-b", "a/tenant-admin", "", 403},
		{"tenant analyst reads audit", "GET", "/api/v1/audit", "a/tenant-analyst", "", 403},
		{"provider analyst reads audit", "GET", "/api/v1/audit", "provider-analyst", "", 403},
		{"tenant admin profiles", "GET", "/debug/pprof/heap", "a/tenant-admin", "", 403},
		{"anyone profiles", "GET", "/debug/pprof/heap", "", "", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, ok := w.tokens[tt.token]
			if !ok { // not a role: send it as it is
				token = tt.token
			}
			status, body := w.s.Do(t, tt.method, tt.path, token, []byte(tt.body))
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			errorCode(t, body)
		})
	}
	// Tenant roles list only their own tenant.
	var list struct{ Tenants []struct{ ID string } }
	w.s.JSON(t, "GET", "/api/v1/tenants", w.tokens["b/tenant-viewer"], nil, &list)
	if len(list.Tenants) != 1 || list.Tenants[0].ID != "tenant-b" {
		t.Errorf("b's viewer lists %+v", list.Tenants)
	}
	w.s.JSON(t, "GET", "/api/v1/tenants", w.tokens["provider-analyst"], nil, &list)
	if len(list.Tenants) != 2 {
		t.Errorf("provider lists %+v", list.Tenants)
	}
	// A tenant admin may make an ingest token for its own tenant, and it writes there.
	var tok map[string]string
	w.s.JSON(t, "POST", "/api/v1/tokens", w.tokens["a/tenant-admin"], map[string]string{"tenant": "tenant-a", "role": "ingest"}, &tok)
	if tok["tenant"] != "tenant-a" || !strings.HasPrefix(tok["token"], "trn_") {
		t.Errorf("token = %v", tok)
	}
}

func TestIngestBadInput(t *testing.T) {
	w := newWorld(t)
	big := `{"pad":"` + strings.Repeat("x", 1<<20) + `"}`
	body := strings.Join([]string{
		`{"message":"good one"}`, // 1
		`{"message": broken`,     // 2
		``,                       // 3: blank, skipped
		big,                      // 4: over the line limit
		`[1,2]`,                  // 5
		`"just a string"`,        // 6
		`{"message":"good two"}`, // 7
	}, "\n")
	status, resp := w.s.Do(t, "POST", "/api/v1/ingest", w.tokens["a/ingest"], []byte(body))
	if status != 200 {
		t.Fatalf("status %d: %s", status, resp)
	}
	var sum struct {
		Accepted, Rejected int
		Errors             []struct {
			Line   int
			Reason string
		}
	}
	if err := json.Unmarshal(resp, &sum); err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, e := range sum.Errors {
		lines = append(lines, e.Line)
	}
	if sum.Accepted != 2 || sum.Rejected != 4 || fmt.Sprint(lines) != "[2 4 5 6]" {
		t.Fatalf("summary = %+v", sum)
	}
	if !strings.Contains(sum.Errors[1].Reason, "limit") || !strings.Contains(sum.Errors[2].Reason, "not a JSON object") {
		t.Errorf("reasons = %+v", sum.Errors)
	}
	// The rejected lines are kept, for the provider and a's admin, not b's.
	var dl struct {
		DeadLetters []struct {
			Line         int
			Reason, Data string
		} `json:"dead_letters"`
	}
	w.s.JSON(t, "GET", "/api/v1/deadletters?tenant=tenant-a", w.tokens["a/tenant-admin"], nil, &dl)
	if len(dl.DeadLetters) != 4 || dl.DeadLetters[0].Data != `"just a string"` || dl.DeadLetters[2].Data != big {
		t.Fatalf("dead letters = %d %+v", len(dl.DeadLetters), dl.DeadLetters[0])
	}
	w.s.JSON(t, "GET", "/api/v1/deadletters?tenant=tenant-b", servertest.AdminToken, nil, &dl)
	if len(dl.DeadLetters) != 0 {
		t.Errorf("tenant-b has %d dead letters of tenant-a", len(dl.DeadLetters))
	}
	if rows := w.searchN(t, w.tokens["a/tenant-analyst"], "good", "", 2); len(rows) != 2 {
		t.Errorf("accepted lines searchable: %d, want 2", len(rows))
	}

	// Gzip bodies are accepted.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"message":"zipped"}` + "\n"))
	zw.Close()
	req := gz.Bytes()
	status, resp = doEncoded(t, w.s.URL, w.tokens["a/ingest"], req, "gzip")
	if status != 200 || !strings.Contains(string(resp), `"accepted":1`) {
		t.Errorf("gzip: %d %s", status, resp)
	}
	status, resp = doEncoded(t, w.s.URL, w.tokens["a/ingest"], []byte("not gzip"), "gzip")
	if status != 400 {
		t.Errorf("bad gzip: %d %s", status, resp)
	}

	for _, tt := range []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"empty", "", 400, "empty_body"},
		{"only blanks", "\n\n  \n", 400, "empty_body"},
		{"too large", strings.Repeat(`{"a":1}`+"\n", 10_000_000), 413, "body_too_large"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, resp := w.s.Do(t, "POST", "/api/v1/ingest", w.tokens["a/ingest"], []byte(tt.body))
			if status != tt.status || errorCode(t, resp) != tt.code {
				t.Errorf("status %d %s, want %d %s", status, resp, tt.status, tt.code)
			}
		})
	}
}

func TestSearchErrors(t *testing.T) {
	w := newWorld(t)
	tok := w.tokens["a/tenant-analyst"]
	for _, tt := range []struct{ query, code string }{
		{"q=", "bad_request"},
		{"q=" + url.QueryEscape("foo | stats by ("), "bad_query"},
		{"q=*&from=yesterday", "bad_request"},
		{"q=*&from=-1h&to=-3h", "bad_request"}, // a reversed range, not an empty answer
		{"q=*&limit=0", "bad_request"},
	} {
		status, body := w.s.Do(t, "GET", "/api/v1/search?"+tt.query, tok, nil)
		if status != 400 || errorCode(t, body) != tt.code {
			t.Errorf("%s: %d %s, want 400 %s", tt.query, status, body, tt.code)
		}
	}
	status, body := w.s.Do(t, "GET", "/api/v1/nothing", tok, nil)
	if status != 404 || errorCode(t, body) != "not_found" {
		t.Errorf("unknown endpoint: %d %s", status, body)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	w := newWorld(t)
	if status, body := w.s.Do(t, "GET", "/debug/pprof/heap?debug=1", servertest.AdminToken, nil); status != 200 || !strings.Contains(string(body), "heap profile") {
		t.Errorf("provider-admin heap profile: %d %.100s", status, body)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if status, body := w.s.Do(t, "GET", p, "", nil); status != 200 {
			t.Errorf("%s: %d %s", p, status, body)
		}
	}
	w.ingest(t, "a", `{"n":1}`, `{"n":2}`, `bad`)
	w.searchN(t, w.tokens["a/tenant-analyst"], "*", "", 2)
	// The indexer's checkpoint moves when it flushes (within a second).
	var body []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		_, body = w.s.Do(t, "GET", "/metrics", servertest.AdminToken, nil)
		if strings.Contains(string(body), "tarian_bus_lag_messages 0\n") {
			break
		}
	}
	for _, want := range []string{
		`tarian_ingest_events_total{tenant="tenant-a"} 2`,
		`tarian_ingest_rejected_total{tenant="tenant-a"} 1`,
		`tarian_indexed_events_total{tenant="tenant-a"} 2`,
		`tarian_bus_lag_messages 0`,
		`tarian_events_disk_bytes`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func doEncoded(t *testing.T, base, token string, body []byte, encoding string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/api/v1/ingest", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Encoding", encoding)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// A full bus is back-pressure: 503 with Retry-After, and every event that
// was acknowledged before it stays searchable.
func TestIngestBackpressure(t *testing.T) {
	cfg := servertest.Config(t.TempDir())
	cfg.Bus.MaxBytes = 1 << 20
	cfg.Bus.Compression = bus.CompressionNone // the filler would compress away
	s := servertest.Start(t, cfg)
	s.AddTenant(t, "tenant-a")
	ing, an := s.Token(t, "tenant-a", "ingest"), s.Token(t, "tenant-a", "tenant-analyst")
	body := []byte(strings.Repeat(`{"message":"filler `+strings.Repeat("x", 900)+`"}`+"\n", 100))
	accepted := 0
	var status int
	var resp []byte
	for i := 0; i < 50; i++ {
		req, _ := http.NewRequest("POST", s.URL+"/api/v1/ingest", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+ing)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp, _ = io.ReadAll(r.Body)
		r.Body.Close()
		status = r.StatusCode
		if status != 200 {
			if r.Header.Get("Retry-After") == "" {
				t.Errorf("%d without Retry-After", status)
			}
			break
		}
		accepted += 100
	}
	if status != 503 || errorCode(t, resp) != "backpressure" {
		t.Fatalf("after %d accepted: %d %s, want 503 backpressure", accepted, status, resp)
	}
	w := &world{s: s}
	var rows []map[string]string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		rows = w.searchN(t, an, "filler | stats count() as n", "", 1)
		if len(rows) == 1 && rows[0]["n"] == fmt.Sprint(accepted) {
			return
		}
	}
	t.Errorf("searchable after back-pressure: %v, want n=%d", rows, accepted)
}

// A provider reading one member's detection settings, cloud sources,
// notification channels and undelivered notifications, users or tokens is
// in that member's audit chain, as a search of its data is.
func TestProviderSettingsReadsAudited(t *testing.T) {
	w := newWorld(t)
	for _, path := range []string{"/api/v1/rules?tenant=tenant-b", "/api/v1/placeholders?tenant=tenant-b", "/api/v1/cloud-sources?tenant=tenant-b",
		"/api/v1/notifications/channels?tenant=tenant-b", "/api/v1/notifications/deadletters?tenant=tenant-b", "/api/v1/users?tenant=tenant-b", "/api/v1/tokens?tenant=tenant-b"} {
		if status, body := w.s.Do(t, "GET", path, servertest.AdminToken, nil); status != 200 {
			t.Fatalf("GET %s: %d %s", path, status, body)
		}
	}
	// The member's own admin reading its own settings is not a provider read.
	if status, body := w.s.Do(t, "GET", "/api/v1/rules", w.tokens["b/tenant-admin"], nil); status != 200 {
		t.Fatalf("tenant admin GET rules: %d %s", status, body)
	}
	var audit struct {
		Records []struct{ Action, Scope, Role string }
	}
	w.s.JSON(t, "GET", "/api/v1/audit?tenant=tenant-b&limit=100", servertest.AdminToken, nil, &audit)
	got := map[string]string{}
	for _, r := range audit.Records {
		got[r.Action] = r.Scope + "/" + r.Role
	}
	for _, action := range []string{"rules.read", "placeholders.read", "cloudsources.read", "notify.channels.read", "notify.deadletters.read", "users.read", "tokens.read"} {
		if got[action] != "tenant-b/provider-admin" {
			t.Errorf("audit chain of tenant-b lacks %s by provider-admin: %v", action, got)
		}
	}
}
