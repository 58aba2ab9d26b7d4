package web_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// TestAssetAuditKeepsBefore: a member admin's change of an asset's
// criticality is audited with what it was, so the trail shows a critical
// server made normal as a downgrade, not as a fresh setting.
func TestAssetAuditKeepsBefore(t *testing.T) {
	w := newCaseWorld(t)
	admin := w.tokens["a/tenant-admin"]
	set := func(c string) {
		t.Helper()
		w.s.JSON(t, "PUT", "/api/v1/assets", admin, map[string]any{"type": "host", "name": "DC01", "criticality": c}, nil)
	}
	set("critical")
	set("normal")
	var out struct {
		Records []struct{ Action, Detail string }
	}
	w.s.JSON(t, "GET", "/api/v1/audit?limit=100", admin, nil, &out)
	var befores []any
	for i := len(out.Records) - 1; i >= 0; i-- { // oldest first
		r := out.Records[i]
		if r.Action != "asset.set" {
			continue
		}
		var d struct{ Before, After map[string]any }
		if err := json.Unmarshal([]byte(r.Detail), &d); err != nil {
			t.Fatal(err)
		}
		befores = append(befores, d.Before["criticality"])
	}
	if fmt.Sprint(befores) != "[<nil> critical]" {
		t.Errorf("asset.set befores %v, want [<nil> critical]", befores)
	}
}

// TestSuppressionByECSHostName: a member admin suppresses a rule's alerts
// for one host naming the field as it searches events (host.name); the
// detections of that host stop and are counted, the others' still alert.
func TestSuppressionByECSHostName(t *testing.T) {
	w := newCaseWorld(t)
	var res map[string]any
	w.s.JSON(t, "POST", "/api/v1/rules", servertest.AdminToken, map[string]any{"files": []map[string]any{{"name": "certutil.yml", "data": []byte(caseRule)}}}, &res)
	var s struct{ ID int64 }
	w.s.JSON(t, "POST", "/api/v1/suppressions", w.tokens["a/tenant-admin"], map[string]any{
		"rule_id": "0c6a3f7e-0000-4000-8000-0000000ca5e1", "where": []map[string]string{{"field": "host.name", "value": "PC-QUIET"}}, "reason": "patching"}, &s)
	w.ingest(t, "a", caseEvent("pc-quiet", `COUNCIL\alice`, 1))
	w.ingest(t, "a", caseEvent("pc-loud", `COUNCIL\bob`, 2))
	w.alertOf(t, "tenant-a")
	deadline := time.Now().Add(30 * time.Second)
	for {
		var alerts struct{ Alerts []struct{ Host string } }
		w.s.JSON(t, "GET", "/api/v1/alerts", w.tokens["a/tenant-analyst"], nil, &alerts)
		var supps struct {
			Suppressions []struct {
				Hits      int64
				RuleTitle string `json:"rule_title"`
			}
		}
		w.s.JSON(t, "GET", "/api/v1/suppressions", w.tokens["a/tenant-analyst"], nil, &supps)
		hits := int64(-1)
		if len(supps.Suppressions) == 1 {
			hits = supps.Suppressions[0].Hits
			if title := supps.Suppressions[0].RuleTitle; title != "certutil run" {
				t.Fatalf("the suppression's rule_title %q, want the rule's title", title)
			}
		}
		if len(alerts.Alerts) == 1 && alerts.Alerts[0].Host == "pc-loud" && hits == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("alerts %+v, suppression hits %d: want pc-loud's alert alone and 1 hit", alerts.Alerts, hits)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSuppressionTitlesOtherProducers: a suppression of a rule the
// detector does not run (a scheduled search's) is named by the title of
// the rule's latest alert; one of a rule that never alerted has none.
func TestSuppressionTitlesOtherProducers(t *testing.T) {
	w := newCaseWorld(t)
	w.ingest(t, "a", caseEvent("pc-1", `COUNCIL\alice`, 1))
	// A window ends at a whole second: the event, timed now, is in the
	// first run's once that second has passed.
	time.Sleep(1100 * time.Millisecond)
	var s struct{ ID int64 }
	w.s.JSON(t, "POST", "/api/v1/searches", w.tokens["a/tenant-analyst"], map[string]any{
		"name": "certutil downloads", "query": "certutil", "schedule": map[string]any{"every": "1h", "delay": "0s"}}, &s)
	w.alertOf(t, "tenant-a")
	admin := w.tokens["a/tenant-admin"]
	for _, rule := range []string{fmt.Sprintf("search:%d", s.ID), "search:999"} {
		w.s.JSON(t, "POST", "/api/v1/suppressions", admin, map[string]any{"rule_id": rule, "reason": "known"}, nil)
	}
	var supps struct {
		Suppressions []struct {
			RuleID    string `json:"rule_id"`
			RuleTitle string `json:"rule_title"`
		}
	}
	w.s.JSON(t, "GET", "/api/v1/suppressions", admin, nil, &supps)
	titles := map[string]string{}
	for _, sp := range supps.Suppressions {
		titles[sp.RuleID] = sp.RuleTitle
	}
	if want := map[string]string{fmt.Sprintf("search:%d", s.ID): "certutil downloads", "search:999": ""}; fmt.Sprint(titles) != fmt.Sprint(want) {
		t.Errorf("rule titles %v, want %v", titles, want)
	}
}
