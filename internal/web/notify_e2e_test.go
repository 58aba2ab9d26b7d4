package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/alert/notify"
	"github.com/tarian-soc/tarian/internal/server/servertest"
)

const notifyRule = `title: net user run
id: 5e1d7c3a-0000-4000-8000-00000000b002
author: Tarian tests
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image|endswith: '\net.exe'}
  condition: sel
level: high
tags: [attack.discovery, attack.t1087]
`

func sysmonNet(host string, n int) string {
	b, _ := json.Marshal(map[string]any{"Event": map[string]any{
		"System": map[string]any{"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": host, "EventRecordID": n,
			"Provider":    map[string]any{"#attributes": map[string]any{"Name": "Microsoft-Windows-Sysmon"}},
			"TimeCreated": map[string]any{"#attributes": map[string]any{"SystemTime": time.Now().UTC().Format(time.RFC3339Nano)}}},
		"EventData": map[string]any{"Image": `C:\Windows\System32\net.exe`, "CommandLine": "net user", "User": `COUNCIL\bob`, "ProcessId": n},
	}})
	return string(b)
}

// TestNotifyEndToEnd: through a whole server, events a rule matches raise
// one alert, and the tenant's webhook gets one signed notification for
// it, however many events joined; another tenant's webhook gets nothing.
func TestNotifyEndToEnd(t *testing.T) {
	cfg := servertest.Config(t.TempDir())
	cfg.Notify.AllowPrivateNetworks = true // the receivers are on 127.0.0.1
	s := servertest.Start(t, cfg)
	for _, ten := range []string{"tenant-a", "tenant-b"} {
		s.AddTenant(t, ten)
	}
	const secret = "e2e-signing-secret-0123456789"
	type hook struct {
		mu     sync.Mutex
		bodies []string
		srv    *httptest.Server
	}
	newHook := func() *hook {
		h := &hook{}
		h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if err := notify.Verify([]byte(secret), r.Header.Get(notify.HeaderTimestamp), r.Header.Get(notify.HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
			h.mu.Lock()
			h.bodies = append(h.bodies, string(body))
			h.mu.Unlock()
		}))
		t.Cleanup(h.srv.Close)
		return h
	}
	hookA, hookB := newHook(), newHook()
	for ten, h := range map[string]*hook{"tenant-a": hookA, "tenant-b": hookB} {
		s.JSON(t, "POST", "/api/v1/notifications/channels?tenant="+ten, servertest.AdminToken,
			map[string]any{"kind": "webhook", "url": h.srv.URL, "secret": secret, "route": map[string]any{"tags": []string{"attack.t1087"}}}, nil)
	}
	var res map[string]any
	s.JSON(t, "POST", "/api/v1/rules", servertest.AdminToken, map[string]any{"files": []map[string]any{{"name": "net.yml", "data": []byte(notifyRule)}}}, &res)
	if res["imported"] != float64(1) {
		t.Fatalf("import: %v", res)
	}
	var lines []string
	for i := range 5 {
		lines = append(lines, sysmonNet("ws-42", i+1))
	}
	if status, body := s.Do(t, "POST", "/api/v1/ingest", s.Token(t, "tenant-a", "ingest"), []byte(strings.Join(lines, "\n"))); status != 200 {
		t.Fatalf("ingest: %d %s", status, body)
	}

	var bodies []string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		hookA.mu.Lock()
		bodies = append([]string(nil), hookA.bodies...)
		hookA.mu.Unlock()
		if len(bodies) > 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(bodies) != 1 {
		t.Fatalf("tenant-a's webhook got %d notifications, want 1", len(bodies))
	}
	var p notify.Payload
	if err := json.Unmarshal([]byte(bodies[0]), &p); err != nil || p.Event != "alert.created" || p.Tenant != "tenant-a" || p.Alert.RuleID != "5e1d7c3a-0000-4000-8000-00000000b002" || p.Alert.Level != "high" {
		t.Errorf("payload %s (%v)", bodies[0], err)
	}
	// More events join the alert (updated changes): no more notifications.
	lines = lines[:0]
	for i := range 3 {
		lines = append(lines, sysmonNet("ws-42", 100+i))
	}
	if status, body := s.Do(t, "POST", "/api/v1/ingest", s.Token(t, "tenant-a", "ingest"), []byte(strings.Join(lines, "\n"))); status != 200 {
		t.Fatalf("ingest: %d %s", status, body)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, body := s.Do(t, "GET", "/api/v1/alerts?tenant=tenant-a", servertest.AdminToken, nil)
		if strings.Contains(string(body), `"count":8`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the alert never counted 8 events: %s", body)
		}
	}
	// Later deliveries would be bugs: give them a moment to show.
	time.Sleep(200 * time.Millisecond)
	hookA.mu.Lock()
	defer hookA.mu.Unlock()
	hookB.mu.Lock()
	defer hookB.mu.Unlock()
	if len(hookA.bodies) != 1 || len(hookB.bodies) != 0 {
		t.Errorf("deliveries: tenant-a %d, tenant-b %d; want 1 and 0", len(hookA.bodies), len(hookB.bodies))
	}
}
