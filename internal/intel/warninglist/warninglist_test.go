package warninglist

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/intel"
)

func corpus(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("TARIAN_CORPUS")
	if dir == "" {
		t.Skip("TARIAN_CORPUS is not set: skipping the corpus test (set it to the shared corpus folder)")
	}
	return dir
}

func TestCorpusLists(t *testing.T) {
	s, err := LoadDir(filepath.Join(corpus(t), "intel", "warninglists"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() < 30 {
		t.Errorf("%d lists", s.Len())
	}
	t.Logf("%d lists; left out: %v", s.Len(), s.Problems())
	tests := []struct {
		t     intel.Type
		value string
		list  string // "" not flagged; else a substring of the list name
	}{
		{intel.TypeIPv4, "8.8.8.8", "DNS resolvers"},
		{intel.TypeIPv6, "2001:4860:4860::8888", "DNS resolvers"},
		{intel.TypeIPv4, "10.1.2.3", "1918"},
		{intel.TypeIPv4, "192.168.255.255", "1918"},
		{intel.TypeCIDR, "10.20.0.0/16", "1918"},
		{intel.TypeCIDR, "10.0.0.0/7", ""}, // wider than any listed range
		{intel.TypeIPv4, "100.64.1.1", "6598"},
		{intel.TypeIPv6, "fe80::1", "IPv6 link local"},
		{intel.TypeIPv6, "2001:db8::1", "3849"},
		{intel.TypeIPv4, "198.51.100.7", "5735"},
		{intel.TypeIPv4, "203.0.113.9", "5735"},
		{intel.TypeIPv4, "81.2.69.142", ""},
		{intel.TypeDomain, "google.com", ""},
		{intel.TypeDomain, "mail.google.com", ""},
		{intel.TypeDomain, "dns.google", "DNS"},
		{intel.TypeDomain, "example.org", "6761"},
		{intel.TypeDomain, "not-listed-anywhere-x7q.info", ""},
		{intel.TypeMD5, "44D88612FEA8A8F36DE82E1278ABB02F", "EICAR"},
		{intel.TypeSHA256, "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f", "EICAR"},
		{intel.TypeMD5, "d41d8cd98f00b204e9800998ecf8427e", "hash"},
		{intel.TypeURL, "https://tinyurl.com/abc", "*"}, // the shortener and Tranco lists
		{intel.TypeEmail, "abuse@example.org", "contact"},
		{intel.TypeEmail, "ceo@council.example.gov.uk", ""},
	}
	for _, tt := range tests {
		name, ok := s.Check(tt.t, tt.value)
		if tt.list == "" {
			if ok && tt.value != "google.com" && tt.value != "mail.google.com" {
				t.Errorf("%s %s: flagged by %q", tt.t, tt.value, name)
			}
			continue
		}
		if !ok || tt.list != "*" && !strings.Contains(strings.ToLower(name), strings.ToLower(tt.list)) {
			t.Errorf("%s %s: flagged %v by %q, want a list named like %q", tt.t, tt.value, ok, name, tt.list)
		}
	}
	// A Tranco top domain, whichever list flags it first.
	for _, d := range []string{"google.com", "www.google.com", "microsoft.com"} {
		if name, ok := s.Check(intel.TypeDomain, d); !ok {
			t.Errorf("%s: not flagged", d)
		} else {
			t.Logf("%s: %s", d, name)
		}
	}
	// A hash never matches an address list.
	if name, ok := s.Check(intel.TypeFileName, "8.8.8.8"); ok {
		t.Errorf("filename 8.8.8.8 flagged by %s", name)
	}
}

func load(t *testing.T, lists ...string) *Set {
	t.Helper()
	s := &Set{}
	for _, l := range lists {
		if err := s.Add([]byte(l)); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
	}
	return s
}

func TestKinds(t *testing.T) {
	s := load(t,
		`{"name":"strings","description":"d","version":1,"type":"string","list":["Exact.Example",".suffix.example","44D88612FEA8A8F36DE82E1278ABB02F"],"matching_attributes":["domain","hostname","url","md5"]}`,
		`{"name":"hosts","description":"d","version":1,"type":"hostname","list":["*.Host.Example","com"],"matching_attributes":["hostname","url","email-src"]}`,
		`{"name":"subs","description":"d","version":1,"type":"substring","list":["tracker","Mailinator.com"],"matching_attributes":["url","email-src"]}`,
		`{"name":"ranges","description":"d","version":1,"type":"cidr","list":["192.0.2.0/25","192.0.2.128/25","198.51.100.7","2001:db8::/48","::ffff:203.0.113.0/120","bad"]}`,
		`{"name":"regexes","description":"d","version":1,"type":"regex","list":["/^(noc|soc)@/i","#^x+$#","/(?<=a)b/"],"matching_attributes":["email-dst","email-subject"]}`,
	)
	tests := []struct {
		t    intel.Type
		v    string
		want string
	}{
		{intel.TypeDomain, "exact.example", "strings"},
		{intel.TypeDomain, "sub.exact.example", ""},
		{intel.TypeDomain, "a.suffix.example", "strings"},
		{intel.TypeDomain, "suffix.example", ""},
		{intel.TypeURL, "http://exact.example/x", "strings"},
		{intel.TypeMD5, "44d88612fea8a8f36de82e1278abb02f", "strings"},
		{intel.TypeSHA1, "44d88612fea8a8f36de82e1278abb02f", ""},
		{intel.TypeDomain, "host.example", "hosts"},
		{intel.TypeDomain, "a.b.host.example", "hosts"},
		{intel.TypeDomain, "xhost.example", ""},
		{intel.TypeDomain, "example.com", ""}, // a list naming a TLD flags only the TLD
		{intel.TypeURL, "https://www.host.example:8443/p", "hosts"},
		{intel.TypeEmail, "x@host.example", "hosts"},
		{intel.TypeURL, "http://a.example/TRACKER?id=1", "subs"},
		{intel.TypeEmail, "x@mailinator.com", "subs"},
		{intel.TypeDomain, "tracker.example", ""}, // substring list does not apply to domains
		{intel.TypeIPv4, "192.0.2.200", "ranges"},
		{intel.TypeIPv4, "198.51.100.7", "ranges"},
		{intel.TypeIPv4, "198.51.100.8", ""},
		{intel.TypeCIDR, "192.0.2.0/24", "ranges"}, // the two halves merge
		{intel.TypeCIDR, "192.0.0.0/16", ""},
		{intel.TypeIPv4, "203.0.113.5", "ranges"},
		{intel.TypeIPv6, "2001:db8:0:1::1", "ranges"},
		{intel.TypeIPv6, "2001:db8:1::1", ""},
		{intel.TypeIPv6, "::ffff:192.0.2.1", "ranges"},
		{intel.TypeEmail, "SOC@x.example", "regexes"},
		{intel.TypeEmailSubject, "xxx", "regexes"},
		{intel.TypeEmailSubject, "xxy", ""},
	}
	for _, tt := range tests {
		got, ok := s.Check(tt.t, tt.v)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("%s %s: %q %v, want %q", tt.t, tt.v, got, ok, tt.want)
		}
	}
	// A long substring list (not an automaton).
	var entries []string
	for i := range maxAutomaton + 10 {
		entries = append(entries, fmt.Sprintf(`"Spam%d.example"`, i))
	}
	big := load(t, `{"name":"big","description":"d","version":1,"type":"substring","list":[`+strings.Join(entries, ",")+`]}`)
	for v, want := range map[string]bool{"x@spam7.example": true, "x@mail.spam1009.example.org": true, "x@spam.example": false, "s": false} {
		if _, ok := big.Check(intel.TypeEmail, v); ok != want {
			t.Errorf("big substring list, %s: %v", v, ok)
		}
	}
	if p := s.Problems(); len(p) != 2 || !strings.Contains(p[0], `"bad"`) || !strings.Contains(p[1], "(?<=a)b") {
		t.Errorf("problems: %q", p)
	}
	inds := []intel.Indicator{{Observables: []intel.Observable{{Type: intel.TypeIPv4, Value: "192.0.2.1"}, {Type: intel.TypeIPv4, Value: "198.51.100.9", Warninglist: "stale"}}}}
	if n := s.Flag(inds); n != 1 || inds[0].Observables[0].Warninglist != "ranges" || inds[0].Observables[1].Warninglist != "" {
		t.Errorf("Flag: %d %+v", n, inds)
	}
	var nilSet *Set
	if _, ok := nilSet.Check(intel.TypeIPv4, "8.8.8.8"); ok {
		t.Error("nil set flags")
	}
}

func TestBadFiles(t *testing.T) {
	for name, tt := range map[string]struct{ data, reason string }{
		"not JSON":     {`{`, "not JSON"},
		"no list":      {`{"name":"n","description":"d","version":1,"type":"string"}`, "list: missing"},
		"no name":      {`{"description":"d","version":1,"type":"string","list":[]}`, "name: missing"},
		"bad type":     {`{"name":"n","description":"d","version":1,"type":"glob","list":[]}`, `type "glob"`},
		"extra field":  {`{"name":"n","description":"d","version":1,"type":"string","list":[],"x":1}`, `property "x"`},
		"list of ints": {`{"name":"n","description":"d","version":1,"type":"string","list":[1]}`, "list"},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "ok.json"), []byte(`{"name":"n","description":"d","version":1,"type":"string","list":["a"]}`), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "bad.json"), []byte(tt.data), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadDir(dir)
		if err == nil || !strings.Contains(err.Error(), "bad.json") || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := LoadDir(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing dir: no error")
	}
}

func FuzzWarninglist(f *testing.F) {
	f.Add(`{"name":"n","description":"d","version":1,"type":"cidr","list":["10.0.0.0/8","::/0"]}`, "ipv4", "10.1.2.3")
	f.Add(`{"name":"n","description":"d","version":1,"type":"regex","list":["/a+/i"]}`, "email-subject", "AAA")
	f.Add(`{"name":"n","description":"d","version":1,"type":"hostname","list":["x.example"]}`, "url", "http://a.x.example/")
	f.Add(`{"name":"n","description":"d","version":1,"type":"substring","list":["",""]}`, "domain", "a")
	f.Fuzz(func(t *testing.T, list, typ, value string) {
		s := &Set{}
		if err := s.Add([]byte(list)); err != nil {
			return
		}
		s.Check(intel.Type(typ), value)
	})
}
