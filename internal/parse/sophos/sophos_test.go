package sophos

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

// Our own records.
const (
	fwAllowed = `device="SFW" date=2024-03-01 time=10:00:00 timezone="+05:30" device_name="XG310" device_id=C01001ABCDEF log_id=010101600001 ` +
		`log_type="Firewall" log_component="Firewall Rule" log_subtype="Allowed" status="Allow" priority=Information duration=30 ` +
		`fw_rule_id=5 policy_type=1 user_name="alice" user_gp="staff" iap=0 application="HTTPS" in_interface="Port1" out_interface="Port2" ` +
		`src_mac=00:1a:2b:3c:4d:5e src_ip=10.0.0.5 src_country_code= dst_ip=198.51.100.7 dst_country_code=USA protocol="TCP" ` +
		`src_port=52667 dst_port=443 sent_pkts=10  recv_pkts=12 sent_bytes=1500 recv_bytes=9000 tran_src_ip=203.0.113.5 ` +
		`tran_src_port=40001 tran_dst_ip= tran_dst_port=0 srczonetype="LAN" srczone="LAN" dstzonetype="WAN" dstzone="WAN" ` +
		`dir_disp="" connevent="Start" connid="123" message=""`
	sfos19 = `<30>device_name="SFW" timestamp="2023-06-28T14:03:43+0530" device_model="XGS2100" device_serial_id="X21001ZZZ" ` +
		`log_id="010101600002" log_type="Firewall" log_component="Firewall Rule" log_subtype="Denied" log_version=1 ` +
		`severity="Information" fw_rule_id="7" fw_rule_name="Block RDP" src_ip="203.0.113.66" dst_ip="10.0.0.8" ` +
		`protocol="TCP" src_port=40000 dst_port=3389 bytes_sent=60 bytes_received=0 packets_sent=1 packets_received=0 ` +
		`src_zone_type="WAN" dst_zone_type="LAN"`
	authFailed = `device="SFW" date=2024-03-01 time=10:05:00 timezone="UTC" device_name="XG310" device_id=C01001ABCDEF log_id=062910617703 ` +
		`log_type="Event" log_component="Firewall Authentication" log_subtype="Authentication" status="Failed" priority=Information ` +
		`user_name="bob" usergroupname="" auth_client="SSLVPN" auth_mechanism="Local" reason="Wrong password" src_ip=198.51.100.20 ` +
		`message="User bob failed to login to SSL VPN through Local authentication mechanism because of wrong credentials"`
	cfDenied = `device="SFW" date=2024-03-01 time=10:06:00 timezone="IST" device_name="XG310" device_id=C01001ABCDEF log_id=050901616001 ` +
		`log_type="Content Filtering" log_component="HTTP" log_subtype="Denied" status="" priority=Information fw_rule_id=3 ` +
		`user_name="carol" user_gp="staff" category="Malware" src_ip=10.0.0.9 dst_ip=198.51.100.99 protocol="TCP" src_port=50000 ` +
		`dst_port=80 url="http://bad.example/a?b=c d" domain="bad.example" referer="http://start.example/" status_code="403" ` +
		`user_agent="Mozilla/5.0 (X11; Linux x86_64)" message="Blocked: a=b"`
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		time time.Time
		want map[string]string
		not  []string
	}{
		{
			name: "firewall start, offset zone",
			in:   fwAllowed,
			time: time.Date(2024, 3, 1, 4, 30, 0, 0, time.UTC),
			want: map[string]string{
				"sophos.xg.device_name": "XG310", "sophos.xg.log_component": "Firewall Rule", "sophos.xg.timezone": "+05:30",
				"event.timezone": "+05:30", "event.code": "010101600001", "event.severity": "6", "log.level": "informational",
				"sophos.xg.message_id": "00001", "event.kind": "event", "event.category": `["network"]`,
				"event.type": `["start","allowed","connection"]`, "event.action": "allowed", "event.outcome": "success",
				"source.ip": "10.0.0.5", "source.port": "52667", "destination.ip": "198.51.100.7", "destination.port": "443",
				"source.nat.ip": "203.0.113.5", "source.nat.port": "40001", "source.mac": "00:1a:2b:3c:4d:5e",
				"source.packets": "10", "destination.packets": "12", "source.bytes": "1500", "destination.bytes": "9000",
				"source.user.name": "alice", "user.name": "alice", "source.user.group.name": "staff", "rule.id": "5",
				"rule.ruleset": "1", "network.protocol": "https", "network.transport": "tcp", "network.direction": "outbound",
				"observer.vendor": "Sophos", "observer.product": "XG", "observer.type": "firewall",
				"observer.serial_number": "C01001ABCDEF", "observer.hostname": "XG310", "observer.ingress.zone": "LAN",
				"observer.egress.zone": "WAN", "observer.ingress.interface.name": "Port1", "event.duration": "30000000000",
				"event.start": "2024-03-01T04:30:00Z", "event.end": "2024-03-01T04:30:30Z",
				"related.ip": `["10.0.0.5","198.51.100.7","203.0.113.5"]`, "related.user": `["alice"]`, "related.hosts": `["XG310"]`,
			},
			not: []string{"sophos.xg.src_country_code", "sophos.xg.dir_disp", "destination.nat.ip", "destination.nat.port", "message"},
		},
		{
			name: "SFOS 19 with timestamp and serial",
			in:   sfos19,
			time: time.Date(2023, 6, 28, 8, 33, 43, 0, time.UTC),
			want: map[string]string{
				"log.syslog.priority": "30", "observer.serial_number": "X21001ZZZ", "event.type": `["denied","connection"]`,
				"rule.name": "Block RDP", "rule.id": "7", "network.direction": "inbound", "observer.ingress.zone": "WAN", "source.bytes": "60", "source.packets": "1", "destination.port": "3389",
				"event.timezone": "+05:30", "sophos.xg.fw_rule_name": "Block RDP",
			},
		},
		{
			name: "authentication failed",
			in:   authFailed,
			time: time.Date(2024, 3, 1, 10, 5, 0, 0, time.UTC),
			want: map[string]string{
				"event.category": `["network","authentication"]`, "event.type": `["end","connection"]`, "event.outcome": "failure",
				"user.name": "bob", "source.ip": "198.51.100.20", "event.code": "062910617703", "sophos.xg.reason": "Wrong password",
				"message": "User bob failed to login to SSL VPN through Local authentication mechanism because of wrong credentials",
			},
		},
		{
			name: "content filtering denied, named zone read as UTC",
			in:   cfDenied,
			time: time.Date(2024, 3, 1, 10, 6, 0, 0, time.UTC),
			want: map[string]string{
				"event.kind": "alert", "event.category": `["malware","network"]`, "event.type": `["info","denied","connection"]`,
				"url.full": "http://bad.example/a?b=c d", "url.domain": "bad.example", "http.request.referrer": "http://start.example/",
				"http.response.status_code": "403", "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64)", "client.ip": "10.0.0.9",
				"server.ip": "198.51.100.99", "message": "Blocked: a=b", "event.timezone": "UTC",
			},
		},
		{
			name: "syslog header, missing closing quote, repeated key",
			in:   `<134>Mar  1 10:07:00 xg-branch device="SFW" log_id=010101600001 log_type="Firewall" status="Allow" status="Deny" message="cut off`,
			time: time.Date(2026, 3, 1, 10, 7, 0, 0, time.UTC),
			want: map[string]string{
				"log.syslog.priority": "134", "host.hostname": "xg-branch", "sophos.xg.status": "Deny",
				"event.type": `["denied","connection"]`, "message": "cut off",
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			var p Parser
			ev := &event.Event{Time: received}
			if err := p.Parse([]byte(c.in), ev); err != nil {
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

func TestErrors(t *testing.T) {
	var p Parser
	for in, want := range map[string]error{
		"":                            ErrNoPairs,
		"just words here":             ErrNoPairs,
		"a=1 b=2":                     ErrNotXG,
		"<13>Jan  1 00:00:00 h x=1":   ErrNotXG,
		"date=2024-01-01 devname=fgt": ErrNotXG,
	} {
		ev := &event.Event{Time: received, Fields: []event.Field{{Name: "message", Value: in}}}
		if err := p.Parse([]byte(in), ev); !errors.Is(err, want) {
			t.Errorf("Parse(%q) = %v, want %v", in, err, want)
		}
		if len(ev.Fields) != 1 || !ev.Time.Equal(received) {
			t.Errorf("Parse(%q) changed the event on error", in)
		}
	}
}

func TestSniff(t *testing.T) {
	for in, want := range map[string]bool{
		fwAllowed: true, sfos19: true, authFailed: true,
		`date=2024-03-01 time=10:00:00 devname="FGT" logid="0000000013" type="traffic"`: false,
		`id="2000" severity="info" sys="SecureNet" sub="packetfilter"`:                  false,
		"%ASA-6-302013: Built": false,
	} {
		if got := Sniff([]byte(in)); got != want {
			t.Errorf("Sniff(%.60q) = %v", in, got)
		}
	}
}

func TestOffset(t *testing.T) {
	for in, want := range map[string]int{"+08": 8 * 3600, "+05:30": 5*3600 + 1800, "-0700": -7 * 3600, "UTC": 0} {
		if got, ok := offset(in); !ok || got != want {
			t.Errorf("offset(%q) = %d, %v", in, got, ok)
		}
	}
	for _, in := range []string{"IST", "+8", "+25", "+05:99", ""} {
		if _, ok := offset(in); ok {
			t.Errorf("offset(%q) accepted", in)
		}
	}
}
