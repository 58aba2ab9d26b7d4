package misp

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/tenant"
)

const evUUID = "11111111-2222-4333-8444-555555555555"

// attr builds an attribute with a uuid derived from n.
func attr(n int, typ, value string, extra map[string]any) map[string]any {
	a := map[string]any{
		"type": typ, "value": value,
		"to_ids": true, "timestamp": "1700000000", "category": "Network activity",
	}
	a["uuid"] = "aaaaaaaa-0000-4000-8000-" + strings.Repeat("0", 10) + twoDigits(n)
	for k, v := range extra {
		a[k] = v
	}
	return a
}

func twoDigits(n int) string { return string(rune('0'+n/10%10)) + string(rune('0'+n%10)) }

func mkEvent(attrs []map[string]any, extra map[string]any) []byte {
	e := map[string]any{"uuid": evUUID, "info": "Phishing wave", "timestamp": "1700000000", "Attribute": attrs, "Orgc": map[string]any{"name": "CERT-X"}}
	for k, v := range extra {
		e[k] = v
	}
	b, err := json.Marshal(map[string]any{"Event": e})
	if err != nil {
		panic(err)
	}
	return b
}

func parse(t *testing.T, data []byte, opts intel.ImportOptions) intel.Batch {
	t.Helper()
	b, err := ParseEvent(data, opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTypes(t *testing.T) {
	tests := []struct {
		typ, value string
		want       []intel.Observable
		name       string // the indicator name's file name, when any
		reason     string // skipped
	}{
		{"ip-src", "198.51.100.7", []intel.Observable{{Type: intel.TypeIPv4, Value: "198.51.100.7"}}, "", ""},
		{"ip-dst", "2001:DB8::1", []intel.Observable{{Type: intel.TypeIPv6, Value: "2001:db8::1"}}, "", ""},
		{"ip-dst", "198.51.100.0/24", []intel.Observable{{Type: intel.TypeCIDR, Value: "198.51.100.0/24"}}, "", ""},
		{"ip-src|port", "198.51.100.7|443", []intel.Observable{{Type: intel.TypeIPv4, Value: "198.51.100.7"}}, "", ""},
		{"ip-dst|port", "2001:db8::1|8080", []intel.Observable{{Type: intel.TypeIPv6, Value: "2001:db8::1"}}, "", ""},
		{"domain", "Evil.Example.", []intel.Observable{{Type: intel.TypeDomain, Value: "evil.example"}}, "", ""},
		{"hostname", "www.evil[.]example", []intel.Observable{{Type: intel.TypeDomain, Value: "www.evil.example"}}, "", ""},
		{"hostname|port", "www.evil.example|8443", []intel.Observable{{Type: intel.TypeDomain, Value: "www.evil.example"}}, "", ""},
		{"domain|ip", "evil.example|198.51.100.7", []intel.Observable{{Type: intel.TypeDomain, Value: "evil.example"}, {Type: intel.TypeIPv4, Value: "198.51.100.7"}}, "", ""},
		{"url", "hxxp://evil.example/x", []intel.Observable{{Type: intel.TypeURL, Value: "http://evil.example/x"}}, "", ""},
		{"uri", "/gate.php", nil, "", "url"},
		{"md5", "44D88612FEA8A8F36DE82E1278ABB02F", []intel.Observable{{Type: intel.TypeMD5, Value: "44d88612fea8a8f36de82e1278abb02f"}}, "", ""},
		{"sha1", "3395856ce81f2b7382dee72602f798b642f14140", []intel.Observable{{Type: intel.TypeSHA1, Value: "3395856ce81f2b7382dee72602f798b642f14140"}}, "", ""},
		{"sha256", "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f", []intel.Observable{{Type: intel.TypeSHA256, Value: "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"}}, "", ""},
		{"filename|md5", "eicar.com|44d88612fea8a8f36de82e1278abb02f", []intel.Observable{{Type: intel.TypeMD5, Value: "44d88612fea8a8f36de82e1278abb02f"}}, "eicar.com", ""},
		{"filename|sha1", "eicar.com|3395856ce81f2b7382dee72602f798b642f14140", []intel.Observable{{Type: intel.TypeSHA1, Value: "3395856ce81f2b7382dee72602f798b642f14140"}}, "eicar.com", ""},
		{"filename|sha256", "a.exe|275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f", []intel.Observable{{Type: intel.TypeSHA256, Value: "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"}}, "a.exe", ""},
		{"malware-sample", "a.exe|44d88612fea8a8f36de82e1278abb02f", []intel.Observable{{Type: intel.TypeMD5, Value: "44d88612fea8a8f36de82e1278abb02f"}}, "a.exe", ""},
		{"email", "Bad@Evil.example", []intel.Observable{{Type: intel.TypeEmail, Value: "bad@evil.example"}}, "", ""},
		{"email-src", "a@evil.example", []intel.Observable{{Type: intel.TypeEmail, Value: "a@evil.example"}}, "", ""},
		{"email-dst", "b@evil.example", []intel.Observable{{Type: intel.TypeEmail, Value: "b@evil.example"}}, "", ""},
		{"email-subject", "Your Invoice", []intel.Observable{{Type: intel.TypeEmailSubject, Value: "Your Invoice"}}, "", ""},
		{"email-attachment", "Invoice.DOC", []intel.Observable{{Type: intel.TypeFileName, Value: "invoice.doc"}}, "", ""},
		{"filename", "Invoice.EXE", []intel.Observable{{Type: intel.TypeFileName, Value: "invoice.exe"}}, "", ""},
		{"regkey", `HKLM\Software\x`, nil, "", "MISP type regkey has no Tarian indicator type"},
		{"ssdeep", "3::", nil, "", "MISP type ssdeep has no Tarian indicator type"},
		{"md5", "abc", nil, "", "want 32 hex digits"},
		{"domain|ip", "evil.example", nil, "", "has no '|'"},
	}
	for i, tt := range tests {
		b := parse(t, mkEvent([]map[string]any{attr(i, tt.typ, tt.value, nil)}, nil), intel.ImportOptions{})
		if tt.reason != "" {
			if len(b.Indicators) != 0 || len(b.Skipped) != 1 || !strings.Contains(b.Skipped[0].Reason, tt.reason) {
				t.Errorf("%s %q: %+v, want skipped with %q", tt.typ, tt.value, b, tt.reason)
			}
			continue
		}
		if len(b.Indicators) != 1 {
			t.Errorf("%s %q: %+v", tt.typ, tt.value, b.Skipped)
			continue
		}
		ind := b.Indicators[0]
		if d := cmp.Diff(tt.want, ind.Observables); d != "" {
			t.Errorf("%s %q (-want +got):\n%s", tt.typ, tt.value, d)
		}
		wantName := "Phishing wave"
		if tt.name != "" {
			wantName = tt.name + " (Phishing wave)"
		}
		if ind.Name != wantName {
			t.Errorf("%s: name %q, want %q", tt.typ, ind.Name, wantName)
		}
	}
}

func TestAttributeRules(t *testing.T) {
	attrs := []map[string]any{
		attr(1, "domain", "a.example", map[string]any{"to_ids": false}),
		attr(2, "domain", "b.example", map[string]any{"deleted": true}),
		attr(3, "domain", "c.example", map[string]any{"comment": "C2", "Tag": []map[string]any{{"name": "kill-chain:c2"}}}),
		attr(4, "domain", "d.example", map[string]any{"to_ids": "1", "timestamp": 1700000100}),
	}
	objects := []map[string]any{
		{"uuid": "bbbbbbbb-0000-4000-8000-000000000001", "name": "file", "deleted": true, "Attribute": []map[string]any{attr(5, "md5", "44d88612fea8a8f36de82e1278abb02f", nil)}},
		{"uuid": "bbbbbbbb-0000-4000-8000-000000000002", "name": "domain-ip", "Attribute": []map[string]any{attr(6, "domain", "e.example", nil)}},
	}
	b := parse(t, mkEvent(attrs, map[string]any{"Object": objects, "Tag": []map[string]any{{"name": "tlp:green"}, {"name": "type:OSINT"}}}), intel.ImportOptions{Owner: "council-a"})
	wantSkipped := []intel.Skip{
		{Ref: "event " + evUUID + " attribute aaaaaaaa-0000-4000-8000-000000000001", Reason: "to_ids is false: the producer marks this domain as context, not for detection"},
		{Ref: "event " + evUUID + " attribute aaaaaaaa-0000-4000-8000-000000000002", Reason: "deleted in MISP"},
		{Ref: "event " + evUUID + " attribute aaaaaaaa-0000-4000-8000-000000000005", Reason: "the MISP object bbbbbbbb-0000-4000-8000-000000000001 is deleted"},
	}
	if d := cmp.Diff(wantSkipped, b.Skipped); d != "" {
		t.Errorf("skipped (-want +got):\n%s", d)
	}
	if len(b.Indicators) != 3 {
		t.Fatalf("indicators: %+v", b.Indicators)
	}
	at := time.Unix(1700000000, 0).UTC()
	want := intel.Indicator{
		ID: "indicator--aaaaaaaa-0000-4000-8000-000000000003", Name: "Phishing wave", Description: "C2",
		Observables: []intel.Observable{{Type: intel.TypeDomain, Value: "c.example"}},
		TLP:         intel.TLPGreen, ValidFrom: at, Source: "misp:CERT-X",
		Tags:  []string{"type:OSINT", "misp-event:" + evUUID, "kill-chain:c2", "misp-type:domain"},
		Owner: "council-a", Created: at, Modified: at,
	}
	if d := cmp.Diff(want, b.Indicators[0]); d != "" {
		t.Errorf("indicator (-want +got):\n%s", d)
	}
	if got := b.Indicators[1].Modified; !got.Equal(time.Unix(1700000100, 0)) {
		t.Errorf("numeric timestamp: %v", got)
	}
	// Importing again gives the same ids.
	b2 := parse(t, mkEvent(attrs, map[string]any{"Object": objects}), intel.ImportOptions{})
	for i := range b.Indicators {
		if b.Indicators[i].ID != b2.Indicators[i].ID {
			t.Errorf("id changed: %s %s", b.Indicators[i].ID, b2.Indicators[i].ID)
		}
	}
}

func TestIDs(t *testing.T) {
	b := parse(t, mkEvent([]map[string]any{
		attr(1, "domain", "a.example", map[string]any{"uuid": "AAAAAAAA-0000-4000-8000-000000000001"}),
		attr(2, "domain", "b.example", map[string]any{"uuid": "not-a-uuid"}),
		attr(3, "domain", "c.example", map[string]any{"uuid": nil}),
	}, nil), intel.ImportOptions{})
	if len(b.Indicators) != 3 {
		t.Fatalf("%+v", b)
	}
	if b.Indicators[0].ID != "indicator--aaaaaaaa-0000-4000-8000-000000000001" {
		t.Errorf("id %s", b.Indicators[0].ID)
	}
	for _, i := range b.Indicators[1:] {
		if !strings.HasPrefix(i.ID, "indicator--") || len(i.ID) != len("indicator--")+36 {
			t.Errorf("derived id %s", i.ID)
		}
	}
}

func TestDistribution(t *testing.T) {
	members := []tenant.ID{"council-a", "council-b"}
	tests := []struct {
		name      string
		eventDist any
		attrDist  any
		eventTags []string
		attrTags  []string
		group     bool
		audience  []tenant.ID
		tlp       intel.TLP
		wantTLP   intel.TLP
		wantAud   []tenant.ID
	}{
		{"no distribution: defaults", nil, nil, nil, nil, false, nil, "", intel.TLPAmber, nil},
		{"import default TLP", "3", "5", nil, nil, false, nil, intel.TLPGreen, intel.TLPGreen, nil},
		{"organisation only", "0", nil, []string{"tlp:clear"}, nil, false, nil, "", intel.TLPRed, []tenant.ID{}},
		{"attribute organisation only", "3", "0", nil, nil, false, members, "", intel.TLPRed, []tenant.ID{}},
		{"community", "1", nil, nil, nil, false, members, "", intel.TLPAmber, members},
		{"connected", 2, nil, nil, nil, false, nil, "", intel.TLPAmber, nil},
		{"all", "3", "3", []string{"tlp:white"}, nil, false, nil, "", intel.TLPClear, nil},
		{"event tag, stricter attribute tag", "3", nil, []string{"tlp:green"}, []string{"TLP:AMBER+STRICT"}, false, nil, "", intel.TLPAmberStrict, nil},
		{"event tag stricter", "3", nil, []string{"tlp:red"}, []string{"tlp:clear"}, false, nil, "", intel.TLPRed, nil},
		{"sharing group, named audience", "4", nil, nil, nil, true, members, "", intel.TLPAmber, members},
		{"sharing group, no audience", "4", nil, nil, nil, true, nil, "", intel.TLPAmber, []tenant.ID{}},
		{"attribute sharing group in an open event", "3", "4", nil, nil, false, nil, "", intel.TLPAmber, []tenant.ID{}},
	}
	tags := func(ns []string) []map[string]any {
		var out []map[string]any
		for _, n := range ns {
			out = append(out, map[string]any{"name": n})
		}
		return out
	}
	for _, tt := range tests {
		a := attr(1, "domain", "a.example", map[string]any{"Tag": tags(tt.attrTags)})
		if tt.attrDist != nil {
			a["distribution"] = tt.attrDist
		}
		extra := map[string]any{"Tag": tags(tt.eventTags)}
		if tt.eventDist != nil {
			extra["distribution"] = tt.eventDist
		}
		if tt.group {
			extra["SharingGroup"] = map[string]any{"name": "councils"}
		}
		b := parse(t, mkEvent([]map[string]any{a}, extra), intel.ImportOptions{Audience: tt.audience, TLP: tt.tlp})
		if len(b.Indicators) != 1 {
			t.Errorf("%s: %+v", tt.name, b.Skipped)
			continue
		}
		i := b.Indicators[0]
		if tt.group && !slices.Contains(i.Tags, "misp-sharing-group:councils") {
			t.Errorf("%s: tags %v", tt.name, i.Tags)
		}
		if i.TLP != tt.wantTLP || !cmp.Equal(i.Audience, tt.wantAud) || (i.Audience == nil) != (tt.wantAud == nil) {
			t.Errorf("%s: TLP %s audience %#v, want %s %#v", tt.name, i.TLP, i.Audience, tt.wantTLP, tt.wantAud)
		}
	}
}

func TestSightingsAndAttack(t *testing.T) {
	s := func(typ, at, org string) map[string]any {
		return map[string]any{"type": typ, "date_sighting": at, "Organisation": map[string]any{"name": org}}
	}
	a := attr(1, "domain", "a.example", map[string]any{
		"Sighting": []map[string]any{
			s("0", "1700000500", "CERT-X"), s("0", "1700000100", "CERT-X"), s("0", "1700000300", "SOC-Y"),
			s("1", "1700000400", "SOC-Y"), s("2", "1700086400", "CERT-X"),
		},
		"Tag": []map[string]any{{"name": `misp-galaxy:mitre-attack-pattern="Spearphishing Link - T1566.002"`}},
	})
	galaxy := []map[string]any{{"type": "mitre-attack-pattern", "GalaxyCluster": []map[string]any{
		{"type": "mitre-attack-pattern", "value": "Phishing - T1566", "tag_name": `misp-galaxy:mitre-attack-pattern="Phishing - T1566"`, "meta": map[string]any{"external_id": []string{"T1566"}}},
	}}}
	b := parse(t, mkEvent([]map[string]any{a}, map[string]any{"Galaxy": galaxy, "Tag": []map[string]any{{"name": `misp-galaxy:mitre-attack-pattern="Valid Accounts - T1078"`}}}), intel.ImportOptions{Owner: "council-a"})
	if len(b.Indicators) != 1 {
		t.Fatalf("%+v", b)
	}
	i := b.Indicators[0]
	if d := cmp.Diff([]string{"T1078", "T1566", "T1566.002"}, i.Attack); d != "" {
		t.Errorf("attack (-want +got):\n%s", d)
	}
	if !i.ValidUntil.Equal(time.Unix(1700086400, 0)) {
		t.Errorf("expiration sighting: valid_until %v", i.ValidUntil)
	}
	if !strings.Contains(strings.Join(i.Tags, ","), "misp:false-positive-sighting") {
		t.Errorf("false-positive sighting: tags %v", i.Tags)
	}
	want := []intel.Sighting{
		{IndicatorID: i.ID, Tenant: "council-a", FirstSeen: time.Unix(1700000100, 0).UTC(), LastSeen: time.Unix(1700000500, 0).UTC(), Count: 2, Source: "misp:CERT-X", Total: true},
		{IndicatorID: i.ID, Tenant: "council-a", FirstSeen: time.Unix(1700000300, 0).UTC(), LastSeen: time.Unix(1700000300, 0).UTC(), Count: 1, Source: "misp:SOC-Y", Total: true},
	}
	if d := cmp.Diff(want, b.Sightings); d != "" {
		t.Errorf("sightings (-want +got):\n%s", d)
	}
}

func TestShapes(t *testing.T) {
	a := attr(1, "domain", "a.example", nil)
	bare, _ := json.Marshal(map[string]any{"uuid": evUUID, "info": "x", "Attribute": []any{a}})
	resp, _ := json.Marshal(map[string]any{"response": []any{map[string]any{"Event": map[string]any{"uuid": evUUID, "Attribute": []any{a}}}, map[string]any{"Event": map[string]any{"uuid": evUUID, "Attribute": []any{attr(2, "domain", "b.example", nil)}}}}})
	for name, data := range map[string][]byte{"bare": bare, "response": resp, "wrapped": mkEvent([]map[string]any{a}, nil)} {
		b, err := ParseEvent(data, intel.ImportOptions{})
		if err != nil || len(b.Indicators) == 0 {
			t.Errorf("%s: %v %+v", name, err, b)
		}
	}
	for _, bad := range []string{``, `[]`, `{"foo":1}`, `{"Event":[]}`, `{"Event":{"Attribute":{"a":1}}}`} {
		if _, err := ParseEvent([]byte(bad), intel.ImportOptions{}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestFeedFS(t *testing.T) {
	e1 := mkEvent([]map[string]any{attr(1, "domain", "a.example", nil), attr(2, "filename|md5", "x.exe|44d88612fea8a8f36de82e1278abb02f", nil)}, nil)
	other := "99999999-2222-4333-8444-555555555555"
	missing := "88888888-2222-4333-8444-555555555555"
	manifest := `{"` + evUUID + `":{"info":"x","Orgc":{"name":"CERT-X"}},"` + missing + `":{"info":"gone"}}`
	_, hs, err := ValueHashes(e1)
	if err != nil || len(hs) != 3 {
		t.Fatalf("hashes %v %v", hs, err)
	}
	hashes := hs[0] + "," + evUUID + "\n" + hs[1] + "," + evUUID + "\n" + "00000000000000000000000000000000," + evUUID + "\n"
	fsys := fstest.MapFS{
		"manifest.json":  {Data: []byte(manifest)},
		evUUID + ".json": {Data: e1},
		other + ".json":  {Data: e1},
		"notes.json":     {Data: []byte(`{}`)},
		"hashes.csv":     {Data: []byte(hashes)},
		"README.md":      {Data: []byte("hi")},
	}
	b, err := ParseFeedFS(fsys, intel.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Indicators) != 2 {
		t.Errorf("indicators %d", len(b.Indicators))
	}
	want := []intel.Skip{
		{Ref: "event " + missing, Reason: "listed in manifest.json, but " + missing + ".json is missing"},
		{Ref: other + ".json", Reason: "event file not listed in manifest.json (not imported)"},
		{Ref: "notes.json", Reason: "not part of a MISP feed (neither manifest.json nor <event uuid>.json)"},
		{Ref: "hashes.csv event " + evUUID, Reason: "md5 00000000000000000000000000000000: 0 values in the event, 1 lines in hashes.csv"},
		{Ref: "hashes.csv event " + evUUID, Reason: "md5 " + hs[2] + ": 1 values in the event, 0 lines in hashes.csv"},
	}
	if d := cmp.Diff(want, b.Skipped); d != "" {
		t.Errorf("skipped (-want +got):\n%s", d)
	}
	if _, err := ParseFeedFS(fstest.MapFS{}, intel.ImportOptions{}); err == nil {
		t.Error("no manifest: no error")
	}
	if _, err := ParseFeedFS(fstest.MapFS{"manifest.json": {Data: []byte(`{"x":{}}`)}}, intel.ImportOptions{}); err == nil {
		t.Error("bad manifest: no error")
	}
}

// TestEventLevelSightings: MISP's event view lists the sightings beside
// the attributes (Event.Sighting, each naming its attribute by uuid or
// id); they count as the attribute's own, once even when listed in both
// places, and one of an attribute not in the event is reported.
func TestEventLevelSightings(t *testing.T) {
	a1 := attr(1, "domain", "a.example", map[string]any{"id": "101", "Sighting": []map[string]any{
		{"uuid": "5e000000-0000-4000-8000-000000000001", "type": "0", "date_sighting": "1700000100", "Organisation": map[string]any{"name": "CERT-X"}},
	}})
	a2 := attr(2, "ip-dst", "198.51.100.7", map[string]any{"id": "102"})
	evSightings := []map[string]any{
		{"uuid": "5e000000-0000-4000-8000-000000000001", "attribute_id": "101", "attribute_uuid": a1["uuid"], "type": "0", "date_sighting": "1700000100", "Organisation": map[string]any{"name": "CERT-X"}},
		{"uuid": "5e000000-0000-4000-8000-000000000002", "attribute_id": "101", "attribute_uuid": a1["uuid"], "type": "0", "date_sighting": "1700000200", "Organisation": map[string]any{"name": "CERT-X"}},
		{"uuid": "5e000000-0000-4000-8000-000000000003", "attribute_id": "102", "type": "0", "date_sighting": "1700000300", "Organisation": map[string]any{"name": "SOC-Y"}},
		{"uuid": "5e000000-0000-4000-8000-000000000004", "attribute_id": "999", "attribute_uuid": "aaaaaaaa-0000-4000-8000-000000000099", "type": "0", "date_sighting": "1700000300"},
	}
	b := parse(t, mkEvent([]map[string]any{a1, a2}, map[string]any{"Sighting": evSightings}), intel.ImportOptions{})
	type sg struct {
		Value, Source string
		Count         int
	}
	var got []sg
	for _, s := range b.Sightings {
		for _, i := range b.Indicators {
			if i.ID == s.IndicatorID {
				got = append(got, sg{i.Observables[0].Value, s.Source, s.Count})
			}
		}
	}
	if d := cmp.Diff([]sg{{"a.example", "misp:CERT-X", 2}, {"198.51.100.7", "misp:SOC-Y", 1}}, got); d != "" {
		t.Errorf("sightings (-want +got):\n%s", d)
	}
	want := []intel.Skip{{Ref: "event " + evUUID + " sighting 5e000000-0000-4000-8000-000000000004", Reason: "its attribute aaaaaaaa-0000-4000-8000-000000000099 is not in the event"}}
	if d := cmp.Diff(want, b.Skipped); d != "" {
		t.Errorf("skipped (-want +got):\n%s", d)
	}
}
