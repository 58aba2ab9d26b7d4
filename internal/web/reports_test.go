package web_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// TestReportsAPI: a member's users get their own member's report (HTML,
// PDF, JSON), never another's; a provider names the member, and its read
// is audited in the member's chain.
func TestReportsAPI(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	s.AddTenant(t, "gwynedd")
	s.AddTenant(t, "conwy")
	viewer := s.Token(t, "gwynedd", "tenant-viewer")
	analyst := s.Token(t, "", "provider-analyst")

	status, body := s.Do(t, "GET", "/api/v1/reports?month=2026-01&lang=cy", viewer, nil)
	if status != 200 || !bytes.Contains(body, []byte("Adroddiad misol")) || !bytes.Contains(body, []byte("Ionawr 2026")) {
		t.Fatalf("own report, Welsh: %d %.300s", status, body)
	}
	status, body = s.Do(t, "GET", "/api/v1/reports?tenant=gwynedd&month=2026-01&format=pdf", viewer, nil)
	if status != 200 || !bytes.HasPrefix(body, []byte("%PDF-")) {
		t.Fatalf("own report, PDF: %d %.100q", status, body)
	}
	status, body = s.Do(t, "GET", "/api/v1/reports?tenant=gwynedd&month=2026-01&format=json", viewer, nil)
	var rep struct {
		Tenant string `json:"tenant"`
		Alerts int64  `json:"alerts"`
	}
	if status != 200 || json.Unmarshal(body, &rep) != nil || rep.Tenant != "gwynedd" {
		t.Fatalf("own report, JSON: %d %s", status, body)
	}

	// Another member's: refused, whatever the format.
	for _, f := range []string{"html", "pdf", "json"} {
		if status, body := s.Do(t, "GET", "/api/v1/reports?tenant=conwy&month=2026-01&format="+f, viewer, nil); status != 403 {
			t.Errorf("gwynedd's viewer, conwy's report (%s): %d %s", f, status, body)
		}
	}
	// Bad requests.
	for q, want := range map[string]int{
		"tenant=gwynedd&month=2026-13":             400,
		"tenant=gwynedd&month=2026-01&lang=fr":     400,
		"tenant=gwynedd&month=2026-01&format=docx": 400,
		"tenant=gwynedd&month=2999-01":             400,
		"tenant=*&month=2026-01":                   400,
		"month=2026-01":                            400, // a provider must name the member
		"tenant=nobody&month=2026-01":              404,
	} {
		if status, body := s.Do(t, "GET", "/api/v1/reports?"+q, analyst, nil); status != want {
			t.Errorf("provider, %s: %d %s, want %d", q, status, body, want)
		}
	}

	status, body = s.Do(t, "GET", "/api/v1/reports?tenant=conwy&month=2026-01", analyst, nil)
	if status != 200 || !bytes.Contains(body, []byte("Monthly report")) {
		t.Fatalf("provider, conwy: %d %.300s", status, body)
	}
	status, body = s.Do(t, "GET", "/api/v1/audit?scope=conwy", servertest.AdminToken, nil)
	if status != 200 || !strings.Contains(string(body), "report.read") {
		t.Errorf("the provider's read is not in conwy's audit trail: %d %.500s", status, body)
	}
}
