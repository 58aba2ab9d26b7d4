package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// TestReportsSent: a report marked sent is sent, per tenant, month and
// language; a second mark keeps the first.
func TestReportsSent(t *testing.T) { backends(t, testReportsSent) }

func testReportsSent(t *testing.T, open func(testing.TB) *DB) {
	ctx := context.Background()
	db := open(t)
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	sent := func(tn tenant.ID, month, lang string) bool {
		t.Helper()
		ok, err := db.ReportSent(ctx, tn, month, lang)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if sent("council-a", "2026-11", "en") {
		t.Fatal("sent before any mark")
	}
	for range 2 {
		if err := db.MarkReportSent(ctx, "council-a", "2026-11", "en", at, []string{"a@example.org", "b@example.org"}); err != nil {
			t.Fatal(err)
		}
	}
	if !sent("council-a", "2026-11", "en") || sent("council-a", "2026-11", "cy") || sent("council-a", "2026-10", "en") || sent("council-b", "2026-11", "en") {
		t.Error("the mark reaches another tenant, month or language")
	}
}
