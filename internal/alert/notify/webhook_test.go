package notify_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
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

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/alert/notify"
	"github.com/tarian-soc/tarian/internal/metrics"
	"github.com/tarian-soc/tarian/internal/poll"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

const secret = "s3cret-signing-key-0123456789"

// env is a Service over a real SQLite store, with its delivery running.
type env struct {
	svc     *notify.Service
	db      *sqlstore.DB
	box     *poll.Box
	metrics *metrics.Registry
	now     time.Time
	mu      sync.Mutex
	// stop ends Run and waits for it (also done at cleanup).
	stop func()
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

// fast is a configuration whose retries take milliseconds.
func fast() notify.Config {
	cfg := notify.DefaultConfig()
	cfg.Attempts = 5
	cfg.Backoff = time.Millisecond
	cfg.MaxBackoff = 4 * time.Millisecond
	cfg.Timeout = 10 * time.Second
	cfg.AllowPrivateNetworks = true // httptest listens on 127.0.0.1
	return cfg
}

func start(t *testing.T, cfg notify.Config, tc *tls.Config) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	box, err := poll.NewBox(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, box: box, metrics: metrics.New(), now: time.Now()}
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	e.svc, err = notify.New(ctx, cfg, notify.Deps{Store: db, Box: box, Metrics: e.metrics, Log: log, Now: e.clock, TLS: tc})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.svc.Run(rctx) }()
	var once sync.Once
	e.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(e.stop)
	return e
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (e *env) add(t *testing.T, ten tenant.ID, n notify.NewChannel) notify.Info {
	t.Helper()
	info, err := e.svc.Add(context.Background(), ten, n)
	if err != nil {
		t.Fatalf("add channel: %v", err)
	}
	return info
}

// metric returns the value of one counter ("" when absent).
func (e *env) metric(name string) string {
	var b bytes.Buffer
	e.metrics.Write(&b)
	for line := range strings.Lines(b.String()) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			return v
		}
	}
	return ""
}

func newAlert(id int64, ten tenant.ID, level string) alert.Alert {
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	return alert.Alert{
		ID: id, Tenant: ten, Producer: alert.ProducerSigma, RuleID: "5f1b2a3c-mimikatz", Title: "Mimikatz <!channel> & co",
		Author: "Florian Roth", Level: level, Risk: 72, Count: 3, Status: alert.StatusNew,
		Tags:      []string{"attack.credential-access", "attack.t1003.001"},
		Entities:  []alert.Entity{{Type: alert.EntityHost, Value: "ws-17"}, {Type: alert.EntityUser, Value: "a.jones"}},
		EventTime: t0, FirstSeen: t0, LastSeen: t0.Add(time.Minute), Created: t0.Add(2 * time.Second),
	}
}

func created(a alert.Alert) []alert.Change {
	return []alert.Change{{What: alert.ChangeCreated, Alert: a}}
}

// receiver is a webhook endpoint that verifies signatures the way a
// member's SOAR would, with its own HMAC code, and fails its first fail
// requests with 503.
type receiver struct {
	srv  *httptest.Server
	fail int

	mu       sync.Mutex
	requests []*http.Request
	bodies   [][]byte
	accepted chan []byte
}

func newReceiver(t *testing.T, fail int, status int) *receiver {
	r := &receiver{fail: fail, accepted: make(chan []byte, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.requests = append(r.requests, req)
		r.bodies = append(r.bodies, body)
		n := len(r.requests)
		r.mu.Unlock()
		if !validSignature(req.Header, body, time.Now()) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if n <= r.fail {
			http.Error(w, "not yet", status)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		r.accepted <- body
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// validSignature is the receiver's side of the scheme in the package
// documentation, written independently of notify.Verify.
func validSignature(h http.Header, body []byte, now time.Time) bool {
	ts, err := strconv.ParseInt(h.Get("X-Tarian-Timestamp"), 10, 64)
	if err != nil || now.Sub(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.", ts)
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(want), []byte(h.Get("X-Tarian-Signature")))
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.requests)
}

func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	panic("unreachable")
}

// eventually polls f until it holds (a fail-safe bound, not a timing
// assertion).
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !f(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWebhookSignedAndVerified(t *testing.T) {
	e := start(t, fast(), nil)
	r := newReceiver(t, 0, 0)
	ch := e.add(t, "council-a", notify.NewChannel{Name: "soar", Kind: notify.Webhook, URL: r.srv.URL + "/hooks/tarian?token=abc", Secret: secret})

	e.svc.Notify(context.Background(), "council-a", created(newAlert(42, "council-a", "high")))
	body := wait(t, r.accepted, "the webhook")

	var p notify.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("payload %s: %v", body, err)
	}
	if p.Event != "alert.created" || p.Tenant != "council-a" || p.Alert.ID != 42 || p.Alert.Level != "high" || p.Alert.Title != "Mimikatz <!channel> & co" ||
		p.Alert.RuleID != "5f1b2a3c-mimikatz" || len(p.Alert.Entities) != 2 || p.ID == "" {
		t.Errorf("payload %s", body)
	}
	r.mu.Lock()
	req := r.requests[0]
	r.mu.Unlock()
	if req.Header.Get("X-Tarian-Event") != "alert.created" || req.Header.Get("X-Tarian-Delivery") != p.ID || req.URL.RawQuery != "token=abc" ||
		req.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %v", req.URL, req.Header)
	}
	if err := notify.Verify([]byte(secret), req.Header.Get("X-Tarian-Timestamp"), req.Header.Get("X-Tarian-Signature"), body, time.Now(), 5*time.Minute); err != nil {
		t.Errorf("Verify: %v", err)
	}

	// The same request with one byte of the body changed is refused by
	// the receiver, and by Verify; so is a replay far from its timestamp.
	tampered := bytes.Replace(body, []byte(`"level":"high"`), []byte(`"level":"low"`), 1)
	if bytes.Equal(tampered, body) {
		t.Fatal("tampering changed nothing")
	}
	fwd, _ := http.NewRequest("POST", r.srv.URL, bytes.NewReader(tampered))
	fwd.Header = req.Header.Clone()
	resp, err := http.DefaultClient.Do(fwd)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("tampered body: HTTP %d, want 401", resp.StatusCode)
	}
	ts, sig := req.Header.Get("X-Tarian-Timestamp"), req.Header.Get("X-Tarian-Signature")
	if err := notify.Verify([]byte(secret), ts, sig, tampered, time.Now(), 5*time.Minute); !errors.Is(err, notify.ErrSignature) {
		t.Errorf("Verify(tampered) = %v", err)
	}
	if err := notify.Verify([]byte("another-secret-0123456789"), ts, sig, body, time.Now(), 5*time.Minute); !errors.Is(err, notify.ErrSignature) {
		t.Errorf("Verify(wrong secret) = %v", err)
	}
	if err := notify.Verify([]byte(secret), ts, sig, body, time.Now().Add(time.Hour), 5*time.Minute); !errors.Is(err, notify.ErrSignature) {
		t.Errorf("Verify(replayed an hour later) = %v", err)
	}

	eventually(t, "the sent counter", func() bool {
		return e.metric(`tarian_notify_sent_total{tenant="council-a",kind="webhook"}`) == "1"
	})
	if ch.Target != "http://"+r.srv.Listener.Addr().String()+"/…" || strings.Contains(fmt.Sprint(ch), "token=abc") || strings.Contains(fmt.Sprint(ch), secret) {
		t.Errorf("channel info shows a secret: %+v", ch)
	}
	// An update, and another tenant's alert, are not notified.
	e.svc.Notify(context.Background(), "council-a", []alert.Change{{What: alert.ChangeUpdated, Alert: newAlert(42, "council-a", "high")}})
	e.svc.Notify(context.Background(), "council-b", created(newAlert(43, "council-b", "high")))
	e.svc.Notify(context.Background(), "council-a", created(newAlert(44, "council-a", "low")))
	if p := wait(t, r.accepted, "the next alert"); !bytes.Contains(p, []byte(`"id":44,`)) {
		t.Errorf("next delivery %s, want alert 44's", p)
	}
	if n := r.count() - 1; n != 2 { // the tampered request was the test's
		t.Errorf("%d deliveries, want 2", n)
	}
}

func TestWebhookRetriedUntilAccepted(t *testing.T) {
	e := start(t, fast(), nil)
	r := newReceiver(t, 3, http.StatusServiceUnavailable)
	e.add(t, "council-a", notify.NewChannel{Kind: notify.Webhook, URL: r.srv.URL, Secret: secret})

	e.svc.Notify(context.Background(), "council-a", created(newAlert(7, "council-a", "medium")))
	body := wait(t, r.accepted, "the webhook after 3 failures")
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.requests) != 4 {
		t.Fatalf("%d requests, want 4", len(r.requests))
	}
	for i, req := range r.requests {
		if !bytes.Equal(r.bodies[i], body) || req.Header.Get("X-Tarian-Delivery") != r.requests[0].Header.Get("X-Tarian-Delivery") {
			t.Errorf("try %d differs: %s %v", i+1, r.bodies[i], req.Header)
		}
	}
	eventually(t, "the counters", func() bool {
		return e.metric(`tarian_notify_sent_total{tenant="council-a",kind="webhook"}`) == "1" &&
			e.metric(`tarian_notify_failed_total{tenant="council-a",kind="webhook"}`) == "3"
	})
	dls, err := e.svc.DeadLetters(context.Background(), "council-a", 0, 10)
	if err != nil || len(dls) != 0 {
		t.Errorf("dead letters %v, %v", dls, err)
	}
}

func TestWebhookDeadLettered(t *testing.T) {
	cfg := fast()
	cfg.Attempts = 3
	e := start(t, cfg, nil)
	r := newReceiver(t, 1<<30, http.StatusInternalServerError)
	ch := e.add(t, "council-a", notify.NewChannel{Name: "soar", Kind: notify.Webhook, URL: r.srv.URL + "/hook/SECRETPATH", Secret: secret})
	gone := newReceiver(t, 1<<30, http.StatusGone) // a permanent refusal
	ch2 := e.add(t, "council-a", notify.NewChannel{Name: "old", Kind: notify.Webhook, URL: gone.srv.URL, Secret: secret})

	e.svc.Notify(context.Background(), "council-a", created(newAlert(9, "council-a", "critical")))
	var dls []notify.DeadLetter
	eventually(t, "two dead letters", func() bool {
		var err error
		dls, err = e.svc.DeadLetters(context.Background(), "council-a", 0, 10)
		return err == nil && len(dls) == 2
	})
	byChannel := map[int64]notify.DeadLetter{dls[0].Channel: dls[0], dls[1].Channel: dls[1]}
	d := byChannel[ch.ID]
	r.mu.Lock()
	sent := r.bodies[0]
	r.mu.Unlock()
	if d.Tenant != "council-a" || d.ChannelName != "soar" || d.Kind != notify.Webhook || d.AlertTenant != "council-a" || d.AlertID != 9 ||
		d.Change != "created" || d.Attempts != 3 || d.Payload != string(sent) || !strings.Contains(d.LastError, "HTTP 500") || d.Time.IsZero() {
		t.Errorf("dead letter %+v", d)
	}
	if strings.Contains(d.LastError, "SECRETPATH") {
		t.Errorf("dead letter error shows the URL: %s", d.LastError)
	}
	if n := r.count(); n != 3 {
		t.Errorf("%d tries, want 3", n)
	}
	if d2 := byChannel[ch2.ID]; d2.Attempts != 1 || !strings.Contains(d2.LastError, "HTTP 410") || gone.count() != 1 {
		t.Errorf("permanent refusal: %+v after %d requests, want one try", d2, gone.count())
	}
	if v := e.metric(`tarian_notify_dead_letters_total{tenant="council-a",kind="webhook"}`); v != "2" {
		t.Errorf("dead letter counter %q", v)
	}
	// Another tenant sees none of them.
	if other, err := e.svc.DeadLetters(context.Background(), "council-b", 0, 10); err != nil || len(other) != 0 {
		t.Errorf("council-b dead letters %v, %v", other, err)
	}
}

func TestStopDeadLettersWhatIsWaiting(t *testing.T) {
	cfg := fast()
	cfg.Backoff, cfg.MaxBackoff = time.Hour, time.Hour // the retry never comes
	e := start(t, cfg, nil)
	r := newReceiver(t, 1<<30, http.StatusServiceUnavailable)
	e.add(t, "council-a", notify.NewChannel{Kind: notify.Webhook, URL: r.srv.URL, Secret: secret})
	e.svc.Notify(context.Background(), "council-a", created(newAlert(5, "council-a", "high")))
	eventually(t, "the first try", func() bool {
		return e.metric(`tarian_notify_failed_total{tenant="council-a",kind="webhook"}`) == "1"
	})
	e.stop()

	dls, err := e.svc.DeadLetters(context.Background(), "council-a", 0, 10)
	if err != nil || len(dls) != 1 {
		t.Fatalf("dead letters %+v, %v", dls, err)
	}
	if d := dls[0]; d.AlertID != 5 || d.Attempts != 1 || !strings.Contains(d.LastError, "server stopped before delivery") || !strings.Contains(d.LastError, "HTTP 503") {
		t.Errorf("dead letter %+v", d)
	}
	// After the stop, notifications are counted as lost, not queued.
	e.svc.Notify(context.Background(), "council-a", created(newAlert(6, "council-a", "high")))
	if e.svc.Overflow() != 1 {
		t.Errorf("overflow %d, want 1", e.svc.Overflow())
	}
}

func TestPrivateAddressesRefusedForTenants(t *testing.T) {
	cfg := fast()
	cfg.AllowPrivateNetworks = false
	e := start(t, cfg, nil)
	r := newReceiver(t, 0, 0)
	tenantCh := e.add(t, "council-a", notify.NewChannel{Kind: notify.Webhook, URL: r.srv.URL, Secret: secret})
	providerCh := e.add(t, notify.Provider, notify.NewChannel{Kind: notify.Webhook, URL: r.srv.URL, Secret: secret})

	err := e.svc.Test(context.Background(), "council-a", tenantCh.ID)
	if !errors.Is(err, notify.ErrDelivery) || !strings.Contains(err.Error(), "not a public address") {
		t.Errorf("tenant channel to 127.0.0.1: %v", err)
	}
	if r.count() != 0 {
		t.Errorf("the server got %d requests", r.count())
	}
	if err := e.svc.Test(context.Background(), notify.Provider, providerCh.ID); err != nil {
		t.Errorf("provider channel: %v", err)
	}
	body := wait(t, r.accepted, "the provider's test")
	if !bytes.Contains(body, []byte(`"event":"test"`)) {
		t.Errorf("test payload %s", body)
	}
	// The provider's channels see every tenant's alerts.
	e.svc.Notify(context.Background(), "council-b", created(newAlert(77, "council-b", "low")))
	if body := wait(t, r.accepted, "council-b's alert on the provider channel"); !bytes.Contains(body, []byte(`"tenant":"council-b"`)) {
		t.Errorf("provider channel got %s", body)
	}
	// A tenant's channel is not found through another tenant.
	if err := e.svc.Test(context.Background(), "council-b", tenantCh.ID); !errors.Is(err, notify.ErrNotFound) {
		t.Errorf("council-b testing council-a's channel: %v", err)
	}
}

func TestSecretsSealedAndBoundToTenant(t *testing.T) {
	e := start(t, fast(), nil)
	const hook = "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX"
	info := e.add(t, "council-a", notify.NewChannel{Kind: notify.Slack, URL: hook})
	if info.Target != "https://hooks.slack.com/…" || len(info.Sealed) != 1 || info.Sealed[0] != "url" {
		t.Errorf("info %+v", info)
	}
	js, _ := json.Marshal(info)
	if bytes.Contains(js, []byte("XXXXXXXX")) {
		t.Errorf("info JSON shows the URL: %s", js)
	}
	c, err := e.db.NotifyChannel(context.Background(), "council-a", info.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(c.Sealed, []byte("XXXXXXXX")) || bytes.Contains(c.Sealed, []byte("hooks.slack.com/services")) {
		t.Error("the stored secret is not sealed")
	}
	if _, err := e.box.Open(c.Sealed, []byte("notify/council-a")); err != nil {
		t.Errorf("open for its tenant: %v", err)
	}
	for _, ad := range []string{"notify/council-b", "council-a", "notify/*"} {
		if _, err := e.box.Open(c.Sealed, []byte(ad)); !errors.Is(err, poll.ErrSealed) {
			t.Errorf("sealed secret opens for %q: %v", ad, err)
		}
	}
	// Bad definitions are refused without echoing the URL or the secret.
	for _, n := range []notify.NewChannel{
		{Kind: notify.Slack, URL: "http://hooks.slack.com/services/T/B/XXXXXXXX"},
		{Kind: notify.Teams, URL: hook, Secret: "XXXXXXXXsecret"},
		{Kind: notify.Webhook, URL: "https://soar.example/XXXXXXXX", Secret: "short"},
		{Kind: notify.Webhook, URL: "ftp://soar.example/XXXXXXXX", Secret: secret},
		{Kind: notify.Email, URL: "smtp://soc:XXXXXXXX@mail.example.org", From: "soc@example.org", To: []string{"a@example.org"}},
		{Kind: notify.Email, URL: "smtp://soc@mail.example.org", From: "soc@example.org", To: []string{"a@example.org"}},
		{Kind: notify.Email, URL: "smtp://mail.example.org", From: "nobody", To: []string{"a@example.org"}},
		{Kind: notify.Email, URL: "smtp://mail.example.org", From: "soc@example.org"},
		{Kind: "pager", URL: hook},
		{Kind: notify.Slack, URL: hook, Route: notify.Route{MinSeverity: "XXXXXXXX"}},
	} {
		_, err := e.svc.Add(context.Background(), "council-a", n)
		if !errors.Is(err, notify.ErrInvalid) {
			t.Errorf("Add(%v) = %v, want ErrInvalid", n, err)
			continue
		}
		if strings.Contains(err.Error(), "XXXXXXXX") && n.Route.MinSeverity == "" {
			t.Errorf("error echoes a secret: %v", err)
		}
	}
	if strings.Contains(fmt.Sprint(notify.NewChannel{Kind: notify.Slack, URL: hook, Secret: "XXXXXXXX"}), "XXXXXXXX") {
		t.Error("NewChannel's String shows a secret")
	}
}
