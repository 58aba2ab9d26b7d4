package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/feed"
	"github.com/tarian-soc/tarian/internal/incident"
	"github.com/tarian-soc/tarian/internal/metrics"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
	"github.com/tarian-soc/tarian/internal/web"
)

// live is the API over a real SQLite state store, a real alert pipeline
// (its changes published to the hub, as the server wires it) and a real
// hub, served by httptest, with tenants tenant-a and tenant-b and a
// token of each role. The clock of the pipeline is the test's.
type live struct {
	url    string
	db     *sqlstore.DB
	hub    *feed.Hub
	alerts *alert.Pipeline
	tokens map[string]string // "a/tenant-analyst", "provider-analyst", ...

	mu  sync.Mutex
	now time.Time
}

var t0 = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

func newLive(t testing.TB, fc feed.Config) *live {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	l := &live{db: db, hub: feed.New(fc), tokens: map[string]string{}, now: t0}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := alert.DefaultConfig()
	l.alerts, err = alert.NewPipeline(ctx, cfg, alert.Deps{Store: db, Now: l.clock, OnChange: web.AlertChanges(l.hub, cfg, log)})
	if err != nil {
		t.Fatal(err)
	}
	reg := metrics.New()
	reg.Writer(web.AlertGauges(db))
	api := web.New(web.DefaultConfig(), web.Deps{
		Tenants: db, Tokens: db, Audit: db, Alerts: l.alerts, Feed: l.hub,
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { reg.Write(w) }),
		Ready:   func() error { return nil }, Log: log,
	})
	srv := httptest.NewServer(api)
	t.Cleanup(func() {
		l.hub.Close() // streams end, so the server can close
		srv.Close()
	})
	l.url = srv.URL
	for _, ten := range []string{"a", "b"} {
		id := tenant.ID("tenant-" + ten)
		if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: id, Name: string(id), Created: t0}); err != nil {
			t.Fatal(err)
		}
		for _, role := range []auth.Role{auth.RoleIngest, auth.RoleTenantViewer, auth.RoleTenantAnalyst, auth.RoleTenantAdmin} {
			l.tokens[ten+"/"+string(role)] = l.token(t, id, role)
		}
	}
	l.tokens["provider-analyst"] = l.token(t, "", auth.RoleProviderAnalyst)
	l.tokens["provider-admin"] = l.token(t, "", auth.RoleProviderAdmin)
	return l
}

func (l *live) token(t testing.TB, ten tenant.ID, role auth.Role) string {
	t.Helper()
	secret, id, hash := auth.NewSecret()
	if err := l.db.CreateToken(context.Background(), auth.Token{ID: id, Tenant: ten, Role: role, Hash: hash, Created: t0}); err != nil {
		t.Fatal(err)
	}
	return secret
}

func (l *live) clock() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.now
}

func (l *live) setClock(at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.now = at
}

// raise runs one detection of rule through the pipeline at the clock's
// time: an event of host at eventTime, received at received.
func (l *live) raise(t *testing.T, ten tenant.ID, rule, level, host string, eventTime, received time.Time) alert.Alert {
	t.Helper()
	cs, err := l.alerts.Raise(context.Background(), ten, []alert.Detection{{
		Producer: alert.ProducerSigma, RuleID: rule, Title: "rule " + rule, Level: level,
		Entities: []alert.Entity{{Type: alert.EntityHost, Value: host}},
		EventRef: fmt.Sprint(eventTime.UnixNano(), ":0"), EventHash: fmt.Sprint(ten, rule, host, eventTime.UnixNano()),
		EventTime: eventTime, Received: received,
	}})
	if err != nil || len(cs) != 1 {
		t.Fatalf("raise %s in %s: %v, %d changes", rule, ten, err, len(cs))
	}
	return cs[0].Alert
}

// do sends a request and returns the status and body.
func (l *live) do(t testing.TB, method, path, token string, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, l.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

// sse is one server-sent event, or a comment.
type sse struct {
	ID, Event, Data string
	Comment         string
}

// stream is a client reading GET /api/v1/stream.
type stream struct {
	t      *testing.T
	resp   *http.Response
	br     *bufio.Reader
	cancel context.CancelFunc
}

// openStream connects with token and query; it fails the test unless the
// answer is 200 text/event-stream, and reads the opening comment.
func (l *live) openStream(t *testing.T, token, query string, header ...string) *stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	req, err := http.NewRequestWithContext(ctx, "GET", l.url+"/api/v1/stream?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("stream?%s: %d %s %s", query, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	s := &stream{t: t, resp: resp, br: bufio.NewReader(resp.Body), cancel: cancel}
	t.Cleanup(s.close)
	if e := s.next(); e.Comment != "tarian live stream" {
		t.Fatalf("stream opened with %+v", e)
	}
	return s
}

func (s *stream) close() {
	s.cancel()
	s.resp.Body.Close()
}

// next reads the next event or comment; io.EOF ends it with Event "EOF".
func (s *stream) next() sse {
	s.t.Helper()
	var e sse
	for {
		line, err := s.br.ReadString('\n')
		if err == io.EOF && line == "" {
			return sse{Event: "EOF"}
		}
		if err != nil {
			s.t.Fatalf("read stream: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			return e
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "":
			e.Comment = value
		case "id":
			e.ID = value
		case "event":
			e.Event = value
		case "data":
			if e.Data != "" {
				s.t.Fatalf("an event with two data lines: %q, %q", e.Data, value)
			}
			e.Data = value
		default:
			s.t.Fatalf("unexpected stream line %q", line)
		}
	}
}

// change reads the next event, skipping keepalives, and decodes its data.
func (s *stream) change() (sse, map[string]any) {
	s.t.Helper()
	for {
		e := s.next()
		if e.Comment == "keepalive" {
			continue
		}
		var data map[string]any
		if e.Data != "" {
			if err := json.Unmarshal([]byte(e.Data), &data); err != nil {
				s.t.Fatalf("event data %q: %v", e.Data, err)
			}
		}
		return e, data
	}
}

// line is what a test compares of an alert event: event kind, tenant,
// what, and the alert's rule.
func line(e sse, data map[string]any) string {
	inner, _ := data[e.Event].(map[string]any)
	return fmt.Sprintf("%s %v %v %v", e.Event, data["tenant"], data["what"], inner["rule_id"])
}

// TestStreamTenantScope: a tenant's analyst receives its own tenant's
// alert changes and never another's; a provider with tenant=* receives
// every tenant's, with tenant=ID one tenant's. Changes arrive in order,
// so "never" is checked by a later change arriving next.
func TestStreamTenantScope(t *testing.T) {
	l := newLive(t, feed.DefaultConfig())
	streams := map[string]*stream{
		"a/tenant-analyst":       l.openStream(t, l.tokens["a/tenant-analyst"], ""),
		"a/tenant-viewer (a)":    l.openStream(t, l.tokens["a/tenant-viewer"], "tenant=tenant-a"),
		"b/tenant-analyst":       l.openStream(t, l.tokens["b/tenant-analyst"], "kind=alert"),
		"provider-analyst *":     l.openStream(t, l.tokens["provider-analyst"], "tenant=*"),
		"provider-admin tenantb": l.openStream(t, l.tokens["provider-admin"], "tenant=tenant-b"),
	}
	l.setClock(t0.Add(time.Minute))
	a := l.raise(t, "tenant-a", "r-a", "high", "pc-a", t0, t0.Add(time.Second))
	l.raise(t, "tenant-b", "r-b", "low", "pc-b", t0, t0.Add(time.Second))
	l.setClock(t0.Add(2 * time.Minute))
	status, body := l.do(t, "POST", fmt.Sprintf("/api/v1/alerts/%d/ack", a.ID), l.tokens["a/tenant-analyst"], "")
	if status != 200 {
		t.Fatalf("ack: %d %s", status, body)
	}
	l.raise(t, "tenant-b", "r-b2", "low", "pc-b", t0, t0.Add(time.Second))

	want := map[string][]string{
		"a/tenant-analyst":       {"alert tenant-a created r-a", "alert tenant-a ack r-a"},
		"a/tenant-viewer (a)":    {"alert tenant-a created r-a", "alert tenant-a ack r-a"},
		"b/tenant-analyst":       {"alert tenant-b created r-b", "alert tenant-b created r-b2"},
		"provider-analyst *":     {"alert tenant-a created r-a", "alert tenant-b created r-b", "alert tenant-a ack r-a", "alert tenant-b created r-b2"},
		"provider-admin tenantb": {"alert tenant-b created r-b", "alert tenant-b created r-b2"},
	}
	for name, s := range streams {
		var got []string
		var lastID uint64
		for range want[name] {
			e, data := s.change()
			got = append(got, line(e, data))
			id, err := strconv.ParseUint(e.ID, 10, 64)
			if err != nil || id <= lastID || data["id"] != float64(id) {
				t.Errorf("%s: event id %q after %d, data id %v", name, e.ID, lastID, data["id"])
			}
			lastID = id
		}
		if d := cmp.Diff(want[name], got); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}

	// The alert in the stream is the alert as the alerts API shows it.
	s := l.openStream(t, l.tokens["a/tenant-analyst"], "")
	l.setClock(t0.Add(3 * time.Minute))
	status, body = l.do(t, "POST", fmt.Sprintf("/api/v1/alerts/%d/assign", a.ID), l.tokens["a/tenant-analyst"], `{"to":"ana"}`)
	if status != 200 {
		t.Fatalf("assign: %d %s", status, body)
	}
	e, data := s.change()
	var api map[string]any
	_, body = l.do(t, "GET", fmt.Sprintf("/api/v1/alerts/%d", a.ID), l.tokens["a/tenant-analyst"], "")
	if err := json.Unmarshal(body, &api); err != nil {
		t.Fatal(err)
	}
	delete(api, "evidence") // the one-alert view only
	delete(api, "history")
	if d := cmp.Diff(api, data["alert"]); d != "" || e.Event != "alert" || data["what"] != "assign" || data["actor"] == "" {
		t.Errorf("stream event %s %v %v; alert (-api +stream):\n%s", e.Event, data["what"], data["actor"], d)
	}

	// Provider streams are audited, with their scope.
	recs, err := l.db.AuditRecords(context.Background(), "*", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Action != "stream.read" || recs[0].Role != string(auth.RoleProviderAnalyst) {
		t.Errorf("audit of tenant=*: %+v", recs)
	}
}

// TestStreamRefused: the stream is scoped like search.
func TestStreamRefused(t *testing.T) {
	l := newLive(t, feed.DefaultConfig())
	for _, tc := range []struct {
		token, query string
		header       []string
		status       int
		code         string
	}{
		{l.tokens["a/tenant-analyst"], "tenant=tenant-b", nil, 403, "forbidden"},
		{l.tokens["a/tenant-admin"], "tenant=*", nil, 403, "forbidden"},
		{l.tokens["a/ingest"], "", nil, 403, "forbidden"},
		{l.tokens["provider-analyst"], "", nil, 403, "forbidden"},
		{l.tokens["provider-analyst"], "tenant=nope", nil, 404, "tenant_not_found"},
		{l.tokens["a/tenant-analyst"], "kind=alerts", nil, 400, "bad_request"},
		{l.tokens["a/tenant-analyst"], "", []string{"Last-Event-ID", "x"}, 400, "bad_request"},
		{"trn_bogus", "", nil, 401, "unauthenticated"},
	} {
		req, _ := http.NewRequest("GET", l.url+"/api/v1/stream?"+tc.query, nil)
		req.Header.Set("Authorization", "Bearer "+tc.token)
		for i := 0; i+1 < len(tc.header); i += 2 {
			req.Header.Set(tc.header[i], tc.header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct{ Error string }
		json.Unmarshal(body, &e)
		if resp.StatusCode != tc.status || e.Error != tc.code {
			t.Errorf("stream?%s %v: %d %s, want %d %s", tc.query, tc.header, resp.StatusCode, body, tc.status, tc.code)
		}
	}
	// Without a hub there is no stream.
	api := web.New(web.DefaultConfig(), web.Deps{Tenants: l.db, Tokens: l.db, Audit: l.db, Alerts: l.alerts,
		Metrics: http.NotFoundHandler(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api/v1/stream", nil)
	req.Header.Set("Authorization", "Bearer "+l.tokens["a/tenant-analyst"])
	api.ServeHTTP(rec, req)
	if rec.Code != 404 {
		t.Errorf("stream without a hub: %d %s", rec.Code, rec.Body)
	}
}

// TestStreamCases: a case's changes reach the provider's roles; the
// member's users only once it is escalated; other members never.
func TestStreamCases(t *testing.T) {
	l := newLive(t, feed.DefaultConfig())
	a := l.openStream(t, l.tokens["a/tenant-viewer"], "")
	b := l.openStream(t, l.tokens["b/tenant-analyst"], "")
	p := l.openStream(t, l.tokens["provider-analyst"], "tenant=*&kind=case")
	publish := web.CaseChanges(l.hub, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c := incident.Case{ID: 7, Tenant: "tenant-a", Title: "intrusion", Severity: "high", Status: incident.StatusOpen, Created: t0, Updated: t0}
	publish(context.Background(), []incident.Change{{What: "created", Actor: "prov", Case: c}})
	l.raise(t, "tenant-a", "r-a", "high", "pc-a", t0, t0) // an alert: not for the case-only stream
	c.Escalated = t0.Add(time.Hour)
	publish(context.Background(), []incident.Change{{What: "escalate", Actor: "prov", Case: c}})
	publish(context.Background(), []incident.Change{{What: "comment", Actor: "prov", Case: incident.Case{ID: 8, Tenant: "tenant-b", Title: "b's own"}}})
	l.raise(t, "tenant-b", "r-b", "low", "pc-b", t0, t0)

	caseLine := func(e sse, data map[string]any) string {
		inner, _ := data[e.Event].(map[string]any)
		return fmt.Sprintf("%s %v %v %v", e.Event, data["tenant"], data["what"], inner["id"])
	}
	for name, tc := range map[string]struct {
		s    *stream
		want []string
	}{
		"a's viewer":  {a, []string{"alert tenant-a created 1", "case tenant-a escalate 7"}},
		"b's analyst": {b, []string{"alert tenant-b created 2"}},
		"provider":    {p, []string{"case tenant-a created 7", "case tenant-a escalate 7", "case tenant-b comment 8"}},
	} {
		var got []string
		for range tc.want {
			got = append(got, caseLine(tc.s.change()))
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
}

// TestStreamKeepalive: an idle stream sends a keepalive comment every
// interval.
func TestStreamKeepalive(t *testing.T) {
	fc := feed.DefaultConfig()
	fc.Keepalive = 20 * time.Millisecond
	l := newLive(t, fc)
	s := l.openStream(t, l.tokens["a/tenant-analyst"], "")
	for range 3 {
		if e := s.next(); e.Comment != "keepalive" || e.Event != "" || e.ID != "" {
			t.Fatalf("idle stream sent %+v, want a keepalive comment", e)
		}
	}
}

// TestStreamOverflow: a client that stops reading is told it missed
// messages (event: overflow) and disconnected, never silently skipped;
// reconnecting with Last-Event-ID resumes exactly after the last one it
// received.
func TestStreamOverflow(t *testing.T) {
	fc := feed.Config{Buffer: 2, History: 4096, Keepalive: time.Hour}
	l := newLive(t, fc)
	s := l.openStream(t, l.tokens["a/tenant-analyst"], "")
	// 1,000 changes of 64 KiB each (one shared payload) are more than the
	// connection's buffers hold, so the handler blocks and the hub's
	// buffer overflows while the client reads nothing.
	big, _ := json.Marshal(map[string]string{"pad": strings.Repeat("x", 64<<10)})
	const n = 1000
	var first uint64
	for i := range n {
		m := l.hub.Publish(feed.Message{Tenant: "tenant-a", Kind: feed.KindAlert, What: strconv.Itoa(i), Data: big})
		if i == 0 {
			first = m.ID
		}
	}
	var last uint64
	got := 0
	for {
		e := s.next()
		if e.Event == "overflow" {
			var o struct {
				MissedFrom uint64 `json:"missed_from"`
			}
			if err := json.Unmarshal([]byte(e.Data), &o); err != nil || o.MissedFrom != last+1 || e.ID != "" {
				t.Fatalf("overflow %+v after id %d", e, last)
			}
			break
		}
		id, _ := strconv.ParseUint(e.ID, 10, 64)
		if e.Event != "alert" || id != first+uint64(got) {
			t.Fatalf("event %d: %s id %s, want alert id %d", got, e.Event, e.ID, first+uint64(got))
		}
		last = id
		got++
	}
	if got == 0 || got >= n {
		t.Fatalf("received %d of %d before the overflow", got, n)
	}
	if e := s.next(); e.Event != "EOF" {
		t.Fatalf("after the overflow: %+v, want the end of the stream", e)
	}
	// Resume: the rest, in order, with none missing.
	r := l.openStream(t, l.tokens["a/tenant-analyst"], "", "Last-Event-ID", strconv.FormatUint(last, 10))
	for i := got; i < n; i++ {
		e := r.next()
		if e.Event != "alert" || e.ID != strconv.FormatUint(first+uint64(i), 10) {
			t.Fatalf("resumed event %d: %s id %s", i, e.Event, e.ID)
		}
	}
	// Resuming from before what the hub holds says so first.
	l.hub.Publish(feed.Message{Tenant: "tenant-a", Kind: feed.KindAlert, What: "more", Data: []byte(`{}`)})
	old := l.openStream(t, l.tokens["a/tenant-analyst"], "last_event_id=1")
	if e := old.next(); e.Event != "reset" || e.ID != "" {
		t.Fatalf("resume from before the ring: %+v, want a reset", e)
	}
}
