package panos

import (
	"errors"
	"strings"
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

// Our own records, built column by column so that each test says which
// column holds what.
const (
	trafficEnd = `<14>Nov 30 16:09:08 PA-220 1,2018/11/30 16:09:07,012801096514,TRAFFIC,end,2049,2018/11/30 16:09:07,` +
		`192.168.15.207,198.51.100.152,192.168.1.63,198.51.100.152,out_from_trust,corp\alice,,ssl,vsys1,trust,untrust,ethernet1/2,ethernet1/1,send,` +
		`2018/11/30 16:09:07,22751,1,55113,443,16418,443,0x400053,tcp,allow,7734,1758,5976,36,2018/11/30 15:59:04,586,computer-and-internet-info,0,` +
		`32091112,0x0,192.168.0.0-192.168.255.255,United States,0,16,20,tcp-fin,0,0,0,0,,PA-220,from-policy,,,0,,0,,N/A,0,0,0,0,` +
		`a1b2-uuid,1,0,,"{link1,tag1,ethernet,0}",,,,,,`
	threatURL = `1,2024/02/29 23:59:58,0123456789,THREAT,url,2561,2024/02/29 23:59:59,10.0.0.5,198.51.100.80,203.0.113.5,198.51.100.80,web_out,` +
		`bob@corp.example,,web-browsing,vsys1,trust,untrust,ethernet1/2,ethernet1/1,fwd,2024/02/29 23:59:59,77,1,50000,80,40000,80,0x8000,tcp,block-url,` +
		`"www.example.com/dl,1/file.exe?x=""y""",(9999),malware,high,client-to-server,9,0x0,US,US,0,text/html,0,,,1,"Mozilla/5.0 (X11, Linux)",,` +
		`203.0.113.99,http://ref.example/,,,,0,0,0,0,0,,PA-VM`
	threatFile = `1,2024/03/01 00:00:00,0123456789,THREAT,virus,2561,2024/03/01 00:00:00,198.51.100.1,10.0.0.5,0.0.0.0,0.0.0.0,in,,,smtp,vsys1,` +
		`untrust,trust,ethernet1/1,ethernet1/2,fwd,2024/03/01 00:00:00,78,1,25000,25,0,0,0x0,tcp,alert,"invoice.zip",Eicar Test File(100000),any,` +
		`medium,server-to-client,10,0x0,US,10.0.0.0-10.255.255.255,0,,0,d41d8cd98f00b204e9800998ecf8427e,,1,,zip,,,mallory@evil.example,` +
		`"Invoice, March",carol@corp.example`
	system = `1,2024/03/01 00:00:01,0123456789,SYSTEM,auth,2561,2024/03/01 00:00:00,,auth-fail,,0,0,general,medium,` +
		`"failed authentication for user 'admin'. Reason: Invalid username or password. From: 10.0.0.9.",12,0x0,0,0,0,0,,PA-VM,0,0,2024-03-01T00:00:00.123+01:00`
	config        = `1,2024/03/01 00:00:01,0123456789,CONFIG,0,2561,2024/03/01 00:00:00,10.0.0.9,vsys1,set,admin,Web,Failed, deviceconfig system,"<a/>","<b/>",13,0x0,0,0,0,0,,PA-VM,,changed dns`
	globalprotect = `1,2024/03/01 00:00:02,0123456789,GLOBALPROTECT,0,2561,2024/03/01 00:00:02,vsys1,gateway-connected,connected,,IPSec,CORP\dave,` +
		`US,LAPTOP-7,203.0.113.20,0.0.0.0,10.8.0.9,0.0.0.0,host-7,SER7,6.1.0,Windows,"Microsoft Windows 11 Pro , 64-bit",1,,,,success,Paris,` +
		`3600,user-logon,0,gp-portal,14,0x0,2024-03-01T00:00:02.000+00:00,,,,,,0,0,0,0,,PA-VM,1`
	userid = `1,2024/03/01 00:00:03,0123456789,USERID,login,2561,2024/03/01 00:00:03,vsys1,10.0.0.12,corp\erin,dc1,login,1,2700,0,0,ad,ad,15,0x0,0,0,0,0,,PA-VM,1`
	auth   = `1,2024/03/01 00:00:04,0123456789,AUTH,0,2561,2024/03/01 00:00:04,vsys1,10.0.0.13,frank,corp\frank,,policy1,1,7,LDAP,prof,srv,` +
		`"authenticated for user 'frank'",Web,auth-success,1,16,0x0,0,0,0,0,,PA-VM,1,ldap,rule-uuid-1`
	hip = `1,2024/03/01 00:00:05,0123456789,HIP-MATCH,0,2561,2024/03/01 00:00:05,corp\grace,vsys1,LAPTOP-9,Mac OS X,10.0.0.14,hip-profile,1,profile,,,17,0x0,` +
		`0,0,0,0,,PA-VM,1,0.0.0.0,host-9,SER9,aa:bb:cc:dd:ee:ff`
	decryption = `1,2024/03/01 00:00:06,0123456789,DECRYPTION,0,2561,2024/03/01 00:00:06,10.0.0.15,198.51.100.90,0.0.0.0,0.0.0.0,decrypt,,,ssl,vsys1,` +
		`trust,untrust,ethernet1/2,ethernet1/1,fwd,2024/03/01 00:00:06,80,1,51000,443,0,0,0x1000000,tcp,allow,N/A,,,,,rule-uuid-2,Certificate,` +
		`Certificate,TLS1.2,ECDHE,AES_128_GCM,SHA256,policy-d,secp256r1,,trusted,trusted,fwd-proxy,0A0B,` +
		`0123456789abcdef0123456789abcdef01234567,2024/01/01 00:00:00,2025/01/01 00:00:00,V3,2048,11,9,9,15,0x0,www.example.com,CA One,Root,www.example.com,`
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
			name: "traffic end behind a syslog header",
			in:   trafficEnd,
			time: time.Date(2018, 11, 30, 16, 9, 7, 0, time.UTC),
			want: map[string]string{
				"log.syslog.priority": "14", "host.hostname": "PA-220",
				"panw.panos.type": "TRAFFIC", "panw.panos.sub_type": "end", "observer.serial_number": "012801096514",
				"event.created": "2018-11-30T16:09:07Z", "event.kind": "event", "event.category": `["network"]`,
				"event.type": `["allowed","end","connection"]`, "event.action": "flow_terminated", "event.outcome": "success",
				"source.ip": "192.168.15.207", "source.port": "55113", "source.nat.ip": "192.168.1.63", "source.nat.port": "16418",
				"destination.ip": "198.51.100.152", "destination.port": "443", "destination.nat.port": "443",
				"source.bytes": "1758", "destination.bytes": "5976", "network.bytes": "7734", "network.packets": "36",
				"source.packets": "16", "destination.packets": "20", "network.transport": "tcp", "network.application": "ssl",
				"network.type": "ipv4", "event.start": "2018-11-30T15:59:04Z", "event.duration": "586000000000",
				"event.end": "2018-11-30T16:08:50Z", "labels.nat_translated": "true", "rule.name": "out_from_trust",
				"rule.uuid": "a1b2-uuid", "observer.hostname": "PA-220", "observer.ingress.zone": "trust",
				"observer.egress.interface.name": "ethernet1/1", "source.user.name": "alice", "source.user.domain": "corp",
				"user.name": "alice", "source.geo.name": "192.168.0.0-192.168.255.255", "destination.geo.name": "United States",
				"panw.panos.link.switches": "{link1,tag1,ethernet,0}", "panw.panos.endreason": "tcp-fin",
				"panw.panos.sequence_number": "32091112", "panw.panos.flow_id": "22751", "http.version": "2",
				"related.ip": `["192.168.15.207","198.51.100.152","192.168.1.63"]`, "related.user": `["alice"]`,
				"observer.vendor": "Palo Alto Networks", "observer.product": "PAN-OS", "ecs.version": "8.17.0",
			},
			not: []string{"labels.pcap_included"},
		},
		{
			name: "threat url: quoted commas, doubled quotes, URL filtering",
			in:   threatURL,
			time: time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC),
			want: map[string]string{
				"event.kind": "alert", "event.category": `["intrusion_detection","threat","network"]`, "event.type": `["denied"]`,
				"event.action": "url_filtering", "event.outcome": "failure", "log.level": "high", "event.severity": "2",
				"panw.panos.misc": `www.example.com/dl,1/file.exe?x="y"`, "url.original": `www.example.com/dl,1/file.exe?x="y"`,
				"url.domain": "www.example.com", "url.path": "/dl,1/file.exe", "url.query": `x="y"`, "url.extension": "exe",
				"panw.panos.threat.name": "URL-filtering", "panw.panos.threat.id": "9999", "network.direction": "inbound",
				"user_agent.original": "Mozilla/5.0 (X11, Linux)", "network.forwarded_ip": "203.0.113.99",
				"http.request.referrer": "http://ref.example/", "source.user.name": "bob", "source.user.domain": "corp.example",
				"labels.container_page": "true", "observer.hostname": "PA-VM",
			},
		},
		{
			name: "threat virus: file, mail addresses",
			in:   threatFile,
			time: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
			want: map[string]string{
				"event.type": `["allowed"]`, "event.outcome": "success", "event.action": "virus_detected",
				"file.name": "invoice.zip", "panw.panos.threat.name": "Eicar Test File", "panw.panos.threat.id": "100000",
				"network.direction": "outbound", "panw.panos.file.hash": "d41d8cd98f00b204e9800998ecf8427e",
				"related.hash": `["d41d8cd98f00b204e9800998ecf8427e"]`, "source.user.email": "mallory@evil.example",
				"destination.user.email": "carol@corp.example", "panw.panos.subject": "Invoice, March", "file.type": "zip",
			},
			not: []string{"source.nat.ip", "destination.nat.ip", "url.original"},
		},
		{
			name: "system",
			in:   system,
			time: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
			want: map[string]string{
				"event.category": `["configuration"]`, "event.type": `["info"]`, "event.code": "auth-fail",
				"log.level": "medium", "event.severity": "3", "panw.panos.module": "general",
				"panw.panos.description":               "failed authentication for user 'admin'. Reason: Invalid username or password. From: 10.0.0.9.",
				"panw.panos.high_resolution_timestamp": "2024-02-29T23:00:00.123Z", "observer.hostname": "PA-VM",
			},
		},
		{
			name: "config failed",
			in:   config,
			time: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
			want: map[string]string{
				"event.category": `["configuration"]`, "event.type": `["change"]`, "event.action": "cmd-set", "event.outcome": "failure",
				"host.ip": "10.0.0.9", "user.name": "admin", "panw.panos.path": " deviceconfig system", "panw.panos.comment": "changed dns",
				"panw.panos.before_change_detail": "<a/>", "related.user": `["admin"]`,
			},
		},
		{
			name: "globalprotect connected",
			in:   globalprotect,
			time: time.Date(2024, 3, 1, 0, 0, 2, 0, time.UTC),
			want: map[string]string{
				"event.category": `["network","session"]`, "event.type": `["start"]`, "event.code": "gateway-connected",
				"event.outcome": "success", "source.ip": "10.8.0.9", "host.ip": "10.8.0.9", "source.nat.ip": "203.0.113.20",
				"source.user.name": "dave", "source.user.domain": "CORP", "host.name": "LAPTOP-7", "host.os.family": "Windows",
				"host.os.full": "Microsoft Windows 11 Pro , 64-bit", "observer.geo.name": "Paris", "event.duration": "3600000000000",
			},
		},
		{
			name: "user-id",
			in:   userid,
			time: time.Date(2024, 3, 1, 0, 0, 3, 0, time.UTC),
			want: map[string]string{
				"event.category": `["network","iam"]`, "event.code": "login", "source.ip": "10.0.0.12", "source.user.name": "erin",
				"source.user.domain": "corp", "panw.panos.datasourcename": "dc1", "panw.panos.timeout": "2700",
			},
		},
		{
			name: "auth (AUTHENTICATION)",
			in:   auth,
			time: time.Date(2024, 3, 1, 0, 0, 4, 0, time.UTC),
			want: map[string]string{
				"event.category": `["authentication"]`, "event.outcome": "success", "source.ip": "10.0.0.13",
				"source.user.name": `["frank","corp\\frank"]`, "panw.panos.user": "frank", "rule.uuid": "rule-uuid-1",
				"panw.panos.authentication.protocol": "ldap",
			},
		},
		{
			name: "hip-match",
			in:   hip,
			time: time.Date(2024, 3, 1, 0, 0, 5, 0, time.UTC),
			want: map[string]string{
				"source.ip": "10.0.0.14", "host.name": "laptop-9", "host.os.full": "Mac OS X", "host.mac": "AA-BB-CC-DD-EE-FF",
				"host.id": "host-9", "panw.panos.matchname": "hip-profile", "source.user.name": "grace",
			},
		},
		{
			name: "decryption",
			in:   decryption,
			time: time.Date(2024, 3, 1, 0, 0, 6, 0, time.UTC),
			want: map[string]string{
				"event.outcome": "success", "tls.version": "1.2", "tls.version_protocol": "tls", "tls.cipher": "AES_128_GCM",
				"tls.curve": "secp256r1", "tls.client.hash.sha1": "0123456789abcdef0123456789abcdef01234567",
				"tls.client.server_name": "www.example.com", "tls.client.x509.issuer.common_name": `["CA One"]`,
				"tls.client.not_after": "2025-01-01T00:00:00Z", "labels.ssl_decrypted": "true", "panw.panos.config_version": "2561",
			},
		},
		{
			name: "cut short: only the common columns",
			in:   "Apr 30 06:00:00 pa-1 1,2020/02/09 00:00:00,00000000,SYSTEM,",
			time: time.Date(2020, 2, 9, 0, 0, 0, 0, time.UTC),
			want: map[string]string{"panw.panos.type": "SYSTEM", "event.category": `["configuration"]`, "event.type": `["info"]`, "host.hostname": "pa-1"},
			not:  []string{"panw.panos.sub_type", "message"},
		},
		{
			name: "anonymised dates keep the envelope time",
			in:   "1,2020/00/00 00:00:00,0,TRAFFIC,start,0,2020/06/00 00:00:00,00.00.000.00,10.0.0.1",
			want: map[string]string{"panw.panos.type": "TRAFFIC", "destination.ip": "10.0.0.1", "event.type": `["start","connection"]`},
			not:  []string{"source.ip", "event.created"},
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
	for _, in := range []string{"", "hello", "a,b,c", "1,2020-01-01 00:00:00,1,TRAFFIC,end", "1,2020/01/01 00:00:00,1,traffic,end", "date=1 time=2"} {
		ev := &event.Event{Time: received}
		if err := p.Parse([]byte(in), ev); !errors.Is(err, ErrNotPANOS) {
			t.Errorf("Parse(%q) = %v", in, err)
		}
		if len(ev.Fields) != 0 {
			t.Errorf("Parse(%q) wrote fields on error", in)
		}
	}
}

func TestSniff(t *testing.T) {
	for in, want := range map[string]bool{
		trafficEnd: true, threatURL: true, hip: true,
		"1,2020/00/00 00:00:00,0,TRAFFIC,start": true,
		"%ASA-6-302013: Built":                  false,
		"date=2026-01-01 time=00:00:00":         false,
		"a,b,c,d":                               false,
		strings.Repeat("x", 300) + ",2020/01/01 00:00:00,1,TRAFFIC,": false,
	} {
		if got := Sniff([]byte(in)); got != want {
			t.Errorf("Sniff(%.60q) = %v", in, got)
		}
	}
}

func TestSplitCSV(t *testing.T) {
	var buf []byte
	for in, want := range map[string][]string{
		`a,b,,c`:          {"a", "b", "", "c"},
		`"x,y",z`:         {"x,y", "z"},
		`"say ""hi""",2`:  {`say "hi"`, "2"},
		`{a,b},c`:         {"{a,b}", "c"},
		`{a,b,c`:          {"{a", "b", "c"},
		`"unterminated,x`: {"unterminated,x"},
		`"a"b,c`:          {"ab", "c"},
		`a,`:              {"a", ""},
		``:                {""},
	} {
		got := splitCSV(nil, in, &buf)
		if strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
			t.Errorf("splitCSV(%q) = %q, want %q", in, got, want)
		}
	}
}
