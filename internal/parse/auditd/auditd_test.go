package auditd

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/parsertest"
)

var ref = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

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
// value; "-" wants the field absent.
func check(t *testing.T, got, want map[string]string) {
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
		{"syscall execve by number",
			`node=web1 type=SYSCALL msg=audit(1700000000.250:1001): arch=c000003e syscall=59 success=yes exit=0 a0=55aa a1=55bb a2=55cc a3=0 items=2 ppid=900 pid=901 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=7 comm="id" exe="/usr/bin/id" key="exec"`,
			map[string]string{
				"auditd.log.record_type": "SYSCALL", "auditd.log.sequence": "1001", "auditd.log.node": "web1",
				"auditd.log.syscall": "59", "auditd.log.syscall_name": "execve", "auditd.log.success": "true",
				"auditd.log.key": "exec", "auditd.log.tty": "pts1", "auditd.log.ses": "7",
				"host.hostname": "web1", "host.architecture": "x86_64", "process.pid": "901", "process.parent.pid": "900",
				"process.name": "id", "process.executable": "/usr/bin/id", "process.exit_code": "0",
				"user.id": "0", "user.audit.id": "1000", "user.effective.id": "0", "user.group.id": "0",
				"event.action": "executed", "event.category": `["process"]`, "event.type": `["start"]`,
				"event.outcome": "success", "event.kind": "event", "event.module": "auditd", "event.dataset": "auditd.log",
				"ecs.version": "8.17.0", "auditd.log.arch": "-", "auditd.log.uid": "-",
			}},
		{"execve arguments, quoted and hex",
			`type=EXECVE msg=audit(1700000000.250:1001): argc=3 a0="bash" a1="-c" a2=6563686F202268692220263E2F6465762F6E756C6C`,
			map[string]string{"process.args": `["bash","-c","echo \"hi\" &>/dev/null"]`,
				"process.args_count": "3", "process.executable": "bash",
				"process.command_line": `bash -c echo "hi" &>/dev/null`, "auditd.log.a2": `echo "hi" &>/dev/null`,
				"event.category": `["process"]`, "event.type": `["start"]`, "event.action": "execve"}},
		{"execve argument in chunks",
			`type=EXECVE msg=audit(1700000000.250:1002): argc=2 a0="cat" a1_len=10 a1[0]=2F6574632F70 a1[1]=6173737764`,
			map[string]string{"process.args": `["cat","/etc/passwd"]`, "process.command_line": "cat /etc/passwd"}},
		{"execve record without its first arguments",
			`type=EXECVE msg=audit(1700000000.250:1003): a2="x" a3="y"`,
			map[string]string{"process.args": `["[... 2 truncated arguments ...]","x","y"]`, "process.executable": "-"}},
		{"user_cmd with hex command",
			`type=USER_CMD msg=audit(1700000000.300:1004): pid=4151 uid=497 auid=700 ses=11988 msg='cwd="/" cmd=2F7573722F62696E2F6964202D61 terminal=pts/0 res=success'`,
			map[string]string{"process.args": `["/usr/bin/id","-a"]`, "process.args_count": "2", "process.command_line": "/usr/bin/id -a",
				"process.working_directory": "/", "user.terminal": "pts/0", "event.action": "ran-command", "event.outcome": "success",
				"user.id": "497", "user.audit.id": "700"}},
		{"user_login with the subject copies",
			`type=USER_LOGIN msg=audit(1700000000.400:1005): pid=2000 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct="mallory" exe="/usr/sbin/sshd" hostname=? addr=203.0.113.5 terminal=ssh res=failed'`,
			map[string]string{"user.id": "4294967295", "user.effective.name": "mallory", "user.name": "mallory", "auditd.log.uid": "0",
				"source.address": "203.0.113.5", "source.ip": "203.0.113.5", "event.outcome": "failure", "event.action": "logged-in",
				"event.category": `["authentication"]`, "event.type": `["start"]`, "related.user": `["mallory"]`, "related.ip": `["203.0.113.5"]`,
				"auditd.log.op": "login", "auditd.log.hostname": "-"}},
		{"add_user copies the target",
			`type=ADD_USER msg=audit(1700000000.500:1006): pid=3000 uid=0 auid=1000 ses=2 msg='op=add-user id=1002 exe="/usr/sbin/useradd" hostname=h addr=? terminal=pts/0 res=success'`,
			map[string]string{"user.id": "1000", "user.effective.id": "0", "user.target.id": "1002", "event.type": `["user","creation"]`}},
		{"proctitle",
			`type=PROCTITLE msg=audit(1700000000.600:1007): proctitle=707974686F6E33002D63007072696E7428312B3129`,
			map[string]string{"auditd.log.proctitle": "python3^@-c^@print(1+1)", "process.command_line": "python3 -c print(1+1)"}},
		{"proctitle not encoded",
			`type=PROCTITLE msg=audit(1700000000.600:1008): proctitle="bash"`,
			map[string]string{"auditd.log.proctitle": "bash", "process.command_line": "bash"}},
		{"records of one event on one line",
			`type=SYSCALL msg=audit(1700000000.700:1009): arch=c000003e syscall=257 success=no exit=-13 items=1 ppid=1 pid=2 auid=1000 uid=1000 comm="cat" exe="/bin/cat" key="shadow" type=CWD msg=audit(1700000000.700:1009): cwd="/tmp" type=PATH msg=audit(1700000000.700:1009): item=0 name="/etc/shadow" inode=5 nametype=NORMAL type=PROCTITLE msg=audit(1700000000.700:1009): proctitle=636174002F6574632F736861646F77`,
			map[string]string{"auditd.log.record_type": "SYSCALL", "process.working_directory": "/tmp", "file.path": "/etc/shadow",
				"process.command_line": "cat /etc/shadow", "event.action": "opened-file", "event.category": `["file"]`,
				"event.outcome": "failure", "auditd.log.success": "false", "process.exit_code": "-13", "auditd.log.inode": "-"}},
		{"kernel console form behind a syslog header",
			`Jan 10 10:00:00 web2 kernel: audit: type=1400 audit(1700000000.800:1010): apparmor="DENIED" operation="open" profile="/usr/sbin/cupsd" name="/etc/shadow" pid=77 comm="cupsd" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`,
			map[string]string{"auditd.log.record_type": "AVC", "host.hostname": "web2", "auditd.log.apparmor": "DENIED",
				"auditd.log.operation": "open", "process.name": "cupsd", "event.category": `["intrusion_detection"]`}},
		{"selinux avc",
			`type=AVC msg=audit(1700000000.900:1011): avc:  denied  { read write } for  pid=5 comm="httpd" name="x" scontext=a tcontext=b tclass=file permissive=0`,
			map[string]string{"auditd.log.seresult": "denied", "auditd.log.seperms": "read,write", "event.type": `["denied"]`,
				"event.action": "violated-selinux-policy"}},
		{"audisp syslog plugin: node wins over the header host",
			`Jan 10 10:00:01 relay audispd: node=db1 type=SERVICE_START msg=audit(1700000001.000:1012): pid=1 uid=0 auid=4294967295 ses=4294967295 msg='unit=sshd comm="systemd" exe="/usr/lib/systemd/systemd" hostname=? addr=? terminal=? res=success'`,
			map[string]string{"host.hostname": "db1", "auditd.log.unit": "sshd", "event.action": "started-service", "event.outcome": "success"}},
		{"enriched format",
			"type=SYSCALL msg=audit(1700000001.100:1013): arch=c000003e syscall=87 success=yes exit=0 items=2 ppid=1 pid=2 auid=1561 uid=2012 comm=\"httpd\" exe=\"/usr/sbin/httpd\" key=\"delete\"\x1dARCH=x86_64 SYSCALL=unlink AUID=\"alice\" UID=\"apache\"",
			map[string]string{"auditd.log.SYSCALL": "unlink", "auditd.log.AUID": "alice", "auditd.log.UID": "apache", "auditd.log.key": "delete",
				"user.audit.name": "alice", "user.name": "apache", "event.action": "deleted", "event.type": `["deletion"]`,
				"auditd.log.syscall_name": "unlink"}},
		{"enriched sockaddr",
			"type=SOCKADDR msg=audit(1700000001.200:1014): saddr=0200005000000000\x1dSADDR={ saddr_fam=inet laddr=192.0.2.8 lport=80 }",
			map[string]string{"auditd.log.saddr_fam": "inet", "auditd.log.laddr": "192.0.2.8", "auditd.log.lport": "80",
				"event.category": `["network"]`}},
		{"daemon record with free text",
			`type=DAEMON_START msg=audit(1700000001.300:1015): op=start ver=3.0 format=enriched kernel=6.1.0 auid=4294967295 pid=600 subj=unconfined res=success`,
			map[string]string{"event.action": "started-audit", "process.pid": "600", "auditd.log.format": "enriched"}},
		{"old pam format with parentheses",
			`type=USER_AUTH msg=audit(1700000001.400:1016): user pid=12 uid=0 auid=500 ses=1 msg='PAM: authentication acct="root" : exe="/bin/su" (hostname=?, addr=?, terminal=pts/0 res=failed)'`,
			map[string]string{"user.name": "root", "user.terminal": "pts/0", "event.outcome": "failure", "message": "PAM: authentication"}},
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

func TestTime(t *testing.T) {
	_, tm := parse(t, `type=CWD msg=audit(1604994496.155:92733): cwd="/"`)
	if want := time.Date(2020, 11, 10, 7, 48, 16, 155e6, time.UTC); !tm.Equal(want) {
		t.Errorf("time %v, want %v", tm, want)
	}
}

// TestEnvelope: a record whose syslog header the envelope read takes its
// host from log.syslog.hostname.
func TestEnvelope(t *testing.T) {
	got, _ := parse(t, `type=CWD msg=audit(1604994496.155:92733): cwd="/"`, event.Field{Name: "log.syslog.hostname", Value: "h9"})
	check(t, got, map[string]string{"host.hostname": "h9", "related.hosts": `["h9"]`, "process.working_directory": "/"})
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		in   string
		want error
	}{
		{"", ErrEmpty},
		{"  \n", ErrEmpty},
		{"Jan 10 10:00:00 h kernel: eth0 up", ErrNoRecord},
		{"type=SYSCALL no stamp here", ErrNoRecord},
		{"type=SYSCALL msg=audit(abc:1): x=1", ErrBadStamp},
		{"xtype=SYSCALL msg=audit(1.0:1): x=1", ErrNoRecord},
	} {
		var p Parser
		ev := event.Event{Time: ref}
		if err := p.Parse([]byte(c.in), &ev); !errors.Is(err, c.want) {
			t.Errorf("Parse(%q) = %v, want %v", c.in, err, c.want)
		}
	}
}

func TestSniff(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{`type=SYSCALL msg=audit(1.1:1): a=b`, true},
		{`node=x type=PATH msg=audit(1.1:1): a=b`, true},
		{`Jan 1 00:00:00 h kernel: audit: type=1400 audit(1.1:2): x`, true},
		{`Jan 1 00:00:00 h sshd[1]: Failed password`, false},
		{`date=2026-01-01 type=traffic`, false},
	} {
		if got := Sniff([]byte(c.in)); got != c.want {
			t.Errorf("Sniff(%q) = %v, want %v", c.in, got, c.want)
		}
	}
	b := []byte(`type=SYSCALL msg=audit(1.1:1): a=b c=d e=f g=h`)
	if n := testing.AllocsPerRun(100, func() { Sniff(b) }); n != 0 {
		t.Errorf("Sniff allocates %.0f times", n)
	}
}

// TestReuse: a parser reused for another line carries nothing over.
func TestReuse(t *testing.T) {
	var p Parser
	ev := event.Event{Time: ref}
	if err := p.Parse([]byte(`type=EXECVE msg=audit(1.0:1): argc=1 a0="one"`), &ev); err != nil {
		t.Fatal(err)
	}
	ev = event.Event{Time: ref}
	if err := p.Parse([]byte(`type=CWD msg=audit(1.0:2): cwd="/"`), &ev); err != nil {
		t.Fatal(err)
	}
	got := parsertest.Fields(&ev)
	for k := range got {
		if strings.HasPrefix(k, "process.args") || k == "auditd.log.a0" {
			t.Errorf("%s carried over from the previous line", k)
		}
	}
}
