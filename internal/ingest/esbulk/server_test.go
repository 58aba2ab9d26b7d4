package esbulk_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// Through a whole server: a Beats-style bulk request lands, parsed, in the
// API key's tenant and nowhere else.
func TestBulkThroughServer(t *testing.T) {
	cfg := servertest.Config(t.TempDir())
	cfg.Elasticsearch.Listen = "127.0.0.1:0"
	s := servertest.Start(t, cfg)
	s.AddTenant(t, "cardiff")
	s.AddTenant(t, "swansea")
	key := base64.StdEncoding.EncodeToString([]byte("winlogbeat:" + s.Token(t, "cardiff", "ingest")))
	base := "http://" + s.ElasticsearchAddr().String()

	do := func(method, path, body string) (int, string) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "ApiKey "+key)
		req.Header.Set("Content-Type", "application/x-ndjson")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.Header.Get("X-Elastic-Product") != "Elasticsearch" {
			t.Errorf("%s %s: no X-Elastic-Product header", method, path)
		}
		return resp.StatusCode, string(b)
	}
	if status, body := do("GET", "/", ""); status != 200 || !strings.Contains(body, `"number"`) {
		t.Fatalf("GET /: %d %s", status, body)
	}
	bulk := `{"create":{"_index":"winlogbeat-8.17.0"}}
{"@timestamp":"2026-11-25T09:00:00Z","message":"bulk-marker logon","winlog":{"event_id":4624,"channel":"Security"},"host":{"name":"dc01"}}
{"create":{}}
[1,2,3]
`
	status, body := do("POST", "/winlogbeat-8.17.0/_bulk", bulk)
	if status != 200 || !strings.Contains(body, `"errors":true`) || !strings.Contains(body, `"status":201`) || !strings.Contains(body, `"status":400`) {
		t.Fatalf("bulk: %d %s", status, body)
	}
	cardiff, swansea := s.Token(t, "cardiff", "tenant-analyst"), s.Token(t, "swansea", "tenant-analyst")
	q := "/api/v1/search?q=" + url.QueryEscape("bulk-marker")
	var out string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		_, b := s.Do(t, "GET", q, cardiff, nil)
		if out = string(b); strings.Contains(out, "bulk-marker") {
			break
		}
	}
	if !strings.Contains(out, `"host.name":"dc01"`) || !strings.Contains(out, `"EventID":"4624"`) {
		t.Errorf("cardiff search: %s", out)
	}
	if _, b := s.Do(t, "GET", q, swansea, nil); len(strings.TrimSpace(string(b))) != 0 {
		t.Errorf("swansea sees cardiff's documents: %s", b)
	}
	var dl struct {
		DeadLetters []struct{ Reason, Data string } `json:"dead_letters"`
	}
	s.JSON(t, "GET", "/api/v1/deadletters?tenant=cardiff", servertest.AdminToken, nil, &dl)
	if len(dl.DeadLetters) != 1 || dl.DeadLetters[0].Data != "[1,2,3]" {
		t.Errorf("dead letters = %+v", dl.DeadLetters)
	}
}
