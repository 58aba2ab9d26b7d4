package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// savedRun is a saved search's schedule and last run as searches list
// --json prints them.
type savedRun struct {
	ID       int64 `json:"id"`
	Schedule *struct {
		Every string `json:"every"`
		Level string `json:"level"`
	} `json:"schedule"`
	LastRun *struct {
		Until   time.Time `json:"until"`
		At      time.Time `json:"at"`
		Found   int       `json:"found"`
		Members int       `json:"members"`
		Error   string    `json:"error"`
	} `json:"last_run"`
}

func (s *server) savedSearches(token string) []savedRun {
	s.t.Helper()
	var out []savedRun
	for line := range strings.Lines(s.mustCLI(token, "searches", "list", "--json")) {
		var r savedRun
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			s.t.Fatalf("searches list printed %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

// TestScheduledSearch: the provider's scheduled search runs, once saved,
// for every member over its window, and raises one alert per member with
// that member's events only; its run is recorded, and after a kill -9 the
// restarted server goes on from that record instead of searching the
// window again.
func TestScheduledSearch(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	s := startServer(t, data)
	s.addTenant("gwynedd")
	s.addTenant("powys")
	analyst := s.createToken("", "provider-analyst").Token
	now := time.Now().UTC()
	for member, hosts := range map[string][]string{"gwynedd": {"GW-DC1", "GW-DC1", "GW-DC1"}, "powys": {"PW-DC1", "PW-DC1"}} {
		var lines []string
		for i, h := range hosts {
			lines = append(lines, fmt.Sprintf(`{"@timestamp":%q,"message":"logon failed","event":{"code":"4625","outcome":"failure"},"host":{"name":%q},"user":{"name":"user%d"}}`,
				now.Add(-time.Duration(i+2)*time.Minute).Format(time.RFC3339), h, i))
		}
		// An event the search does not match, and one before the window.
		lines = append(lines, fmt.Sprintf(`{"@timestamp":%q,"message":"logon","event":{"code":"4624"},"host":{"name":"x"}}`, now.Add(-time.Minute).Format(time.RFC3339)),
			fmt.Sprintf(`{"@timestamp":%q,"message":"logon failed","event":{"code":"4625"},"host":{"name":"old"}}`, now.Add(-3*time.Hour).Format(time.RFC3339)))
		path := filepath.Join(dir, member+".jsonl")
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		s.mustCLI(s.createToken(member, "ingest").Token, "ingest", path)
	}

	out := s.mustCLI(analyst, "searches", "save", "--every", "1h", "--delay", "0s", "--threshold", "2", "--level", "high", "Failed logons", "event.code:4625")
	if !strings.Contains(out, "for every member") || !strings.Contains(out, "alerts list --tenant '*' --rule search:1") {
		t.Errorf("searches save printed %q", out)
	}
	var as []queueAlert
	for deadline := time.Now().Add(indexTimeout); len(as) < 2 && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		as = s.alertList(analyst, "--tenant", "*", "--producer", "search")
	}
	counts := map[string]int{}
	for _, a := range as {
		if a.RuleID != "search:1" || a.Level != "high" {
			t.Errorf("alert %+v: want rule search:1, level high", a)
		}
		if prefix := map[string]string{"gwynedd": "GW-", "powys": "PW-"}[a.Tenant]; !strings.HasPrefix(a.Host, prefix) {
			t.Errorf("%s's alert names host %s", a.Tenant, a.Host)
		}
		counts[a.Tenant] += a.Count
	}
	if len(as) != 2 || counts["gwynedd"] != 3 || counts["powys"] != 2 {
		t.Fatalf("the scheduled search's alerts: %+v (counts %v), want one per member of its 3 and 2 events", as, counts)
	}
	// The run is recorded once over: after its alerts are raised.
	ss := s.savedSearches(analyst)
	for deadline := time.Now().Add(10 * time.Second); len(ss) == 1 && ss[0].LastRun == nil && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		ss = s.savedSearches(analyst)
	}
	if len(ss) != 1 || ss[0].LastRun == nil || ss[0].LastRun.Found != 5 || ss[0].LastRun.Members != 2 || ss[0].LastRun.Error != "" {
		t.Fatalf("the search's record: %+v", ss)
	}
	first := *ss[0].LastRun

	// A crash, then a restart: the record says the next window is an hour
	// on. A second search scheduled after the restart runs at once, in the
	// same look over every scheduled search, which must leave the first
	// alone.
	s.kill9()
	s = startServer(t, data)
	s.mustCLI(analyst, "searches", "save", "--every", "1h", "--threshold", "10000", "Logons", "event.code:4624")
	for deadline := time.Now().Add(indexTimeout); ; time.Sleep(200 * time.Millisecond) {
		ss = s.savedSearches(analyst)
		if len(ss) == 2 && ss[0].LastRun != nil && ss[1].LastRun != nil || time.Now().After(deadline) {
			break
		}
	}
	// Listed by name: "Failed logons", then "Logons".
	if len(ss) != 2 || ss[0].ID != 1 || ss[1].LastRun == nil || ss[0].LastRun == nil || !ss[0].LastRun.At.Equal(first.At) || !ss[0].LastRun.Until.Equal(first.Until) {
		t.Errorf("after the restart: %+v, want the second search run and the first's record (%+v) kept", ss, first)
	}
	if as := s.alertList(analyst, "--tenant", "*", "--producer", "search"); len(as) != 2 {
		t.Errorf("after the restart: %d search alerts, want the 2", len(as))
	}
}
