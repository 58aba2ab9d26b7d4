package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/detector"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// An Event Hub batch of two Entra sign-ins (alice, then bob) in one record.
const signInBatch = `{"records":[` +
	`{"time":"2026-12-05T08:20:10Z","operationName":"Sign-in activity","category":"SignInLogs","resultType":"0","callerIpAddress":"198.51.100.4","properties":{"id":"a1","userPrincipalName":"alice@council.example","ipAddress":"198.51.100.4","status":{"errorCode":0}}},` +
	`{"time":"2026-12-05T08:20:11Z","operationName":"Sign-in activity","category":"SignInLogs","resultType":"50126","callerIpAddress":"203.0.113.9","properties":{"id":"b2","userPrincipalName":"bob@council.example","ipAddress":"203.0.113.9","status":{"errorCode":50126}}}` +
	`]}`

// TestAlertFindsItsEvent: each record is parsed once for storage and
// detection, so an alert's event reference finds the very event that fired
// it in the store — the second event of a batch record included — and the
// stored event carries the SHA-256 of its raw record, which (by the default
// raw policy) it does not itself keep.
func TestAlertFindsItsEvent(t *testing.T) {
	dir := t.TempDir()
	mapping := filepath.Join(dir, "mapping.yaml")
	if err := os.WriteFile(mapping, []byte("logsources:\n  - {product: azure, service: signinlogs, when: [{event.dataset: azure.signinlogs}]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := servertest.Config(filepath.Join(dir, "data"))
	cfg.Detection.MappingFile = mapping
	s := servertest.Start(t, cfg)
	s.AddTenant(t, "council-a")
	rule := "title: bob signs in\nid: 0b0b0b0b-1111-4222-8333-444444444444\nlogsource: {product: azure, service: signinlogs}\ndetection:\n  sel: {user.name: bob}\n  condition: sel\nlevel: high\n"
	var imported detector.ImportResult
	s.JSON(t, http.MethodPost, "/api/v1/rules", servertest.AdminToken, map[string]any{"files": []detector.ImportFile{{Name: "bob.yml", Data: []byte(rule)}}}, &imported)
	if imported.Imported != 1 || imported.Active != 1 {
		t.Fatalf("rule import: %+v", imported)
	}
	if status, b := s.Do(t, http.MethodPost, "/api/v1/ingest", s.Token(t, "council-a", "ingest"), []byte(signInBatch+"\n")); status != http.StatusOK {
		t.Fatalf("ingest: %d %s", status, b)
	}

	analyst := s.Token(t, "council-a", "tenant-analyst")
	var alerts []struct {
		RuleID   string `json:"rule_id"`
		EventRef string `json:"event_ref"`
	}
	for deadline := time.Now().Add(20 * time.Second); len(alerts) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var out struct {
			Alerts []struct {
				RuleID   string `json:"rule_id"`
				EventRef string `json:"event_ref"`
			} `json:"alerts"`
		}
		s.JSON(t, http.MethodGet, "/api/v1/alerts", analyst, nil, &out)
		alerts = out.Alerts
	}
	if len(alerts) != 1 {
		t.Fatalf("alerts: %+v, want one", alerts)
	}
	ref, err := event.ParseRef(alerts[0].EventRef)
	if err != nil {
		t.Fatal(err)
	}
	if ref.Sub != 1 {
		t.Fatalf("ref %s: want the second event of the record", ref)
	}
	q := url.QueryEscape(event.FieldSeq + `:"` + strconv.FormatUint(ref.Seq, 10) + `" ` + event.FieldIdx + `:"` + ref.Index() + `"`)
	var rows []map[string]string
	for deadline := time.Now().Add(20 * time.Second); len(rows) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		status, b := s.Do(t, http.MethodGet, "/api/v1/search?q="+q, analyst, nil)
		if status != http.StatusOK {
			t.Fatalf("search: %d %s", status, b)
		}
		rows = rows[:0]
		for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			var row map[string]string
			if err := json.Unmarshal(line, &row); err != nil {
				t.Fatalf("search row %s: %v", line, err)
			}
			rows = append(rows, row)
		}
	}
	if len(rows) != 1 || rows[0]["user.name"] != "bob" {
		t.Fatalf("event %s: %v, want bob's sign-in alone", ref, rows)
	}
	sum := sha256.Sum256([]byte(signInBatch))
	if got := rows[0][event.FieldHash]; got != hex.EncodeToString(sum[:16]) {
		t.Errorf("event.hash = %q, want the raw record's SHA-256 (first 128 bits)", got)
	}
	if _, kept := rows[0][event.FieldOriginal]; kept {
		t.Errorf("parsed event keeps its raw record under the default policy")
	}
}
