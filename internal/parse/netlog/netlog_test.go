package netlog

import (
	"errors"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

func checkUnique(t testing.TB, ev *event.Event) {
	t.Helper()
	seen := map[string]bool{}
	for _, f := range ev.Fields {
		if seen[f.Name] {
			t.Errorf("field %s written twice", f.Name)
		}
		seen[f.Name] = true
	}
}

type parser interface {
	Parse([]byte, *event.Event) error
}

type testCase struct {
	name string
	in   string
	env  []event.Field // the envelope's fields
	time time.Time
	want map[string]string
	not  []string
}

func run(t *testing.T, newParser func() parser, cases []testCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := &event.Event{Time: received, Fields: append([]event.Field(nil), c.env...)}
			if err := newParser().Parse([]byte(c.in), ev); err != nil {
				t.Fatal(err)
			}
			checkUnique(t, ev)
			got := parsertest.Fields(ev)
			want := received
			if !c.time.IsZero() {
				want = c.time
			}
			if !ev.Time.Equal(want) {
				t.Errorf("time %s, want %s", ev.Time, want)
			}
			for k, v := range c.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			for _, k := range c.not {
				if v, ok := got[k]; ok {
					t.Errorf("%s = %q, want none", k, v)
				}
			}
		})
	}
}

func TestIPTables(t *testing.T) {
	run(t, func() parser { return &IPTables{} }, []testCase{
		{
			name: "UFW block behind a syslog header",
			in:   "Mar  1 10:00:00 web-1 kernel: [ 3529.289825] [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=203.0.113.9 DST=192.0.2.10 LEN=60 TOS=0x10 PREC=0x00 TTL=50 ID=54321 DF PROTO=TCP SPT=51515 DPT=22 SEQ=1 ACK=2 WINDOW=64240 RES=0x00 ACK SYN URGP=0",
			time: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
			want: map[string]string{
				"host.hostname": "web-1", "observer.hostname": "web-1", "observer.name": "web-1", "process.name": "kernel",
				"iptables.log_prefix": "[UFW BLOCK]", "event.action": "block", "event.type": `["connection","denied"]`,
				"event.outcome": "failure", "event.kind": "event", "event.category": `["network"]`,
				"iptables.input_device": "eth0", "observer.ingress.interface.name": "eth0",
				"destination.mac": "52-54-00-12-34-56", "source.mac": "52-54-00-65-43-21", "iptables.ether_type": "2048",
				"network.type": "ipv4", "source.ip": "203.0.113.9", "destination.ip": "192.0.2.10", "iptables.length": "60",
				"iptables.tos": "16", "iptables.ttl": "50", "iptables.id": "54321", "iptables.fragment_flags": `["DF"]`,
				"network.transport": "tcp", "network.iana_number": "6", "source.port": "51515", "destination.port": "22",
				"iptables.tcp.seq": "1", "iptables.tcp.ack": "2", "iptables.tcp.window": "64240",
				"iptables.tcp.flags": `["ACK","SYN"]`, "related.ip": `["203.0.113.9","192.0.2.10"]`,
			},
			not: []string{"iptables.output_device"},
		},
		{
			name: "envelope already parsed: the syslog message only",
			in:   "[4475569.016000] IN= OUT=lo SRC=127.0.0.1 DST=127.0.0.1 LEN=52 TOS=0x00 PREC=0x00 TTL=64 ID=1 PROTO=UDP SPT=5000 DPT=53 LEN=32",
			env:  []event.Field{{Name: "log.syslog.hostname", Value: "db-2"}, {Name: "host.hostname", Value: "db-2"}},
			want: map[string]string{
				"observer.hostname": "db-2", "iptables.output_device": "lo", "iptables.udp.length": "32", "iptables.length": "52",
				"event.type": `["connection"]`, "related.ip": `["127.0.0.1"]`,
			},
			not: []string{"event.action", "event.outcome", "iptables.log_prefix", "iptables.input_device"},
		},
		{
			name: "IPv6 and a prefix glued to IN=",
			in:   "DROP(src wan)IN=eth0 OUT= MAC=33:33:00:00:00:01:52:54:00:aa:bb:cc:86:dd SRC=2001:db8::1 DST=2001:db8::2 LEN=72 TC=0 HOPLIMIT=64 FLOWLBL=12345 PROTO=ICMPv6 TYPE=128 CODE=0 ID=5 SEQ=9",
			want: map[string]string{
				"iptables.log_prefix": "DROP(src wan)", "event.action": "drop", "network.type": "ipv6",
				"iptables.ether_type": "34525", "source.ip": "2001:db8::1", "iptables.ttl": "64", "iptables.flow_label": "12345",
				"network.transport": "ipv6-icmp", "network.iana_number": "58", "iptables.icmp.type": "128",
				"iptables.icmp.id": "5", "iptables.icmp.seq": "9",
			},
		},
		{
			name: "Ubiquiti rule, zones, numeric protocol",
			in:   "<4>Mar  1 10:00:01 edge kernel: [WAN_LOCAL-20-A]IN=eth0 OUT= SRC=198.51.100.77 DST=192.0.2.1 LEN=40 TOS=0x00 PREC=0x20 TTL=241 ID=5123 PROTO=47",
			time: time.Date(2026, 3, 1, 10, 0, 1, 0, time.UTC),
			want: map[string]string{
				"log.syslog.priority": "4", "iptables.ubiquiti.rule_set": "WAN_LOCAL", "iptables.ubiquiti.rule_number": "20",
				"iptables.ubiquiti.input_zone": "WAN", "iptables.ubiquiti.output_zone": "LOCAL", "rule.name": "WAN_LOCAL",
				"rule.id": "20", "observer.ingress.zone": "WAN", "event.action": "accept", "event.type": `["connection","allowed"]`,
				"event.outcome": "success", "network.iana_number": "47", "iptables.precedence_bits": "32",
			},
			not: []string{"network.transport"},
		},
		{
			name: "ICMP error quoting the packet it is about",
			in:   "REJECT IN=eth0 OUT= SRC=192.0.2.1 DST=10.0.0.5 LEN=88 TOS=0x00 PREC=0xC0 TTL=64 ID=1 PROTO=ICMP TYPE=3 CODE=3 [SRC=10.0.0.5 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=2 PROTO=UDP SPT=5353 DPT=53 LEN=40 ]",
			want: map[string]string{
				"source.ip": "192.0.2.1", "destination.ip": "10.0.0.5", "iptables.id": "1", "iptables.icmp.type": "3",
				"iptables.precedence_bits": "192", "event.action": "reject", "event.type": `["connection","denied"]`,
			},
			not: []string{"source.port", "destination.port", "iptables.udp.length"},
		},
		{
			name: "incomplete packet, owner, mark",
			in:   "OUTPUT-LOG: IN= OUT=eth0 SRC=10.0.0.2 DST=192.0.2.53 LEN=1500 TOS=0x00 PREC=0x00 TTL=64 ID=0 DF MF FRAG:0 PROTO=UDP INCOMPLETE [65535 bytes] UID=1000 GID=100 MARK=0x2",
			want: map[string]string{
				"iptables.incomplete_bytes": "65535", "user.id": "1000", "group.id": "100", "iptables.mark": "0x2",
				"iptables.fragment_flags": `["DF","MF"]`, "iptables.log_prefix": "OUTPUT-LOG:",
			},
		},
	})
}

func TestSquid(t *testing.T) {
	run(t, func() parser { return &Squid{} }, []testCase{
		{
			name: "native",
			in:   "1709287200.123     45 10.0.0.5 TCP_MISS/200 5120 GET http://www.example.com/dir/index.html?x=1#top alice HIER_DIRECT/192.0.2.34 text/html",
			time: time.Date(2024, 3, 1, 10, 0, 0, 123e6, time.UTC),
			want: map[string]string{
				"squid.result_code": "TCP_MISS", "squid.hierarchy_code": "HIER_DIRECT", "squid.peer": "192.0.2.34",
				"event.category": `["network","web"]`, "event.type": `["access"]`, "event.action": "tcp_miss",
				"event.outcome": "success", "event.duration": "45000000", "source.ip": "10.0.0.5", "user.name": "alice",
				"http.request.method": "GET", "http.response.status_code": "200", "http.response.bytes": "5120",
				"http.response.mime_type": "text/html", "url.original": "http://www.example.com/dir/index.html?x=1#top",
				"url.scheme": "http", "url.domain": "www.example.com", "url.path": "/dir/index.html", "url.query": "x=1",
				"url.fragment": "top", "url.extension": "html", "destination.ip": "192.0.2.34",
				"observer.product": "Squid", "observer.type": "proxy", "related.ip": `["10.0.0.5","192.0.2.34"]`,
				"related.user": `["alice"]`, "related.hosts": `["www.example.com"]`,
			},
		},
		{
			name: "CONNECT behind a syslog header",
			in:   "Mar  1 10:00:01 proxy1 squid[812]: 1709287201.500    120 10.0.0.6 TCP_TUNNEL/200 8812 CONNECT www.example.org:443 - HIER_DIRECT/198.51.100.4 -",
			time: time.Date(2024, 3, 1, 10, 0, 1, 5e8, time.UTC),
			want: map[string]string{
				"host.hostname": "proxy1", "observer.hostname": "proxy1", "url.domain": "www.example.org", "url.port": "443",
				"destination.port": "443", "destination.ip": "198.51.100.4", "http.request.method": "CONNECT",
			},
			not: []string{"user.name", "http.response.mime_type", "url.scheme"},
		},
		{
			name: "denied by authentication, no peer",
			in:   "1140701230.827    781 192.168.1.210 TCP_DENIED/407 1785 GET http://www.example.com oahmet NONE/- text/html",
			time: time.Date(2006, 2, 23, 13, 27, 10, 827e6, time.UTC),
			want: map[string]string{
				"event.type": `["access","denied"]`, "event.outcome": "failure", "http.response.status_code": "407",
				"destination.domain": "www.example.com", "user.name": "oahmet",
			},
			not: []string{"destination.ip", "squid.peer"},
		},
		{
			name: "combined format",
			in:   `10.0.0.7 - bob [01/Mar/2024:10:00:02 +0100] "GET http://www.example.net/a.zip HTTP/1.1" 403 3500 "http://ref.example/" "curl/8.4.0" TCP_DENIED:HIER_NONE`,
			time: time.Date(2024, 3, 1, 9, 0, 2, 0, time.UTC),
			want: map[string]string{
				"squid.result_code": "TCP_DENIED", "squid.hierarchy_code": "HIER_NONE", "http.version": "1.1",
				"http.request.referrer": "http://ref.example/", "user_agent.original": "curl/8.4.0", "user.name": "bob",
				"url.extension": "zip", "event.outcome": "failure",
			},
			not: []string{"event.duration"},
		},
		{
			name: "common format, intercepted path",
			in:   `192.0.2.8 - - [01/Mar/2024:10:00:03 +0000] "GET /favicon.ico HTTP/1.1" 404 0 TCP_MISS:HIER_DIRECT`,
			time: time.Date(2024, 3, 1, 10, 0, 3, 0, time.UTC),
			want: map[string]string{"url.path": "/favicon.ico", "url.extension": "ico", "event.outcome": "failure", "http.response.bytes": "0"},
			not:  []string{"user.name", "url.domain", "url.scheme"},
		},
	})
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		p   parser
		in  string
		err error
	}{
		{&IPTables{}, "", ErrNotNetfilter},
		{&IPTables{}, "Feb  4 23:33:37 h kernel: eth0: link up", ErrNotNetfilter},
		{&IPTables{}, "LOGIN=root", ErrNotNetfilter},
		{&IPTables{}, "PLUGIN=a OUT=b", ErrNotNetfilter},
		{&Squid{}, "", ErrNotSquid},
		{&Squid{}, "1140701044.525 x 1.2.3.4 TCP_MISS/200 1 GET /", ErrNotSquid},
		{&Squid{}, "1140701044.525 1 1.2.3.4 TCP_MISS", ErrNotSquid},
		{&Squid{}, `1.2.3.4 - - [bad date] "GET / HTTP/1.1" 200 1 TCP_MISS:HIER_NONE`, ErrNotSquid},
		{&Squid{}, "IN=eth0 OUT= SRC=1.2.3.4", ErrNotSquid},
	} {
		ev := &event.Event{Time: received}
		if err := c.p.Parse([]byte(c.in), ev); !errors.Is(err, c.err) {
			t.Errorf("%T.Parse(%q) = %v, want %v", c.p, c.in, err, c.err)
		}
		if len(ev.Fields) != 0 || !ev.Time.Equal(received) {
			t.Errorf("%T.Parse(%q) changed the event on error", c.p, c.in)
		}
	}
}

func TestSniff(t *testing.T) {
	for in, want := range map[string][2]bool{ // iptables, squid
		"kernel: [UFW BLOCK] IN=eth0 OUT= MAC=00:11 SRC=1.2.3.4 DST=5.6.7.8":                      {true, false},
		"DROP(src wan)IN=eth0 OUT= SRC=1.2.3.4":                                                   {true, false},
		"1140701044.525   1231 192.168.1.201 TCP_DENIED/400 1536 GET x - NONE/- text/html":        {false, true},
		`10.0.0.7 - bob [01/Mar/2024:10:00:02 +0100] "GET / HTTP/1.1" 200 1 TCP_MISS:HIER_DIRECT`: {false, true},
		"%ASA-6-302013: Built":                                  {false, false},
		`device="SFW" log_type="Firewall" in_interface="Port1"`: {false, false},
	} {
		if got := SniffIPTables([]byte(in)); got != want[0] {
			t.Errorf("SniffIPTables(%q) = %v", in, got)
		}
		if got := SniffSquid([]byte(in)); got != want[1] {
			t.Errorf("SniffSquid(%q) = %v", in, got)
		}
	}
}
