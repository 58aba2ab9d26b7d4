package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sysmonEvent is one Sysmon event of the given id with its event data.
func sysmonEvent(id int, host string, at time.Time, n int, data map[string]any) string {
	b, _ := json.Marshal(map[string]any{"Event": map[string]any{
		"System": map[string]any{"EventID": id, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": host, "EventRecordID": n,
			"Provider":    map[string]any{"#attributes": map[string]any{"Name": "Microsoft-Windows-Sysmon"}},
			"TimeCreated": map[string]any{"#attributes": map[string]any{"SystemTime": at.Format(time.RFC3339Nano)}}},
		"EventData": data,
	}})
	return string(b)
}

func (s *server) ingestLines(token string, lines ...string) {
	s.t.Helper()
	f := filepath.Join(s.t.TempDir(), "events.jsonl")
	if err := os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		s.t.Fatal(err)
	}
	s.mustCLI(token, "ingest", f)
}

// waitAlerts polls tenant's queue until want(alerts) holds.
func (s *server) waitAlerts(token, tenant string, what string, want func([]queueAlert) bool) []queueAlert {
	s.t.Helper()
	deadline := time.Now().Add(indexTimeout)
	for {
		as := s.alertList(token, "--tenant", tenant)
		if want(as) {
			return as
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: alerts of %s are %+v", what, tenant, as)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func producers(as []queueAlert) map[string]int {
	m := map[string]int{}
	for _, a := range as {
		m[a.Producer+" "+a.RuleID]++
	}
	return m
}

// TestIntelEndToEnd: an indicator added through the CLI alerts on an
// event ingested after it (real time) and on one stored a day before
// (retro-hunt), for the members it applies to only; a member's TLP:RED
// indicator never matches, shows or exports for another member.
func TestIntelEndToEnd(t *testing.T) {
	s := startServer(t, t.TempDir())
	s.addTenant("gwynedd")
	s.addTenant("powys")
	ingestG := s.createToken("gwynedd", "ingest").Token
	ingestP := s.createToken("powys", "ingest").Token
	analyst := s.createToken("", "provider-analyst").Token
	memberG := s.createToken("gwynedd", "tenant-analyst").Token
	memberP := s.createToken("powys", "tenant-analyst").Token

	// A day ago, both members resolved the same name.
	dayAgo := time.Now().UTC().Add(-24 * time.Hour)
	dns := func(host, name string, at time.Time, n int) string {
		return sysmonEvent(22, host, at, n, map[string]any{"QueryName": name, "Image": `C:\Windows\explorer.exe`, "User": `CORP\eve`})
	}
	s.ingestLines(ingestG, dns("G-WS1", "cdn.retro-evil.example", dayAgo, 1))
	s.ingestLines(ingestP, dns("P-WS1", "cdn.retro-evil.example", dayAgo, 1))
	s.waitDetected()
	if as := s.alertList(analyst, "--tenant", "*"); len(as) != 0 {
		t.Fatalf("alerts before any indicator: %+v", as)
	}

	// A provider indicator for gwynedd alone: the retro-hunt finds
	// gwynedd's day-old event, not powys'.
	out := s.mustCLI(analyst, "intel", "add", "domain", "Retro-Evil.Example.", "--audience", "gwynedd", "--confidence", "90", "--name", "retro test")
	if !strings.Contains(out, "domain retro-evil.example") {
		t.Fatalf("intel add printed %q, want the normalised value", out)
	}
	retroID := strings.Fields(out)[1]
	as := s.waitAlerts(analyst, "gwynedd", "retro-hunt", func(as []queueAlert) bool { return len(as) == 1 })
	if a := as[0]; a.Producer != "retrohunt" || a.RuleID != "intel:"+retroID || a.Level != "critical" || a.Host != "G-WS1" {
		t.Errorf("retro-hunt alert = %+v", a)
	}
	// A hunt is recorded done once over: after its alerts are raised.
	hunts := s.mustCLI(analyst, "intel", "hunts", "--indicator", retroID, "--json")
	for deadline := time.Now().Add(10 * time.Second); strings.Contains(hunts, `"status":"running"`) && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		hunts = s.mustCLI(analyst, "intel", "hunts", "--indicator", retroID, "--json")
	}
	if !strings.Contains(hunts, `"status":"done"`) || !strings.Contains(hunts, `"hits":1`) || strings.Contains(hunts, "powys") {
		t.Errorf("hunts = %s", hunts)
	}
	// The length of the queue (every member's indicators) is the
	// provider's to see; a member's answer has none.
	for _, c := range []struct {
		token string
		want  bool
	}{{analyst, true}, {memberP, false}} {
		st, _, b := s.do("GET", "/api/v1/intel/hunts", c.token, nil)
		var got map[string]any
		if st != 200 || json.Unmarshal(b, &got) != nil {
			t.Fatalf("GET /api/v1/intel/hunts: %d %s", st, b)
		}
		if _, has := got["queued"]; has != c.want {
			t.Errorf("queued in the answer: %v, want %v (%s)", has, c.want, b)
		}
	}

	// A provider indicator for all: an event one second later alerts.
	out = s.mustCLI(analyst, "intel", "add", "ipv4", "203.0.113.50", "--tlp", "green")
	liveID := strings.Fields(out)[1]
	time.Sleep(time.Second)
	conn := func(host, ip string, n int) string {
		return sysmonEvent(3, host, time.Now().UTC(), n, map[string]any{"DestinationIp": ip, "DestinationPort": 443, "Image": `C:\x\beacon.exe`, "User": `CORP\eve`})
	}
	s.ingestLines(ingestP, conn("P-WS2", "203.0.113.50", 2))
	as = s.waitAlerts(memberP, "powys", "real time", func(as []queueAlert) bool { return len(as) == 1 })
	if a := as[0]; a.Producer != "intel" || a.RuleID != "intel:"+liveID || a.Host != "P-WS2" {
		t.Errorf("real-time alert = %+v", a)
	}
	shown := s.mustCLI(memberP, "intel", "show", liveID, "--json")
	if !strings.Contains(shown, `"tenant":"powys"`) || !strings.Contains(shown, `"count":1`) {
		t.Errorf("powys' sighting of %s: %s", liveID, shown)
	}

	// gwynedd's own TLP:RED indicator: matches gwynedd only, and powys
	// cannot see, list or export it.
	out = s.mustCLI(memberG, "intel", "add", "domain", "red-secret.example", "--tlp", "red")
	redID := strings.Fields(out)[1]
	s.ingestLines(ingestP, dns("P-WS3", "red-secret.example", time.Now().UTC(), 3))
	s.ingestLines(ingestG, dns("G-WS3", "red-secret.example", time.Now().UTC(), 3))
	s.waitAlerts(memberG, "gwynedd", "red at gwynedd", func(as []queueAlert) bool { return producers(as)["intel intel:"+redID] == 1 })
	s.waitDetected()
	for _, a := range s.alertList(analyst, "--tenant", "powys") {
		if a.RuleID == "intel:"+redID {
			t.Errorf("gwynedd's TLP:RED indicator alerted at powys: %+v", a)
		}
	}
	if r := s.cli(memberP, "intel", "show", redID); r.code == 0 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("powys shows gwynedd's red indicator: %+v", r)
	}
	if l := s.mustCLI(memberP, "intel", "list", "--json"); strings.Contains(l, redID) || strings.Contains(l, "red-secret") || strings.Contains(l, retroID) {
		t.Errorf("powys lists another member's indicators: %s", l)
	}
	if l := s.mustCLI(memberG, "intel", "list", "--json"); !strings.Contains(l, redID) || !strings.Contains(l, retroID) || !strings.Contains(l, liveID) {
		t.Errorf("gwynedd's list lacks its indicators: %s", l)
	}
	// A lookup by value (normalised as the type's are), within what the
	// reader may see; a value without its type is refused.
	byValue := func(token, q string) (int, string) {
		st, _, b := s.do("GET", "/api/v1/intel/indicators?"+q, token, nil)
		return st, string(b)
	}
	if st, b := byValue(memberG, "type=domain&value=RETRO-EVIL.example."); st != 200 || !strings.Contains(b, retroID) || strings.Contains(b, liveID) {
		t.Errorf("gwynedd's lookup of retro-evil.example: %d %s", st, b)
	}
	if st, b := byValue(memberP, "type=domain&value=retro-evil.example"); st != 200 || strings.Contains(b, retroID) {
		t.Errorf("powys' lookup finds gwynedd's indicator: %d %s", st, b)
	}
	if st, b := byValue(memberG, "value=retro-evil.example"); st != 400 {
		t.Errorf("a value without a type: %d %s", st, b)
	}
	if b := s.mustCLI(memberP, "intel", "export"); strings.Contains(b, redID) || strings.Contains(b, "red-secret") || !strings.Contains(b, liveID) {
		t.Errorf("powys' export: want the shared indicator only, got %s", b)
	}
	if b := s.mustCLI(memberG, "intel", "export"); !strings.Contains(b, redID) || !strings.Contains(b, `"type": "bundle"`) && !strings.Contains(b, `"type":"bundle"`) {
		t.Errorf("gwynedd's export lacks its own indicator: %s", b)
	}
	if r := s.cli(memberP, "intel", "revoke", redID); r.code == 0 {
		t.Errorf("powys revoked gwynedd's indicator: %+v", r)
	}

	// powys names gwynedd's indicator and the provider's in a STIX bundle
	// of its own, revoked and dated far ahead: it gets copies of its own,
	// and takes neither.
	hijack := func(id, pattern string) string {
		return `{"type":"indicator","spec_version":"2.1","id":"` + id + `","created":"2026-01-01T00:00:00.000Z","modified":"2099-01-01T00:00:00.000Z",` +
			`"pattern":"` + pattern + `","pattern_type":"stix","valid_from":"2026-01-01T00:00:00.000Z","revoked":true}`
	}
	bundle := filepath.Join(t.TempDir(), "hijack.json")
	if err := os.WriteFile(bundle, []byte(`{"type":"bundle","id":"bundle--61111111-1111-4111-8111-111111111111","objects":[`+
		hijack(redID, "[domain-name:value = 'red-secret.example']")+`,`+hijack(liveID, "[ipv4-addr:value = '203.0.113.50']")+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := s.mustCLI(memberP, "intel", "import", bundle); !strings.Contains(out, "2 indicators imported, 0 updated") {
		t.Errorf("powys' import of other owners' IDs printed %q, want both imported as its own", out)
	}
	if shown := s.mustCLI(memberG, "intel", "show", redID, "--json"); !strings.Contains(shown, `"owner":"gwynedd"`) || strings.Contains(shown, `"revoked":true`) {
		t.Errorf("gwynedd's red indicator after powys' import: %s", shown)
	}
	if shown := s.mustCLI(analyst, "intel", "show", liveID, "--json"); strings.Contains(shown, `"owner"`) || strings.Contains(shown, `"revoked":true`) {
		t.Errorf("the provider's indicator after powys' import: %s", shown)
	}
	if l := s.mustCLI(memberP, "intel", "list", "--revoked", "--json"); strings.Contains(l, redID) || !strings.Contains(l, `"owner":"powys"`) {
		t.Errorf("powys' list after its import: %s", l)
	}
	s.ingestLines(ingestG, dns("G-WS5", "red-secret.example", time.Now().UTC(), 5))
	s.waitAlerts(memberG, "gwynedd", "red at gwynedd after powys' import", func(as []queueAlert) bool { return producers(as)["intel intel:"+redID] == 2 })

	// Revocation stops matching at once.
	s.mustCLI(analyst, "intel", "revoke", liveID)
	s.ingestLines(ingestG, conn("G-WS4", "203.0.113.50", 4))
	s.waitDetected()
	for _, a := range s.alertList(analyst, "--tenant", "gwynedd") {
		if a.RuleID == "intel:"+liveID {
			t.Errorf("a revoked indicator alerted: %+v", a)
		}
	}
}

// TestIntelImportExport imports the corpus' MISP feed and STIX bundles
// through the CLI, exports them, and imports the export into a second
// server: nothing lost, nothing duplicated; a warning-listed value does not
// alert.
func TestIntelImportExport(t *testing.T) {
	corpus := os.Getenv("TARIAN_CORPUS")
	if corpus == "" {
		t.Skip("TARIAN_CORPUS is not set: the intel corpus import test did not run")
	}
	intelDir := filepath.Join(corpus, "intel")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tarian.yaml")
	if err := os.WriteFile(cfg, []byte("intel:\n  warninglists: ["+filepath.Join(intelDir, "warninglists", "lists")+"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServerWith(t, filepath.Join(dir, "data"), []string{"--config", cfg})
	s.addTenant("gwynedd")
	analyst := s.createToken("", "provider-analyst").Token

	out := s.mustCLI(analyst, "intel", "import", "--tlp", "green", filepath.Join(intelDir, "misp", "feed-circl-osint"))
	if !strings.Contains(out, "5 files: 469 indicators imported") {
		t.Errorf("MISP feed import: %s", out)
	}
	// Importing it again changes nothing.
	if out := s.mustCLI(analyst, "intel", "import", "--tlp", "green", filepath.Join(intelDir, "misp", "feed-circl-osint")); !strings.Contains(out, "0 indicators imported, 0 updated, 469 unchanged") {
		t.Errorf("second MISP import: %s", out)
	}
	bundles, _ := filepath.Glob(filepath.Join(intelDir, "stix", "examples", "*.json"))
	out = s.mustCLI(analyst, append([]string{"intel", "import", "--json"}, bundles...)...)
	var sum struct {
		Imported int `json:"imported"`
		Objects  int `json:"objects"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.Imported == 0 || sum.Objects == 0 {
		t.Fatalf("STIX import: %s (%v)", out, err)
	}

	// A warning-listed value never alerts, and says why.
	if out := s.mustCLI(analyst, "intel", "add", "ipv4", "8.8.8.8"); !strings.Contains(out, "warning list") {
		t.Errorf("adding a public resolver: %s", out)
	}
	ingest := s.createToken("gwynedd", "ingest").Token
	s.ingestLines(ingest, sysmonEvent(3, "G-1", time.Now().UTC(), 1, map[string]any{"DestinationIp": "8.8.8.8", "DestinationPort": 53}))
	s.waitDetected()
	if as := s.alertList(analyst, "--tenant", "gwynedd"); len(as) != 0 {
		t.Errorf("a warning-listed value alerted: %+v", as)
	}

	// Export, then import into an empty server: the same indicators.
	export := filepath.Join(dir, "export.json")
	if err := os.WriteFile(export, []byte(s.mustCLI(analyst, "intel", "export")), 0o600); err != nil {
		t.Fatal(err)
	}
	list := func(s *server) map[string]bool {
		ids := map[string]bool{}
		for line := range strings.SplitSeq(strings.TrimSpace(s.mustCLI(adminToken, "intel", "list", "--limit", "100000", "--json")), "\n") {
			var i struct{ ID string }
			if err := json.Unmarshal([]byte(line), &i); err != nil {
				t.Fatalf("list line %q: %v", line, err)
			}
			if ids[i.ID] {
				t.Errorf("indicator %s listed twice", i.ID)
			}
			ids[i.ID] = true
		}
		return ids
	}
	before := list(s)
	s2 := startServer(t, filepath.Join(dir, "data2"))
	out = s2.mustCLI(adminToken, "intel", "import", export)
	after := list(s2)
	if len(after) != len(before) {
		t.Errorf("round trip: %d indicators exported, %d imported (%s)", len(before), len(after), out)
	}
	for id := range before {
		if !after[id] {
			t.Errorf("round trip lost %s", id)
		}
	}
	// And again: nothing new.
	if out := s2.mustCLI(adminToken, "intel", "import", export); !strings.Contains(out, " 0 indicators imported, 0 updated") {
		t.Errorf("re-importing the export: %s", out)
	}
}
