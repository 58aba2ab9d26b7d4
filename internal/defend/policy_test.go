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
		{func(c *Config) { c.TLP = "red" }, "defend.tlp"},
		{func(c *Config) { c.TLP = "amber+strict" }, "defend.tlp"},
		{func(c *Config) { c.KAnonymity = 1 }, "defend.k_anonymity"},
		{func(c *Config) { c.CampaignMembers = 1 }, "defend.campaign_members"},
		{func(c *Config) { c.Tenants = map[string]Member{"gwynedd": {Networks: []string{"10.0.0.0"}}} }, "defend.tenants.gwynedd.networks"},
		{func(c *Config) { c.Tenants = map[string]Member{"gwynedd": {Domains: []string{"bad domain"}}} }, "defend.tenants.gwynedd.domains"},
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
