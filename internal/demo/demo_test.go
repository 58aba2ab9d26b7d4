package demo

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestEventsAreValidAndRepeatable: every event is JSON with a time, the
// same seed gives the same events, and each member's story goes as far as
// its stage says: the phishing wave and the macro everywhere, credential
// theft and lateral movement at stage 2, backup deletion at stage 3.
func TestEventsAreValidAndRepeatable(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, tn := range Tenants {
		a := Events(tn, 500, now, 1)
		b := Events(tn, 500, now, 1)
		text := string(bytes.Join(a, []byte("\n")))
		for i := range a {
			if !bytes.Equal(a[i], b[i]) {
				t.Fatal("same seed gave different events")
			}
			var m map[string]any
			if err := json.Unmarshal(a[i], &m); err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
			if _, ok := m["@timestamp"]; !ok {
				t.Fatalf("event %d has no @timestamp", i)
			}
		}
		steps := map[string]int{PhishSender: 1, SprayIP: 1, " -enc ": 1, "comsvcs.dll, MiniDump": 2, "/node:" + tn.Hosts[1]: 2, "delete shadows": 3, "delete catalog": 3}
		for marker, stage := range steps {
			if got, want := strings.Contains(text, marker), tn.Stage >= stage; got != want {
				t.Errorf("%s (stage %d): has %q: %v, want %v", tn.ID, tn.Stage, marker, got, want)
			}
		}
		if !strings.Contains(text, `"hostname":"`+tn.Firewall+`"`) {
			t.Errorf("%s: no events from its firewall %s", tn.ID, tn.Firewall)
		}
	}
}

// TestSourcesAndIndicators: each member's firewall is declared with the
// demo's short silence, and the indicators name the campaign's sender and
// domain.
func TestSourcesAndIndicators(t *testing.T) {
	srcs := Sources()
	if len(srcs) != 3*len(Tenants) {
		t.Fatalf("%d sources for %d members", len(srcs), len(Tenants))
	}
	for i, tn := range Tenants {
		if fw := srcs[3*i]; fw.Tenant != tn.ID || fw.Host != tn.Firewall || fw.Silence != FirewallSilence || fw.Type != "json" {
			t.Errorf("%s's firewall source %+v", tn.ID, fw)
		}
	}
	ind := string(Indicators())
	for _, v := range []string{PhishSender, PhishDomain} {
		if !strings.Contains(ind, v) {
			t.Errorf("indicators lack %s", v)
		}
	}
}

func TestRuleFiles(t *testing.T) {
	files := RuleFiles()
	if len(files) < 2 {
		t.Fatalf("%d demo rules", len(files))
	}
	for name, data := range files {
		if !bytes.Contains(data, []byte("author: Tarian demo")) {
			t.Errorf("%s does not name its author", name)
		}
	}
}
