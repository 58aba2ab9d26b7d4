package hec_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// Through a whole server: HEC events land, parsed, in the token's tenant.
func TestHECThroughServer(t *testing.T) {
	cfg := servertest.Config(t.TempDir())
	cfg.HEC.Listen = "127.0.0.1:0"
	s := servertest.Start(t, cfg)
	s.AddTenant(t, "cardiff")
	s.AddTenant(t, "swansea")
	tok := s.Token(t, "cardiff", "ingest")

	body := `{"time":1795627447.5,"host":"web01","sourcetype":"access_combined","event":"GET /login 401 hec-marker"}` + "\n" +
		`{"host":"web01","event":{"user":{"name":"alice"},"message":"hec-marker object"},"fields":{"site":"hq"}}`
	req, err := http.NewRequest("POST", "http://"+s.HECAddr().String()+"/services/collector/event", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Splunk "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	reply, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(reply), `"code":0`) {
		t.Fatalf("HEC answer: %d %s", resp.StatusCode, reply)
	}

	cardiff, swansea := s.Token(t, "cardiff", "tenant-analyst"), s.Token(t, "swansea", "tenant-analyst")
	q := "/api/v1/search?limit=10&q=" + url.QueryEscape("hec-marker")
	var out string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		_, b := s.Do(t, "GET", q, cardiff, nil)
		if out = string(b); strings.Count(out, "\n") == 2 {
			break
		}
	}
	for _, want := range []string{`"host.name":"web01"`, `"event.dataset":"access_combined"`, `"@timestamp":"2026-11-25T17:24:07.5Z"`, `"user.name":"alice"`, `"labels.site":"hq"`} {
		if !strings.Contains(out, want) {
			t.Errorf("search results lack %s:\n%s", want, out)
		}
	}
	if _, b := s.Do(t, "GET", q, swansea, nil); len(strings.TrimSpace(string(b))) != 0 {
		t.Errorf("swansea sees cardiff's HEC events: %s", b)
	}
}
