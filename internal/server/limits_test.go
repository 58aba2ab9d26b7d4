package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// TestTenantQuota drives a tenant over its daily quota through the HTTP API
// and the HEC receiver: each answers in its own terms with a Retry-After
// until midnight UTC, nothing refused is stored, and another tenant is not
// touched.
func TestTenantQuota(t *testing.T) {
	cfg := servertest.Config(t.TempDir())
	cfg.HEC.Listen = "127.0.0.1:0"
	cfg.Limits = ingest.LimitsConfig{Tenants: map[string]ingest.Limit{"council-a": {BytesPerDay: 5000}}}
	s := servertest.Start(t, cfg)
	s.AddTenant(t, "council-a")
	s.AddTenant(t, "council-b")
	ingA, ingB := s.Token(t, "council-a", "ingest"), s.Token(t, "council-b", "ingest")

	batch := func(n int, tag string) []byte {
		var b bytes.Buffer
		for i := range n {
			fmt.Fprintf(&b, `{"message":"%s %04d %s"}`+"\n", tag, i, strings.Repeat("x", 60))
		}
		return b.Bytes()
	}
	post := func(url, auth string, body []byte) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	// 40 records of ~85 bytes fit in 5000 bytes; the next 40 do not.
	if resp := post(s.URL+"/api/v1/ingest", "Bearer "+ingA, batch(40, "first")); resp.StatusCode != http.StatusOK {
		t.Fatalf("within the quota: status %d", resp.StatusCode)
	}
	resp := post(s.URL+"/api/v1/ingest", "Bearer "+ingA, batch(40, "second"))
	var body struct{ Error string }
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusTooManyRequests || body.Error != "rate_limited" {
		t.Fatalf("over the quota: status %d error %q, want 429 rate_limited", resp.StatusCode, body.Error)
	}
	if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra < 1 || ra > 86400 {
		t.Fatalf("Retry-After %q, want the seconds until midnight UTC", resp.Header.Get("Retry-After"))
	}
	hec := "http://" + s.HECAddr().String() + "/services/collector/event"
	resp = post(hec, "Splunk "+ingA, []byte(`{"event":"over quota via HEC `+strings.Repeat("y", 2000)+`"}`))
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("HEC over the quota: status %d Retry-After %q, want 503 (server busy) with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Tenant B has no limit: the same batches pass.
	for _, tag := range []string{"first", "second"} {
		if resp := post(s.URL+"/api/v1/ingest", "Bearer "+ingB, batch(40, tag)); resp.StatusCode != http.StatusOK {
			t.Fatalf("tenant b: status %d", resp.StatusCode)
		}
	}
	count := func(tenant, q string) int {
		t.Helper()
		analyst := s.Token(t, tenant, "tenant-analyst")
		status, b := s.Do(t, http.MethodGet, "/api/v1/search?q="+url.QueryEscape(q+" | stats count() n"), analyst, nil)
		var row struct{ N string }
		if status != http.StatusOK || json.Unmarshal(b, &row) != nil {
			t.Fatalf("count %s: status %d: %s", q, status, b)
		}
		n, _ := strconv.Atoi(row.N)
		return n
	}
	for deadline := time.Now().Add(20 * time.Second); count("council-b", "*") != 80; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("council-b holds %d events, want 80", count("council-b", "*"))
		}
	}
	if got := count("council-a", "*"); got != 40 {
		t.Fatalf("council-a holds %d events, want the 40 within its quota", got)
	}
	if got := count("council-a", "second"); got != 0 {
		t.Fatalf("refused records stored: %d", got)
	}
	status, metrics := s.Do(t, http.MethodGet, "/metrics", servertest.AdminToken, nil)
	if status != http.StatusOK || !bytes.Contains(metrics, []byte(`tarian_ingest_limited_total{tenant="council-a"} 41`)) {
		t.Fatalf("metrics lack the limited count of council-a (40 + 1):\n%s", grepLines(metrics, "limited"))
	}
}

func grepLines(b []byte, sub string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
