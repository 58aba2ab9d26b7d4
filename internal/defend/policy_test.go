package defend

import (
	"slices"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/intel"
)

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(*Config) {}, ""},
		{func(c *Config) { c.TLP = "red" }, "tlp"},
		{func(c *Config) { c.TLP = "amber+strict" }, "tlp"},
		{func(c *Config) { c.KAnonymity = 1 }, "k_anonymity"},
		{func(c *Config) { c.CampaignMembers = 1 }, "campaign_members"},
		{func(c *Config) { c.Tenants = map[string]Member{"gwynedd": {Networks: []string{"10.0.0.0"}}} }, "tenants.gwynedd.networks"},
		{func(c *Config) { c.Tenants = map[string]Member{"gwynedd": {Domains: []string{"bad domain"}}} }, "tenants.gwynedd.domains"},
	} {
		cfg := DefaultConfig()
		c.mod(&cfg)
		err := cfg.Validate()
		if (err == nil) != (c.want == "") || err != nil && !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", cfg, err, c.want)
		}
	}
}

// TestSanitise: realistic alerts of every kind of source; what the policy
// lets out is external observables only, never a member's hosts, users,
// internal names or addresses.
func TestSanitise(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Tenants = map[string]Member{
		"gwynedd": {Domains: []string{"gwynedd.gov.uk", "gwynedd.llyw.cymru"}, Networks: []string{"81.2.69.0/24"}},
		"powys":   {Domains: []string{"powys.gov.uk"}, Networks: []string{"2a02:8010:1::/48"}},
	}
	p := newPolicy(cfg)
	f := func(kv ...string) []event.Field {
		var fs []event.Field
		for i := 0; i+1 < len(kv); i += 2 {
			fs = append(fs, event.Field{Name: kv[i], Value: kv[i+1]})
		}
		return fs
	}
	for _, c := range []struct {
		name   string
		fields []event.Field
		want   []intel.Observable
	}{
		{"sysmon dns to an external domain", f("Computer", "GWY-WS1.gwynedd.gov.uk", "User", `GWYNEDD\alice`, "QueryName", "login.phish-wave.net"),
			[]intel.Observable{{Type: intel.TypeDomain, Value: "login.phish-wave.net"}}},
		{"sysmon dns to an internal domain", f("Computer", "GWY-WS1", "User", `GWYNEDD\alice`, "QueryName", "intranet.gwynedd.gov.uk"), nil},
		{"another member's internal domain", f("QueryName", "mail.powys.gov.uk"), nil},
		{"internal suffixes and single labels", f("dns.question.name", "fileserver.corp"), nil},
		{"single label", f("dns.question.name", "wpad"), nil},
		{"firewall: private source, public destination", f("source.ip", "10.20.30.40", "destination.ip", "198.51.100.9", "host.name", "fw01"),
			[]intel.Observable{{Type: intel.TypeIPv4, Value: "198.51.100.9"}}},
		{"a member's own public range", f("source.ip", "81.2.69.160", "destination.ip", "172.16.0.5"), nil},
		{"a member's IPv6 range, CGNAT, link-local", f("source.ip", "2a02:8010:1::5", "destination.ip", "100.64.1.1"), nil},
		{"link-local", f("destination.ip", "fe80::1"), nil},
		{"proxy URL outside", f("url.original", "HTTPS://Evil.Example.org/pay?x=1", "user.name", "bob", "source.ip", "192.168.1.10"),
			[]intel.Observable{{Type: intel.TypeURL, Value: "https://evil.example.org/pay?x=1"}}},
		{"proxy URL inside", f("url.full", "https://sharepoint.gwynedd.gov.uk/sites/hr"), nil},
		{"URL to a private address", f("url.full", "http://10.1.1.1/admin"), nil},
		{"mail from outside", f("email.from.address", "Invoices <billing@pay-now.biz>", "host.name", "mx1.gwynedd.gov.uk"),
			[]intel.Observable{{Type: intel.TypeEmail, Value: "billing@pay-now.biz"}}},
		{"mail from a member", f("email.from.address", "ceo@gwynedd.gov.uk"), nil},
		{"file hash", f("Hashes", "SHA1=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA,SHA256=E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "Computer", "GWY-WS2"),
			[]intel.Observable{{Type: intel.TypeSHA256, Value: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}},
		{"the host's own domain is internal", f("host.name", "dc01.simulandlabs.com", "dns.question.name", "fs1.simulandlabs.com", "destination.domain", "login.live.com"), nil},
		{"a logon: host and user only", f("TargetUserName", "administrator", "Computer", "DC01", "IpAddress", "192.168.5.5"), nil},
		// A URL outside may carry what is inside: the lure's recipient,
		// the victim's host or user, an internal name or address, or
		// credentials. It is kept back whole (the sender is shared).
		{"a lure's URL naming its recipient", f("url.original", "https://invoice-paynow.example/pay?acct=clerk@conwy.gov.uk", "email.from.address", "billing@invoice-paynow.example", "host.name", "MX1"),
			[]intel.Observable{{Type: intel.TypeEmail, Value: "billing@invoice-paynow.example"}}},
		{"a URL naming a member's internal host", f("url.original", "https://login-micros0ft.example/owa-login?next=https://intranet.gwynedd.gov.uk/hr", "url.domain", "login-micros0ft.example"),
			[]intel.Observable{{Type: intel.TypeDomain, Value: "login-micros0ft.example"}}},
		{"a URL naming the victim's host and user", f("url.original", "http://203.0.113.99/drop.bin?victim=WRX-WS7&u=wrx-jones", "host.name", "WRX-WS7", "user.name", "wrx-jones", "destination.ip", "203.0.113.99"),
			[]intel.Observable{{Type: intel.TypeIPv4, Value: "203.0.113.99"}}},
		{"a URL naming an internal-suffix name", f("url.original", "https://c2.example/b?h=ws7.wrexham.local"), nil},
		{"a URL naming a private address", f("url.original", "https://c2.example/b/10.20.1.7:445/"), nil},
		{"a URL naming a member's public address", f("url.original", "https://c2.example/b?src=81.2.69.10"), nil},
		{"a URL with the recipient percent-encoded", f("url.original", "https://evil.example/p?u=clerk%2540powys.gov.uk"), nil},
		{"a URL with the recipient in base64", f("url.full", "https://evil.example/r/Y2xlcmtAZ3d5bmVkZC5nb3YudWs="), nil},
		{"a URL with credentials", f("url.original", "https://alice:Summer2026@evil.example/"), nil},
		{"a URL outside with nothing inside", f("url.original", "https://evil.example/pay/invoice.php?id=4411&lang=en"),
			[]intel.Observable{{Type: intel.TypeURL, Value: "https://evil.example/pay/invoice.php?id=4411&lang=en"}}},
		// A cloud sign-in's user names its member's domain as a host does.
		{"the user's sign-in domain is internal", f("user.name", "alice@council.example", "url.original", "https://council.example/sites/hr", "source.ip", "198.51.100.7"),
			[]intel.Observable{{Type: intel.TypeIPv4, Value: "198.51.100.7"}}},
		{"a reverse lookup of an internal address", f("dns.question.name", "7.1.20.10.in-addr.arpa"), nil},
		{"broadcast, benchmarking and reserved addresses", f("destination.ip", "255.255.255.255", "source.ip", "198.18.0.7"), nil},
		{"NAT64 and 6to4 of private addresses", f("destination.ip", "64:ff9b::a14:107", "source.ip", "2002:c0a8:105::1"), nil},
		{"NAT64 of a public address", f("destination.ip", "64:ff9b::cb00:7163"),
			[]intel.Observable{{Type: intel.TypeIPv6, Value: "64:ff9b::cb00:7163"}}},
	} {
		got := p.External(alert.Entities(c.fields))
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: shared %v, want %v", c.name, got, c.want)
		}
		for _, o := range got {
			for _, fld := range c.fields {
				if (fld.Name == "Computer" || fld.Name == "host.name" || fld.Name == "User" || fld.Name == "user.name" || fld.Name == "TargetUserName") && o.Value == fld.Value {
					t.Errorf("%s: shared the host or user %q", c.name, o.Value)
				}
			}
		}
	}
}
