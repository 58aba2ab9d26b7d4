package server_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/detector"
	"github.com/tarian-soc/tarian/internal/health"
	"github.com/tarian-soc/tarian/internal/onboard"
	"github.com/tarian-soc/tarian/internal/parse"
	"github.com/tarian-soc/tarian/internal/savedsearch"
	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// A Sysmon process creation (Winlogbeat's shape) from host ws-1.
const sysmonEvent = `{"@timestamp":"2026-12-05T08:20:10Z","message":"Process Create","host":{"name":"ws-1"},` +
	`"event":{"code":"1","module":"sysmon"},"winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","event_id":1,` +
	`"event_data":{"Image":"C:\\Windows\\System32\\notepad.exe","CommandLine":"notepad.exe"}}}`

// TestSourceHealthAndScorecard drives a whole server: a member's events
// make a source with its declared name, the firewall it declared but never
// sent waits, another member sees none of it, and the scorecard counts
// declared against heard and finds the techniques the member is blind to
// (rules whose log source never arrived) and what to connect next.
type reportSource struct {
	Name     string    `json:"name"`
	Host     string    `json:"host"`
	State    string    `json:"state"`
	Events   int64     `json:"events"`
	LastSeen time.Time `json:"last_seen"`
}

func TestSourceHealthAndScorecard(t *testing.T) {
	cfg := servertest.Config(t.TempDir())
	cfg.Sources = []parse.Source{
		{Name: "a-endpoints", Tenant: "council-a", Receiver: "http", Type: "auto"},
		{Name: "a-firewall", Tenant: "council-a", Receiver: "syslog", Type: "fortigate", Silence: 15 * time.Minute},
	}
	s := servertest.Start(t, cfg)
	s.AddTenant(t, "council-a")
	s.AddTenant(t, "council-b")
	rules := []detector.ImportFile{
		{Name: "notepad.yml", Data: []byte("title: notepad\nid: 0c0c0c0c-1111-4222-8333-444444444401\nlogsource: {product: windows, category: process_creation}\n" +
			"detection:\n  sel: {Image|endswith: '\\notepad.exe'}\n  condition: sel\nlevel: low\ntags: [attack.execution, attack.t1059]\n")},
		{Name: "fw.yml", Data: []byte("title: denied burst\nid: 0c0c0c0c-1111-4222-8333-444444444402\nlogsource: {category: firewall}\n" +
			"detection:\n  sel: {action: deny}\n  condition: sel\nlevel: low\ntags: [attack.discovery, attack.t1046]\n")},
	}
	var imported detector.ImportResult
	s.JSON(t, http.MethodPost, "/api/v1/rules", servertest.AdminToken, map[string]any{"files": rules}, &imported)
	if imported.Active != 2 {
		t.Fatalf("rules: %+v", imported)
	}
	if status, b := s.Do(t, http.MethodPost, "/api/v1/ingest", s.Token(t, "council-a", "ingest"), []byte(sysmonEvent+"\n"+sysmonEvent+"\n{bad json\n")); status != http.StatusOK {
		t.Fatalf("ingest: %d %s", status, b)
	}

	analyst := s.Token(t, "council-a", "tenant-analyst")
	var list struct {
		Sources []health.Source `json:"sources"`
	}
	endpoints := func() *health.Source {
		for i, src := range list.Sources {
			if src.Name == "a-endpoints" && src.Events > 0 {
				return &list.Sources[i]
			}
		}
		return nil
	}
	for deadline := time.Now().Add(20 * time.Second); endpoints() == nil && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		s.JSON(t, http.MethodGet, "/api/v1/sources", analyst, nil, &list)
	}
	ep := endpoints()
	if ep == nil {
		t.Fatalf("the endpoints source never appeared: %+v", list.Sources)
	}
	if ep.Events != 2 || ep.Host != "ws-1" || ep.Receiver != "http" || ep.State != health.StateOK || !ep.Declared || ep.LastSeen.IsZero() {
		t.Fatalf("endpoints source: %+v", *ep)
	}
	var waiting, dead bool
	for _, src := range list.Sources {
		if src.Tenant != "council-a" {
			t.Fatalf("council-a sees another tenant's source: %+v", src)
		}
		waiting = waiting || src.Name == "a-firewall" && src.State == health.StateWaiting && src.SilenceSeconds == 900
		dead = dead || src.Receiver == "http" && src.Host == "" && src.DeadLetters == 1
	}
	if !waiting || !dead {
		t.Fatalf("want the firewall waiting and the bad line counted: %+v", list.Sources)
	}

	// Another member sees nothing of council-a's, even by asking.
	other := s.Token(t, "council-b", "tenant-admin")
	var bList struct {
		Sources []health.Source `json:"sources"`
	}
	s.JSON(t, http.MethodGet, "/api/v1/sources", other, nil, &bList)
	if len(bList.Sources) != 0 {
		t.Fatalf("council-b sees sources: %+v", bList.Sources)
	}
	if status, _ := s.Do(t, http.MethodGet, "/api/v1/sources?tenant=council-a", other, nil); status != http.StatusForbidden {
		t.Fatalf("council-b asking for council-a's sources: %d, want 403", status)
	}
	if status, _ := s.Do(t, http.MethodGet, "/api/v1/scorecard?tenant=council-a", other, nil); status != http.StatusForbidden {
		t.Fatalf("council-b asking for council-a's scorecard: %d, want 403", status)
	}

	var sc struct {
		Scorecards []onboard.Scorecard `json:"scorecards"`
	}
	s.JSON(t, http.MethodGet, "/api/v1/scorecard", analyst, nil, &sc)
	if len(sc.Scorecards) != 1 {
		t.Fatalf("scorecards: %+v", sc)
	}
	card := sc.Scorecards[0]
	if card.Tenant != "council-a" || card.Sources.Declared != 2 || card.Sources.Heard != 1 || !slices.Equal(card.Sources.Waiting, []string{"a-firewall"}) {
		t.Fatalf("scorecard sources: %+v", card.Sources)
	}
	c := card.Coverage
	if c.RulesEnabled != 2 || c.RulesFed != 1 || c.Covered != 1 || c.Blind != 1 || !slices.Contains(c.Seen, "windows/process_creation") {
		t.Fatalf("coverage: %+v", c)
	}
	if len(c.Next) != 1 || c.Next[0].Source != "firewall" || !slices.Equal(c.Next[0].Techniques, []string{"T1046"}) {
		t.Fatalf("what to connect next: %+v", c.Next)
	}
	if card.Score != 50 || len(card.Next) < 2 {
		t.Fatalf("score %d, next %q", card.Score, card.Next)
	}

	// The member's monthly report lists the source with the month's events.
	var rep struct {
		Sources []reportSource `json:"sources"`
	}
	s.JSON(t, http.MethodGet, "/api/v1/reports?format=json&month="+time.Now().UTC().Format("2006-01"), analyst, nil, &rep)
	states := map[string]string{}
	for _, src := range rep.Sources {
		states[src.Name] = src.State
		if src.Name == "a-endpoints" && (src.Host != "ws-1" || src.Events != 2) {
			t.Fatalf("report source: %+v", src)
		}
	}
	if states["a-endpoints"] != "ok" || states["a-firewall"] != "waiting" {
		t.Fatalf("report sources: %+v", rep.Sources)
	}
	// Last month's report: both declared sources had sent nothing by its
	// end (the endpoints were first heard this month); an undeclared
	// source first heard this month is not in it.
	ingest := s.Token(t, "council-a", "ingest")
	if status, body := s.Do(t, "POST", "/api/v1/ingest", ingest, []byte(`{"message":"hello","host.name":"stray-1"}`)); status != http.StatusOK {
		t.Fatalf("ingest: %d %s", status, body)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		rep.Sources = nil
		s.JSON(t, http.MethodGet, "/api/v1/reports?format=json&month="+time.Now().UTC().Format("2006-01"), analyst, nil, &rep)
		if slices.ContainsFunc(rep.Sources, func(src reportSource) bool { return src.Host == "stray-1" }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("this month's report lacks the source stray-1: %+v", rep.Sources)
		}
	}
	rep.Sources = nil
	s.JSON(t, http.MethodGet, "/api/v1/reports?format=json&month="+time.Now().UTC().AddDate(0, -1, 0).Format("2006-01"), analyst, nil, &rep)
	if len(rep.Sources) != 2 || rep.Sources[0].State != "waiting" || rep.Sources[1].State != "waiting" || !rep.Sources[0].LastSeen.IsZero() {
		t.Fatalf("last month's report sources: %+v", rep.Sources)
	}

	// A provider sees both members, each scoped.
	var all struct {
		Scorecards []onboard.Scorecard `json:"scorecards"`
	}
	s.JSON(t, http.MethodGet, "/api/v1/scorecard?tenant=*", servertest.AdminToken, nil, &all)
	if len(all.Scorecards) != 2 || all.Scorecards[1].Coverage.RulesFed != 0 || all.Scorecards[1].Sources.Declared != 0 {
		t.Fatalf("provider scorecards: %+v", all.Scorecards)
	}

	// A scheduled search covers the techniques its tags name at the
	// members it runs over: council-b's own search at council-b alone.
	save := func(token, name string, tags ...string) {
		s.JSON(t, http.MethodPost, "/api/v1/searches", token, savedsearch.Request{Name: name, Query: "event.action:deny",
			Schedule: &savedsearch.Schedule{Every: savedsearch.Duration(time.Hour), Threshold: 1, Level: "high", Tags: tags}}, nil)
	}
	save(s.Token(t, "council-b", "tenant-admin"), "b's scans", "attack.discovery", "attack.t1046")
	coverage := func(token, scope string) detector.Coverage {
		var sc struct {
			Scorecards []onboard.Scorecard `json:"scorecards"`
		}
		s.JSON(t, http.MethodGet, "/api/v1/scorecard"+scope, token, nil, &sc)
		if len(sc.Scorecards) != 1 {
			t.Fatalf("scorecards%s: %+v", scope, sc.Scorecards)
		}
		return sc.Scorecards[0].Coverage
	}
	if c := coverage(analyst, ""); c.Searches != 0 || c.Covered != 1 || c.Blind != 1 {
		t.Fatalf("council-a's coverage with council-b's search: %+v", c)
	}
	if c := coverage(servertest.AdminToken, "?tenant=council-b"); c.Searches != 1 || c.Covered != 1 || c.Blind != 1 ||
		!slices.ContainsFunc(c.Techniques, func(tc detector.Technique) bool { return tc.ID == "T1046" && tc.Searches == 1 && !tc.Blind() }) {
		t.Fatalf("council-b's coverage with its search: %+v", c)
	}
	// The provider's runs over every member: council-a's blind technique
	// is covered, another is added, and connecting the firewall no longer
	// promises one.
	save(servertest.AdminToken, "scans and exfiltration", "attack.t1046", "attack.t1567")
	c = coverage(analyst, "")
	if c.Searches != 1 || c.Covered != 3 || c.Blind != 0 || len(c.Next) != 1 || len(c.Next[0].Techniques) != 0 {
		t.Fatalf("council-a's coverage with the provider's search: %+v", c)
	}
	for _, tc := range c.Techniques {
		if tc.Blind() || tc.ID == "T1567" && (tc.Searches != 1 || tc.Rules != 0) {
			t.Fatalf("council-a's techniques: %+v", c.Techniques)
		}
	}
}
