package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// TestTenantQuotaSurvivesRestart: the day's quota use is saved when the
// server stops, so after a restart a tenant gets only the rest of its quota.
func TestTenantQuotaSurvivesRestart(t *testing.T) {
	if now := time.Now().UTC(); now.Add(2*time.Minute).Day() != now.Day() {
		t.Skip("too close to midnight UTC: the quota day would change during the test")
	}
	cfg := servertest.Config(t.TempDir())
	cfg.Limits = ingest.LimitsConfig{Tenants: map[string]ingest.Limit{"council-a": {BytesPerDay: 5000}}}
	var b bytes.Buffer
	for i := range 40 { // 40 records of ~85 bytes: two batches do not fit in 5000
		fmt.Fprintf(&b, `{"message":"%04d %s"}`+"\n", i, strings.Repeat("x", 60))
	}
	post := func(s *servertest.Server, token string) int {
		t.Helper()
		status, _ := s.Do(t, http.MethodPost, "/api/v1/ingest", token, b.Bytes())
		return status
	}
	s := servertest.Start(t, cfg)
	s.AddTenant(t, "council-a")
	if got := post(s, s.Token(t, "council-a", "ingest")); got != http.StatusOK {
		t.Fatalf("within the quota: status %d", got)
	}
	s.Stop(t)

	s = servertest.Start(t, cfg)
	if got := post(s, s.Token(t, "council-a", "ingest")); got != http.StatusTooManyRequests {
		t.Fatalf("after a restart: status %d, want 429 (the day's use was kept)", got)
	}
}
