package stix

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/intel"
)

func manualIndicator() intel.Indicator {
	at := time.Date(2024, 3, 1, 10, 0, 0, 123456789, time.UTC)
	return intel.Indicator{
		ID:   DeterministicID("indicator", "manual|1"),
		Name: "phishing kit",
		Observables: []intel.Observable{
			{Type: intel.TypeIPv4, Value: "198.51.100.7"},
			{Type: intel.TypeDomain, Value: "x.example"},
			{Type: intel.TypeCIDR, Value: "2001:db8::/32"},
			{Type: intel.TypeCIDR, Value: "198.51.100.0/24"},
			{Type: intel.TypeURL, Value: "http://x.example/a"},
			{Type: intel.TypeMD5, Value: "44d88612fea8a8f36de82e1278abb02f"},
			{Type: intel.TypeSHA1, Value: "3395856ce81f2b7382dee72602f798b642f14140"},
			{Type: intel.TypeSHA256, Value: "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"},
			{Type: intel.TypeEmail, Value: "bad@x.example"},
			{Type: intel.TypeEmailSubject, Value: `It's "urgent"`},
			{Type: intel.TypeFileName, Value: `c:\temp\it's.exe`},
			{Type: intel.TypeIPv6, Value: "2001:db8::1"},
		},
		TLP:        intel.TLPAmberStrict,
		Confidence: 70,
		ValidFrom:  at,
		ValidUntil: at.Add(30 * 24 * time.Hour),
		Tags:       []string{"phishing"},
		Attack:     []string{"T1566.001", "TA0001"},
		Owner:      "council-a",
		Created:    at,
		Modified:   at.Add(time.Hour),
	}
}

func TestIndicatorObject(t *testing.T) {
	ind := manualIndicator()
	o, err := IndicatorObject(ind)
	if err != nil {
		t.Fatal(err)
	}
	o2, _ := IndicatorObject(ind)
	if string(o.JSON) != string(o2.JSON) {
		t.Error("not deterministic")
	}
	var m map[string]any
	if err := json.Unmarshal(o.JSON, &m); err != nil {
		t.Fatal(err)
	}
	wantPattern := `[ipv4-addr:value = '198.51.100.7'] OR [domain-name:value = 'x.example'] OR [ipv6-addr:value = '2001:db8::/32'] OR ` +
		`[ipv4-addr:value = '198.51.100.0/24'] OR [url:value = 'http://x.example/a'] OR [file:hashes.MD5 = '44d88612fea8a8f36de82e1278abb02f'] OR ` +
		`[file:hashes.'SHA-1' = '3395856ce81f2b7382dee72602f798b642f14140'] OR ` +
		`[file:hashes.'SHA-256' = '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f'] OR [email-addr:value = 'bad@x.example'] OR ` +
		`[email-message:subject = 'It\'s "urgent"'] OR [file:name = 'c:\\temp\\it\'s.exe'] OR [ipv6-addr:value = '2001:db8::1']`
	if m["pattern"] != wantPattern {
		t.Errorf("pattern\n got %s\nwant %s", m["pattern"], wantPattern)
	}
	for k, want := range map[string]any{
		"type": "indicator", "spec_version": "2.1", "pattern_type": "stix", "confidence": 70.0,
		"created": "2024-03-01T10:00:00.123456789Z", "modified": "2024-03-01T11:00:00.123456789Z",
		"valid_until": "2024-03-31T10:00:00.123456789Z",
	} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	if !strings.Contains(string(o.JSON), `"object_marking_refs":["`+intel.TLPAmberStrict.MarkingID()+`"]`) ||
		!strings.Contains(string(o.JSON), `{"source_name":"mitre-attack","url":"https://attack.mitre.org/techniques/T1566/001/","external_id":"T1566.001"}`) {
		t.Errorf("JSON: %s", o.JSON)
	}
	// Round trip through a bundle.
	data, err := Bundle([]intel.Object{o})
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseBundle(data, intel.ImportOptions{Owner: "council-a", Audience: ind.Audience})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Objects) != 2 || b.Objects[0].ID != intel.TLPAmberStrict.MarkingID() || len(b.Skipped) != 0 {
		t.Fatalf("bundle: %+v", b)
	}
	want := ind
	want.Pattern = wantPattern
	if d := cmp.Diff([]intel.Indicator{want}, b.Indicators); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
	if d := cmp.Diff(o, b.Objects[1]); d != "" {
		t.Errorf("object round trip (-want +got):\n%s", d)
	}
}

func TestIndicatorObjectErrors(t *testing.T) {
	for name, f := range map[string]func(*intel.Indicator){
		"bad id":       func(i *intel.Indicator) { i.ID = "csv-1" },
		"no times":     func(i *intel.Indicator) { i.Created, i.Modified = time.Time{}, time.Time{} },
		"invalid":      func(i *intel.Indicator) { i.Confidence = 200 },
		"no tlp":       func(i *intel.Indicator) { i.TLP = "" },
		"nothing":      func(i *intel.Indicator) { i.Observables = nil },
		"unnormalised": func(i *intel.Indicator) { i.Observables[0].Value = "X.EXAMPLE" },
	} {
		ind := manualIndicator()
		f(&ind)
		if _, err := IndicatorObject(ind); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A pattern indicator keeps its pattern.
	ind := manualIndicator()
	ind.Observables = nil
	ind.Pattern = "[x509-certificate:issuer = 'CN=x']"
	o, err := IndicatorObject(ind)
	if err != nil || !strings.Contains(string(o.JSON), `"pattern":"[x509-certificate:issuer = 'CN=x']"`) {
		t.Errorf("%v %s", err, o.JSON)
	}
}

func TestSightingObject(t *testing.T) {
	s := intel.Sighting{ID: 7, IndicatorID: indID, Tenant: "council-a", Count: 3,
		FirstSeen: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), LastSeen: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)}
	o := SightingObject(s, []string{identA, "not-an-id", identA})
	if o.ID != SightingObject(s, nil).ID || !ValidID(o.ID) || o.Type != "sighting" {
		t.Errorf("object %+v", o)
	}
	data, err := Bundle([]intel.Object{o})
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseBundle(data, intel.ImportOptions{Owner: "council-a"})
	if err != nil {
		t.Fatal(err)
	}
	want := s
	want.ID = 0
	want.ObjectID, want.ObjectVersion = o.ID, o.Modified
	if d := cmp.Diff([]intel.Sighting{want}, b.Sightings); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
	// The identity is not in the bundle: reported, the sighting kept.
	if len(b.Skipped) != 0 || len(b.Notes) != 2 || !strings.Contains(b.Notes[1].Reason, "where_sighted_refs "+identA) {
		t.Errorf("skipped %+v, notes %+v", b.Skipped, b.Notes)
	}
	if !strings.Contains(string(o.JSON), `"where_sighted_refs":["`+identA+`"]`) {
		t.Errorf("JSON %s", o.JSON)
	}
}

func TestBundleMarkings(t *testing.T) {
	tlp1 := json.RawMessage(`{"type":"campaign","spec_version":"2.1","id":"campaign--1b2c3d4e-0000-4000-8000-00000000000b","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"c","object_marking_refs":["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"]}`)
	b := ParseObjects([]json.RawMessage{tlp1}, intel.ImportOptions{})
	data, err := Bundle(b.Objects)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := ParseBundle(data, intel.ImportOptions{})
	if err != nil || len(b2.Objects) != 2 || b2.Objects[0].ID != "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82" || b2.Objects[1].TLP != intel.TLPAmber {
		t.Errorf("%v %+v", err, b2)
	}
	for _, l := range []intel.TLP{intel.TLPClear, intel.TLPGreen, intel.TLPAmber, intel.TLPAmberStrict, intel.TLPRed} {
		m := MarkingObject(l)
		if got := markingTLP("marking-definition--1b2c3d4e-0000-4000-8000-00000000000c", m.JSON); got != l {
			t.Errorf("%s: marking JSON reads as %q: %s", l, got, m.JSON)
		}
	}
	// Empty bundle.
	if data, err := Bundle(nil); err != nil || !strings.Contains(string(data), `"objects":[]`) {
		t.Errorf("%v %s", err, data)
	}
}
