package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/demo"
	"github.com/tarian-soc/tarian/internal/detector"
	"github.com/tarian-soc/tarian/internal/logstore/vltest"
	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// importDemoRules imports the demo's rules, which fire on shadow-copy
// deletion (vssadminEvent).
func importDemoRules(t *testing.T, s *servertest.Server) {
	t.Helper()
	var files []detector.ImportFile
	for name, data := range demo.RuleFiles() {
		files = append(files, detector.ImportFile{Name: name, Data: data})
	}
	s.JSON(t, http.MethodPost, "/api/v1/rules", servertest.AdminToken, map[string]any{"files": files}, nil)
}

// vssadminEvent is a Sysmon process start of vssadmin deleting the shadow
// copies on host, a minute ago, as one NDJSON line.
func vssadminEvent(host string) []byte {
	line, _ := json.Marshal(map[string]any{
		"@timestamp": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano),
		"event":      map[string]any{"kind": "event", "category": []string{"process"}, "type": []string{"start"}, "module": "sysmon", "code": "1"},
		"host":       map[string]any{"name": host},
		"winlog": map[string]any{"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": 1, "event_data": map[string]any{
			"Image": `C:\Windows\System32\vssadmin.exe`, "CommandLine": "vssadmin.exe delete shadows /all /quiet"}},
	})
	return append(line, '\n')
}

// alertedEvents is how many events the alerts token may read count in all.
func alertedEvents(t *testing.T, s *servertest.Server, token string) int {
	t.Helper()
	var out struct {
		Alerts []struct {
			Count int `json:"count"`
		} `json:"alerts"`
	}
	s.JSON(t, http.MethodGet, "/api/v1/alerts", token, nil, &out)
	n := 0
	for _, a := range out.Alerts {
		n += a.Count
	}
	return n
}

// TestDetectionGoesOnWhileTheEventStoreIsDown: with the event store (a
// VictoriaLogs server) killed, ingest is acknowledged and detection raises
// the alerts of what arrives meanwhile; once it is back, every event is
// searchable exactly once.
func TestDetectionGoesOnWhileTheEventStoreIsDown(t *testing.T) {
	vl := vltest.Start(t)
	cfg := servertest.Config(t.TempDir())
	cfg.Events.URL = vl.URL
	s := servertest.Start(t, cfg)
	importDemoRules(t, s)
	s.AddTenant(t, "north-vale")
	ingest, analyst := s.Token(t, "north-vale", "ingest"), s.Token(t, "north-vale", "tenant-analyst")
	send := func(host string) {
		t.Helper()
		if status, body := s.Do(t, http.MethodPost, "/api/v1/ingest", ingest, vssadminEvent(host)); status != http.StatusOK {
			t.Fatalf("ingest: %d %s", status, body)
		}
	}
	waitAlerted := func(want int, while string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); alertedEvents(t, s, analyst) < want; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: alerts count %d events, want %d", while, alertedEvents(t, s, analyst), want)
			}
		}
	}
	send("nv-dc1")
	waitAlerted(1, "event store up")
	waitCount(t, s, analyst, "vssadmin", 1)

	vl.Kill()
	// More messages than the read takes at once (a backlog behind the
	// stuck indexer), then three the rule fires on.
	for i := range 40 {
		if status, body := s.Do(t, http.MethodPost, "/api/v1/ingest", ingest, fmt.Appendf(nil, `{"message":"routine %d"}`+"\n", i)); status != http.StatusOK {
			t.Fatalf("ingest: %d %s", status, body)
		}
	}
	for i := range 3 {
		send(fmt.Sprintf("nv-fs%d", i))
	}
	waitAlerted(4, "event store down")
	if status, _ := s.Do(t, http.MethodGet, "/api/v1/search?q=vssadmin", analyst, nil); status == http.StatusOK {
		t.Error("search answered with the event store down")
	}

	vl.Restart()
	waitCount(t, s, analyst, "vssadmin", 4)
	send("nv-fs9")
	waitAlerted(5, "event store back")
	waitCount(t, s, analyst, "vssadmin", 5)
}
