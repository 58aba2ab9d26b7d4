package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/advisory"
	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// connEvent is a Sysmon network connection from host to ip.
func connEvent(host, ip string, n int) string {
	b, _ := json.Marshal(map[string]any{"Event": map[string]any{
		"System": map[string]any{"EventID": 3, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": host, "EventRecordID": n,
			"Provider":    map[string]any{"#attributes": map[string]any{"Name": "Microsoft-Windows-Sysmon"}},
			"TimeCreated": map[string]any{"#attributes": map[string]any{"SystemTime": time.Now().UTC().Format(time.RFC3339Nano)}}},
		"EventData": map[string]any{"Image": `C:\x\beacon.exe`, "DestinationIp": ip, "DestinationPort": 443, "User": `CORP\eve`, "ProcessId": n},
	}})
	return string(b)
}

// TestAdvisoriesCommands: the provider publishes a bilingual advisory from
// a YAML file to two of three members; each addressed member lists,
// shows and acknowledges it (twice: the first stands) and never sees the
// other's acknowledgement or sightings; the third gets "not found" from
// every command; the provider sees who has not acknowledged and at which
// member the advised indicator has been seen since.
func TestAdvisoriesCommands(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	for _, id := range []string{"gwynedd", "conwy", "powys"} {
		s.AddTenant(t, id)
	}
	prov := cmdEnv{url: s.URL, token: s.Token(t, "", "provider-analyst")}
	gwynedd := cmdEnv{url: s.URL, token: s.Token(t, "gwynedd", "tenant-viewer")}
	conwy := cmdEnv{url: s.URL, token: s.Token(t, "conwy", "tenant-analyst")}
	powys := cmdEnv{url: s.URL, token: s.Token(t, "powys", "tenant-admin")}
	ok := func(e cmdEnv, args ...string) string {
		t.Helper()
		code, out, errs := e.run(t, "", args...)
		if code != 0 {
			t.Fatalf("%s: exit %d, %q", strings.Join(args, " "), code, errs)
		}
		return out
	}
	var ind struct{ ID string }
	s.JSON(t, "POST", "/api/v1/intel/indicators", servertest.AdminToken, map[string]any{"type": "ipv4", "value": "203.0.113.77", "tlp": "amber"}, &ind)

	file := filepath.Join(t.TempDir(), "advisory.yaml")
	yaml := `title_en: Invoice phishing from 203.0.113.77
title_cy: Gwe-rwydo anfonebau o 203.0.113.77
summary_en: A campaign against councils.
summary_cy: Ymgyrch yn erbyn cynghorau.
actions_en: Block the address.
actions_cy: Rhwystrwch y cyfeiriad.
tlp: amber
indicators: [` + ind.ID + `]
audience: [gwynedd, conwy]
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	// Members may not publish.
	if code, _, errs := conwy.run(t, "", "advisories", "publish", file); code != 1 || !strings.Contains(errs, "forbidden") {
		t.Errorf("member publishes: %d %q", code, errs)
	}
	id := strings.TrimSpace(ok(prov, "advisories", "publish", file))
	if id == "" || strings.ContainsAny(id, " \n") {
		t.Fatalf("publish printed %q, want the id", id)
	}
	// A bad file is refused with the reason.
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"title_en":"x","title_cy":"","summary_en":"s","summary_cy":"c","tlp":"red"}`), 0o600)
	if code, _, errs := prov.run(t, "", "advisories", "publish", bad); code != 1 || !strings.Contains(errs, "title_cy") {
		t.Errorf("bad advisory: %d %q", code, errs)
	}

	// An event at conwy from the advised address, after publication.
	time.Sleep(time.Second)
	if status, body := s.Do(t, "POST", "/api/v1/ingest", s.Token(t, "conwy", "ingest"), []byte(connEvent("C-WS1", "203.0.113.77", 1))); status != 200 {
		t.Fatalf("ingest: %d %s", status, body)
	}

	list := func(e cmdEnv) []advisory.Entry {
		t.Helper()
		var out []advisory.Entry
		for line := range strings.Lines(ok(e, "advisories", "list", "--json")) {
			var en advisory.Entry
			if err := json.Unmarshal([]byte(line), &en); err != nil {
				t.Fatal(err)
			}
			out = append(out, en)
		}
		return out
	}
	if l := list(gwynedd); len(l) != 1 || l[0].TitleCY != "Gwe-rwydo anfonebau o 203.0.113.77" || l[0].Acknowledged != nil || l[0].Recipients != nil {
		t.Errorf("gwynedd's list = %+v", l)
	}
	if out := ok(gwynedd, "advisories", "list"); !strings.Contains(out, "TLP:AMBER") || !strings.Contains(out, "Invoice phishing") {
		t.Errorf("gwynedd's list table:\n%s", out)
	}
	// powys is not addressed: nothing listed, the rest not found.
	if l := list(powys); len(l) != 0 {
		t.Errorf("powys' list = %+v", l)
	}
	for _, args := range [][]string{{"advisories", "show", id}, {"advisories", "ack", id}} {
		if code, out, errs := powys.run(t, "", args...); code != 1 || !strings.Contains(errs, "not_found") || out != "" {
			t.Errorf("powys %v: %d %q %q", args, code, out, errs)
		}
	}
	// Acknowledging twice keeps the first.
	first := ok(gwynedd, "advisories", "ack", id)
	if !strings.Contains(first, "acknowledged for gwynedd") {
		t.Errorf("ack: %q", first)
	}
	if again := ok(gwynedd, "advisories", "ack", id); again != first {
		t.Errorf("second ack %q, first %q", again, first)
	}
	if l := list(gwynedd); len(l) != 1 || l[0].Acknowledged == nil {
		t.Errorf("gwynedd's list after ack = %+v", l)
	}

	show := func(e cmdEnv) advisory.Detail {
		t.Helper()
		var d advisory.Detail
		if err := json.Unmarshal([]byte(ok(e, "advisories", "show", id, "--json")), &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	// The provider: conwy has not acknowledged; the indicator was seen at
	// conwy (the sighting comes with the intel alert).
	var d advisory.Detail
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		d = show(prov)
		if len(d.Seen) == 1 && len(d.Seen[0].Members) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no sighting at conwy: %+v", d)
		}
	}
	if m := d.Seen[0].Members[0]; d.Seen[0].Indicator != ind.ID || m.Tenant != "conwy" || !m.Addressed {
		t.Errorf("seen = %+v", d.Seen)
	}
	if len(d.Pending) != 1 || d.Pending[0] != "conwy" || len(d.Members) != 2 {
		t.Errorf("provider: pending %v, members %+v", d.Pending, d.Members)
	}
	if out := ok(prov, "advisories", "show", id); !strings.Contains(out, "conwy not acknowledged") || !strings.Contains(out, "gwynedd acknowledged") ||
		!strings.Contains(out, "Rhwystrwch y cyfeiriad.") || !strings.Contains(out, "conwy (last ") {
		t.Errorf("provider show:\n%s", out)
	}
	if l := list(prov); len(l) != 1 || l[0].Recipients == nil || *l[0].Recipients != 2 || *l[0].Acks != 1 {
		t.Errorf("provider list = %+v", l)
	}
	// Members: their own acknowledgement and sightings only.
	g := show(gwynedd)
	if g.Members != nil || g.Pending != nil || g.Acknowledged == nil || len(g.Seen) != 1 || len(g.Seen[0].Members) != 0 {
		t.Errorf("gwynedd's view = %+v", g)
	}
	c := show(conwy)
	if c.Members != nil || c.Acknowledged != nil || len(c.Seen) != 1 || len(c.Seen[0].Members) != 1 || c.Seen[0].Members[0].Tenant != "conwy" {
		t.Errorf("conwy's view = %+v", c)
	}
	// Nor which other members were told.
	for _, raw := range []string{ok(conwy, "advisories", "show", id, "--json"), ok(conwy, "advisories", "list", "--json")} {
		if strings.Contains(raw, "gwynedd") || !strings.Contains(raw, `"audience":["conwy"]`) {
			t.Errorf("conwy's view names another member: %s", raw)
		}
	}
	// Every publish and acknowledgement is in the audit trail.
	var audit struct {
		Records []struct{ Action, Scope string } `json:"records"`
	}
	s.JSON(t, "GET", "/api/v1/audit?tenant=*", servertest.AdminToken, nil, &audit)
	var publish int
	for _, r := range audit.Records {
		if r.Action == "advisory.publish" {
			publish++
		}
	}
	s.JSON(t, "GET", "/api/v1/audit?tenant=gwynedd", servertest.AdminToken, nil, &audit)
	var acks int
	for _, r := range audit.Records {
		if r.Action == "advisory.ack" {
			acks++
		}
	}
	if publish != 1 || acks != 2 {
		t.Errorf("audit: %d publish, %d ack records", publish, acks)
	}
}
