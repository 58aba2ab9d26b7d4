package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/parse"
	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// TestLogSources drives declared sources through a whole server: council-a's
// HTTP records get its field map, council-b's identical records do not (a
// source is tenant-scoped), and a record its declared type rejects is
// dead-lettered with the parser's reason rather than stored.
func TestLogSources(t *testing.T) {
	cfg := servertest.Config(t.TempDir())
	cfg.HEC.Listen = "127.0.0.1:0"
	cfg.Sources = []parse.Source{
		{Name: "a-app", Tenant: "council-a", Receiver: "http", Type: "json", FieldMap: map[string]string{"src": "source.ip"}},
		{Name: "a-hec", Tenant: "council-a", Receiver: "hec", Type: "json"},
	}
	s := servertest.Start(t, cfg)
	s.AddTenant(t, "council-a")
	s.AddTenant(t, "council-b")
	body := []byte(`{"src":"192.0.2.77","message":"sources-marker"}` + "\n")
	for _, tn := range []string{"council-a", "council-b"} {
		if status, b := s.Do(t, http.MethodPost, "/api/v1/ingest", s.Token(t, tn, "ingest"), body); status != http.StatusOK {
			t.Fatalf("ingest %s: %d %s", tn, status, b)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.HECAddr().String()+"/services/collector/raw?channel=0b0b0b0b-0000-4000-8000-000000000001",
		strings.NewReader("plain text the json type cannot take\n"))
	req.Header.Set("Authorization", "Splunk "+s.Token(t, "council-a", "ingest"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HEC raw: %d", resp.StatusCode)
	}

	search := func(tn, q string) []map[string]string {
		t.Helper()
		_, b := s.Do(t, http.MethodGet, "/api/v1/search?q="+url.QueryEscape(q), s.Token(t, tn, "tenant-analyst"), nil)
		var rows []map[string]string
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
		return rows
	}
	var a, b []map[string]string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if a, b = search("council-a", "sources-marker"), search("council-b", "sources-marker"); len(a) == 1 && len(b) == 1 {
			break
		}
	}
	if len(a) != 1 || len(b) != 1 {
		t.Fatalf("events: council-a %d, council-b %d, want 1 each", len(a), len(b))
	}
	if a[0]["source.ip"] != "192.0.2.77" || a[0][parse.FieldName] != "a-app" || a[0][parse.FieldType] != "json" {
		t.Errorf("council-a's event lacks its source's fields: %v", a[0])
	}
	if _, ok := b[0]["source.ip"]; ok || b[0][parse.FieldName] != "" {
		t.Errorf("council-a's source applied to council-b: %v", b[0])
	}

	var out struct {
		DeadLetters []struct {
			Reason string `json:"reason"`
		} `json:"dead_letters"`
	}
	for deadline := time.Now().Add(20 * time.Second); len(out.DeadLetters) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		s.JSON(t, http.MethodGet, "/api/v1/deadletters?tenant=council-a", servertest.AdminToken, nil, &out)
	}
	dls := out.DeadLetters
	if len(dls) != 1 || !strings.Contains(dls[0].Reason, "json: the record is not a JSON object") {
		t.Fatalf("dead letters of council-a: %+v", dls)
	}
	if got := search("council-a", "plain"); len(got) != 0 {
		t.Fatalf("the rejected record was stored: %v", got)
	}
}
