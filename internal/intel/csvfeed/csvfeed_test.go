package csvfeed

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/intel/stix"
	"github.com/tarian-soc/tarian/internal/tenant"
)

var now = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func TestHeader(t *testing.T) {
	in := "\ufeffType,IOC,TLP,Confidence,Valid_Until,Tags,Description,Source\n" +
		"ipv4,198.51.100.7,green,80,2024-06-01,c2;apt,\"C2, seen twice\",x\n" +
		"domain,Evil.Example.,,,,,,\n" +
		"ip,2001:db8::/32,,,,,,\n" +
		",hxxp://evil[.]example/a,,,,,,\n" +
		"md5,abc,,,,,,\n" +
		"bogus,x,,,,,,\n" +
		"domain,evil.example,,,,,,\n" +
		"domain,ok.example,purple,,,,,\n" +
		"domain,ok.example,,200,,,,\n" +
		"domain,ok.example,,,2020-01-01,,,\n" +
		"domain,,,,,,,\n" +
		"# a comment\n" +
		"\n"
	opts := intel.ImportOptions{Owner: "council-a", Audience: []tenant.ID{"council-b"}, Source: "list.csv", Now: now}
	b, err := Parse(strings.NewReader(in), opts)
	if err != nil {
		t.Fatal(err)
	}
	wantSkipped := []intel.Skip{
		{Ref: "line 1", Reason: `column "Source" is not one Tarian reads (ignored)`},
		{Ref: "line 6", Reason: `md5 "abc": want 32 hex digits, have 3`},
		{Ref: "line 7", Reason: `unknown indicator type "bogus" (want one of ipv4, ipv6, cidr, domain, url, md5, sha1, sha256, email, email-subject, filename)`},
		{Ref: "line 8", Reason: "duplicate of line 3"},
		{Ref: "line 9", Reason: `tlp "purple": want clear, green, amber, amber+strict or red`},
		{Ref: "line 10", Reason: `confidence "200": want a whole number 0..100`},
		{Ref: "line 11", Reason: "valid_until: must be after valid_from"},
		{Ref: "line 12", Reason: "no value"},
	}
	if d := cmp.Diff(wantSkipped, b.Skipped); d != "" {
		t.Errorf("skipped (-want +got):\n%s", d)
	}
	if len(b.Indicators) != 4 {
		t.Fatalf("indicators: %+v", b.Indicators)
	}
	want := intel.Indicator{
		ID:          stix.DeterministicID("indicator", "csv|council-a|ipv4|198.51.100.7"),
		Description: "C2, seen twice",
		Observables: []intel.Observable{{Type: intel.TypeIPv4, Value: "198.51.100.7"}},
		TLP:         intel.TLPGreen, Confidence: 80,
		ValidFrom: now, ValidUntil: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC),
		Source: "list.csv", Tags: []string{"c2", "apt"},
		Owner: "council-a", Audience: []tenant.ID{"council-b"},
		Created: now, Modified: now,
	}
	if d := cmp.Diff(want, b.Indicators[0]); d != "" {
		t.Errorf("indicator (-want +got):\n%s", d)
	}
	var got []intel.Observable
	for _, i := range b.Indicators[1:] {
		got = append(got, i.Observables...)
		if i.TLP != intel.TLPAmber {
			t.Errorf("%s: TLP %s", i.ID, i.TLP)
		}
	}
	wantObs := []intel.Observable{{Type: intel.TypeDomain, Value: "evil.example"}, {Type: intel.TypeCIDR, Value: "2001:db8::/32"}, {Type: intel.TypeURL, Value: "http://evil.example/a"}}
	if d := cmp.Diff(wantObs, got); d != "" {
		t.Errorf("observables (-want +got):\n%s", d)
	}
}

func TestValueList(t *testing.T) {
	in := "198.51.100.7\nevil.example\n44d88612fea8a8f36de82e1278abb02f\nbad@evil.example\nnot a value\n2001:db8::1\n198.51.100.0/24\nhttps://x.example/p\n"
	b, err := Parse(strings.NewReader(in), intel.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var types []intel.Type
	for _, i := range b.Indicators {
		types = append(types, i.Observables[0].Type)
	}
	want := []intel.Type{intel.TypeIPv4, intel.TypeDomain, intel.TypeMD5, intel.TypeEmail, intel.TypeIPv6, intel.TypeCIDR, intel.TypeURL}
	if d := cmp.Diff(want, types); d != "" {
		t.Errorf("types (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]intel.Skip{{Ref: "line 5", Reason: `cannot tell the type of "not a value" (give a type column)`}}, b.Skipped); d != "" {
		t.Errorf("skipped (-want +got):\n%s", d)
	}
	// The same list for another owner: other ids; for the same: the same.
	b2, _ := Parse(strings.NewReader(in), intel.ImportOptions{Owner: "council-a"})
	b3, _ := Parse(strings.NewReader(in), intel.ImportOptions{})
	if b2.Indicators[0].ID == b.Indicators[0].ID || b3.Indicators[0].ID != b.Indicators[0].ID {
		t.Error("ids are not per owner, type and value")
	}
}

func TestDelimitersAndErrors(t *testing.T) {
	for name, in := range map[string]string{
		"tab":       "type\tvalue\ndomain\tevil.example\n",
		"semicolon": "type;value\ndomain;evil.example\n",
		"value col": "value\nevil.example\n",
	} {
		b, err := Parse(strings.NewReader(in), intel.ImportOptions{})
		if err != nil || len(b.Indicators) != 1 || len(b.Skipped) != 0 {
			t.Errorf("%s: %v %+v", name, err, b)
		}
	}
	if _, err := Parse(strings.NewReader("# only a comment\n\n"), intel.ImportOptions{}); err == nil {
		t.Error("no lines: no error")
	}
	b, err := Parse(strings.NewReader("type,value\ndomain,\"evil.example\nx"), intel.ImportOptions{})
	if err != nil || len(b.Indicators) != 0 || len(b.Skipped) != 1 {
		t.Errorf("unterminated quote: %v %+v", err, b)
	}
}

func FuzzCSV(f *testing.F) {
	f.Add("type,value,tlp,confidence,valid_until,tags,description\nipv4,198.51.100.7,red,5,2030-01-01,a;b,x\n")
	f.Add("198.51.100.7\nevil.example\n\"quoted\nvalue\"\n")
	f.Add("value;tags\n;;;\n")
	f.Fuzz(func(t *testing.T, in string) {
		b, err := Parse(strings.NewReader(in), intel.ImportOptions{Now: now})
		if err != nil {
			return
		}
		for _, i := range b.Indicators {
			if err := i.Validate(); err != nil {
				t.Fatalf("imported an invalid indicator %+v: %v", i, err)
			}
		}
	})
}

// TestFeedLayouts reads CSV as public feeds lay it out: a byte order mark
// before a comment, prose with commas in the comments of a tab-separated
// file, CRLF line ends, and abuse.ch's header in the last comment line
// with its own column and type names.
func TestFeedLayouts(t *testing.T) {
	type got struct {
		Values  []string
		Skipped []intel.Skip
	}
	for _, tc := range []struct {
		name, in string
		want     got
	}{{
		name: "bom, comment with commas, tabs, crlf",
		in: "\ufeff# Council feed, generated 2024-05-01, do not share\r\n" +
			"type\tvalue\ttlp\r\n" +
			"domain\tevil.example\tgreen\r\n" +
			"ip\t198.51.100.0/28\tclear\r\n",
		want: got{Values: []string{"domain evil.example green", "cidr 198.51.100.0/28 clear"}},
	}, {
		name: "bom before a value list's comment",
		in:   "\ufeff# values\nevil.example\n",
		want: got{Values: []string{"domain evil.example amber"}},
	}, {
		name: "urlhaus",
		in: "################################################################\n" +
			"# abuse.ch URLhaus Database Dump (CSV - recent URLs)           #\n" +
			"# Last updated: 2024-05-01 10:00:04 (UTC)                      #\n" +
			"#\n" +
			"# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n" +
			`"3012345","2024-05-01 09:55:03","http://198.51.100.7:43210/i","online","2024-05-01 09:55:03","malware_download","32-bit,elf,Mozi","https://urlhaus.example/url/3012345/","someone"` + "\n",
		want: got{
			Values: []string{"url http://198.51.100.7:43210/i amber"},
			Skipped: []intel.Skip{
				{Ref: "line 5", Reason: `column "id" is not one Tarian reads (ignored)`},
				{Ref: "line 5", Reason: `column "url_status" is not one Tarian reads (ignored)`},
				{Ref: "line 5", Reason: `column "last_online" is not one Tarian reads (ignored)`},
				{Ref: "line 5", Reason: `column "threat" is not one Tarian reads (ignored)`},
				{Ref: "line 5", Reason: `column "urlhaus_link" is not one Tarian reads (ignored)`},
				{Ref: "line 5", Reason: `column "reporter" is not one Tarian reads (ignored)`},
			},
		},
	}, {
		name: "threatfox",
		in: "# ThreatFox IOCs\n" +
			`# "first_seen_utc","ioc_id","ioc_value","ioc_type","threat_type","confidence_level"` + "\n" +
			`"2024-05-01 10:00:00","1","198.51.100.9:4444","ip:port","botnet_cc","100"` + "\n" +
			`"2024-05-01 10:01:00","2","evil.example","domain","payload_delivery","75"` + "\n" +
			`"2024-05-01 10:02:00","3","E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855","sha256_hash","payload","50"` + "\n",
		want: got{
			Values: []string{"ipv4 198.51.100.9 amber", "domain evil.example amber", "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 amber"},
			Skipped: []intel.Skip{
				{Ref: "line 2", Reason: `column "ioc_id" is not one Tarian reads (ignored)`},
				{Ref: "line 2", Reason: `column "threat_type" is not one Tarian reads (ignored)`},
			},
		},
	}, {
		name: "a comment that is not a header",
		in:   "# hosts, one a line\nevil.example\n",
		want: got{Values: []string{"domain evil.example amber"}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Parse(strings.NewReader(tc.in), intel.ImportOptions{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			var g got
			for _, i := range b.Indicators {
				o := i.Observables[0]
				g.Values = append(g.Values, string(o.Type)+" "+o.Value+" "+string(i.TLP))
			}
			g.Skipped = b.Skipped
			if d := cmp.Diff(tc.want, g); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
