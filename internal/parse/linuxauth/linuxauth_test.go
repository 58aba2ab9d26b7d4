package linuxauth

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/envelope"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
	"github.com/tarian-soc/tarian/internal/parse/syslogheader"
)

// ref is the receive time the tests give the parser.
var ref = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

// parse runs Parser on line with env as the envelope's fields and returns
// the event's fields by name.
func parse(t *testing.T, line string, env ...event.Field) (map[string]string, time.Time) {
	t.Helper()
	var p Parser
	ev := event.Event{Time: ref, Fields: env}
	if err := p.Parse([]byte(line), &ev); err != nil {
		t.Fatalf("Parse(%q): %v", line, err)
	}
	return parsertest.Fields(&ev), ev.Time
}

// check reports each wanted field the event lacks or holds with another
// value; a want of "-" means the field must be absent.
func check(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		switch {
		case w == "-" && ok:
			t.Errorf("%s = %q, want it absent", k, g)
		case w != "-" && !ok:
			t.Errorf("%s missing, want %q", k, w)
		case w != "-" && g != w:
			t.Errorf("%s = %q, want %q", k, g, w)
		}
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name, line string
		want       map[string]string
	}{
		{"ssh accepted publickey with signature",
			"Mar  1 08:00:01 bastion sshd[4242]: Accepted publickey for alice from 203.0.113.9 port 50022 ssh2: ED25519 SHA256:abcDEF123",
			map[string]string{
				"system.auth.ssh.event": "Accepted", "system.auth.ssh.method": "publickey",
				"system.auth.ssh.signature": "ED25519 SHA256:abcDEF123", "user.name": "alice",
				"source.ip": "203.0.113.9", "source.port": "50022", "event.category": `["authentication","session"]`,
				"event.type": `["info"]`, "event.action": "ssh_login", "event.outcome": "success",
				"host.hostname": "bastion", "process.name": "sshd", "process.pid": "4242",
				"related.user": `["alice"]`, "related.ip": `["203.0.113.9"]`, "related.hosts": `["bastion"]`,
				"event.dataset": "system.auth", "event.kind": "event", "ecs.version": "8.17.0",
				"message": "Accepted publickey for alice from 203.0.113.9 port 50022 ssh2: ED25519 SHA256:abcDEF123",
			}},
		{"ssh failed password invalid user",
			"Mar  1 08:00:02 bastion sshd[4243]: Failed password for invalid user oracle from 198.51.100.7 port 40000 ssh2",
			map[string]string{"system.auth.ssh.event": "Failed", "system.auth.ssh.method": "password", "user.name": "oracle",
				"source.ip": "198.51.100.7", "source.port": "40000", "event.outcome": "failure", "event.action": "ssh_login",
				"event.category": `["authentication"]`}},
		{"ssh failed keyboard-interactive over ipv6",
			"Mar  1 08:00:03 bastion sshd[4244]: Failed keyboard-interactive/pam for root from 2001:db8::5 port 2222 ssh2",
			map[string]string{"system.auth.ssh.method": "keyboard-interactive/pam", "user.name": "root", "source.ip": "2001:db8::5", "source.port": "2222"}},
		{"ssh invalid user with port",
			"Mar  1 08:00:04 bastion sshd[4245]: Invalid user admin from 192.0.2.44 port 61000",
			map[string]string{"system.auth.ssh.event": "Invalid", "user.name": "admin", "source.ip": "192.0.2.44", "source.port": "61000", "event.outcome": "failure"}},
		{"ssh host name instead of address",
			"Mar  1 08:00:05 bastion sshd[4246]: Failed password for bob from scanner.example.net port 1234 ssh2",
			map[string]string{"source.domain": "scanner.example.net", "source.ip": "-", "related.ip": "-", "user.name": "bob"}},
		{"ssh maximum attempts",
			"Mar  1 08:00:06 bastion sshd[4247]: error: maximum authentication attempts exceeded for invalid user test from 192.0.2.45 port 5000 ssh2 [preauth]",
			map[string]string{"user.name": "test", "source.ip": "192.0.2.45", "event.outcome": "failure", "event.reason": "maximum authentication attempts exceeded"}},
		{"ssh connection closed by authenticating user",
			"Mar  1 08:00:07 bastion sshd[4248]: Connection closed by authenticating user carol 192.0.2.46 port 5001 [preauth]",
			map[string]string{"user.name": "carol", "source.ip": "192.0.2.46", "source.port": "5001", "event.category": `["network"]`, "event.type": `["connection","end"]`}},
		{"ssh received disconnect",
			"Mar  1 08:00:08 bastion sshd[4249]: Received disconnect from 192.0.2.47 port 5002:11: Bye Bye [preauth]",
			map[string]string{"source.ip": "192.0.2.47", "source.port": "5002", "event.reason": "Bye Bye"}},
		{"ssh did not receive identification",
			"Mar  1 08:00:09 bastion sshd[4250]: Did not receive identification string from 192.0.2.48 port 5003",
			map[string]string{"system.auth.ssh.dropped_ip": "192.0.2.48", "source.ip": "192.0.2.48", "source.port": "5003"}},
		{"ssh session start",
			"Mar  1 08:00:10 bastion sshd[4251]: Starting session: shell on pts/0 for dave from 192.0.2.49 port 5004 id 0",
			map[string]string{"user.name": "dave", "source.ip": "192.0.2.49", "event.category": `["session"]`, "event.type": `["start"]`}},
		{"ssh message repeated",
			"Mar  1 08:00:11 bastion sshd[4252]: message repeated 3 times: [ Failed password for root from 192.0.2.50 port 5005 ssh2]",
			map[string]string{"user.name": "root", "source.ip": "192.0.2.50", "event.outcome": "failure"}},
		{"ssh debug line is a host event of the auth dataset",
			"Mar  1 08:00:12 bastion sshd[4253]: debug1: channel 0: free: client-session",
			map[string]string{"event.category": `["host"]`, "event.type": `["info"]`, "event.dataset": "system.auth", "event.outcome": "-"}},
		{"sshd-session of OpenSSH 9.8 reads as sshd",
			"Mar  1 08:00:13 bastion sshd-session[4254]: Accepted password for erin from 192.0.2.51 port 5006 ssh2",
			map[string]string{"process.name": "sshd-session", "user.name": "erin", "event.outcome": "success"}},
		{"pam authentication failure",
			"Mar  1 08:01:00 bastion sshd[4255]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.52  user=frank",
			map[string]string{"system.auth.pam.module": "pam_unix", "system.auth.pam.service": "sshd", "system.auth.pam.type": "auth",
				"user.name": "frank", "source.ip": "192.0.2.52", "event.action": "authentication_failure", "event.outcome": "failure",
				"event.category": `["authentication"]`}},
		{"pam session opened by another user",
			"Mar  1 08:01:01 bastion sudo: pam_unix(sudo:session): session opened for user root(uid=0) by grace(uid=1000)",
			map[string]string{"user.name": "grace", "user.id": "1000", "user.effective.name": "root", "event.action": "logged-on",
				"event.category": `["session"]`, "event.type": `["start"]`, "related.user": `["grace","root"]`}},
		{"pam session closed",
			"Mar  1 08:01:02 bastion sshd[4256]: pam_unix(sshd:session): session closed for user heidi",
			map[string]string{"user.name": "heidi", "event.action": "logged-off", "event.type": `["end"]`}},
		{"pam password changed",
			"Mar  1 08:01:03 bastion passwd[4257]: pam_unix(passwd:chauthtok): password changed for ivan",
			map[string]string{"user.name": "ivan", "user.target.name": "ivan", "event.action": "password-changed", "event.category": `["iam"]`, "event.outcome": "success"}},
		{"pam faillock",
			"Mar  1 08:01:04 bastion sshd[4258]: pam_faillock(sshd:auth): Consecutive login failures for user judy account temporarily locked",
			map[string]string{"user.name": "judy", "event.action": "account-locked", "event.outcome": "failure"}},
		{"pam quoted user",
			`Mar  1 08:01:05 bastion sshd[4259]: pam_succeed_if(sshd:auth): requirement "uid >= 1000" not met by user "root"`,
			map[string]string{"user.name": "root", "event.outcome": "failure"}},
		{"old pam tag",
			"Mar  1 08:01:06 bastion su(pam_unix)[4260]: session opened for user news by (uid=0)",
			map[string]string{"system.auth.pam.service": "su", "user.name": "news", "user.id": "0", "process.name": "su(pam_unix)"}},
		{"sudo command",
			"Mar  1 08:02:00 bastion sudo:   mallory : TTY=pts/1 ; PWD=/home/mallory ; USER=root ; COMMAND=/usr/bin/id",
			map[string]string{"user.name": "mallory", "user.effective.name": "root", "system.auth.sudo.tty": "pts/1",
				"system.auth.sudo.pwd": "/home/mallory", "system.auth.sudo.user": "root", "system.auth.sudo.command": "/usr/bin/id",
				"event.category": `["process"]`, "event.type": `["start"]`, "event.outcome": "success", "related.user": `["mallory","root"]`}},
		{"sudo command holding the separator",
			"Mar  1 08:02:01 bastion sudo: oscar : TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/bin/sh -c echo a ; echo b",
			map[string]string{"system.auth.sudo.command": "/bin/sh -c echo a ; echo b"}},
		{"sudo error",
			"Mar  1 08:02:02 bastion sudo:   peggy : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/ ; USER=root ; COMMAND=/bin/ls",
			map[string]string{"system.auth.sudo.error": "3 incorrect password attempts", "event.outcome": "failure", "event.category": `["authentication","process"]`}},
		{"sudo without tty",
			"Mar  1 08:02:03 bastion sudo: trent : PWD=/ ; USER=root ; GROUP=wheel ; COMMAND=/bin/true",
			map[string]string{"system.auth.sudo.group": "wheel", "system.auth.sudo.tty": "-", "user.name": "trent"}},
		{"su debian",
			"Mar  1 08:03:00 bastion su[4261]: (to root) victor on pts/2",
			map[string]string{"user.name": "victor", "user.effective.name": "root", "event.outcome": "success", "event.category": `["authentication"]`}},
		{"su failed",
			"Mar  1 08:03:01 bastion su[4262]: FAILED SU (to root) walter on pts/2",
			map[string]string{"user.name": "walter", "event.outcome": "failure"}},
		{"useradd",
			"Mar  1 08:04:00 bastion useradd[4263]: new user: name=svc, UID=1002, GID=1002, home=/home/svc, shell=/bin/bash, from=/dev/pts/0",
			map[string]string{"user.name": "svc", "user.id": "1002", "group.id": "1002", "system.auth.useradd.home": "/home/svc",
				"system.auth.useradd.shell": "/bin/bash", "event.category": `["iam"]`, "event.type": `["user","creation"]`, "event.outcome": "success"}},
		{"groupadd",
			"Mar  1 08:04:01 bastion groupadd[4264]: new group: name=svc, GID=1002",
			map[string]string{"group.name": "svc", "group.id": "1002", "event.type": `["group","creation"]`}},
		{"usermod add to group",
			"Mar  1 08:04:02 bastion usermod[4265]: add 'svc' to group 'docker'",
			map[string]string{"user.name": "svc", "group.name": "docker", "event.action": "group-member-added", "event.type": `["user","change"]`}},
		{"gpasswd",
			"Mar  1 08:04:03 bastion gpasswd[4266]: user svc added by root to group wheel",
			map[string]string{"user.name": "root", "user.target.name": "svc", "group.name": "wheel", "event.action": "group-user-added"}},
		{"userdel",
			"Mar  1 08:04:04 bastion userdel[4267]: delete user 'svc'",
			map[string]string{"user.name": "svc", "event.type": `["user","deletion"]`}},
		{"logind new session",
			"Mar  1 08:05:00 bastion systemd-logind[800]: New session 42 of user alice.",
			map[string]string{"user.name": "alice", "event.category": `["session"]`, "event.type": `["start"]`}},
		{"cron command",
			"Mar  1 08:06:00 bastion CRON[900]: (root) CMD (/usr/local/bin/backup)",
			map[string]string{"user.name": "root", "event.category": `["process"]`, "event.type": `["start"]`}},
		{"login failure",
			"Mar  1 08:07:00 bastion login[901]: FAILED LOGIN 1 FROM 192.0.2.53 FOR root, Authentication failure",
			map[string]string{"user.name": "root", "source.ip": "192.0.2.53", "event.outcome": "failure", "event.reason": "Authentication failure"}},
		{"solaris message id",
			"Mar  1 08:08:00 192.0.2.1 sshd[902]: [ID 800047 auth.notice] Accepted password for zed from 192.0.2.54 port 22 ssh2",
			map[string]string{"host.hostname": "192.0.2.1", "user.name": "zed", "event.outcome": "success"}},
		{"other program",
			"Mar  1 08:09:00 bastion kernel: [ 1.0] eth0: link up",
			map[string]string{"process.name": "kernel", "event.category": `["host"]`, "event.dataset": "system.syslog", "message": "[ 1.0] eth0: link up"}},
		{"rfc5424 line",
			`<38>1 2026-03-01T08:10:00.123Z bastion sshd 903 - [meta x="1"] Invalid user q from 192.0.2.55`,
			map[string]string{"log.syslog.priority": "38", "log.syslog.facility.code": "4", "log.syslog.severity.code": "6",
				"host.hostname": "bastion", "process.pid": "903", "user.name": "q", "source.ip": "192.0.2.55"}},
		{"user name needing json escapes",
			`Mar  1 08:11:00 bastion sshd[904]: Invalid user a"b\c from 192.0.2.56`,
			map[string]string{"user.name": `a"b\c`, "related.user": `["a\"b\\c"]`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _ := parse(t, c.line)
			check(t, got, c.want)
			if _, ok := got["event.original"]; ok {
				t.Error("the parser must not emit event.original")
			}
		})
	}
}

// TestParseTime: the header's time becomes the event's time.
func TestParseTime(t *testing.T) {
	_, tm := parse(t, "2020-03-23 06:47:42.801612-0700  localhost sshd[3186]: Invalid user x from 192.0.2.1")
	if want := time.Date(2020, 3, 23, 13, 47, 42, 801612000, time.UTC); !tm.Equal(want) {
		t.Errorf("time %v, want %v", tm, want)
	}
	_, tm = parse(t, "Dec 31 23:00:00 h sshd[1]: Invalid user x from 192.0.2.1")
	if tm.Year() != 2025 {
		t.Errorf("a December line received in June has year %d, want 2025", tm.Year())
	}
}

// TestEnvelope: a payload that is only the message takes its host and
// program from the envelope's fields; the real syslog envelope parser
// (envelope.Syslog) reads the header first, as the pipeline does.
func TestEnvelope(t *testing.T) {
	raw := "<38>Mar  1 08:00:02 bastion sshd[4243]: Failed password for invalid user oracle from 198.51.100.7 port 40000 ssh2"
	var sys envelope.Syslog
	var ev event.Event
	if err := sys.Parse(event.Raw{Received: ref, Source: "syslog", Data: []byte(raw)}, &ev); err != nil {
		t.Fatal(err)
	}
	msg, _ := ev.Get(event.FieldMessage)
	if strings.Contains(msg, "bastion") {
		t.Fatalf("the envelope left the header in the message: %q", msg)
	}
	envTime := ev.Time
	var p Parser
	if err := p.Parse([]byte(msg), &ev); err != nil {
		t.Fatal(err)
	}
	if !ev.Time.Equal(envTime) {
		t.Errorf("time changed from the envelope's %v to %v", envTime, ev.Time)
	}
	check(t, parsertest.Fields(&ev), map[string]string{
		"host.hostname": "bastion", "process.name": "sshd", "process.pid": "4243", "user.name": "oracle",
		"source.ip": "198.51.100.7", "event.outcome": "failure", "event.dataset": "system.auth",
		"related.hosts": `["bastion"]`,
	})

	// The program decides, not only the content: a sudo message with its
	// program in the envelope.
	got, _ := parse(t, "alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls",
		event.Field{Name: envelope.FieldSyslogAppname, Value: "sudo"}, event.Field{Name: envelope.FieldSyslogHostname, Value: "h2"})
	check(t, got, map[string]string{"user.name": "alice", "host.hostname": "h2", "process.name": "sudo", "system.auth.sudo.command": "/bin/ls"})

	// A message of a known shape is recognised even with no program.
	got, _ = parse(t, "Accepted password for bob from 192.0.2.9 port 22 ssh2")
	check(t, got, map[string]string{"user.name": "bob", "event.outcome": "success", "host.hostname": "-"})
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		in   string
		want error
	}{
		{"", ErrEmpty},
		{"  \r\n", ErrEmpty},
		{"just some words", ErrNoHeader},
	} {
		var p Parser
		ev := event.Event{Time: ref}
		if err := p.Parse([]byte(c.in), &ev); !errors.Is(err, c.want) {
			t.Errorf("Parse(%q) = %v, want %v", c.in, err, c.want)
		}
		var s SyslogParser
		if err := s.Parse([]byte(c.in), &ev); !errors.Is(err, c.want) {
			t.Errorf("SyslogParser.Parse(%q) = %v, want %v", c.in, err, c.want)
		}
	}
}

func TestSyslogParser(t *testing.T) {
	var p SyslogParser
	ev := event.Event{Time: ref}
	line := "Mar  1 08:00:02 bastion sshd[4243]: Failed password for root from 198.51.100.7 port 40000 ssh2"
	if err := p.Parse([]byte(line), &ev); err != nil {
		t.Fatal(err)
	}
	got := parsertest.Fields(&ev)
	check(t, got, map[string]string{
		"host.hostname": "bastion", "process.name": "sshd", "process.pid": "4243", "event.category": `["host"]`,
		"event.type": `["info"]`, "event.dataset": "system.syslog", "user.name": "-", "source.ip": "-",
		"message": "Failed password for root from 198.51.100.7 port 40000 ssh2",
	})
	if want := time.Date(2026, 3, 1, 8, 0, 2, 0, time.UTC); !ev.Time.Equal(want) {
		t.Errorf("time %v, want %v", ev.Time, want)
	}
}

// TestAppends: Parse appends to the envelope's fields and never drops them.
func TestAppends(t *testing.T) {
	var p Parser
	ev := event.Event{Time: ref, Fields: []event.Field{{Name: "keep.me", Value: "1"}}}
	if err := p.Parse([]byte("Mar  1 08:00:02 h sshd[1]: Invalid user x from 192.0.2.1"), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Fields[0].Name != "keep.me" {
		t.Errorf("first field %v, want the envelope's", ev.Fields[0])
	}
}

func TestSniff(t *testing.T) {
	for _, c := range []struct {
		in           string
		auth, syslog bool
	}{
		{"Mar  1 08:00:02 bastion sshd[4243]: Failed password", true, true},
		{"<38>Mar  1 08:00:02 bastion sudo: x : TTY=pts/0", true, true},
		{"Failed password for root from 1.2.3.4 port 22 ssh2", true, false},
		{"pam_unix(cron:session): session opened", true, false},
		{"Mar  1 08:00:02 bastion kernel: x", false, true},
		{"2026-03-01T08:00:02Z bastion nginx: x", false, true},
		{"<134>1 2026-03-01T08:00:02Z h app - - - x", false, true},
		{"<189>date=2026-01-01 time=10:00:00 logid=1 type=traffic", false, false},
		{`{"a":1}`, false, false},
		{"CEF:0|a|b|1|2|3|4|", false, false},
	} {
		if got := Sniff([]byte(c.in)); got != c.auth {
			t.Errorf("Sniff(%q) = %v, want %v", c.in, got, c.auth)
		}
		if got := syslogheader.Sniff([]byte(c.in)); got != c.syslog {
			t.Errorf("syslogheader.Sniff(%q) = %v, want %v", c.in, got, c.syslog)
		}
	}
	b := []byte("Mar  1 08:00:02 bastion kernel: a rather long line that is not an auth line at all")
	if n := testing.AllocsPerRun(100, func() { Sniff(b); syslogheader.Sniff(b) }); n != 0 {
		t.Errorf("sniffers allocate %.0f times, want 0", n)
	}
}

// sniffByMarkers is Sniff's definition: one of its markers anywhere, or
// one of its prefixes at the start.
func sniffByMarkers(payload []byte) bool {
	for _, m := range []string{" sshd[", " sshd:", " sudo:", " sudo[", " su[", " su:", "pam_unix(", "(pam_unix)",
		" systemd-logind[", " useradd[", " userdel[", " usermod[", " groupadd[", " groupdel[", " passwd[", " CRON[",
		" crond[", " login[", " gpasswd[", " chpasswd["} {
		if bytes.Contains(payload, []byte(m)) {
			return true
		}
	}
	for _, p := range sniffPrefixes {
		if bytes.HasPrefix(payload, p) {
			return true
		}
	}
	return false
}

// FuzzSniff: Sniff, which reads a payload once, answers as its markers
// do.
func FuzzSniff(f *testing.F) {
	for _, s := range []string{
		"Nov 11 22:46:29 localhost su(pam_unix)[23164]: authentication failure",
		"Feb  3 10:00:00 web1 sshd[123]: Failed password", "x sudo: y", "x  su[1]", "a (pam_unix) b",
		"pam_unix.so", "host systemd-logind[1]: New session", "x CRONx[", "x crond:", " su", "a sshd",
		"accepted denied session opened closed for user from port ssh2",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Sniff(b), sniffByMarkers(b); got != want {
			t.Errorf("Sniff(%q) = %v, want %v", b, got, want)
		}
	})
}
