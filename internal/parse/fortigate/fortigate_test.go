package fortigate

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// parse runs one line through a fresh parser and returns its fields by
// name; it fails the test on an error or a name emitted twice.
func parse(t *testing.T, line string) (map[string]string, *event.Event) {
	t.Helper()
	var p Parser
	ev := &event.Event{}
	if err := p.Parse([]byte(line), ev); err != nil {
		t.Fatalf("Parse(%q): %v", line, err)
	}
	seen := map[string]bool{}
	for _, f := range ev.Fields {
		if seen[f.Name] {
			t.Errorf("field %s emitted twice", f.Name)
		}
		seen[f.Name] = true
		if f.Value == "" {
			t.Errorf("field %s emitted empty", f.Name)
		}
	}
	return parsertest.Fields(ev), ev
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name   string
		line   string
		want   map[string]string
		absent []string
		time   string // RFC 3339, "" for none
	}{
		{
			name: "traffic forward with source NAT",
			line: `date=2026-02-11 time=09:14:02 devname="fw-hq" devid="FGT60F0000000001" eventtime=1770801242123456789 tz="+0000" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.20.0.15 srcport=51234 srcintf="internal" srcintfrole="lan" dstip=203.0.113.9 dstport=443 dstintf="wan1" dstintfrole="wan" sessionid=88123 proto=6 action="close" policyid=12 policytype="policy" poluuid="11111111-2222-3333-4444-555555555555" policyname="LAN out" service="HTTPS" trandisp="snat" transip=198.51.100.7 transport=40111 appcat="Web.Client" duration=31 sentbyte=4200 rcvdbyte=91000 sentpkt=40 rcvdpkt=80 srcmac="00:0c:29:aa:bb:cc" dstmac="00:50:56:dd:ee:ff"`,
			time: "2026-02-11T09:14:02Z",
			want: map[string]string{
				"event.kind": "event", "event.action": "close", "event.outcome": "success",
				"event.category": `["network"]`, "event.type": `["connection","end","allowed"]`,
				"event.code": "0000000013", "event.duration": "31000000000", "event.start": "2026-02-11T09:14:02.123Z",
				"event.timezone": "+0000",
				"observer.name":  "fw-hq", "observer.serial_number": "FGT60F0000000001",
				"observer.ingress.interface.name": "internal", "observer.egress.interface.name": "wan1",
				"source.ip": "10.20.0.15", "source.port": "51234", "source.bytes": "4200", "source.packets": "40",
				"source.mac": "00-0C-29-AA-BB-CC", "destination.mac": "00-50-56-DD-EE-FF",
				"source.nat.ip": "198.51.100.7", "source.nat.port": "40111",
				"destination.ip": "203.0.113.9", "destination.port": "443", "destination.bytes": "91000", "destination.packets": "80",
				"network.bytes": "95200", "network.packets": "120", "network.iana_number": "6", "network.transport": "tcp",
				"network.protocol": "https", "network.direction": "outbound",
				"rule.id": "12", "rule.name": "LAN out", "rule.ruleset": "policy", "rule.uuid": "11111111-2222-3333-4444-555555555555",
				"rule.category":               "Web-Client",
				"related.ip":                  `["10.20.0.15","203.0.113.9","198.51.100.7"]`,
				"fortinet.firewall.sessionid": "88123", "fortinet.firewall.transip": "198.51.100.7",
				"log.level": "notice", "ecs.version": "8.17.0", "observer.vendor": "Fortinet", "observer.product": "Fortigate", "observer.type": "firewall",
			},
			absent: []string{"fortinet.firewall.srcip", "fortinet.firewall.dstport", "fortinet.firewall.date", "fortinet.firewall.eventtime", "fortinet.firewall.tz", "fortinet.firewall.devid", "fortinet.firewall.duration"},
		},
		{
			name: "traffic deny, no NAT",
			line: `date=2026-02-11 time=09:15:00 logid="0000000013" type="traffic" subtype="forward" level="warning" srcip=198.51.100.44 srcport=6000 dstip=10.20.0.5 dstport=3389 proto=6 action="deny" policyid=0 service="RDP" utmaction="block"`,
			want: map[string]string{
				"event.action": "deny", "event.type": `["connection","end","denied"]`, "network.direction": "inbound",
				"network.protocol": "rdp", "rule.id": "0",
			},
		},
		{
			name: "utm webfilter with a full URL",
			line: `<190>date=2026-02-11 time=10:00:00 devname="fw-hq" logid="0316013056" type="utm" subtype="webfilter" eventtype="ftgd_blk" level="warning" tz="-0500" srcip=10.20.0.15 dstip=203.0.113.80 dstport=8443 user="jdoe" group="staff" hostname="www.example.com" url="https://u:pw@www.example.com:8443/a/b.php?x=1&y=%41#top" action="blocked" catdesc="Malicious.Websites" profile="strict" httpmethod="POST" referralurl="https://ref.example.net/" agent="Mozilla/5.0 (X11)"`,
			time: "2026-02-11T15:00:00Z",
			want: map[string]string{
				"event.action": "ftgd_blk", "event.type": `["denied"]`, "event.outcome": "success",
				"log.syslog.priority": "190", "log.syslog.facility.code": "23", "log.syslog.severity.code": "6",
				"url.scheme": "https", "url.domain": "www.example.com", "url.port": "8443", "url.path": "/a/b.php",
				"url.extension": "php", "url.query": "x=1&y=A", "url.fragment": "top", "url.username": "u", "url.password": "pw",
				"rule.category": "Malicious-Websites", "rule.ruleset": "strict",
				"source.user.name": "jdoe", "source.user.group.name": "staff", "related.user": `["jdoe"]`,
				"http.request.method": "POST", "http.request.referrer": "https://ref.example.net/", "user_agent.original": "Mozilla/5.0 (X11)",
				"destination.port": "8443",
			},
			absent: []string{"fortinet.firewall.url", "fortinet.firewall.hostname", "url.original"},
		},
		{
			name: "utm dns query with resolved addresses",
			line: `date=2026-02-11 time=10:01:00 logid="1500054000" type="utm" subtype="dns" eventtype="dns-query" level="information" srcip=10.20.0.15 srcport=53000 dstip=10.20.0.1 dstport=53 proto=17 qname="www.news.example.co.uk" qtype="A" qclass="IN" xid=4242 ipaddr="192.0.2.10, 192.0.2.11" action="pass"`,
			want: map[string]string{
				"event.type": `["info","allowed"]`, "dns.question.name": "www.news.example.co.uk", "dns.question.type": "A",
				"dns.question.class": "IN", "dns.id": "4242",
				"dns.question.registered_domain": "example.co.uk", "dns.question.top_level_domain": "co.uk", "dns.question.subdomain": "www.news",
				"related.ip": `["10.20.0.15","10.20.0.1","192.0.2.10","192.0.2.11"]`, "related.hosts": `["www.news.example.co.uk"]`,
				"network.transport": "udp", "source.port": "53000",
			},
		},
		{
			name: "utm ssl with certificate details",
			line: `date=2026-02-11 time=10:02:00 logid="1700062300" type="utm" subtype="ssl" eventtype="ssl-anomalies" level="warning" srcip=10.20.0.15 dstip=203.0.113.50 dstport=443 action="blocked" scertcname="bad.example.org" scertissuer="Evil CA" sni="bad.example.org" tlsver="TLSv1.2" handshake="full" certhash="0123456789abcdef0123456789abcdef01234567" san="bad.example.org;www.bad.example.org" cn="bad.example.org" keysize=2048 keyalgo="RSA" notafter="2027-01-01T00:00:00Z"`,
			want: map[string]string{
				"tls.server.x509.subject.common_name": `["bad.example.org"]`, "tls.server.issuer": "Evil CA",
				"tls.server.x509.issuer.common_name": `["Evil CA"]`, "tls.client.server_name": "bad.example.org",
				"destination.domain": "bad.example.org", "tls.version": "1.2", "tls.version_protocol": "tlsv",
				"tls.established": "true", "tls.server.hash.sha1": "0123456789abcdef0123456789abcdef01234567",
				"related.hash":                      `["0123456789abcdef0123456789abcdef01234567"]`,
				"tls.server.x509.alternative_names": `["bad.example.org","www.bad.example.org"]`,
				"tls.server.x509.public_key_size":   "2048", "tls.server.x509.public_key_algorithm": "RSA",
				"tls.client.x509.public_key_algorithm": "RSA", "tls.server.not_after": "2027-01-01T00:00:00Z",
				"tls.server.x509.not_after": "2027-01-01T00:00:00Z",
			},
			absent: []string{"fortinet.firewall.san", "fortinet.firewall.cn", "fortinet.firewall.tlsver", "fortinet.firewall.scertcname"},
		},
		{
			name: "admin login failure: login pipeline",
			line: `date=2026-02-11 time=11:00:00 devname="fw-hq" devid="FGT1" logid="0100032002" type="event" subtype="system" level="alert" vd="root" logdesc="Admin login failed" sn="0" user="root" ui="ssh(203.0.113.77)" method="ssh" srcip=203.0.113.77 dstip=10.20.0.1 action="login" status="failed" reason="name_invalid" msg="Administrator root login failed from ssh(203.0.113.77) because of invalid user name"`,
			want: map[string]string{
				"event.action": "login", "event.outcome": "failure", "event.category": `["authentication"]`, "event.type": `["start"]`,
				"event.reason": "name_invalid", "user.name": "root", "user.roles": `["Administrator"]`,
				"source.user.roles": `["Administrator"]`, "source.user.name": "root", "source.ip": "203.0.113.77",
				"rule.description": "Admin login failed", "network.direction": "inbound", "related.user": `["root"]`,
				"fortinet.firewall.method": "ssh", "fortinet.firewall.sn": "0",
			},
			absent: []string{"fortinet.firewall.ui", "fortinet.firewall.status", "fortinet.firewall.user"},
		},
		{
			name: "admin logout: action from the log ID",
			line: `date=2026-02-11 time=11:05:00 logid="0100032003" type="event" subtype="system" level="information" logdesc="Admin logout successful" user="admin" ui="https(10.20.0.99)" action="logout" status="success" msg="Administrator admin logged out from https(10.20.0.99)"`,
			want: map[string]string{
				"event.action": "FortiGate-event-admin-logout", "event.category": `["authentication"]`, "event.type": `["end"]`,
				"source.user.name": "admin", "fortinet.firewall.ui": "https(10.20.0.99)",
			},
		},
		{
			name: "configuration change",
			line: `date=2026-02-11 time=11:06:00 logid="0100044547" type="event" subtype="system" level="information" logdesc="Object attribute configured" user="admin" ui="GUI(10.20.0.99)" action="Edit" cfgtid=77 cfgpath="firewall.policy" cfgobj="12" cfgattr="action[accept->deny]" msg="Edit firewall.policy 12"`,
			want: map[string]string{
				"event.action": "FortiGate-event-config-objattr", "event.category": `["configuration"]`, "event.type": `["change"]`,
				"fortinet.firewall.cfgattr": "action[accept->deny]", "fortinet.firewall.action": "Edit", "message": "Edit firewall.policy 12",
			},
			absent: []string{"user.name"},
		},
		{
			name: "IPsec statistics: remote peer becomes the source",
			line: `date=2026-02-11 time=12:00:00 logid="0101037141" type="event" subtype="vpn" level="notice" logdesc="IPsec tunnel statistics" msg="IPsec tunnel statistics" action="tunnel-stats" dstmac="aa:bb:cc:dd:ee:ff" remip=198.51.100.20 locip=203.0.113.1 remport=4500 locport=4500 user="N/A" xauthuser="alice" group="vpn-users" tunnelip=10.99.0.5 assignip=10.99.0.5 duration=120 sentbyte=1000 rcvdbyte=3000 advpnsc=1`,
			want: map[string]string{
				"source.ip": "198.51.100.20", "source.port": "4500", "source.bytes": "3000",
				"destination.ip": "203.0.113.1", "destination.port": "4500", "destination.bytes": "1000",
				"source.user.name": "alice", "source.user.group.name": "vpn-users", "event.category": `["network"]`,
				"event.type": `["connection"]`, "event.duration": "120000000000", "network.bytes": "4000",
				"fortinet.firewall.advpnsc": "true", "related.ip": `["198.51.100.20","203.0.113.1","10.99.0.5"]`,
				"source.mac":        "AA-BB-CC-DD-EE-FF",
				"network.direction": "external",
			},
			absent: []string{"fortinet.firewall.user", "destination.user.name", "fortinet.firewall.remip"},
		},
		{
			name: "user authentication success",
			line: `date=2026-02-11 time=12:01:00 logid="0102043008" type="event" subtype="user" level="notice" srcip=10.20.0.15 dstip=10.20.0.1 user="bob" group="staff" action="authentication" status="success" msg="User bob succeeded in authentication"`,
			want: map[string]string{
				"event.category": `["authentication"]`, "event.action": "FortiGate-event-auth-success", "source.user.name": "bob",
				"network.direction": "internal",
			},
		},
		{
			name: "quoting, escapes, empty values and odd keys",
			line: `date=2026-02-11 time=12:02:00 logid="0100020000" type="event" subtype="system" msg="said \"hello world\" twice" note="a=b c" empty= quoted="" na="N/A" bad-key=1 "quotedkey"=2 k==v trail="end"| dup=1 dup=2 tab=a	b`,
			want: map[string]string{
				"message": `said \"hello world\" twice`, "fortinet.firewall.note": "a=b c", "fortinet.firewall.k": "v",
				"fortinet.firewall.trail": `end"|`, "fortinet.firewall.dup": "2", "fortinet.firewall.tab": "ab",
			},
			absent: []string{"fortinet.firewall.empty", "fortinet.firewall.quoted", "fortinet.firewall.na", "fortinet.firewall.bad-key", `fortinet.firewall."quotedkey"`},
		},
		{
			name: "RFC 5424 header gives the observer name",
			line: `<134>1 2026-02-11T12:03:00.250Z fw-edge-2 - - - - logid="0000000013" type="traffic" subtype="local" srcip=10.0.0.1 dstip=10.0.0.2 action="accept"`,
			time: "2026-02-11T12:03:00.25Z",
			want: map[string]string{"observer.name": "fw-edge-2", "log.syslog.priority": "134"},
		},
		{
			name:   "RFC 3164 relay header, human tz",
			line:   `Feb 11 12:04:00 relay01 date=2026-02-11 time=17:34:00 logid="0000000013" type="traffic" subtype="forward" tz="GMT+5:30" srcip=10.0.0.1 dstip=10.0.0.2 action="accept" eventtime=1770811440`,
			time:   "2026-02-11T12:04:00Z",
			want:   map[string]string{"event.timezone": "+0530", "event.start": "2026-02-11T12:04:00.000Z"},
			absent: []string{"observer.name"},
		},
		{
			name:   "JSON record carrying the log in message",
			line:   `{"message":"date=2026-02-11 time=12:05:00 logid=\"0000000013\" type=\"traffic\" subtype=\"forward\" srcip=10.0.0.1 dstip=10.0.0.2 action=\"accept\"","host":{"name":"collector-1"},"event":{"original":"x"}}`,
			want:   map[string]string{"host.name": "collector-1", "source.ip": "10.0.0.1"},
			absent: []string{"event.original", "message"},
		},
		{
			name: "FortiOS 4 keys",
			line: `date=2011-02-20 time=12:26:24 devname=fw device_id=FGT1 log_id=0038016004 type=traffic subtype=other pri=notice status=deny src=10.10.10.10 src_port=1111 dst=10.20.30.40 dst_port=80 user=N/A`,
			want: map[string]string{"source.ip": "10.10.10.10", "source.port": "1111", "destination.ip": "10.20.30.40", "destination.port": "80",
				"fortinet.firewall.device_id": "FGT1", "fortinet.firewall.log_id": "0038016004"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ev := parse(t, c.line)
			for k, want := range c.want {
				if g, ok := got[k]; !ok {
					t.Errorf("%s missing (want %q)", k, want)
				} else if g != want {
					t.Errorf("%s = %q, want %q", k, g, want)
				}
			}
			for _, k := range c.absent {
				if v, ok := got[k]; ok {
					t.Errorf("%s = %q, want it absent", k, v)
				}
			}
			if c.time != "" {
				want, _ := time.Parse(time.RFC3339Nano, c.time)
				if !ev.Time.Equal(want) {
					t.Errorf("time = %s, want %s", ev.Time, want)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		in   string
		want error
	}{
		{"", ErrNoPairs},
		{"just a line of text", ErrNoPairs},
		{"<13>Jan  1 00:00:00 host plain text", ErrNoPairs},
		{"user=bob color=red", ErrNotFortiOS},
		{`{"other":1}`, ErrNoMessage},
		{`[1,2]`, ErrNoPairs},
	} {
		var p Parser
		ev := &event.Event{Fields: []event.Field{{Name: "keep", Value: "me"}}}
		err := p.Parse([]byte(c.in), ev)
		if !errors.Is(err, c.want) {
			t.Errorf("Parse(%q) = %v, want %v", c.in, err, c.want)
		}
		if len(ev.Fields) != 1 || ev.Fields[0].Name != "keep" {
			t.Errorf("Parse(%q) changed the envelope's fields: %v", c.in, ev.Fields)
		}
	}
	var p Parser
	if err := p.Parse([]byte(`{"message":`), &event.Event{}); err == nil || !strings.HasPrefix(err.Error(), "FortiGate: invalid JSON") {
		t.Errorf("broken JSON: %v", err)
	}
}

// TestParseAppends checks that the envelope's fields stay in front and a
// reused parser forgets the previous line.
func TestParseAppends(t *testing.T) {
	var p Parser
	ev := &event.Event{Fields: []event.Field{{Name: "log.syslog.hostname", Value: "relay"}}}
	if err := p.Parse([]byte(`date=2026-02-11 time=12:00:00 type=traffic logid=0000000013 srcip=10.0.0.1 custom1=x`), ev); err != nil {
		t.Fatal(err)
	}
	if ev.Fields[0].Name != "log.syslog.hostname" {
		t.Errorf("first field %v, want the envelope's", ev.Fields[0])
	}
	// A VPN line with result=OK, then an event line without result or
	// status: nothing of the first may shape the second.
	if err := p.Parse([]byte(`date=2026-02-11 time=12:00:00 type=event subtype=vpn logid=0101037127 remip=10.0.0.1 locip=10.0.0.2 result=OK action=negotiate`), &event.Event{}); err != nil {
		t.Fatal(err)
	}
	// A payload from the syslog receiver: the RFC 5424 header is in the
	// envelope; its host names the observer when devname is missing.
	ev1 := &event.Event{Fields: []event.Field{{Name: "log.syslog.version", Value: "1"}, {Name: "log.syslog.hostname", Value: "fw-9"}}}
	if err := p.Parse([]byte(`date=2026-02-11 time=12:00:00 type=traffic logid=0000000013 srcip=10.0.0.1`), ev1); err != nil {
		t.Fatal(err)
	}
	if v, _ := ev1.Get("observer.name"); v != "fw-9" {
		t.Errorf("observer.name = %q, want the envelope's RFC 5424 host", v)
	}
	ev2 := &event.Event{}
	if err := p.Parse([]byte(`date=2026-02-11 time=12:00:01 type=event subtype=endpoint logid=0107045057 dstip=10.0.0.9`), ev2); err != nil {
		t.Fatal(err)
	}
	got := parsertest.Fields(ev2)
	for _, k := range []string{"source.ip", "fortinet.firewall.custom1", "event.outcome", "fortinet.firewall.action", "fortinet.firewall.result"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s leaked from the previous line", k)
		}
	}
}

func TestSniff(t *testing.T) {
	for in, want := range map[string]bool{
		`date=2026-01-01 time=00:00:00 logid="0000000013" type="traffic"`: true,
		`<189>date=2011-01-01 log_id=0038016004 type=traffic`:             true,
		`CEF:0|Fortinet|Fortigate|v6|1|x|5|logid=1`:                       false,
		`user=bob type=x`: false,
		``:                false,
	} {
		if got := Sniff([]byte(in)); got != want {
			t.Errorf("Sniff(%q) = %v, want %v", in, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { Sniff([]byte(`date=1 logid=2 type=3`)) }); n != 0 {
		t.Errorf("Sniff allocates %v times", n)
	}
}

func TestNormalizeTZ(t *testing.T) {
	for in, want := range map[string]string{
		"-0700": "-0700", "GMT+5:30": "+0530", "UTC-08:00": "-0800", "EST-0500": "-0500", "GMT+530": "+0530",
		"PST": "PST", "Europe/London": "Europe/London",
	} {
		if got := normalizeTZ(in); got != want {
			t.Errorf("normalizeTZ(%q) = %q, want %q", in, got, want)
		}
	}
	var p Parser
	for tz, off := range map[string]int{"+0200": 7200, "-07:00": -25200, "+05": 18000, "UTC": 0} {
		l, ok := p.zone(tz)
		if !ok {
			t.Errorf("zone(%q) not found", tz)
			continue
		}
		if _, o := time.Date(2026, 1, 1, 0, 0, 0, 0, l).Zone(); o != off {
			t.Errorf("zone(%q) offset %d, want %d", tz, o, off)
		}
	}
	if _, ok := p.zone("+9999"); ok {
		t.Error("zone(+9999) accepted")
	}
}

func TestDissect(t *testing.T) {
	got, ok := dissect("Administrator admin logged in successfully from https(172.16.1.2)\"|", "", " ", " logged in ", " from ", "(", ")")
	if !ok || !cmp.Equal(got, []string{"Administrator", "admin", "successfully", "https", "172.16.1.2"}) {
		t.Errorf("dissect = %q, %v", got, ok)
	}
	if _, ok := dissect("Administrator admin", "", " ", " login "); ok {
		t.Error("dissect matched without its delimiter")
	}
}

// goldenLines are our own samples whose full output the golden file holds.
var goldenLines = []string{
	`date=2026-02-11 time=09:14:02 devname="fw-hq" devid="FGT60F0000000001" eventtime=1770801242123456789 tz="+0000" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.20.0.15 srcport=51234 srcintf="internal" dstip=203.0.113.9 dstport=443 dstintf="wan1" sessionid=88123 proto=6 action="close" policyid=12 service="HTTPS" trandisp="snat" transip=198.51.100.7 transport=40111 duration=31 sentbyte=4200 rcvdbyte=91000 sentpkt=40 rcvdpkt=80 app="HTTPS.BROWSER" appcat="Web.Client"`,
	`<190>date=2026-02-11 time=10:00:00 devname="fw-hq" logid="0316013056" type="utm" subtype="webfilter" eventtype="ftgd_blk" level="warning" tz="-0500" srcip=10.20.0.15 dstip=203.0.113.80 user="jdoe" hostname="www.example.com" url="/bad/path.exe?x=1" action="blocked" catdesc="Malicious Websites" msg="URL belongs to a denied category in policy"`,
	`date=2026-02-11 time=11:00:00 devname="fw-hq" devid="FGT1" logid="0100032001" type="event" subtype="system" level="information" vd="root" logdesc="Admin login successful" sn="1770807600" user="admin" ui="https(10.20.0.99)" method="https" srcip=10.20.0.99 dstip=10.20.0.1 action="login" status="success" reason="none" profile="super_admin" msg="Administrator admin logged in successfully from https(10.20.0.99)"`,
	`date=2026-02-11 time=12:00:00 tz="+0100" logid="0101037127" type="event" subtype="vpn" level="notice" logdesc="Progress IPsec phase 1" msg="progress IPsec phase 1" action="negotiate" remip=198.51.100.20 locip=203.0.113.1 remport=500 locport=500 outintf="wan1" user="N/A" status="success" result="OK" vpntunnel="branch"`,
	`2026-02-11T12:10:00Z 192.0.2.1 date=2026-02-11 time=12:10:00 logid="0419016384" type="utm" subtype="ips" eventtype="signature" level="alert" severity="critical" srcip=198.51.100.66 dstip=10.20.0.80 dstport=80 proto=6 service="HTTP" action="dropped" attack="Web.Server.Exploit" attackid=12345 ref="http://www.fortinet.com/ids/VID12345" msg="web_server: Web.Server.Exploit" direction="incoming"`,
}

// TestGolden compares our full output for our own samples with
// testdata/samples.golden (regenerate with -update).
func TestGolden(t *testing.T) {
	var b bytes.Buffer
	var p Parser
	for i, line := range goldenLines {
		ev := &event.Event{}
		if err := p.Parse([]byte(line), ev); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		fmt.Fprintf(&b, "-- %d --\ninput: %s\ntime: %s\n", i+1, line, ev.Time.Format(time.RFC3339Nano))
		for _, f := range ev.Fields {
			fmt.Fprintf(&b, "%s: %q\n", f.Name, f.Value)
		}
	}
	golden := filepath.Join("testdata", "samples.golden")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("%s (-want +got):\n%s", golden, diff)
	}
}

// FuzzParse: no input panics; an input is either refused with a reason or
// becomes an event whose fields all have names and values.
func FuzzParse(f *testing.F) {
	for _, l := range goldenLines {
		f.Add([]byte(l))
	}
	for _, s := range []string{
		``, `=`, `a=`, `"=""`, `k==v`, `date=x time=y type=traffic`, `<1>1 - - - - - type=event subtype=vpn`,
		`{"message":"type=utm url=\"http://[::1]:80/%zz\""}`, `type=event eventtime=99999999999999999999999 tz=+9999 date=2026-01-01 time=00:00:00`,
		`type=utm qname=. ipaddr=", , " san=";" tlsver=TLS`, `type=event subtype=vpn remip=1.2.3.4 duration=99999999999999999`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var p Parser
		ev := &event.Event{}
		err := p.Parse(in, ev)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "FortiGate: ") {
				t.Fatalf("error without reason prefix: %v", err)
			}
			return
		}
		for _, fl := range ev.Fields {
			if fl.Name == "" || fl.Value == "" {
				t.Fatalf("empty field %+v", fl)
			}
		}
	})
}

func TestFirstControl(t *testing.T) {
	for _, s := range []string{"", "abc", "0123456789abcdef", "0123456789abcde\x7f", "\x00", "abcdefgh\tij", "ééééééééé\x1f", "\x80\x80\x80\x80\x80\x80\x80\x80\x80"} {
		want := -1
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] == 0x7f {
				want = i
				break
			}
		}
		if got := firstControl(s); got != want {
			t.Errorf("firstControl(%q) = %d, want %d", s, got, want)
		}
	}
}
