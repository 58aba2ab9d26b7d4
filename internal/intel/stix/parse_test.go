package stix

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/tenant"
)

const (
	indID  = "indicator--1b2c3d4e-0000-4000-8000-000000000001"
	identA = "identity--1b2c3d4e-0000-4000-8000-0000000000aa"
)

// obj builds a STIX object from a base and overrides (nil deletes).
func obj(base map[string]any, over map[string]any) json.RawMessage {
	m := map[string]any{}
	for k, v := range base {
		m[k] = v
	}
	for k, v := range over {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func indicatorBase() map[string]any {
	return map[string]any{
		"type": "indicator", "spec_version": "2.1", "id": indID,
		"created": "2024-01-02T03:04:05.000Z", "modified": "2024-01-03T03:04:05.000Z",
		"pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix",
		"valid_from": "2024-01-02T03:04:05Z",
	}
}

func parseOne(t *testing.T, raw ...json.RawMessage) intel.Batch {
	t.Helper()
	return ParseObjects(raw, intel.ImportOptions{})
}

func TestPatternObservables(t *testing.T) {
	tests := []struct {
		pattern string
		want    []intel.Observable
	}{
		{`[ipv4-addr:value = '198.51.100.7']`, []intel.Observable{{Type: intel.TypeIPv4, Value: "198.51.100.7"}}},
		{`[ipv4-addr:value = '198.51.100.0/24']`, []intel.Observable{{Type: intel.TypeCIDR, Value: "198.51.100.0/24"}}},
		{`[ipv6-addr:value = '2001:DB8:0:0::1']`, []intel.Observable{{Type: intel.TypeIPv6, Value: "2001:db8::1"}}},
		{`[ipv6-addr:value = '2001:db8::/32']`, []intel.Observable{{Type: intel.TypeCIDR, Value: "2001:db8::/32"}}},
		{`[domain-name:value = 'Evil.Example.COM.']`, []intel.Observable{{Type: intel.TypeDomain, Value: "evil.example.com"}}},
		{`[url:value = 'HTTP://Evil.example.com:80/a']`, []intel.Observable{{Type: intel.TypeURL, Value: "http://evil.example.com/a"}}},
		{`[file:hashes.MD5 = '44D88612FEA8A8F36DE82E1278ABB02F']`, []intel.Observable{{Type: intel.TypeMD5, Value: "44d88612fea8a8f36de82e1278abb02f"}}},
		{`[file:hashes.'MD5' = '44d88612fea8a8f36de82e1278abb02f']`, []intel.Observable{{Type: intel.TypeMD5, Value: "44d88612fea8a8f36de82e1278abb02f"}}},
		{`[file:hashes.'SHA-1' = '3395856ce81f2b7382dee72602f798b642f14140']`, []intel.Observable{{Type: intel.TypeSHA1, Value: "3395856ce81f2b7382dee72602f798b642f14140"}}},
		{`[file:hashes.SHA1 = '3395856ce81f2b7382dee72602f798b642f14140']`, []intel.Observable{{Type: intel.TypeSHA1, Value: "3395856ce81f2b7382dee72602f798b642f14140"}}},
		{`[file:hashes.'SHA-256' = '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f']`, []intel.Observable{{Type: intel.TypeSHA256, Value: "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"}}},
		{`[file:hashes.sha256 = '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f']`, []intel.Observable{{Type: intel.TypeSHA256, Value: "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"}}},
		{`[file:name = 'Invoice.EXE']`, []intel.Observable{{Type: intel.TypeFileName, Value: "invoice.exe"}}},
		{`[email-addr:value = 'Bad@Example.com']`, []intel.Observable{{Type: intel.TypeEmail, Value: "bad@example.com"}}},
		{`[email-message:from_ref.value = 'a@example.com']`, []intel.Observable{{Type: intel.TypeEmail, Value: "a@example.com"}}},
		{`[email-message:sender_ref.value = 'b@example.com']`, []intel.Observable{{Type: intel.TypeEmail, Value: "b@example.com"}}},
		{`[email-message:subject = 'Your invoice']`, []intel.Observable{{Type: intel.TypeEmailSubject, Value: "Your invoice"}}},
		{`[domain-name:value = 'o\'neil.example']`, nil}, // not a host name: left out, noted
		// Disjunctions, IN, groups.
		{`[domain-name:value = 'a.example' OR ipv4-addr:value = '198.51.100.1'] OR [url:value = 'http://b.example/']`, []intel.Observable{
			{Type: intel.TypeDomain, Value: "a.example"}, {Type: intel.TypeIPv4, Value: "198.51.100.1"}, {Type: intel.TypeURL, Value: "http://b.example/"}}},
		{`[domain-name:value IN ('a.example', 'b.example', 'a.example')]`, []intel.Observable{
			{Type: intel.TypeDomain, Value: "a.example"}, {Type: intel.TypeDomain, Value: "b.example"}}},
		{`([domain-name:value = 'a.example'] OR ([ipv4-addr:value = '198.51.100.1']))`, []intel.Observable{
			{Type: intel.TypeDomain, Value: "a.example"}, {Type: intel.TypeIPv4, Value: "198.51.100.1"}}},
		// Not for the fast index: the pattern is evaluated whole.
		{`[domain-name:value = 'a.example' AND domain-name:value = 'b.example']`, nil},
		{`[domain-name:value = 'a.example'] AND [ipv4-addr:value = '198.51.100.1']`, nil},
		{`[domain-name:value = 'a.example'] FOLLOWEDBY [ipv4-addr:value = '198.51.100.1']`, nil},
		{`[domain-name:value = 'a.example'] REPEATS 2 TIMES`, nil},
		{`[domain-name:value = 'a.example'] WITHIN 60 SECONDS`, nil},
		{`[domain-name:value != 'a.example']`, nil},
		{`[domain-name:value NOT = 'a.example']`, nil},
		{`[domain-name:value LIKE '%.example']`, nil},
		{`[email-message:subject MATCHES '^Invoice']`, nil},
		{`[domain-name:value = 'a.example' OR x509-certificate:issuer = 'CN=x']`, nil},
		{`[file:size = 100]`, nil},
		{`[file:hashes.'SHA-512' = '` + strings.Repeat("a", 128) + `']`, nil},
		{`[network-traffic:dst_ref.value = '198.51.100.1']`, nil},
		{`[email-message:body_multipart[*].body_raw_ref.name = 'a.exe']`, nil},
	}
	for _, tt := range tests {
		got, _, err := Observables(tt.pattern)
		if err != nil {
			t.Errorf("%s: %v", tt.pattern, err)
			continue
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.pattern, d)
		}
	}
}

func TestPatternInvalid(t *testing.T) {
	for _, p := range []string{
		`ipv4-addr:value = '1.2.3.4'`,
		`[ipv4-addr:value = '1.2.3.4'`,
		`[file:hashes.MD5 = 'abc']`, // semantic: wrong hash length
		`[]`,
	} {
		b := parseOne(t, obj(indicatorBase(), map[string]any{"pattern": p}))
		if len(b.Indicators) != 0 || len(b.Objects) != 1 || len(b.Skipped) != 1 || !strings.HasPrefix(b.Skipped[0].Reason, "pattern: ") {
			t.Errorf("%s: indicators %d objects %d skipped %+v", p, len(b.Indicators), len(b.Objects), b.Skipped)
		}
	}
}

func TestIndicatorMapping(t *testing.T) {
	identity := obj(map[string]any{
		"type": "identity", "spec_version": "2.1", "id": identA, "name": "NCSC",
		"created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
	}, nil)
	ind := obj(indicatorBase(), map[string]any{
		"name": "C2", "description": "a C2 server", "confidence": 85,
		"valid_until":     "2025-01-01T00:00:00Z",
		"labels":          []string{"apt", "c2"},
		"indicator_types": []string{"malicious-activity", "c2"},
		"revoked":         true,
		"created_by_ref":  identA,
		"kill_chain_phases": []map[string]string{
			{"kill_chain_name": "mitre-attack", "phase_name": "command-and-control"},
			{"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "delivery"},
		},
		"external_references": []map[string]string{
			{"source_name": "mitre-attack", "external_id": "T1071.001"},
			{"source_name": "capec", "external_id": "CAPEC-1"},
			{"source_name": "mitre-attack", "external_id": "G0007"},
		},
		"object_marking_refs": []string{intel.TLPGreen.MarkingID()},
	})
	opts := intel.ImportOptions{Owner: "council-a", Audience: []tenant.ID{"council-b"}, Source: "feed"}
	b := ParseObjects([]json.RawMessage{identity, ind}, opts)
	if len(b.Skipped) != 0 || len(b.Indicators) != 1 || len(b.Objects) != 2 {
		t.Fatalf("batch: %+v", b)
	}
	want := intel.Indicator{
		ID: indID, Name: "C2", Description: "a C2 server",
		Observables: []intel.Observable{{Type: intel.TypeIPv4, Value: "198.51.100.7"}},
		Pattern:     "[ipv4-addr:value = '198.51.100.7']",
		TLP:         intel.TLPGreen, Confidence: 85,
		ValidFrom:  time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		ValidUntil: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Source:     "feed: NCSC",
		Tags:       []string{"apt", "c2", "malicious-activity", "mitre-attack:G0007", "lockheed-martin-cyber-kill-chain:delivery"},
		Attack:     []string{"T1071.001", "TA0011"},
		Owner:      "council-a", Audience: []tenant.ID{"council-b"},
		Revoked:  true,
		Created:  time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		Modified: time.Date(2024, 1, 3, 3, 4, 5, 0, time.UTC),
	}
	if d := cmp.Diff(want, b.Indicators[0]); d != "" {
		t.Errorf("indicator (-want +got):\n%s", d)
	}
	o := b.Objects[1]
	if o.ID != indID || o.Type != "indicator" || o.TLP != intel.TLPGreen || o.Owner != "council-a" || o.SpecVersion != "2.1" ||
		!o.Modified.Equal(want.Modified) || !json.Valid(o.JSON) {
		t.Errorf("object: %+v", o)
	}
}

func TestTLP(t *testing.T) {
	custom := "marking-definition--1b2c3d4e-0000-4000-8000-0000000000cc"
	statement := "marking-definition--1b2c3d4e-0000-4000-8000-0000000000dd"
	markings := []json.RawMessage{
		obj(map[string]any{"type": "marking-definition", "spec_version": "2.1", "id": custom, "created": "2024-01-01T00:00:00.000Z",
			"definition_type": "tlp", "definition": map[string]string{"tlp": "red"}}, nil),
		obj(map[string]any{"type": "marking-definition", "spec_version": "2.1", "id": statement, "created": "2024-01-01T00:00:00.000Z",
			"definition_type": "statement", "definition": map[string]string{"statement": "Copyright"}}, nil),
	}
	tests := []struct {
		name     string
		marks    []string
		granular []string
		opt      intel.TLP
		want     intel.TLP // "" skipped
	}{
		{"none, default amber", nil, nil, "", intel.TLPAmber},
		{"none, import default", nil, nil, intel.TLPClear, intel.TLPClear},
		{"tlp 2.0 amber+strict", []string{intel.TLPAmberStrict.MarkingID()}, nil, "", intel.TLPAmberStrict},
		{"tlp 2.0 clear", []string{intel.TLPClear.MarkingID()}, nil, intel.TLPRed, intel.TLPClear},
		{"tlp 1.0 white", []string{"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"}, nil, "", intel.TLPClear},
		{"tlp 1.0 red", []string{"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"}, nil, "", intel.TLPRed},
		{"strictest wins", []string{intel.TLPGreen.MarkingID(), intel.TLPAmber.MarkingID()}, nil, "", intel.TLPAmber},
		{"granular counts", []string{intel.TLPGreen.MarkingID()}, []string{intel.TLPRed.MarkingID()}, "", intel.TLPRed},
		{"tlp marking defined in the bundle", []string{custom}, nil, "", intel.TLPRed},
		{"statement only: default", []string{statement}, nil, intel.TLPGreen, intel.TLPGreen},
		{"unknown marking", []string{"marking-definition--1b2c3d4e-0000-4000-8000-0000000000ee"}, nil, "", ""},
	}
	for _, tt := range tests {
		over := map[string]any{}
		if tt.marks != nil {
			over["object_marking_refs"] = tt.marks
		}
		if tt.granular != nil {
			over["granular_markings"] = []map[string]any{{"marking_ref": tt.granular[0], "selectors": []string{"description"}}}
		}
		b := ParseObjects(append([]json.RawMessage{obj(indicatorBase(), over)}, markings...), intel.ImportOptions{TLP: tt.opt})
		var got intel.TLP
		if len(b.Indicators) == 1 {
			got = b.Indicators[0].TLP
			if b.Objects[0].TLP != got {
				t.Errorf("%s: object TLP %s, indicator %s", tt.name, b.Objects[0].TLP, got)
			}
		} else if len(b.Skipped) != 1 || !strings.Contains(b.Skipped[0].Reason, "cannot honour") {
			t.Errorf("%s: skipped %+v", tt.name, b.Skipped)
		}
		if got != tt.want {
			t.Errorf("%s: TLP %q, want %q", tt.name, got, tt.want)
		}
	}
	// TLP marking definitions are public; other ones take the default.
	b := ParseObjects(append([]json.RawMessage{MarkingObject(intel.TLPRed).JSON}, markings...), intel.ImportOptions{})
	for i, want := range []intel.TLP{intel.TLPClear, intel.TLPClear, intel.TLPAmber} {
		if b.Objects[i].TLP != want {
			t.Errorf("marking %s: TLP %s, want %s", b.Objects[i].ID, b.Objects[i].TLP, want)
		}
	}
}

func TestSchemaViolations(t *testing.T) {
	rel := map[string]any{
		"type": "relationship", "spec_version": "2.1", "id": "relationship--1b2c3d4e-0000-4000-8000-000000000002",
		"created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
		"relationship_type": "indicates", "source_ref": indID, "target_ref": "malware--1b2c3d4e-0000-4000-8000-000000000003",
	}
	tests := []struct {
		name   string
		raw    json.RawMessage
		reason string
	}{
		{"not an object", json.RawMessage(`[1]`), "not a JSON object"},
		{"no type", obj(indicatorBase(), map[string]any{"type": nil}), "type: missing"},
		{"no id", obj(indicatorBase(), map[string]any{"id": nil}), "id: missing"},
		{"id of another type", obj(indicatorBase(), map[string]any{"id": "malware--1b2c3d4e-0000-4000-8000-000000000001"}), "want indicator--<uuid>"},
		{"id not a uuid", obj(indicatorBase(), map[string]any{"id": "indicator--1234"}), "want indicator--<uuid>"},
		{"bad uuid variant", obj(indicatorBase(), map[string]any{"id": "indicator--1b2c3d4e-0000-4000-0000-000000000001"}), "want indicator--<uuid>"},
		{"no spec_version", obj(indicatorBase(), map[string]any{"spec_version": nil}), "spec_version: missing"},
		{"spec_version 2.0", obj(indicatorBase(), map[string]any{"spec_version": "2.0"}), "Tarian imports STIX 2.1"},
		{"no created", obj(indicatorBase(), map[string]any{"created": nil}), "created: missing"},
		{"no modified", obj(indicatorBase(), map[string]any{"modified": nil}), "modified: missing"},
		{"created not RFC 3339", obj(indicatorBase(), map[string]any{"created": "2024-01-02 03:04:05"}), "not an RFC 3339 timestamp"},
		{"created not UTC", obj(indicatorBase(), map[string]any{"created": "2024-01-02T03:04:05.000+01:00"}), "not an RFC 3339 timestamp"},
		{"created without millis", obj(indicatorBase(), map[string]any{"created": "2024-01-02T03:04:05Z"}), "precise to the millisecond"},
		{"impossible date", obj(indicatorBase(), map[string]any{"valid_from": "2024-02-31T00:00:00Z"}), "not a valid date"},
		{"modified before created", obj(indicatorBase(), map[string]any{"modified": "2023-01-01T00:00:00.000Z"}), "modified: before created"},
		{"no pattern", obj(indicatorBase(), map[string]any{"pattern": nil}), "pattern: missing"},
		{"no pattern_type", obj(indicatorBase(), map[string]any{"pattern_type": nil}), "pattern_type: missing"},
		{"no valid_from", obj(indicatorBase(), map[string]any{"valid_from": nil}), "valid_from: missing"},
		{"valid_until before valid_from", obj(indicatorBase(), map[string]any{"valid_until": "2020-01-01T00:00:00Z"}), "valid_until: must be after valid_from"},
		{"confidence out of range", obj(indicatorBase(), map[string]any{"confidence": 101}), "confidence 101"},
		{"labels not a list", obj(indicatorBase(), map[string]any{"labels": "x"}), "labels: a JSON string"},
		{"created_by_ref not an identity", obj(indicatorBase(), map[string]any{"created_by_ref": indID}), "want an identity"},
		{"marking ref of another type", obj(indicatorBase(), map[string]any{"object_marking_refs": []string{identA}}), "is not a marking-definition"},
		{"ref not an identifier", obj(indicatorBase(), map[string]any{"created_by_ref": "NCSC"}), "created_by_ref: want a STIX identifier"},
		{"relationship without target", obj(rel, map[string]any{"target_ref": nil}), "target_ref: missing"},
		{"relationship without type", obj(rel, map[string]any{"relationship_type": nil}), "relationship_type: missing"},
		{"relationship to a marking", obj(rel, map[string]any{"target_ref": intel.TLPRed.MarkingID()}), "cannot be a source or target"},
		{"campaign without name", json.RawMessage(`{"type":"campaign","spec_version":"2.1","id":"campaign--1b2c3d4e-0000-4000-8000-000000000004","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z"}`), "name: missing"},
		{"report without published", json.RawMessage(`{"type":"report","spec_version":"2.1","id":"report--1b2c3d4e-0000-4000-8000-000000000004","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"r","object_refs":["` + indID + `"]}`), "published: missing"},
		{"observed-data count 0", json.RawMessage(`{"type":"observed-data","spec_version":"2.1","id":"observed-data--1b2c3d4e-0000-4000-8000-000000000004","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","first_observed":"2024-01-01T00:00:00Z","last_observed":"2024-01-01T00:00:00Z","number_observed":0,"object_refs":["ipv4-addr--1b2c3d4e-0000-4000-8000-000000000005"]}`), "number_observed 0"},
		{"sighting count negative", json.RawMessage(`{"type":"sighting","spec_version":"2.1","id":"sighting--1b2c3d4e-0000-4000-8000-000000000004","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","sighting_of_ref":"` + indID + `","count":-1}`), "count -1"},
		{"location without place", json.RawMessage(`{"type":"location","spec_version":"2.1","id":"location--1b2c3d4e-0000-4000-8000-000000000004","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"x"}`), "region or country or latitude and longitude: missing"},
		{"SCO without value", json.RawMessage(`{"type":"ipv4-addr","id":"ipv4-addr--1b2c3d4e-0000-4000-8000-000000000004"}`), "value: missing"},
		{"marking without definition", json.RawMessage(`{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--1b2c3d4e-0000-4000-8000-000000000004","created":"2024-01-01T00:00:00.000Z"}`), "definition_type and definition or extensions: missing"},
		{"bad type name", json.RawMessage(`{"type":"Bad_Type","id":"Bad_Type--1b2c3d4e-0000-4000-8000-000000000004"}`), "type \"Bad_Type\""},
	}
	for _, tt := range tests {
		b := parseOne(t, tt.raw)
		if len(b.Objects) != 0 || len(b.Skipped) != 1 || !strings.Contains(b.Skipped[0].Reason, tt.reason) {
			t.Errorf("%s: objects %d, skipped %+v, want a reason with %q", tt.name, len(b.Objects), b.Skipped, tt.reason)
		}
	}
}

func TestOtherObjects(t *testing.T) {
	sigma := obj(indicatorBase(), map[string]any{"pattern_type": "sigma", "pattern": "title: x"})
	sco := json.RawMessage(`{"type":"ipv4-addr","id":"ipv4-addr--1b2c3d4e-0000-4000-8000-000000000006","value":"198.51.100.7"}`)
	custom := json.RawMessage(`{"type":"x-acme-thing","spec_version":"2.1","id":"x-acme-thing--1b2c3d4e-0000-4000-8000-000000000007","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z"}`)
	rel := json.RawMessage(`{"type":"relationship","spec_version":"2.1","id":"relationship--1b2c3d4e-0000-4000-8000-000000000002","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","relationship_type":"indicates","source_ref":"` + indID + `","target_ref":"malware--1b2c3d4e-0000-4000-8000-000000000003"}`)
	b := parseOne(t, sigma, sco, custom, rel)
	if len(b.Objects) != 4 || len(b.Indicators) != 0 {
		t.Fatalf("objects %d indicators %d", len(b.Objects), len(b.Indicators))
	}
	want := []intel.Skip{{Ref: indID, Reason: `pattern_type "sigma": Tarian matches STIX patterns only (the object is kept)`}}
	if d := cmp.Diff(want, b.Skipped); d != "" {
		t.Errorf("skipped (-want +got):\n%s", d)
	}
	notes := []intel.Skip{{Ref: "relationship--1b2c3d4e-0000-4000-8000-000000000002", Reason: "kept, but target_ref malware--1b2c3d4e-0000-4000-8000-000000000003 is not in the bundle"}}
	if d := cmp.Diff(notes, b.Notes); d != "" {
		t.Errorf("notes (-want +got):\n%s", d)
	}
	if b.Objects[1].SpecVersion != "2.1" || !b.Objects[1].Modified.IsZero() {
		t.Errorf("SCO object: %+v", b.Objects[1])
	}
	// Duplicates: the same version twice.
	b = parseOne(t, obj(indicatorBase(), nil), obj(indicatorBase(), nil), obj(indicatorBase(), map[string]any{"modified": "2024-02-01T00:00:00.000Z"}))
	if len(b.Objects) != 2 || len(b.Indicators) != 2 || len(b.Skipped) != 1 || !strings.Contains(b.Skipped[0].Reason, "duplicate") {
		t.Errorf("duplicates: %+v", b)
	}
}

func TestSightings(t *testing.T) {
	identity := json.RawMessage(`{"type":"identity","spec_version":"2.1","id":"` + identA + `","name":"SOC","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z"}`)
	s := json.RawMessage(`{"type":"sighting","spec_version":"2.1","id":"sighting--1b2c3d4e-0000-4000-8000-000000000008","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",
		"created_by_ref":"` + identA + `","sighting_of_ref":"` + indID + `","count":5,"first_seen":"2024-01-01T00:00:00Z","last_seen":"2024-01-02T00:00:00Z","where_sighted_refs":["` + identA + `"]}`)
	other := json.RawMessage(`{"type":"sighting","spec_version":"2.1","id":"sighting--1b2c3d4e-0000-4000-8000-000000000009","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","sighting_of_ref":"malware--1b2c3d4e-0000-4000-8000-000000000003"}`)
	b := ParseObjects([]json.RawMessage{identity, obj(indicatorBase(), nil), s, other}, intel.ImportOptions{Owner: "council-a"})
	want := []intel.Sighting{{
		IndicatorID: indID, Tenant: "council-a", Count: 5, Source: "SOC",
		FirstSeen: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), LastSeen: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC),
		ObjectID: "sighting--1b2c3d4e-0000-4000-8000-000000000008", ObjectVersion: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
	}}
	if d := cmp.Diff(want, b.Sightings); d != "" {
		t.Errorf("sightings (-want +got):\n%s", d)
	}
	if len(b.Objects) != 4 {
		t.Errorf("objects: %d", len(b.Objects))
	}
	if !strings.Contains(string(b.Objects[2].JSON), "where_sighted_refs") {
		t.Errorf("where_sighted_refs not kept: %s", b.Objects[2].JSON)
	}
}

func TestParseBundleShapes(t *testing.T) {
	one := obj(indicatorBase(), nil)
	for name, data := range map[string]string{
		"bundle": `{"type":"bundle","id":"bundle--1b2c3d4e-0000-4000-8000-00000000000a","objects":[` + string(one) + `]}`,
		"object": string(one),
		"array":  `[` + string(one) + `]`,
	} {
		b, err := ParseBundle([]byte(data), intel.ImportOptions{})
		if err != nil || len(b.Indicators) != 1 {
			t.Errorf("%s: %v, %+v", name, err, b)
		}
	}
	for _, bad := range []string{``, `nope`, `{"a":1}`, `{"type":"bundle","id":"x"}`, `"s"`} {
		if _, err := ParseBundle([]byte(bad), intel.ImportOptions{}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	b, err := ParseBundle([]byte(`{"type":"bundle","id":"bundle--1b2c3d4e-0000-4000-8000-00000000000a","spec_version":"2.0","objects":[`+string(obj(indicatorBase(), map[string]any{"spec_version": nil}))+`]}`), intel.ImportOptions{})
	if err != nil || len(b.Skipped) != 1 || !strings.Contains(b.Skipped[0].Reason, "STIX 2.0") {
		t.Errorf("2.0 bundle: %v %+v", err, b.Skipped)
	}
}

func TestDeterministicID(t *testing.T) {
	a, b := DeterministicID("indicator", "x"), DeterministicID("indicator", "x")
	if a != b || !ValidID(a) || a == DeterministicID("indicator", "y") {
		t.Errorf("ids %s %s", a, b)
	}
	// RFC 9562 appendix A.4 (DNS namespace, "www.example.com").
	dns := [16]byte{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	if got := uuid5(dns, "www.example.com"); got != "2ed6657d-e927-568b-95e1-2665a8aea6a2" {
		t.Errorf("uuid5 = %s", got)
	}
}
