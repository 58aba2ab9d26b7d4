package web_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// TestAlertsCreatedWindow checks the alert list's from/to bound the alerts'
// creation time (the console's time filter): absolute and relative times,
// an empty window, and clear refusals of a bad time or an inverted window.
func TestAlertsCreatedWindow(t *testing.T) {
	w := newCaseWorld(t)
	var res map[string]any
	w.s.JSON(t, "POST", "/api/v1/rules", servertest.AdminToken, map[string]any{"files": []map[string]any{{"name": "certutil.yml", "data": []byte(caseRule)}}}, &res)
	w.ingest(t, "a", caseEvent("pc-a", `COUNCIL\alice`, 1))
	id := w.alertOf(t, "tenant-a")

	list := func(from, to string) (int, []int64) {
		q := url.Values{"tenant": {"*"}}
		if from != "" {
			q.Set("from", from)
		}
		if to != "" {
			q.Set("to", to)
		}
		var out struct{ Alerts []struct{ ID int64 } }
		status, _ := w.s.Do(t, "GET", "/api/v1/alerts?"+q.Encode(), w.tokens["provider-analyst"], nil)
		if status == 200 {
			w.s.JSON(t, "GET", "/api/v1/alerts?"+q.Encode(), w.tokens["provider-analyst"], nil, &out)
		}
		var ids []int64
		for _, a := range out.Alerts {
			ids = append(ids, a.ID)
		}
		return status, ids
	}
	hourAgo := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	for _, c := range []struct {
		from, to string
		want     int
	}{
		{"-1h", "", 1},
		{hourAgo, "now", 1},
		{"", "-1h", 0},
		{"+1h", "", 0},
	} {
		status, ids := list(c.from, c.to)
		if status != 200 || len(ids) != c.want || (c.want == 1 && ids[0] != id) {
			t.Errorf("from=%q to=%q: %d %v, want %d alert(s)", c.from, c.to, status, ids, c.want)
		}
	}
	for _, c := range [][2]string{{"yesterday", ""}, {"", "soon"}, {"now", "-1h"}} {
		if status, _ := list(c[0], c[1]); status != 400 {
			t.Errorf("from=%q to=%q: %d, want 400", c[0], c[1], status)
		}
	}
}
