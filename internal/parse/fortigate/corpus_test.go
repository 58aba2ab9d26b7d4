package fortigate

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

// corpusLines reads the non-empty lines of a corpus file.
func corpusLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if l := sc.Text(); strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkContract asserts what every parsed line must yield: a time, a
// category and type, the observer, and the source, destination and user
// the line carries.
func checkContract(t *testing.T, i int, line string, ev *event.Event) {
	t.Helper()
	got := parsertest.Fields(ev)
	if ev.Time.IsZero() {
		t.Errorf("line %d: no time", i)
	}
	for _, k := range []string{"event.kind", "event.category", "event.type", "observer.vendor", "observer.product"} {
		if got[k] == "" {
			t.Errorf("line %d: no %s", i, k)
		}
	}
	carries := func(keys ...string) bool {
		for _, k := range keys {
			for _, v := range []string{" " + k + "=", "\t" + k + "="} {
				if j := strings.Index(" "+line, v); j >= 0 {
					rest := (" " + line)[j+len(v):]
					if !strings.HasPrefix(rest, "N/A") && !strings.HasPrefix(rest, `"N/A"`) && !strings.HasPrefix(rest, `""`) && !strings.HasPrefix(rest, " ") {
						return true
					}
				}
			}
		}
		return false
	}
	if carries("srcip", "remip", "src") && got["source.ip"] == "" {
		t.Errorf("line %d carries a source address but has no source.ip", i)
	}
	if carries("dstip", "locip", "dst") && got["destination.ip"] == "" && got["source.ip"] == "" {
		t.Errorf("line %d carries a destination address but has no destination.ip", i)
	}
	if carries("user", "unauthuser", "xauthuser", "eapuser") && got["source.user.name"] == "" && got["user.name"] == "" {
		t.Errorf("line %d carries a user but has no source.user.name", i)
	}
}

// elastic76 holds, for each line of Elastic's test-fortinet-7-6.log, the
// values Elastic's pipeline gives the key fields (read from the upstream
// test-fortinet-7-6.log-expected.json and typed here; times are compared
// as instants). GeoIP fields and the test harness's tags are not parsing
// and are left out.
var elastic76 = func() []map[string]string {
	base := func(m map[string]string) map[string]string {
		for k, v := range map[string]string{
			"ecs.version": "8.17.0", "event.kind": "event", "observer.name": "FGVMEVVDEADBEEF00",
			"observer.serial_number": "FGVMEVVDEADBEEF00", "observer.product": "Fortigate", "observer.type": "firewall",
			"observer.vendor": "Fortinet", "fortinet.firewall.type": "event", "fortinet.firewall.vd": "root",
		} {
			if _, ok := m[k]; !ok {
				m[k] = v
			}
		}
		return m
	}
	login := func(code, ts, start, outcome, reason, level, desc, sn, msg string) map[string]string {
		return base(map[string]string{
			"@timestamp": ts, "event.start": start, "event.timezone": "-0700", "event.action": "login",
			"event.category": `["authentication"]`, "event.code": code, "event.outcome": outcome, "event.reason": reason,
			"fortinet.firewall.action": "login", "fortinet.firewall.method": "https", "fortinet.firewall.sn": sn,
			"fortinet.firewall.subtype": "system", "log.level": level, "message": msg, "network.direction": "internal",
			"related.ip": `["172.16.1.2","172.16.1.1"]`, "related.user": `["admin"]`, "rule.description": desc,
			"source.ip": "172.16.1.2", "destination.ip": "172.16.1.1", "source.user.name": "admin",
			"source.user.roles": `["Administrator"]`, "user.name": "admin", "user.roles": `["Administrator"]`,
		})
	}
	config := func(ts, start, action, tid, path, obj, attr, uuid, ui, msg string) map[string]string {
		m := base(map[string]string{
			"@timestamp": ts, "event.start": start, "event.timezone": "-0700", "event.action": "FortiGate-event-config-objattr",
			"event.code": "0100044547", "fortinet.firewall.action": action, "fortinet.firewall.cfgobj": obj,
			"fortinet.firewall.cfgpath": path, "fortinet.firewall.cfgtid": tid, "fortinet.firewall.subtype": "system",
			"fortinet.firewall.ui": ui, "log.level": "information", "message": msg, "related.user": `["admin"]`,
			"rule.description": "Object attribute configured", "source.user.name": "admin",
		})
		if attr != "" {
			m["fortinet.firewall.cfgattr"] = attr
		}
		if uuid != "" {
			m["fortinet.firewall.uuid"] = uuid
		}
		return m
	}
	vpn := func(code, ts, start, level, cookies, extra map[string]string) map[string]string {
		m := base(map[string]string{
			"@timestamp": ts["ts"], "event.start": start["start"], "event.timezone": "+0200", "event.action": code["action"],
			"event.code": code["code"], "event.category": `["network"]`, "event.type": `["connection"]`,
			"fortinet.firewall.subtype": "vpn", "fortinet.firewall.cookies": cookies["c"], "fortinet.firewall.eapuser": "test01",
			"fortinet.firewall.outintf": "port2", "fortinet.firewall.srccountry": "Reserved", "fortinet.firewall.advpnsc": "false",
			"log.level": level["l"], "network.direction": "internal", "related.user": `["test01"]`,
			"source.ip": "172.20.114.249", "source.port": "500", "source.user.name": "test01",
			"destination.ip": "172.20.121.252", "destination.port": "500",
		})
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	one := func(k, v string) map[string]string { return map[string]string{k: v} }
	return []map[string]string{
		login("0100032002", "2026-04-02T17:31:09.000-07:00", "2026-04-02T17:31:10.239-07:00", "failure", "passwd_invalid", "alert", "Admin login failed", "0",
			"Administrator admin login failed from https(172.16.1.2) because of invalid password"),
		func() map[string]string {
			m := login("0100032001", "2026-04-02T17:33:02.000-07:00", "2026-04-02T17:33:02.512-07:00", "success", "none", "information", "Admin login successful", "1775176382",
				`Administrator admin logged in successfully from https(172.16.1.2)"|`)
			m["fortinet.firewall.profile"] = "super_admin"
			return m
		}(),
		config("2026-04-02T17:34:14.000-07:00", "2026-04-02T17:34:14.343-07:00", "Edit", "125042714", "system.admin", "admin", "old-password[*]password[*]", "", "https(172.16.1.2)", "Edit system.admin admin"),
		config("2026-04-02T17:35:12.000-07:00", "2026-04-02T17:35:11.932-07:00", "Delete", "125042718", "user.local", "test01", "", "", "https(172.16.1.2)", "Delete user.local test01"),
		config("2026-04-02T17:36:19.000-07:00", "2026-04-02T17:36:19.291-07:00", "Add", "125042719", "user.local", "test01", "type[password]passwd[*]", "", "https(172.16.1.2)", "Add user.local test01"),
		config("2026-04-02T17:52:21.000-07:00", "2026-04-02T17:52:20.899-07:00", "Edit", "125042742", "firewall.policy", "2", "groups[->vpn]", "eec5c018-2ef6-51f1-bf4b-86de7d1dbef9", "https(172.16.1.2)", "Edit firewall.policy 2"),
		config("2026-04-02T17:50:34.000-07:00", "2026-04-02T17:50:33.727-07:00", "Add", "753336323", "firewall.policy", "2",
			"name[vpn_employee_int_lan]srcintf[employee_vpn]dstintf[port3]srcaddr[all]dstaddr[all]action[accept]schedule[always]service[ALL]nat[enable]",
			"eec5c018-2ef6-51f1-bf4b-86de7d1dbef9", "jsconsole(172.16.1.2)", "Add firewall.policy 2"),
		config("2026-04-02T17:42:54.000-07:00", "2026-04-02T17:42:53.861-07:00", "Delete", "125042728", "firewall.policy", "2", "", "7caa195c-2ef1-51f1-e2b4-c138599ba239", "https(172.16.1.2)", "Delete firewall.policy 2"),
		vpn(map[string]string{"code": "0101037120", "action": "FortiGate-event-neg-generic-p1-notif"}, one("ts", "2026-04-03T17:38:00.000+02:00"),
			one("start", "2026-04-03T17:37:59.559+02:00"), one("l", "notice"), one("c", "b6ee0f8883f1be95/18c2d92b40df34ac"),
			map[string]string{"fortinet.firewall.action": "negotiate", "fortinet.firewall.eapauthgroup": "rad_vpn", "fortinet.firewall.peer_notif": "NOT-APPLICABLE",
				"fortinet.firewall.status": "success", "fortinet.firewall.vpntunnel": "employee", "message": "negotiate IPsec phase 1",
				"related.ip": `["172.20.114.249","172.20.121.252"]`, "rule.description": "Negotiate IPsec phase 1"}),
		vpn(map[string]string{"code": "0101037120", "action": "FortiGate-event-neg-generic-p1-notif"}, one("ts", "2026-04-03T17:38:00.000+02:00"),
			one("start", "2026-04-03T17:37:59.586+02:00"), one("l", "notice"), one("c", "b6ee0f8883f1be95/18c2d92b40df34ac"),
			map[string]string{"fortinet.firewall.action": "negotiate", "fortinet.firewall.eapauthgroup": "rad_vpn", "fortinet.firewall.result": "XAUTH authentication successful",
				"fortinet.firewall.status": "success", "fortinet.firewall.vpntunnel": "employee", "message": "negotiate IPsec phase 1",
				"related.ip": `["172.20.114.249","172.20.121.252"]`, "rule.description": "Negotiate IPsec phase 1"}),
		vpn(map[string]string{"code": "0101037121", "action": "FortiGate-event-neg-generic-p1-error"}, one("ts", "2026-04-03T17:46:12.000+02:00"),
			one("start", "2026-04-03T17:46:12.523+02:00"), one("l", "error"), one("c", "99208a9c4a4b32ed/4ab33f030772bd45"),
			map[string]string{"fortinet.firewall.action": "negotiate", "fortinet.firewall.peer_notif": "NOT-APPLICABLE", "event.outcome": "failure",
				"fortinet.firewall.status": "failure", "fortinet.firewall.vpntunnel": "employee", "message": "negotiate IPsec phase 1",
				"related.ip": `["172.20.114.249","172.20.121.252"]`, "rule.description": "Negotiate IPsec phase 1"}),
		vpn(map[string]string{"code": "0101037141", "action": "FortiGate-event-conn-stats"}, one("ts", "2026-04-03T17:58:46.000+02:00"),
			one("start", "2026-04-03T17:58:46.133+02:00"), one("l", "notice"), one("c", "be9f434013fec9e9/8226b5ba2e6df1e5"),
			map[string]string{"fortinet.firewall.action": "tunnel-stats", "fortinet.firewall.eapauthgroup": "rad_vpn", "fortinet.firewall.assignip": "192.168.3.100",
				"fortinet.firewall.fctuid": "F52A0ECC90884C37BC7579FD8EAC85AC", "fortinet.firewall.nextstat": "600", "fortinet.firewall.tunnelid": "4290830038",
				"fortinet.firewall.tunnelip": "192.168.3.100", "fortinet.firewall.tunneltype": "ipsec", "fortinet.firewall.vpntunnel": "employee_0",
				"event.duration": "385000000000", "destination.bytes": "97846", "source.bytes": "34319", "network.bytes": "132165",
				"message": "IPsec tunnel statistics", "related.ip": `["172.20.114.249","172.20.121.252","192.168.3.100"]`, "rule.description": "IPsec tunnel statistics"}),
	}
}()

// TestElasticFortiOS76 replays Elastic's FortiOS 7.6 pipeline test input
// and scores the fields against what Elastic's pipeline produced.
func TestElasticFortiOS76(t *testing.T) {
	lines := corpusLines(t, parsertest.Corpus(t, "logs", "elastic-integrations", "fortinet_fortigate", "test-fortinet-7-6.log"))
	if len(lines) != len(elastic76) {
		t.Fatalf("%d lines, %d expected documents", len(lines), len(elastic76))
	}
	var p Parser
	var total parsertest.Score
	for i, line := range lines {
		ev := &event.Event{}
		if err := p.Parse([]byte(line), ev); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		checkContract(t, i+1, line, ev)
		got := parsertest.Fields(ev)
		got["@timestamp"] = ev.Time.Format(time.RFC3339Nano)
		want := elastic76[i]
		s := parsertest.Agreement(want, sameInstants(want, got))
		t.Logf("line %d: %s", i+1, s)
		total.Add(s)
	}
	t.Logf("FortiOS 7.6 agreement with Elastic: %s", total)
	if total.Share() < 0.95 {
		t.Errorf("agreement %.1f%%, want at least 95%%", 100*total.Share())
	}
}

// sameInstants returns got with each time-valued field replaced by the
// expected text when both name the same instant: Elastic writes times in
// the event's zone, we write UTC.
func sameInstants(want, got map[string]string) map[string]string {
	out := make(map[string]string, len(got))
	for k, v := range got {
		out[k] = v
		w, ok := want[k]
		if !ok || w == v {
			continue
		}
		tw, err1 := time.Parse(time.RFC3339Nano, w)
		tg, err2 := time.Parse(time.RFC3339Nano, v)
		if err1 == nil && err2 == nil && tw.Equal(tg) {
			out[k] = w
		}
	}
	return out
}

// TestWazuhFortiGate parses every FortiGate line of Wazuh's ruleset tests
// (FortiOS 4 to 6, with and without relay headers).
func TestWazuhFortiGate(t *testing.T) {
	path := parsertest.Corpus(t, "logs", "wazuh-ruleset-tests", "fortigate.ini")
	n := 0
	var p Parser
	for _, l := range corpusLines(t, path) {
		_, raw, ok := strings.Cut(l, " pass = ")
		if !ok || !strings.HasPrefix(l, "log ") {
			continue
		}
		n++
		ev := &event.Event{}
		if err := p.Parse([]byte(raw), ev); err != nil {
			t.Errorf("line %d: %v\n%s", n, err, raw)
			continue
		}
		checkContract(t, n, raw, ev)
	}
	if n < 40 {
		t.Fatalf("only %d log lines found", n)
	}
	t.Logf("%d FortiGate lines parsed", n)
}
