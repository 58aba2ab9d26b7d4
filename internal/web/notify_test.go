package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/alert/notify"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/metrics"
	"github.com/tarian-soc/tarian/internal/poll"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
	"github.com/tarian-soc/tarian/internal/web"
)

// notifyWorld is the API over a real state store and notification
// service, with tenants a and b and a token of every role.
type notifyWorld struct {
	url    string
	db     *sqlstore.DB
	svc    *notify.Service
	tokens map[string]string
}

func newNotifyWorld(t *testing.T) *notifyWorld {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	box, err := poll.NewBox(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	cfg := notify.DefaultConfig()
	cfg.Attempts, cfg.Backoff, cfg.MaxBackoff = 1, time.Millisecond, time.Millisecond
	cfg.AllowPrivateNetworks = true // the receivers are httptest servers
	log := slog.New(slog.DiscardHandler)
	// A Monday evening in London: out of office hours.
	evening := func() time.Time { return time.Date(2026, 1, 5, 20, 0, 0, 0, time.UTC) }
	svc, err := notify.New(ctx, cfg, notify.Deps{Store: db, Box: box, Metrics: metrics.New(), Log: log, Now: evening})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(rctx) }()
	t.Cleanup(func() { cancel(); <-done })

	w := &notifyWorld{db: db, svc: svc, tokens: map[string]string{}}
	token := func(name string, ten tenant.ID, role auth.Role) {
		secret, id, hash := auth.NewSecret()
		if err := db.CreateToken(ctx, auth.Token{ID: id, Tenant: ten, Role: role, Name: name, Hash: hash}); err != nil {
			t.Fatal(err)
		}
		w.tokens[name] = secret
	}
	token("provider-admin", "", auth.RoleProviderAdmin)
	token("provider-analyst", "", auth.RoleProviderAnalyst)
	for _, ten := range []string{"a", "b"} {
		id := tenant.ID("tenant-" + ten)
		if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: id, Name: string(id)}); err != nil {
			t.Fatal(err)
		}
		for _, role := range []auth.Role{auth.RoleIngest, auth.RoleTenantViewer, auth.RoleTenantAnalyst, auth.RoleTenantAdmin} {
			token(ten+"/"+string(role), id, role)
		}
	}
	api := web.New(web.DefaultConfig(), web.Deps{
		Tenants: db, Tokens: db, Audit: db, Notify: svc, Log: log,
		Metrics: http.NotFoundHandler(), Ready: func() error { return nil },
	})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	w.url = srv.URL
	return w
}

func (w *notifyWorld) do(t *testing.T, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, w.url+path, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func TestNotificationsAPI(t *testing.T) {
	w := newNotifyWorld(t)
	var hits atomic.Int32
	var failing atomic.Bool
	recv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if failing.Load() {
			http.Error(rw, "down", http.StatusInternalServerError)
			return
		}
		rw.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	const signing = "Zq8~never-returned-signing-secret"
	const hookPath = "/hooks/NEVER-RETURNED-PATH"
	webhook := map[string]any{"name": "soar", "kind": "webhook", "url": recv.URL + hookPath, "secret": signing,
		"route": map[string]any{"min_severity": "high", "hours": []string{"mon-fri 18:00-08:00 Europe/London"}, "changes": []string{"created", "escalate"}}}
	var answers []string
	do := func(method, path, token string, body any) (int, []byte) {
		status, out := w.do(t, method, path, token, body)
		answers = append(answers, string(out))
		return status, out
	}

	status, out := do("POST", "/api/v1/notifications/channels", w.tokens["a/tenant-admin"], webhook)
	if status != 201 {
		t.Fatalf("tenant-admin adds: %d %s", status, out)
	}
	var ch notify.Info
	if err := json.Unmarshal(out, &ch); err != nil || ch.ID == 0 || ch.Tenant != "tenant-a" || ch.Route.MinSeverity != "high" || fmt.Sprint(ch.Sealed) != "[url secret]" {
		t.Fatalf("created %s (%v)", out, err)
	}
	chPath := fmt.Sprintf("/api/v1/notifications/channels/%d", ch.ID)

	for _, c := range []struct {
		name, method, path, token string
		body                      any
		status                    int
	}{
		{"b's admin removes a's channel", "DELETE", chPath, w.tokens["b/tenant-admin"], nil, 404},
		{"b's admin tests a's channel", "POST", chPath + "/test", w.tokens["b/tenant-admin"], nil, 404},
		{"b's admin names tenant a", "GET", "/api/v1/notifications/channels?tenant=tenant-a", w.tokens["b/tenant-admin"], nil, 403},
		{"b's admin adds to tenant a", "POST", "/api/v1/notifications/channels?tenant=tenant-a", w.tokens["b/tenant-admin"], webhook, 403},
		{"b's admin removes a's channel naming a", "DELETE", chPath + "?tenant=tenant-a", w.tokens["b/tenant-admin"], nil, 403},
		{"provider-admin removes a's channel as b's", "DELETE", chPath + "?tenant=tenant-b", w.tokens["provider-admin"], nil, 404},
		{"a's analyst adds", "POST", "/api/v1/notifications/channels", w.tokens["a/tenant-analyst"], webhook, 403},
		{"a's analyst removes", "DELETE", chPath, w.tokens["a/tenant-analyst"], nil, 403},
		{"a's viewer tests", "POST", chPath + "/test", w.tokens["a/tenant-viewer"], nil, 403},
		{"ingest lists", "GET", "/api/v1/notifications/channels", w.tokens["a/ingest"], nil, 403},
		{"provider-analyst removes", "DELETE", chPath, w.tokens["provider-analyst"], nil, 403},
		{"provider-analyst adds a provider channel", "POST", "/api/v1/notifications/channels?tenant=*", w.tokens["provider-analyst"], webhook, 403},
		{"a's admin adds a provider channel", "POST", "/api/v1/notifications/channels?tenant=*", w.tokens["a/tenant-admin"], webhook, 403},
		{"provider-admin without tenant", "GET", "/api/v1/notifications/channels", w.tokens["provider-admin"], nil, 400},
		{"unknown tenant", "GET", "/api/v1/notifications/channels?tenant=tenant-z", w.tokens["provider-admin"], nil, 404},
		{"no such channel", "DELETE", "/api/v1/notifications/channels/9999", w.tokens["provider-admin"], nil, 404},
		{"bad id", "DELETE", "/api/v1/notifications/channels/x", w.tokens["a/tenant-admin"], nil, 400},
		{"bad route", "POST", "/api/v1/notifications/channels", w.tokens["a/tenant-admin"], map[string]any{"kind": "slack", "url": "https://hooks.slack.com/services/T/B/C", "route": map[string]any{"hours": []string{"weekdays"}}}, 400},
		{"unknown field", "POST", "/api/v1/notifications/channels", w.tokens["a/tenant-admin"], map[string]any{"kind": "slack", "url": "https://hooks.slack.com/services/T/B/C", "password": "x"}, 400},
		{"no token", "GET", "/api/v1/notifications/channels", "", nil, 401},
	} {
		status, out := do(c.method, c.path, c.token, c.body)
		if status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, status, out, c.status)
			continue
		}
		errorCode(t, out)
	}

	// Readers of tenant a see the channel, without secrets; tenant b sees none.
	for _, c := range []struct{ token, path string }{
		{w.tokens["a/tenant-admin"], "/api/v1/notifications/channels"},
		{w.tokens["a/tenant-analyst"], "/api/v1/notifications/channels"},
		{w.tokens["a/tenant-viewer"], "/api/v1/notifications/channels"},
		{w.tokens["provider-analyst"], "/api/v1/notifications/channels?tenant=tenant-a"},
	} {
		if status, out := do("GET", c.path, c.token, nil); status != 200 || !strings.Contains(string(out), `"name":"soar"`) {
			t.Errorf("list %s: %d %s", c.path, status, out)
		}
	}
	if status, out := do("GET", "/api/v1/notifications/channels", w.tokens["b/tenant-admin"], nil); status != 200 || !strings.Contains(string(out), `"channels":[]`) {
		t.Errorf("tenant b lists %d %s", status, out)
	}

	// A test message reaches the receiver; a failing one is a 502.
	if status, out := do("POST", chPath+"/test", w.tokens["a/tenant-admin"], nil); status != 200 || hits.Load() != 1 {
		t.Errorf("test: %d %s, %d requests", status, out, hits.Load())
	}
	failing.Store(true)
	if status, out := do("POST", chPath+"/test", w.tokens["a/tenant-admin"], nil); status != 502 || errorCode(t, out) != "notification_failed" || !strings.Contains(string(out), "HTTP 500") {
		t.Errorf("failing test: %d %s", status, out)
	}

	// A notification that fails its one try is a dead letter of tenant a.
	w.svc.Notify(context.Background(), "tenant-a", []alert.Change{{What: alert.VerbEscalate, Alert: alert.Alert{ID: 5, Tenant: "tenant-a", Level: "critical", Title: "x"}}})
	var dls struct {
		Tenant      string              `json:"tenant"`
		DeadLetters []notify.DeadLetter `json:"dead_letters"`
	}
	for deadline := time.Now().Add(20 * time.Second); len(dls.DeadLetters) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no dead letter")
		}
		status, out := do("GET", "/api/v1/notifications/deadletters", w.tokens["a/tenant-analyst"], nil)
		if status != 200 || json.Unmarshal(out, &dls) != nil {
			t.Fatalf("dead letters: %d %s", status, out)
		}
	}
	if d := dls.DeadLetters[0]; d.AlertID != 5 || d.Channel != ch.ID || d.Change != "escalate" || !strings.Contains(d.LastError, "HTTP 500") {
		t.Errorf("dead letter %+v", d)
	}
	if status, out := do("GET", "/api/v1/notifications/deadletters", w.tokens["b/tenant-admin"], nil); status != 200 || !strings.Contains(string(out), `"dead_letters":[]`) {
		t.Errorf("tenant b's dead letters: %d %s", status, out)
	}
	if status, out := do("GET", "/api/v1/notifications/deadletters?tenant=tenant-a&limit=0", w.tokens["provider-admin"], nil); status != 400 {
		t.Errorf("limit 0: %d %s", status, out)
	}

	// The provider's own channels live under tenant "*".
	status, out = do("POST", "/api/v1/notifications/channels?tenant=*", w.tokens["provider-admin"], map[string]any{"kind": "teams", "url": "https://example.webhook.office.com/webhookb2/NEVER-RETURNED-PATH"})
	if status != 201 || !strings.Contains(string(out), `"tenant":"*"`) {
		t.Errorf("provider channel: %d %s", status, out)
	}
	if status, out := do("GET", "/api/v1/notifications/channels?tenant=*", w.tokens["provider-analyst"], nil); status != 200 || !strings.Contains(string(out), `"kind":"teams"`) {
		t.Errorf("provider channels: %d %s", status, out)
	}

	// Provider-admin removes a's channel by its ID alone; then it is gone.
	if status, out := do("DELETE", chPath, w.tokens["provider-admin"], nil); status != 204 {
		t.Errorf("provider-admin removes: %d %s", status, out)
	}
	if status, _ := do("DELETE", chPath, w.tokens["a/tenant-admin"], nil); status != 404 {
		t.Errorf("second removal: %d, want 404", status)
	}

	// Every change is audited, and nothing anywhere shows a secret.
	recs, err := w.db.AuditRecords(context.Background(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, r := range recs {
		actions[r.Action]++
		answers = append(answers, r.Detail)
		if r.Action == "notify.channel.add" && r.Scope == "tenant-a" && !strings.Contains(r.Detail, `"after":{"id":`) {
			t.Errorf("audit detail %s", r.Detail)
		}
	}
	if actions["notify.channel.add"] != 2 || actions["notify.channel.remove"] != 1 || actions["notify.channel.test"] != 2 {
		t.Errorf("audited %v", actions)
	}
	for _, a := range answers {
		if strings.Contains(a, signing) || strings.Contains(a, "NEVER-RETURNED") {
			t.Errorf("a secret shows: %s", a)
		}
	}
}
