package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// TestSavedSearchesCLI: a member analyst saves a search (the query from
// stdin), lists it, runs it with search --saved (by name, any case) and
// gets its events, changes and deletes it; a viewer lists but cannot
// save; the provider keeps its own searches apart and runs a member's by
// naming the member.
func TestSavedSearchesCLI(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	s.AddTenant(t, "gwynedd")
	analyst := cmdEnv{url: s.URL, token: s.Token(t, "gwynedd", "tenant-analyst")}
	viewer := cmdEnv{url: s.URL, token: s.Token(t, "gwynedd", "tenant-viewer")}
	admin := cmdEnv{url: s.URL, token: servertest.AdminToken}
	var in strings.Builder
	for i, user := range []string{"alice", "bob", "alice"} {
		fmt.Fprintf(&in, `{"@timestamp":"%s","message":"failed logon","event":{"code":"4625"},"user":{"name":"%s"}}`+"\n", time.Now().UTC().Add(-time.Duration(i)*time.Minute).Format(time.RFC3339), user)
	}
	if code, _, errs := (cmdEnv{url: s.URL, token: s.Token(t, "gwynedd", "ingest")}).run(t, in.String(), "ingest"); code != 0 {
		t.Fatalf("ingest: %q", errs)
	}

	code, out, errs := analyst.run(t, "event.code:4625 | stats by (user.name) count() as n\n", "searches", "save", "--description", "spraying", "Failed logons by user", "-")
	if code != 0 || !strings.Contains(out, `saved search 1 "Failed logons by user" in gwynedd's searches`) {
		t.Fatalf("searches save: exit %d, %q, %q", code, out, errs)
	}
	if code, _, errs := viewer.run(t, "", "searches", "save", "mine", "*"); code != 1 || !strings.Contains(errs, "forbidden") {
		t.Errorf("a viewer saves: exit %d, %q", code, errs)
	}
	code, out, _ = viewer.run(t, "", "searches", "list")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != 2 || !strings.Contains(lines[1], "Failed logons by user") || !strings.Contains(lines[1], "event.code:4625 | stats") {
		t.Errorf("searches list: exit %d, %q", code, out)
	}

	// Run by name: the events' counts per user, once they are searchable.
	var got string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		code, got, errs = analyst.run(t, "", "search", "--saved", "failed LOGONS by user", "--json")
		if code != 0 {
			t.Fatalf("search --saved: exit %d, %q", code, errs)
		}
		if countsOf(t, got) == "alice=2 bob=1" || time.Now().After(deadline) {
			break
		}
	}
	if c := countsOf(t, got); c != "alice=2 bob=1" {
		t.Errorf("search --saved: %q (%s), want the saved query's counts", got, c)
	}
	if code, _, errs := analyst.run(t, "", "search", "--saved", "nothing like it"); code != 1 || !strings.Contains(errs, `no saved search named "nothing like it"`) {
		t.Errorf("an unknown saved search: exit %d, %q", code, errs)
	}
	if code, _, errs := analyst.run(t, "", "search", "--saved", "x", "*"); code != 2 || !strings.Contains(errs, "choose one") {
		t.Errorf("--saved and a query: exit %d, %q", code, errs)
	}

	// The provider's own space is apart; naming the member reaches its.
	if code, _, errs := admin.run(t, "", "searches", "list"); code != 0 || errs != "no saved searches\n" {
		t.Errorf("the provider's empty space: exit %d, %q", code, errs)
	}
	code, got, errs = admin.run(t, "", "search", "--tenant", "gwynedd", "--saved", "Failed logons by user", "--json")
	if code != 0 || countsOf(t, got) != "alice=2 bob=1" {
		t.Errorf("the provider runs the member's search: exit %d, %q, %q", code, got, errs)
	}

	if code, out, errs := analyst.run(t, "", "searches", "update", "1", "--name", "Spraying", "--query", "event.code:4625"); code != 0 || !strings.Contains(out, `"Spraying" updated`) {
		t.Errorf("searches update: exit %d, %q, %q", code, out, errs)
	}
	code, out, _ = analyst.run(t, "", "searches", "list", "--json")
	if code != 0 || !strings.Contains(out, `"name":"Spraying","query":"event.code:4625","description":"spraying"`) {
		t.Errorf("after the update: %q", out)
	}
	if code, _, errs := analyst.run(t, "", "searches", "update", "1"); code != 2 || !strings.Contains(errs, "nothing to change") {
		t.Errorf("an update with no change: exit %d, %q", code, errs)
	}
	if code, out, errs := analyst.run(t, "", "searches", "delete", "1"); code != 0 || !strings.Contains(out, `saved search 1 "Spraying" deleted`) {
		t.Errorf("searches delete: exit %d, %q, %q", code, out, errs)
	}
	if code, _, errs := analyst.run(t, "", "searches", "delete", "1"); code != 1 || !strings.Contains(errs, "not_found") {
		t.Errorf("deleted twice: exit %d, %q", code, errs)
	}
}

// countsOf reads search --json lines of user.name and n as "user=n ...",
// sorted.
func countsOf(t *testing.T, out string) string {
	t.Helper()
	var cs []string
	for line := range strings.Lines(out) {
		var row map[string]string
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("result line %q: %v", line, err)
		}
		cs = append(cs, row["user.name"]+"="+row["n"])
	}
	slices.Sort(cs)
	return strings.Join(cs, " ")
}

// TestScheduledSearchCLI: a search saved with --every runs at once over
// its window and raises an alert (producer search) from the member's
// events; the list shows its schedule and last run; --every 0 stops it;
// schedule flags without a schedule are refused.
func TestScheduledSearchCLI(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	s.AddTenant(t, "powys")
	s.AddTenant(t, "ceredigion")
	analyst := cmdEnv{url: s.URL, token: s.Token(t, "powys", "tenant-analyst")}
	var in strings.Builder
	for i := range 3 {
		fmt.Fprintf(&in, `{"@timestamp":"%s","message":"failed logon","event":{"code":"4625"},"host":{"name":"dc1"},"user":{"name":"u%d"}}`+"\n", time.Now().UTC().Add(-time.Duration(i+1)*time.Minute).Format(time.RFC3339), i)
	}
	for _, ten := range []string{"powys", "ceredigion"} {
		if code, _, errs := (cmdEnv{url: s.URL, token: s.Token(t, ten, "ingest")}).run(t, in.String(), "ingest"); code != 0 {
			t.Fatalf("ingest: %q", errs)
		}
	}
	if code, _, errs := analyst.run(t, "", "searches", "save", "--threshold", "2", "Spraying", "event.code:4625"); code != 2 || !strings.Contains(errs, "go with --every") {
		t.Errorf("--threshold without --every: exit %d, %q", code, errs)
	}
	code, out, errs := analyst.run(t, "", "searches", "save", "--every", "10m", "--delay", "0s", "--threshold", "2", "--level", "high", "--tags", "attack.t1110, attack.credential-access", "Spraying", "event.code:4625")
	if code != 0 || !strings.Contains(out, "it runs every 10m for its member (events up to 0s old), raising a high alert at 2 or more") || !strings.Contains(out, "tarian alerts list --rule search:1") {
		t.Fatalf("searches save --every: exit %d, %q, %q", code, out, errs)
	}
	var alerts []map[string]any
	for deadline := time.Now().Add(30 * time.Second); len(alerts) == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		code, out, errs = analyst.run(t, "", "alerts", "list", "--producer", "search", "--json")
		if code != 0 {
			t.Fatalf("alerts list: exit %d, %q", code, errs)
		}
		alerts = nil
		for line := range strings.Lines(out) {
			var a map[string]any
			if err := json.Unmarshal([]byte(line), &a); err != nil {
				t.Fatal(err)
			}
			alerts = append(alerts, a)
		}
	}
	if len(alerts) != 1 || alerts[0]["rule_id"] != "search:1" || alerts[0]["title"] != "Spraying" || alerts[0]["level"] != "high" || alerts[0]["count"] != float64(3) || fmt.Sprint(alerts[0]["tags"]) != "[attack.t1110 attack.credential-access]" {
		t.Fatalf("the scheduled search's alerts: %v, want one high alert of 3 events, with its tags", alerts)
	}
	code, out, _ = analyst.run(t, "", "searches", "list")
	if code != 0 || !strings.Contains(out, "every 10m, >=2, high") || !strings.Contains(out, "3 found, 1 alerted") {
		t.Errorf("searches list: %q, want the schedule and the last run", out)
	}
	if code, out, _ := (cmdEnv{url: s.URL, token: s.Token(t, "ceredigion", "tenant-analyst")}).run(t, "", "alerts", "list", "--producer", "search", "--json"); code != 0 || out != "" {
		t.Errorf("another member's queue has the search's alert: %q", out)
	}
	if code, out, errs := analyst.run(t, "", "searches", "update", "1", "--every", "0"); code != 0 || !strings.Contains(out, "no longer runs on its own") {
		t.Errorf("update --every 0: exit %d, %q, %q", code, out, errs)
	}
	if code, out, _ := analyst.run(t, "", "searches", "list", "--json"); code != 0 || strings.Contains(out, `"schedule"`) {
		t.Errorf("after --every 0: %q", out)
	}
}
