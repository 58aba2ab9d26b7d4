package poll_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/poll"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

const acme tenant.ID = "acme"

// syncBuffer is a log destination shared by goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	t     *testing.T
	dir   string
	db    *sqlstore.DB
	ms    *msServer
	clock *fakeClock
	sink  *memSink
	logs  *syncBuffer
	cfg   poll.Config
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlstore.Open(t.Context(), filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, id := range []tenant.ID{acme, "globex"} {
		if _, err := db.CreateTenant(t.Context(), tenant.Tenant{ID: id, Name: string(id)}); err != nil {
			t.Fatal(err)
		}
	}
	clock := &fakeClock{now: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
	ms := newMSServer(t, clock)
	cfg := poll.DefaultConfig()
	cfg.LoginURL, cfg.GraphURL, cfg.ManageURL = ms.srv.URL, ms.srv.URL, ms.srv.URL
	cfg.PageSize = 4
	return &env{t: t, dir: dir, db: db, ms: ms, clock: clock, sink: &memSink{}, logs: &syncBuffer{}, cfg: cfg}
}

// service starts a fresh Service over the same database, as a restarted
// server would.
func (e *env) service() *poll.Service {
	e.t.Helper()
	box, err := poll.OpenBox(e.dir, "")
	if err != nil {
		e.t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := poll.New(e.t.Context(), e.cfg, poll.Deps{Store: e.db, Sink: e.sink, Box: box, Log: log, Clock: e.clock, HTTP: e.ms.srv.Client()})
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) addSource(s *poll.Service, secret string, streams ...string) poll.Info {
	e.t.Helper()
	info, err := s.Add(e.t.Context(), acme, poll.NewSource{Name: "contoso", DirectoryTenant: e.ms.dirTenant, ClientID: e.ms.clientID, ClientSecret: secret, Streams: streams})
	if err != nil {
		e.t.Fatal(err)
	}
	return info
}

func (e *env) source(id int64) poll.StoredSource {
	e.t.Helper()
	srcs, err := e.db.CloudSources(e.t.Context(), acme)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, s := range srcs {
		if s.ID == id {
			return s
		}
	}
	e.t.Fatalf("source %d not stored", id)
	return poll.StoredSource{}
}

// written returns the ids of the records written for source kind, in order,
// and checks each record's bytes are exactly the served ones.
func (e *env) written(kind string, served map[string][]byte, idField string) []string {
	e.t.Helper()
	var ids []string
	for _, r := range e.sink.all(acme) {
		if r.Source != "poller/"+kind {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(r.Data, &m); err != nil {
			e.t.Fatalf("record is not JSON: %v", err)
		}
		id, _ := m[idField].(string)
		if !bytes.Equal(r.Data, served[id]) {
			e.t.Errorf("record %s: bytes changed:\n got %s\nwant %s", id, r.Data, served[id])
		}
		ids = append(ids, id)
	}
	return ids
}

func dupes(ids []string) []string {
	seen := map[string]bool{}
	var d []string
	for _, id := range ids {
		if seen[id] {
			d = append(d, id)
		}
		seen[id] = true
	}
	return d
}

func TestGraphPagingResumeNoGapNoDuplicate(t *testing.T) {
	e := newEnv(t)
	served := map[string][]byte{}
	base := e.clock.Now().Add(-10 * time.Hour)
	var want []string
	for i := range 17 {
		// Several records share a timestamp, across page boundaries (page size 4).
		at := base.Add(time.Duration(i/3) * time.Minute)
		r := e.ms.addSignIn(fmt.Sprintf("signin-%02d", i), at)
		served[r.id] = r.data
		want = append(want, r.id)
	}
	old := e.ms.addSignIn("too-old", e.clock.Now().Add(-30*time.Hour)) // before the lookback
	served[old.id] = old.data

	s := e.service()
	info := e.addSource(s, e.ms.secret, poll.StreamSignIns)
	src := e.source(info.ID)

	// Kill the poller between pages: cancel once the third page is served.
	ctx, cancel := context.WithCancel(t.Context())
	pages := 0
	e.ms.mu.Lock()
	e.ms.hook = func(path string, _ int) {
		if path == "/v1.0/auditLogs/signIns" {
			if pages++; pages == 3 {
				cancel()
			}
		}
	}
	e.ms.mu.Unlock()
	s.PollSource(ctx, src)
	first := e.written(poll.StreamSignIns, served, "id")
	if len(first) == 0 || len(first) >= len(want) {
		t.Fatalf("first run wrote %d of %d records; the test wants it stopped part-way", len(first), len(want))
	}

	// Restart: a new Service over the same store.
	e.ms.mu.Lock()
	e.ms.hook = nil
	e.ms.mu.Unlock()
	s2 := e.service()
	s2.PollSource(t.Context(), src)
	got := e.written(poll.StreamSignIns, served, "id")
	if d := dupes(got); len(d) > 0 {
		t.Errorf("duplicates after restart: %v", d)
	}
	if !slices.Equal(sortedCopy(got), want) {
		t.Errorf("records after restart:\n got %v\nwant %v", sortedCopy(got), want)
	}
	// Paging was followed to the end: more than one page was asked for.
	if n := len(e.ms.requests("/v1.0/auditLogs/signIns")); n < 5 {
		t.Errorf("%d page requests; want the paging followed (17 records, pages of 4)", n)
	}

	// A record arriving late at exactly the checkpoint's timestamp, and a
	// newer one, are picked up; nothing is written twice.
	last := base.Add(5 * time.Minute)
	late := e.ms.addSignIn("signin-late-same-ts", last)
	newer := e.ms.addSignIn("signin-newer", last.Add(time.Minute))
	served[late.id], served[newer.id] = late.data, newer.data
	e.clock.advance(10 * time.Minute)
	s2.PollSource(t.Context(), src)
	got = e.written(poll.StreamSignIns, served, "id")
	want = append(want, late.id, newer.id)
	slices.Sort(want)
	if d := dupes(got); len(d) > 0 {
		t.Errorf("duplicates on the next poll: %v", d)
	}
	if !slices.Equal(sortedCopy(got), want) {
		t.Errorf("records after the next poll:\n got %v\nwant %v", sortedCopy(got), want)
	}
	h := s2.Health(info.ID)
	if len(h) != 1 || h[0].LastSuccess == nil || h[0].LastError != "" {
		t.Errorf("health = %+v, want one healthy stream", h)
	}
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func TestGraphDirectoryAudits(t *testing.T) {
	e := newEnv(t)
	served := map[string][]byte{}
	var want []string
	for i := range 9 {
		r := e.ms.addAudit(fmt.Sprintf("Directory_%02d", i), e.clock.Now().Add(-time.Duration(60-i)*time.Minute))
		served[r.id] = r.data
		want = append(want, r.id)
	}
	s := e.service()
	info := e.addSource(s, e.ms.secret, poll.StreamAudits)
	s.PollSource(t.Context(), e.source(info.ID))
	got := e.written(poll.StreamAudits, served, "id")
	if !slices.Equal(got, want) {
		t.Errorf("audits: got %v, want %v", got, want)
	}
	for _, r := range e.ms.requests("/v1.0/auditLogs/directoryAudits") {
		if !strings.HasPrefix(r.query.Get("$filter"), "activityDateTime ge ") {
			t.Errorf("filter %q: want activityDateTime ge", r.query.Get("$filter"))
		}
	}
}

func TestManagementPagingResumeNoGapNoDuplicate(t *testing.T) {
	e := newEnv(t)
	e.cfg.ContentTypes = []string{"Audit.AzureActiveDirectory", "Audit.Exchange"}
	e.cfg.Lookback = 48 * time.Hour
	served := map[string][]byte{}
	var want []string
	// 14 blobs per content type over 42 hours: two 24-hour windows, pages of 2.
	for _, ct := range e.cfg.ContentTypes {
		for i := range 14 {
			created := e.clock.Now().Add(-45*time.Hour + time.Duration(i)*3*time.Hour)
			b := e.ms.addBlob(ct, fmt.Sprintf("%s-blob-%02d", ct, i), created, 3)
			for _, r := range b.recs {
				served[r.id] = r.data
				want = append(want, r.id)
			}
		}
	}
	slices.Sort(want)
	s := e.service()
	info := e.addSource(s, e.ms.secret, poll.StreamM365)
	src := e.source(info.ID)

	ctx, cancel := context.WithCancel(t.Context())
	fetched := 0
	e.ms.mu.Lock()
	e.ms.hook = func(path string, _ int) {
		if strings.Contains(path, "/activity/feed/audit/") {
			if fetched++; fetched == 5 {
				cancel()
			}
		}
	}
	e.ms.mu.Unlock()
	s.PollSource(ctx, src)
	first := e.written(poll.StreamM365, served, "Id")
	if len(first) == 0 || len(first) >= len(want) {
		t.Fatalf("first run wrote %d of %d records; the test wants it stopped part-way", len(first), len(want))
	}

	e.ms.mu.Lock()
	e.ms.hook = nil
	e.ms.mu.Unlock()
	s2 := e.service()
	s2.PollSource(t.Context(), src)
	got := e.written(poll.StreamM365, served, "Id")
	if d := dupes(got); len(d) > 0 {
		t.Errorf("duplicates after restart: %v", d)
	}
	if !slices.Equal(sortedCopy(got), want) {
		t.Errorf("records after restart: got %d, want %d\nmissing: %v", len(got), len(want), missing(want, got))
	}
	// The restarted server started the subscriptions again and was told
	// they were already on (AF20024), which is not an error.
	starts := e.ms.requests("/api/v1.0/" + e.ms.dirTenant + "/activity/feed/subscriptions/start")
	perType := map[string]int{}
	for _, r := range starts {
		perType[r.query.Get("contentType")]++
	}
	// The first run stopped inside Audit.AzureActiveDirectory, before it
	// started Audit.Exchange.
	if perType["Audit.AzureActiveDirectory"] != 2 || perType["Audit.Exchange"] != 1 {
		t.Errorf("subscription starts %v, want AzureActiveDirectory twice (once per server start), Exchange once", perType)
	}
	// NextPageUri paging was followed.
	sawNext := false
	for _, r := range e.ms.requests("/api/v1.0/" + e.ms.dirTenant + "/activity/feed/subscriptions/content") {
		sawNext = sawNext || r.query.Get("nextPage") != ""
	}
	if !sawNext {
		t.Error("no NextPageUri followed")
	}
	for _, h := range s2.Health(info.ID) {
		if h.LastError != "" || h.LastSuccess == nil {
			t.Errorf("health %+v, want healthy", h)
		}
	}
	// A poll with nothing new writes nothing.
	e.clock.advance(time.Hour)
	s2.PollSource(t.Context(), src)
	if n := len(e.written(poll.StreamM365, served, "Id")); n != len(want) {
		t.Errorf("idle poll wrote %d records", n-len(want))
	}
}

func missing(want, got []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			out = append(out, w)
		}
	}
	return out
}

func TestThrottlingHonoursRetryAfter(t *testing.T) {
	e := newEnv(t)
	e.cfg.ContentTypes = []string{"Audit.General"}
	r := e.ms.addSignIn("signin-1", e.clock.Now().Add(-time.Hour))
	b := e.ms.addBlob("Audit.General", "general-1", e.clock.Now().Add(-2*time.Hour), 2)
	served := map[string][]byte{r.id: r.data}
	for _, rec := range b.recs {
		served[rec.id] = rec.data
	}
	e.ms.mu.Lock()
	e.ms.retryAfer = "7"
	e.ms.throttle["/v1.0/auditLogs/signIns"] = []int{429, 429}
	e.ms.throttle["/api/v1.0/"+e.ms.dirTenant+"/activity/feed/subscriptions/content"] = []int{503}
	e.ms.mu.Unlock()
	s := e.service()
	info := e.addSource(s, e.ms.secret, poll.StreamSignIns, poll.StreamM365)
	s.PollSource(t.Context(), e.source(info.ID))

	for _, path := range []string{"/v1.0/auditLogs/signIns", "/api/v1.0/" + e.ms.dirTenant + "/activity/feed/subscriptions/content"} {
		reqs := e.ms.requests(path)
		if len(reqs) < 2 {
			t.Fatalf("%s: %d requests, want the throttled one retried", path, len(reqs))
		}
		for i := 1; i < len(reqs); i++ {
			if gap := reqs[i].at.Sub(reqs[i-1].at); i <= 2 && gap < 7*time.Second && strings.HasPrefix(path, "/v1.0") {
				t.Errorf("%s: request %d came %v after a 429 with Retry-After: 7", path, i, gap)
			}
		}
		if gap := reqs[1].at.Sub(reqs[0].at); gap < 7*time.Second {
			t.Errorf("%s: retry came %v after Retry-After: 7", path, gap)
		}
	}
	if got := e.written(poll.StreamSignIns, served, "id"); !slices.Equal(got, []string{"signin-1"}) {
		t.Errorf("sign-ins after throttling: %v", got)
	}
	if got := e.written(poll.StreamM365, served, "Id"); len(got) != 2 {
		t.Errorf("audit records after throttling: %v", got)
	}
	for _, h := range s.Health(info.ID) {
		if h.LastError != "" {
			t.Errorf("health after recovered throttling: %+v", h)
		}
	}
}

func TestThrottlingGivesUpBounded(t *testing.T) {
	e := newEnv(t)
	e.cfg.MaxAttempts = 3
	e.ms.addSignIn("signin-1", e.clock.Now().Add(-time.Hour))
	e.ms.mu.Lock()
	e.ms.retryAfer = "100000" // longer than MaxBackoff: capped
	e.ms.throttle["/v1.0/auditLogs/signIns"] = []int{429, 429, 429, 429, 429}
	e.ms.mu.Unlock()
	s := e.service()
	info := e.addSource(s, e.ms.secret, poll.StreamSignIns)
	s.PollSource(t.Context(), e.source(info.ID))
	if n := len(e.ms.requests("/v1.0/auditLogs/signIns")); n != 3 {
		t.Errorf("%d requests, want MaxAttempts=3", n)
	}
	e.clock.mu.Lock()
	sleeps := slices.Clone(e.clock.sleeps)
	e.clock.mu.Unlock()
	if !slices.Equal(sleeps, []time.Duration{e.cfg.MaxBackoff, e.cfg.MaxBackoff}) {
		t.Errorf("sleeps %v, want two waits capped at max_backoff", sleeps)
	}
	h := s.Health(info.ID)
	if len(h) != 1 || !strings.Contains(h[0].LastError, "429") {
		t.Errorf("health = %+v, want the 429 reported", h)
	}
	if len(e.sink.all(acme)) != 0 {
		t.Error("records written despite the failure")
	}
}

func TestExpiredSecretHealthError(t *testing.T) {
	e := newEnv(t)
	e.ms.addSignIn("signin-1", e.clock.Now().Add(-time.Hour))
	e.ms.addBlob("Audit.Exchange", "ex-1", e.clock.Now().Add(-2*time.Hour), 2)
	e.ms.enabled["Audit.Exchange"] = true
	s := e.service()
	const expired = "old~Expired.Secret-Value"
	info := e.addSource(s, expired)
	s.PollSource(t.Context(), e.source(info.ID))
	if n := len(e.sink.all(acme)); n != 0 {
		t.Errorf("%d records written with a refused token", n)
	}
	hs := s.Health(info.ID)
	if len(hs) != 2+len(e.cfg.ContentTypes) {
		t.Fatalf("health for %d streams: %+v", len(hs), hs)
	}
	for _, h := range hs {
		if !strings.HasPrefix(h.LastError, "token request refused: invalid_client (AADSTS7000222: The provided client secret keys") || h.LastSuccess != nil {
			t.Errorf("stream %s: last_error %q, want the expired-secret explanation", h.Stream, h.LastError)
		}
		if strings.Contains(h.LastError, "Trace ID") {
			t.Errorf("last_error keeps the trace lines: %q", h.LastError)
		}
	}
	// The secret is nowhere: logs, API output, the database files.
	out, _ := json.Marshal(mustList(t, s))
	for what, text := range map[string]string{"logs": e.logs.String(), "API output": string(out), "database": dbBytes(t, e.dir)} {
		if strings.Contains(text, expired) {
			t.Errorf("the client secret appears in the %s", what)
		}
	}
	if !strings.Contains(e.logs.String(), "AADSTS7000222") {
		t.Error("the failure was not logged")
	}
}

func TestSecretsNeverShown(t *testing.T) {
	e := newEnv(t)
	e.ms.addSignIn("signin-1", e.clock.Now().Add(-time.Hour))
	s := e.service()
	info := e.addSource(s, e.ms.secret)
	s.PollSource(t.Context(), e.source(info.ID))
	if len(e.sink.all(acme)) == 0 {
		t.Fatal("nothing polled")
	}
	out, _ := json.Marshal(mustList(t, s))
	addOut, _ := json.Marshal(info)
	ns := poll.NewSource{ClientSecret: e.ms.secret}
	for what, text := range map[string]string{"logs": e.logs.String(), "list": string(out), "add": string(addOut), "database": dbBytes(t, e.dir), "String": ns.String(), "%+v": fmt.Sprintf("%+v", ns)} {
		if strings.Contains(text, e.ms.secret) {
			t.Errorf("the client secret appears in the %s", what)
		}
	}
	// Another tenant cannot see or delete it.
	if l, err := s.List(t.Context(), "globex"); err != nil || len(l) != 0 {
		t.Errorf("globex lists %v, %v", l, err)
	}
	if err := s.Remove(t.Context(), "globex", info.ID); err == nil {
		t.Error("globex removed acme's source")
	}
	if err := s.Remove(t.Context(), acme, info.ID); err != nil {
		t.Error(err)
	}
}

func mustList(t *testing.T, s *poll.Service) []poll.Info {
	l, err := s.List(t.Context(), acme)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func dbBytes(t *testing.T, dir string) string {
	var b strings.Builder
	for _, name := range []string{"state.db", "state.db-wal"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}

func TestBox(t *testing.T) {
	dir := t.TempDir()
	b, err := poll.OpenBox(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, poll.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	sealed, err := b.Seal([]byte("hunter2"), []byte("acme"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("hunter2")) {
		t.Error("sealed value holds the plaintext")
	}
	b2, err := poll.OpenBox(dir, "") // reopened: same key
	if err != nil {
		t.Fatal(err)
	}
	if p, err := b2.Open(sealed, []byte("acme")); err != nil || string(p) != "hunter2" {
		t.Errorf("open = %q, %v", p, err)
	}
	if _, err := b2.Open(sealed, []byte("globex")); err == nil {
		t.Error("a secret sealed for acme opened for globex")
	}
	other, err := poll.OpenBox(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Open(sealed, []byte("acme")); err == nil {
		t.Error("opened with another key")
	}
	envKey := strings.Repeat("ab", 32)
	k1, err := poll.OpenBox(t.TempDir(), envKey)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := k1.Seal([]byte("x"), nil)
	k2, _ := poll.OpenBox(t.TempDir(), envKey)
	if p, err := k2.Open(s2, nil); err != nil || string(p) != "x" {
		t.Errorf("TARIAN_SECRET_KEY-style key does not round-trip: %v", err)
	}
	if _, err := poll.OpenBox(t.TempDir(), "short"); err == nil {
		t.Error("a short key was accepted")
	}
}
