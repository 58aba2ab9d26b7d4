package asa

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

// parse runs one payload through a fresh event whose time is the receive
// time, as the pipeline hands it over.
func parse(t *testing.T, p *Parser, in string) (*event.Event, map[string]string) {
	t.Helper()
	ev := &event.Event{Time: received}
	if err := p.Parse([]byte(in), ev); err != nil {
		t.Fatalf("Parse(%q): %v", in, err)
	}
	checkUnique(t, ev)
	return ev, parsertest.Fields(ev)
}

// checkUnique fails when a field name was written twice: the contract
// asks each name once.
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

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		time time.Time // zero: the payload has none, the envelope's stays
		want map[string]string
		not  []string // fields that must be absent
	}{
		{
			name: "bare deny with interface",
			in:   "%ASA-2-106001: Inbound TCP connection denied from 198.51.100.7/54322 to 203.0.113.10/1433 flags SYN on interface outside",
			want: map[string]string{
				"event.code": "106001", "cisco.asa.message_id": "106001", "event.severity": "2", "log.level": "critical",
				"event.category": `["network"]`, "event.type": `["connection","denied"]`, "event.outcome": "failure",
				"event.action": "firewall-rule", "network.direction": "inbound", "network.transport": "tcp", "network.iana_number": "6",
				"source.ip": "198.51.100.7", "source.port": "54322", "destination.ip": "203.0.113.10", "destination.port": "1433",
				"cisco.asa.source_interface": "outside", "observer.ingress.interface.name": "outside",
				"observer.vendor": "Cisco", "observer.product": "asa", "observer.type": "firewall",
				"related.ip": `["198.51.100.7","203.0.113.10"]`, "ecs.version": "8.17.0",
			},
			not: []string{"observer.hostname", "event.timezone"},
		},
		{
			name: "syslog header with year, host, process tag",
			in:   "<166>Oct 10 2018 12:34:56 fw-edge CiscoASA[999]: %ASA-6-305011: Built dynamic TCP translation from inside:172.31.98.44/1772 to outside:192.0.2.44/8256",
			time: time.Date(2018, 10, 10, 12, 34, 56, 0, time.UTC),
			want: map[string]string{
				"log.syslog.priority": "166", "log.syslog.facility.code": "20", "log.syslog.severity.code": "6",
				"host.hostname": "fw-edge", "observer.hostname": "fw-edge", "process.name": "CiscoASA", "process.pid": "999",
				"event.timezone": "UTC", "event.type": `["creation"]`, "event.category": `["network","configuration"]`,
				"source.ip": "172.31.98.44", "source.port": "1772", "destination.ip": "192.0.2.44", "destination.port": "8256",
				"related.hosts": `["fw-edge"]`,
			},
		},
		{
			name: "host colon form, zone abbreviation, weekday",
			in:   "Mon Oct 10 2022 07:00:00 EDT asa-1 : %ASA-3-710003: TCP access denied by ACL from 10.0.0.1/1234 to outside:10.0.0.2/22",
			time: time.Date(2022, 10, 10, 11, 0, 0, 0, time.UTC),
			want: map[string]string{"host.hostname": "asa-1", "event.timezone": "EDT", "destination.port": "22", "cisco.asa.destination_interface": "outside"},
		},
		{
			name: "no year takes the receive year",
			in:   "Mar 30 23:59:59 asa-2 %ASA-6-609001: Built local-host inside:10.9.9.9",
			time: time.Date(2026, 3, 30, 23, 59, 59, 0, time.UTC),
			want: map[string]string{"host.hostname": "asa-2", "source.ip": "10.9.9.9", "cisco.asa.source_interface": "inside"},
		},
		{
			name: "RFC 3339 time with offset, FTD namespace",
			in:   "2023-05-01T10:00:00.123+02:00 ftd1 : %FTD-6-302016: Teardown UDP connection 5 for outside:8.8.8.8/53 to inside:10.0.0.1/5353 duration 1:00:00 bytes 99",
			time: time.Date(2023, 5, 1, 8, 0, 0, 123e6, time.UTC),
			want: map[string]string{
				"cisco.ftd.message_id": "302016", "cisco.ftd.connection_id": "5", "observer.product": "Firepower Threat Defense",
				"event.module": "cisco_ftd", "event.timezone": "+02:00", "event.duration": "3600000000000",
				"event.end": "2023-05-01T08:00:00.123Z", "event.start": "2023-05-01T07:00:00.123Z", "network.bytes": "99",
			},
			not: []string{"cisco.asa.message_id"},
		},
		{
			name: "tag with a suffix, no colon",
			in:   "%FTD-session-4-106023 Deny udp src inside:10.1.1.1/53 dst outside:10.2.2.2/53 by access-group \"in\"",
			want: map[string]string{"event.code": "106023", "cisco.ftd.rule_name": "in", "source.port": "53"},
		},
		{
			name: "inbound built with NAT and a domain user",
			in:   "%ASA-6-302013: Built inbound TCP connection 11757 for outside:192.0.2.5/80 (10.0.0.5/8080)(CORP\\alice, 12) to inside:172.31.98.44/1772 (172.31.98.44/1772)",
			want: map[string]string{
				"network.direction": "inbound", "cisco.asa.connection_id": "11757",
				"source.ip": "192.0.2.5", "source.port": "80", "source.nat.ip": "10.0.0.5", "source.nat.port": "8080",
				"destination.ip": "172.31.98.44", "cisco.asa.mapped_destination_ip": "172.31.98.44",
				"source.user.name": "alice", "source.user.domain": "CORP", "user.name": "alice", "related.user": `["alice"]`,
				"event.action": "flow-creation", "event.type": `["connection","start"]`, "event.outcome": "success",
			},
			not: []string{"destination.nat.ip", "destination.nat.port"},
		},
		{
			name: "outbound built swaps the ends",
			in:   "%ASA-6-302015: Built outbound UDP connection 7 for outside:8.8.8.8/53 (8.8.8.8/53) to inside:10.0.0.9/5000 (192.0.2.1/40000)",
			want: map[string]string{
				"source.ip": "10.0.0.9", "source.port": "5000", "source.nat.ip": "192.0.2.1", "source.nat.port": "40000",
				"destination.ip": "8.8.8.8", "destination.port": "53", "cisco.asa.source_interface": "inside",
				"cisco.asa.destination_interface": "outside", "network.transport": "udp", "network.iana_number": "17",
			},
		},
		{
			name: "teardown with reason, initiator and user",
			in:   "%ASA-6-302014: Teardown TCP connection 11749 for outside:192.0.2.242/80 to inside:172.31.98.44/1758 duration 0:01:07 bytes 38110 TCP Reset-I from outside (CORP\\bob)",
			want: map[string]string{
				"event.reason": "TCP Reset-I", "cisco.asa.termination_initiator": "outside", "cisco.asa.termination_user": "CORP\\bob",
				"event.duration": "67000000000", "event.end": "2026-04-03T12:00:00Z", "event.start": "2026-04-03T11:58:53Z",
				"network.bytes": "38110", "event.action": "flow-expiration",
			},
			not: []string{"event.outcome"},
		},
		{
			name: "ICMP faddr/gaddr/laddr inbound",
			in:   "%ASA-6-302020: Built inbound ICMP connection for faddr 203.0.113.20/28416 gaddr 198.51.100.10/0 laddr 192.0.2.30/0 type 8 code 0",
			want: map[string]string{
				"source.ip": "203.0.113.20", "destination.ip": "192.0.2.30", "destination.nat.ip": "198.51.100.10",
				"cisco.asa.mapped_destination_ip": "198.51.100.10", "cisco.asa.icmp_type": "8", "cisco.asa.icmp_code": "0",
				"network.type": "icmp", "network.direction": "inbound",
			},
			not: []string{"source.port"},
		},
		{
			name: "106023 protocol number and user",
			in:   "%ASA-4-106023: Deny protocol 47 src outside:198.51.100.1 (LOCAL\\svc) dst inside:10.0.0.1 by access-group \"outside_in\" [0x0, 0x0]",
			want: map[string]string{
				"network.transport": "gre", "network.iana_number": "47", "source.ip": "198.51.100.1",
				"destination.ip": "10.0.0.1", "cisco.asa.rule_name": "outside_in", "source.user.name": "svc",
			},
			not: []string{"source.port"},
		},
		{
			name: "access-list permitted",
			in:   "%ASA-6-106100: access-list inside_out permitted tcp inside/10.1.1.1(1234) -> outside/198.51.100.2(443) hit-cnt 1 first hit [0x1, 0x0]",
			want: map[string]string{
				"event.type": `["connection","allowed"]`, "event.outcome": "success", "cisco.asa.rule_name": "inside_out",
				"source.port": "1234", "destination.ip": "198.51.100.2", "cisco.asa.destination_interface": "outside",
			},
		},
		{
			name: "access-list denied",
			in:   "%ASA-4-106100: access-list inside_out denied udp inside/10.1.1.1(1234) -> outside/198.51.100.2(53) hit-cnt 3 300-second interval [0x1, 0x0]",
			want: map[string]string{"event.type": `["connection","denied"]`, "event.outcome": "failure", "destination.port": "53"},
		},
		{
			name: "AAA rejected",
			in:   "%ASA-6-113005: AAA user authentication Rejected : reason = Invalid password : server = 10.10.1.2 : user = ***** : user IP = 203.0.113.50",
			want: map[string]string{
				"event.category": `["authentication","network"]`, "event.type": `["denied","info"]`, "event.outcome": "failure",
				"event.action": "logon-failed", "cisco.asa.rejection_reason": "Invalid password", "destination.ip": "10.10.1.2",
				"source.ip": "203.0.113.50", "source.user.name": "*****",
			},
			not: []string{"related.user"},
		},
		{
			name: "AAA success",
			in:   "%ASA-6-113004: AAA user authentication Successful : server = 10.10.1.2 : user = dave@corp.example",
			want: map[string]string{
				"event.outcome": "success", "event.action": "logged-in", "cisco.asa.aaa_type": "authentication",
				"source.user.name": "dave", "source.user.email": "dave@corp.example", "source.user.domain": "corp.example",
			},
		},
		{
			name: "VPN logins",
			in:   "%ASA-6-611102: User authentication failed: IP address: 203.0.113.9, Uname: mallory",
			want: map[string]string{"event.action": "logon-failed", "server.user.name": "mallory", "user.name": "mallory", "source.ip": "203.0.113.9"},
		},
		{
			name: "login denied to a service",
			in:   "%ASA-6-605004: Login denied from 203.0.113.9/40000 to outside:192.0.2.1/ssh for user \"root\"",
			want: map[string]string{"network.protocol": "ssh", "source.user.name": "root", "event.outcome": "failure"},
			not:  []string{"destination.port"},
		},
		{
			name: "WebVPN and AnyConnect sessions",
			in:   "%ASA-4-722051: Group <GP_VPN> User <erin> IP <203.0.113.7> IPv4 Address <10.8.0.5> IPv6 address <::> assigned to session",
			want: map[string]string{"cisco.asa.assigned_ip": "10.8.0.5", "source.user.name": "erin", "source.user.group.name": "GP_VPN", "event.action": "address-assigned"},
		},
		{
			name: "WebVPN terminated, plain form",
			in:   "%ASA-5-716002: Group GP User frank IP 203.0.113.8 WebVPN session terminated: User Requested.",
			want: map[string]string{"cisco.asa.webvpn.group_name": "GP", "source.user.name": "frank", "event.reason": "User Requested", "event.type": `["connection","end"]`},
		},
		{
			name: "DAP records",
			in:   "%ASA-4-734001: DAP: User grace@corp.example, Addr 198.51.100.4, Connection AnyConnect: The following DAP records were selected for this connection: DfltAccessPolicy, Remote",
			want: map[string]string{"user.email": "grace@corp.example", "cisco.asa.dap_records": `["DfltAccessPolicy","Remote"]`, "cisco.asa.connection_type": "AnyConnect"},
		},
		{
			name: "command accounting",
			in:   "%ASA-5-111010: User 'admin', running 'CLI' from IP 10.0.0.3, executed 'write memory'",
			want: map[string]string{"server.user.name": "admin", "cisco.asa.command_line_arguments": "write memory", "source.ip": "10.0.0.3", "event.type": `["change"]`},
		},
		{
			name: "command executed",
			in:   "%ASA-5-111008: User 'enable_15' executed the 'configure terminal' command.",
			want: map[string]string{"server.user.name": "enable_15", "cisco.asa.command_line_arguments": "configure terminal", "event.category": `["configuration"]`},
		},
		{
			name: "configuration ended failed",
			in:   "%ASA-5-111004: 10.0.0.3 end configuration: FAILED",
			want: map[string]string{"event.outcome": "failure", "event.type": `["info"]`, "source.ip": "10.0.0.3"},
		},
		{
			name: "NAT teardown with duration",
			in:   "%ASA-6-305012: Teardown static UDP translation from inside:10.0.0.7/123 to outside:192.0.2.7/123 duration 0:00:30",
			want: map[string]string{"event.type": `["deletion"]`, "event.duration": "30000000000", "network.transport": "udp"},
		},
		{
			name: "URL accessed",
			in:   "%ASA-5-304001: alice@10.0.0.4 Accessed URL 198.51.100.80:http://example.com/path/file.exe?x=1",
			want: map[string]string{
				"source.user.name": "alice", "source.ip": "10.0.0.4", "destination.ip": "198.51.100.80",
				"url.original": "http://example.com/path/file.exe?x=1", "url.domain": "example.com", "url.path": "/path/file.exe",
				"url.query": "x=1", "url.extension": "exe", "url.scheme": "http",
			},
		},
		{
			name: "threat detection burst",
			in:   "%ASA-4-733100: [ Scanning] drop rate-1 exceeded. Current burst rate is 10 per second, max configured rate is 10; Current average rate is 5 per second, max configured rate is 5; Cumulative total count is 3009",
			want: map[string]string{
				"cisco.asa.burst.object": "Scanning", "cisco.asa.burst.id": "rate-1", "cisco.asa.burst.current_rate": "10",
				"cisco.asa.burst.configured_rate": "10", "cisco.asa.burst.avg_rate": "5", "cisco.asa.burst.configured_avg_rate": "5",
				"cisco.asa.burst.cumulative_count": "3009",
			},
		},
		{
			name: "duplicate SYN",
			in:   "%ASA-4-419002: Duplicate TCP SYN from inside:10.0.0.1/1000 to outside:192.0.2.2/443 with different initial sequence number",
			want: map[string]string{"event.reason": "Duplicate TCP SYN with different initial sequence number", "network.transport": "tcp", "destination.port": "443"},
		},
		{
			name: "ICMP error with original payload",
			in:   "%ASA-4-313005: No matching connection for ICMP error message: icmp src outside:192.0.2.1 dst inside:10.0.0.1 (type 3, code 3) on outside interface.  Original IP payload: udp src 10.0.0.1/5353 dst 192.0.2.1/53.",
			want: map[string]string{"source.ip": "10.0.0.1", "source.port": "5353", "destination.ip": "192.0.2.1", "destination.port": "53", "cisco.asa.icmp_type": "3"},
		},
		{
			name: "FTD security event",
			in:   "%FTD-1-430005: SrcIP: 10.0.0.1, DstIP: 192.0.2.9, SrcPort: 1234, DstPort: 80, Protocol: tcp, FileName: a,b.exe, FileSHA256: abc123, SHA_Disposition: Malware, ThreatName: Win.Trojan",
			want: map[string]string{
				"event.kind": "alert", "event.action": "malware-detected", "file.name": "a,b.exe", "file.hash.sha256": "abc123",
				"cisco.ftd.security.sha_disposition": "Malware", "cisco.ftd.threat_category": "Win.Trojan", "source.ip": "10.0.0.1",
			},
		},
		{
			name: "unknown id keeps the essentials",
			in:   "%ASA-1-505015: Module ips, application up \"IPS\", version \"7.2(2)E4\" Normal Operation",
			want: map[string]string{
				"event.code": "505015", "cisco.asa.message_id": "505015", "event.category": `["network"]`, "event.type": `["info"]`,
				"message": "Module ips, application up \"IPS\", version \"7.2(2)E4\" Normal Operation", "observer.vendor": "Cisco",
			},
			not: []string{"event.outcome", "event.action"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			var p Parser
			ev, got := parse(t, &p, c.in)
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

// The envelope's syslog header names the device when the payload does not.
func TestEnvelopeHost(t *testing.T) {
	var p Parser
	ev := &event.Event{Time: received, Fields: []event.Field{{Name: "log.syslog.hostname", Value: "asa-env"}, {Name: "host.hostname", Value: "asa-env"}}}
	if err := p.Parse([]byte("%ASA-6-609001: Built local-host inside:10.0.0.1"), ev); err != nil {
		t.Fatal(err)
	}
	got := parsertest.Fields(ev)
	if got["observer.hostname"] != "asa-env" || got["related.hosts"] != `["asa-env"]` {
		t.Errorf("observer.hostname %q related.hosts %q", got["observer.hostname"], got["related.hosts"])
	}
}

func TestErrors(t *testing.T) {
	var p Parser
	for _, in := range []string{"", "hello", "%ASA-x-106001: no", "%ASA-6-12: short id", "100% sure"} {
		ev := &event.Event{Time: received}
		err := p.Parse([]byte(in), ev)
		if !errors.Is(err, ErrNoTag) {
			t.Errorf("Parse(%q) = %v, want ErrNoTag", in, err)
		}
		if len(ev.Fields) != 0 || !ev.Time.Equal(received) {
			t.Errorf("Parse(%q) changed the event on error", in)
		}
	}
}

func TestSniff(t *testing.T) {
	for in, want := range map[string]bool{
		"%ASA-6-302013: Built":                            true,
		"<166>Oct 10 2018 12:34:56 fw : %ASA-6-1":         false,
		"<166>Oct 10 2018 12:34:56 fw : %ASA-6-100":       false,
		"<166>Oct 10 2018 12:34:56 fw : %ASA-6-106001: x": true,
		"%FTD-session-6-430003: x":                        true,
		"CEF:0|Cisco|ASA|...":                             false,
		"date=2026 devname=fw":                            false,
		strings.Repeat("x", 200) + "%ASA-6-302013: ":      false,
	} {
		if got := Sniff([]byte(in)); got != want {
			t.Errorf("Sniff(%q) = %v", in, got)
		}
	}
}

// Every template compiles (they are built when the package loads) and
// captures into known slots.
func TestTemplates(t *testing.T) {
	for id, pts := range templates {
		if _, ok := classes[id]; !ok {
			t.Logf("%s has a template but no class: event.type info", id)
		}
		for _, pt := range pts {
			if len(pt.caps) == 0 || len(pt.caps) > maxCaps {
				t.Errorf("%s: %q has %d captures", id, pt.src, len(pt.caps))
			}
		}
	}
}
