package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/demo"
	"github.com/tarian-soc/tarian/internal/incident"
)

// demoPromise is how soon `tarian demo` promises its whole story.
const demoPromise = time.Minute

// TestDemoStory: within a minute of `tarian demo` starting, a newcomer
// sees alerts at every member, the phishing wave as one campaign across
// three members, the payload's site (shared afterwards) found by a
// retro-hunt at every member, the intrusion's case (escalated to Riverside), West
// Fire's firewall silent with a health alert while the others' keep
// sending, and a scorecard per member.
func TestDemoStory(t *testing.T) {
	data := filepath.Join(t.TempDir(), "demo-data")
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb lockedBuffer
	env := Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	done := make(chan int, 1)
	start := time.Now()
	go func() { done <- Run(ctx, []string{"demo", "--listen", "127.0.0.1:0", "--data", data}, env) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	base := ""
	for base == "" {
		if m := regexp.MustCompile(`export TARIAN_URL=(\S+)`).FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
		select {
		case code := <-done:
			done <- code
			t.Fatalf("demo exited %d\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Since(start) > demoPromise {
			t.Fatalf("demo did not say what to try within %s\nstdout: %s\nstderr: %s", demoPromise, out.String(), errb.String())
		}
	}
	tok, err := os.ReadFile(filepath.Join(data, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string, v any) error {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %d", path, resp.StatusCode)
		}
		return json.NewDecoder(resp.Body).Decode(v)
	}

	// missing says what of the story is not there yet ("" when all is).
	missing := func() string {
		var alerts struct {
			Alerts []struct {
				Tenant   string `json:"tenant"`
				Producer string `json:"producer"`
				RuleID   string `json:"rule_id"`
			} `json:"alerts"`
		}
		if err := get("/api/v1/alerts?tenant=*&limit=500", &alerts); err != nil {
			return err.Error()
		}
		members, producers, retro, searched := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
		silentAlert := false
		for _, a := range alerts.Alerts {
			members[a.Tenant] = true
			producers[a.Producer] = true
			silentAlert = silentAlert || a.Tenant == "west-fire" && a.Producer == "health" && strings.HasPrefix(a.RuleID, "health:silence:")
			switch a.Producer {
			case "retrohunt":
				retro[a.Tenant] = true
			case "search":
				searched[a.Tenant] = true
			}
		}
		// The scheduled search finds the backup deletions wherever the
		// intrusion got that far (Riverside at least).
		if !searched["riverside"] {
			return fmt.Sprintf("the scheduled search's alert at Riverside: %v", searched)
		}
		if len(members) != len(demo.Tenants) || !producers["sigma"] || !producers["intel"] {
			return fmt.Sprintf("alerts at every member from rules and intel: members %v, producers %v", members, producers)
		}
		if len(retro) != len(demo.Tenants) {
			return fmt.Sprintf("the partner's indicator found by a retro-hunt at every member: %v", retro)
		}
		var camps struct {
			Campaigns []struct {
				Value   string `json:"value"`
				Members int    `json:"members"`
			} `json:"campaigns"`
		}
		if err := get("/api/v1/campaigns", &camps); err != nil {
			return err.Error()
		}
		if !slices.ContainsFunc(camps.Campaigns, func(c struct {
			Value   string `json:"value"`
			Members int    `json:"members"`
		}) bool {
			return c.Members == 3 && strings.Contains(c.Value, demo.PhishDomain)
		}) {
			return fmt.Sprintf("a campaign of the phishing wave at three members: %+v", camps.Campaigns)
		}
		var cases struct {
			Cases []struct {
				ID        int64  `json:"id"`
				Tenant    string `json:"tenant"`
				Escalated any    `json:"escalated"`
			} `json:"cases"`
		}
		if err := get("/api/v1/cases?tenant=*", &cases); err != nil {
			return err.Error()
		}
		if len(cases.Cases) == 0 || cases.Cases[0].Tenant != "riverside" {
			return fmt.Sprintf("Riverside's case: %+v", cases.Cases)
		}
		var kase struct {
			Tasks []struct{ Title string } `json:"tasks"`
		}
		if err := get(fmt.Sprintf("/api/v1/cases/%d", cases.Cases[0].ID), &kase); err != nil {
			return err.Error()
		}
		if len(kase.Tasks) == 0 || kase.Tasks[0].Title != incident.DefaultTemplates()[1].Tasks[0] {
			return fmt.Sprintf("Riverside's case with the Ransomware template's tasks: %+v", kase.Tasks)
		}
		// The night shift picked its alerts up: their history says so.
		var picked struct {
			Alerts []struct {
				ID     int64  `json:"id"`
				Status string `json:"status"`
			} `json:"alerts"`
		}
		if err := get("/api/v1/alerts?tenant=riverside&assignee=analyst", &picked); err != nil {
			return err.Error()
		}
		if len(picked.Alerts) == 0 || picked.Alerts[0].Status != "in-progress" {
			return fmt.Sprintf("Riverside's case alerts assigned to the analyst: %+v", picked.Alerts)
		}
		var one struct {
			History []struct{ Verb, Actor string } `json:"history"`
		}
		if err := get(fmt.Sprintf("/api/v1/alerts/%d", picked.Alerts[0].ID), &one); err != nil {
			return err.Error()
		}
		if len(one.History) != 2 || one.History[0].Verb != "ack" || one.History[1].Verb != "assign" || one.History[0].Actor == "" {
			return fmt.Sprintf("the night shift's steps in the alert's history: %+v", one.History)
		}
		var srcs struct {
			Sources []struct {
				Tenant string `json:"tenant"`
				Name   string `json:"name"`
				State  string `json:"state"`
			} `json:"sources"`
		}
		if err := get("/api/v1/sources?tenant=*", &srcs); err != nil {
			return err.Error()
		}
		states := map[string]string{}
		for _, s := range srcs.Sources {
			if s.Name != "" {
				states[s.Name] = s.State
			}
		}
		if states["west-fire-firewall"] != "silent" || states["north-vale-firewall"] != "ok" || states["riverside-firewall"] != "ok" || !silentAlert {
			return fmt.Sprintf("West Fire's firewall silent (alerted: %v), the others ok: %v", silentAlert, states)
		}
		var saved struct {
			Searches []struct{ Name string } `json:"searches"`
		}
		if err := get("/api/v1/searches", &saved); err != nil {
			return err.Error()
		}
		if len(saved.Searches) != len(demo.SavedSearches()) {
			return fmt.Sprintf("the demo's saved searches: %+v", saved.Searches)
		}
		var cards struct {
			Scorecards []struct {
				Tenant string `json:"tenant"`
				Score  int    `json:"score"`
			} `json:"scorecards"`
		}
		if err := get("/api/v1/scorecard?tenant=*", &cards); err != nil {
			return err.Error()
		}
		if len(cards.Scorecards) != len(demo.Tenants) || cards.Scorecards[0].Score == 0 {
			return fmt.Sprintf("a scorecard per member: %+v", cards.Scorecards)
		}
		var rep struct {
			Alerts  int64 `json:"alerts"`
			Sources []struct {
				Name  string `json:"name"`
				State string `json:"state"`
			} `json:"sources"`
		}
		if err := get("/api/v1/reports?tenant=riverside&format=json&month="+time.Now().UTC().Format("2006-01"), &rep); err != nil {
			return err.Error()
		}
		if rep.Alerts == 0 || !slices.ContainsFunc(rep.Sources, func(s struct {
			Name  string `json:"name"`
			State string `json:"state"`
		}) bool {
			return s.Name == "riverside-firewall"
		}) {
			return fmt.Sprintf("Riverside's report with its alerts and sources: %+v", rep)
		}
		return ""
	}
	last := "not checked"
	for time.Since(start) < demoPromise {
		if last = missing(); last == "" {
			t.Logf("the demo's story was complete %s after it started", time.Since(start).Round(100*time.Millisecond))
			return
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("a minute after the demo started, still missing: %s\nstdout: %s", last, out.String())
}
