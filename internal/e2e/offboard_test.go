package e2e

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// agedLines are events of tenant tn tagged tag, one per age, with the IDs
// <tn>-<name>.
func agedLines(tn, tag string, ages map[string]time.Duration) []string {
	var lines []string
	for name, age := range ages {
		b, _ := json.Marshal(map[string]any{"@timestamp": time.Now().Add(-age).UTC().Format(time.RFC3339Nano),
			"message": tag + " " + name, "tag": tag, "event.id": tn + "-" + name, "host.name": "H1"})
		lines = append(lines, string(b))
	}
	return lines
}

// eventIDs returns the event.id of every event of tenant tn tagged tag.
func (s *server) eventIDs(token, tn, tag string) []string {
	s.t.Helper()
	var ids []string
	for _, row := range s.searchRows(token, tn, "tag:"+tag, 1000) {
		ids = append(ids, row["event.id"])
	}
	slices.Sort(ids)
	return ids
}

// TestRetentionDeletesExactlyExpired: with 30 days for gwynedd only, a
// retention run deletes exactly gwynedd's events older than 30 days;
// gwynedd's newer ones and every one of powys stay. Ages are set by the
// events' own times (no waiting): the clock is the events'.
func TestRetentionDeletesExactlyExpired(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tarian.yaml")
	if err := os.WriteFile(cfg, []byte("retention:\n  tenants:\n    gwynedd: {events: 720h}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := twoMembers(t, dir, queueRules, "--config", cfg)
	analyst := s.createToken("", "provider-analyst").Token
	ages := map[string]time.Duration{"d45": 45 * 24 * time.Hour, "d31": 31 * 24 * time.Hour, "d29": 29 * 24 * time.Hour, "h1": time.Hour}
	for _, tn := range []string{"gwynedd", "powys"} {
		s.ingestLines(s.createToken(tn, "ingest").Token, agedLines(tn, "ret", ages)...)
	}
	s.waitCount(analyst, "*", "tag:ret", map[string]int{"gwynedd": 4, "powys": 4})

	status, _, body := s.do("POST", "/api/v1/retention", adminToken, nil)
	if status != http.StatusOK {
		t.Fatalf("POST /api/v1/retention: %d %s", status, body)
	}
	var run struct {
		Tenants []struct {
			Tenant string `json:"tenant"`
			Events int    `json:"events"`
		} `json:"tenants"`
	}
	if err := json.Unmarshal(body, &run); err != nil || len(run.Tenants) != 1 || run.Tenants[0].Tenant != "gwynedd" || run.Tenants[0].Events != 2 {
		t.Fatalf("retention run: %s (%v), want 2 events of gwynedd only", body, err)
	}
	s.waitCount(analyst, "*", "tag:ret", map[string]int{"gwynedd": 2, "powys": 4})
	if got, want := s.eventIDs(analyst, "gwynedd", "ret"), []string{"gwynedd-d29", "gwynedd-h1"}; !slices.Equal(got, want) {
		t.Errorf("gwynedd keeps %v, want %v", got, want)
	}
	if got, want := s.eventIDs(analyst, "powys", "ret"), []string{"powys-d29", "powys-d31", "powys-d45", "powys-h1"}; !slices.Equal(got, want) {
		t.Errorf("powys keeps %v, want %v", got, want)
	}
	if got := s.metrics()[`tarian_retention_deleted_events_total{tenant="gwynedd"}`]; got != 2 {
		t.Errorf("tarian_retention_deleted_events_total of gwynedd: %v, want 2", got)
	}
	// Idempotent: a second run deletes nothing.
	if status, _, body := s.do("POST", "/api/v1/retention", adminToken, nil); status != http.StatusOK || !strings.Contains(string(body), `"events":0`) {
		t.Errorf("second run: %d %s", status, body)
	}
	s.waitCount(analyst, "*", "tag:ret", map[string]int{"gwynedd": 2, "powys": 4})
}

// TestTenantRemoveExport offboards gwynedd with an export: the export
// holds its events, alerts, case, evidence and audit chain; the receipt is
// signed by the server's audit key and names the export's SHA-256; then
// its token is refused, nothing of it is found, powys is untouched, and a
// tenant created again with the ID starts empty.
func TestTenantRemoveExport(t *testing.T) {
	dir := t.TempDir()
	s := startServerWith(t, filepath.Join(dir, "data"), nil, "TARIAN_BUS_PUBLISH_TIMEOUT=1s")
	s.addTenant("gwynedd")
	s.addTenant("powys")
	rules := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(rules, []byte(queueRules), 0o600); err != nil {
		t.Fatal(err)
	}
	s.mustCLI(adminToken, "rules", "import", rules)
	ingestG := s.createToken("gwynedd", "ingest").Token
	ingestP := s.createToken("powys", "ingest").Token
	analyst := s.createToken("", "provider-analyst").Token
	start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	var g, p []string
	for i := range 20 {
		g = append(g, sysmonProc("G-WS1", `GWYNEDD\bob`, `C:\Windows\System32\whoami.exe`, start.Add(time.Duration(i)*time.Second), i+1))
		p = append(p, sysmonProc("P-WS1", `POWYS\eve`, `C:\Windows\System32\net.exe`, start.Add(time.Duration(i)*time.Second), i+1))
	}
	s.ingestLines(ingestG, g...)
	s.ingestLines(ingestP, p...)
	s.waitDetected()
	s.waitCount(analyst, "*", "*", map[string]int{"gwynedd": 20, "powys": 20})
	alerts := s.alertList(analyst, "--tenant", "*")
	if len(alerts) != 2 {
		t.Fatalf("alerts: %+v", alerts)
	}
	var gAlert, pAlert queueAlert
	for _, a := range alerts {
		if a.Tenant == "gwynedd" {
			gAlert = a
		} else {
			pAlert = a
		}
	}
	out := s.mustCLI(analyst, "cases", "create", "--tenant", "gwynedd", "--title", "Discovery on G-WS1", "--from-alert", fmt.Sprint(gAlert.ID), "--json")
	var c struct{ ID int64 }
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.ID == 0 {
		t.Fatalf("cases create printed %q: %v", out, err)
	}
	evidence := filepath.Join(dir, "triage.txt")
	if err := os.WriteFile(evidence, []byte("whoami /all output\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.mustCLI(analyst, "cases", "evidence", "add", fmt.Sprint(c.ID), evidence)
	// A member's own indicator: it must stop matching with the member gone.
	memberG := s.createToken("gwynedd", "tenant-analyst").Token
	s.mustCLI(memberG, "intel", "add", "domain", "gwynedd-only.example", "--tlp", "red")
	powysCase := s.mustCLI(analyst, "cases", "create", "--tenant", "powys", "--title", "net user on P-WS1", "--from-alert", fmt.Sprint(pAlert.ID), "--json")

	// An export path that cannot be written fails before the server does
	// anything: the member keeps its events and its credentials.
	if r := s.cli(adminToken, "tenant", "remove", "gwynedd", "--export", filepath.Join(dir, "no-such-dir", "g.tar.zst")); r.code == 0 || !strings.Contains(r.stderr, "cannot write") {
		t.Fatalf("tenant remove to a path that cannot be written: exit %d, %s", r.code, r.stderr)
	}
	if _, _, body := s.do("GET", "/api/v1/tenants", adminToken, nil); !strings.Contains(string(body), `"gwynedd"`) {
		t.Fatalf("gwynedd gone after a failed removal: %s", body)
	}
	if rows := s.searchCLI(memberG, "*"); len(rows) != 20 {
		t.Fatalf("gwynedd's events after a failed removal: %d, want 20", len(rows))
	}

	// Remove gwynedd with an export.
	export := filepath.Join(dir, "gwynedd.tar.zst")
	out = s.mustCLI(adminToken, "tenant", "remove", "gwynedd", "--export", export)
	var rec struct {
		Tenant  string           `json:"tenant"`
		Deleted map[string]int64 `json:"deleted"`
		Export  struct {
			SHA256 string `json:"sha256"`
		} `json:"export"`
		KeyID     string `json:"key_id"`
		Signature string `json:"signature"`
	}
	if err := json.Unmarshal([]byte(out), &rec); err != nil {
		t.Fatalf("tenant remove printed %q: %v", out, err)
	}
	if rec.Tenant != "gwynedd" || rec.Deleted["events"] != 20 || rec.Deleted["state.alerts"] != 1 || rec.Deleted["state.cases"] != 1 ||
		rec.Deleted["evidence_files"] != 1 || rec.Deleted["state.tenants"] != 1 || rec.Signature == "" {
		t.Errorf("receipt %+v", rec)
	}

	// The receipt verifies against the key the server publishes, and names this export.
	_, _, body := s.do("GET", "/api/v1/audit/verify?tenant=*", adminToken, nil)
	var key struct {
		PublicKey string `json:"public_key"`
		KeyID     string `json:"key_id"`
	}
	if err := json.Unmarshal(body, &key); err != nil || key.PublicKey == "" || key.KeyID != rec.KeyID {
		t.Fatalf("audit verify: %s (%v); receipt key %s", body, err, rec.KeyID)
	}
	receipt := export + ".receipt.json"
	if out := s.mustCLI("", "tenant", "verify-receipt", receipt, "--public-key", key.PublicKey, "--export", export); !strings.Contains(out, "signature good") {
		t.Errorf("verify-receipt printed %q", out)
	}
	tampered := filepath.Join(dir, "tampered.json")
	b, _ := os.ReadFile(receipt)
	if err := os.WriteFile(tampered, bytes.Replace(b, []byte(`"events": 20`), []byte(`"events": 2`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := s.cli("", "tenant", "verify-receipt", tampered, "--public-key", key.PublicKey); r.code == 0 {
		t.Errorf("a tampered receipt verified: %s", r.stdout)
	}

	// The export's contents.
	files := untarZstd(t, export)
	var m struct {
		Counts map[string]int64  `json:"counts"`
		Files  map[string]string `json:"files"`
	}
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	if m.Counts["events"] != 20 || m.Counts["state.alerts"] != 1 || m.Counts["state.cases"] != 1 || m.Counts["evidence_files"] != 1 || m.Counts["audit"] == 0 ||
		m.Counts["state.tokens"] != rec.Deleted["state.tokens"] || m.Counts["state.tokens"] < 2 {
		t.Errorf("export counts %v", m.Counts)
	}
	lines := strings.Split(strings.TrimSpace(string(files["events/000001.ndjson"])), "\n")
	if len(lines) != 20 {
		t.Errorf("export has %d events, want 20", len(lines))
	}
	for _, l := range lines {
		if !strings.Contains(l, "G-WS1") {
			t.Errorf("exported event %s is not gwynedd's", l)
		}
	}
	if strings.Contains(string(files["events/000001.ndjson"]), "P-WS1") {
		t.Error("the export holds powys' events")
	}
	var evFile []byte
	for name, data := range files {
		if strings.HasPrefix(name, "evidence/") {
			evFile = data
		}
	}
	if string(evFile) != "whoami /all output\n" {
		t.Errorf("evidence in the export: %q", evFile)
	}
	auditFile := filepath.Join(dir, "audit-gwynedd.jsonl")
	if err := os.WriteFile(auditFile, files["audit.jsonl"], 0o600); err != nil {
		t.Fatal(err)
	}
	s.mustCLI("", "audit", "verify", "--file", auditFile, "--public-key", key.PublicKey)

	// Nothing of gwynedd is left, powys keeps everything.
	status, _, body := s.do("POST", "/api/v1/ingest", ingestG, []byte(`{"message":"late"}`+"\n"))
	if status != http.StatusUnauthorized {
		t.Errorf("ingest with gwynedd's token after removal: %d %s", status, body)
	}
	if status, _, body := s.do("GET", searchPath("gwynedd", "*", 10), analyst, nil); status != http.StatusNotFound {
		t.Errorf("search of gwynedd after removal: %d %s", status, body)
	}
	s.waitCount(analyst, "*", "*", map[string]int{"powys": 20})
	after := s.alertList(analyst, "--tenant", "*")
	if len(after) != 1 || after[0].ID != pAlert.ID || after[0].Tenant != "powys" {
		t.Errorf("alerts after removal: %+v, want powys' %d only", after, pAlert.ID)
	}
	var pc struct{ ID int64 }
	_ = json.Unmarshal([]byte(powysCase), &pc)
	if out := s.mustCLI(analyst, "cases", "list", "--tenant", "*", "--json"); strings.Contains(out, "G-WS1") || !strings.Contains(out, "P-WS1") {
		t.Errorf("cases after removal: %s (powys' case %d)", out, pc.ID)
	}
	if out := s.mustCLI(adminToken, "audit", "list", "--tenant", "*", "--json"); !strings.Contains(out, "tenant.remove") {
		t.Errorf("the provider's audit has no tenant.remove: %s", out)
	}
	s.mustCLI(adminToken, "audit", "verify")
	// Powys still ingests, and the bus read goes on.
	s.ingestLines(ingestP, agedLines("powys", "after", map[string]time.Duration{"now": 0})...)
	s.waitCount(analyst, "*", "tag:after", map[string]int{"powys": 1})

	// The same ID again starts empty: no events, alerts or indicators, and
	// the old member's indicator matches nothing of the new one.
	s.addTenant("gwynedd")
	s.waitCount(analyst, "gwynedd", "*", map[string]int{})
	if out := s.mustCLI(analyst, "intel", "list", "--json"); strings.Contains(out, "gwynedd-only.example") {
		t.Errorf("the removed member's indicator is listed: %s", out)
	}
	s.ingestLines(s.createToken("gwynedd", "ingest").Token,
		sysmonEvent(22, "G-WS9", time.Now().UTC(), 1, map[string]any{"QueryName": "gwynedd-only.example", "Image": `C:\Windows\explorer.exe`, "User": `CORP\eve`}))
	s.waitDetected()
	s.waitCount(analyst, "gwynedd", "*", map[string]int{"gwynedd": 1})
	if got := s.alertList(analyst, "--tenant", "gwynedd"); len(got) != 0 {
		t.Errorf("a new gwynedd has alerts: %+v", got)
	}
}

// untarZstd reads a zstd-compressed tar into memory, by entry name.
func untarZstd(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := zstd.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = data
	}
}
