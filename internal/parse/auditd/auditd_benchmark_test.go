package auditd

import (
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
)

func bench(b *testing.B, lines ...string) {
	payloads := make([][]byte, len(lines))
	for i, l := range lines {
		payloads[i] = []byte(l)
	}
	var p Parser
	recv := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	ev := event.Event{Fields: make([]event.Field, 0, 64)}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ev.Fields, ev.Time = ev.Fields[:0], recv
		if err := p.Parse(payloads[i%len(payloads)], &ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkParseSyscall: the bulk of an audit log, SYSCALL records.
func BenchmarkParseSyscall(b *testing.B) {
	bench(b, `node=web1 type=SYSCALL msg=audit(1700000000.250:1001): arch=c000003e syscall=59 success=yes exit=0 a0=55aa a1=55bb a2=55cc a3=0 items=2 ppid=900 pid=901 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=7 comm="id" exe="/usr/bin/id" subj=unconfined key="exec"`)
}

// BenchmarkParseMix: a process start as auditd writes it, record by record.
func BenchmarkParseMix(b *testing.B) {
	bench(b,
		`type=SYSCALL msg=audit(1604994496.155:92733): arch=c000003e syscall=59 success=yes exit=0 a0=558e251634a0 a1=558e25162a50 a2=558e25160800 a3=8 items=2 ppid=29002 pid=1631 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=104 comm="arp" exe="/usr/sbin/arp" key=(null)`,
		`type=EXECVE msg=audit(1604994496.155:92733): argc=2 a0="arp" a1="-a"`,
		`type=CWD msg=audit(1604994496.155:92733): cwd="/home/user"`,
		`type=PATH msg=audit(1604994496.155:92733): item=0 name="/usr/sbin/arp" inode=13181 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0`,
		`type=PROCTITLE msg=audit(1604994496.155:92733): proctitle=617270002D61`,
		`type=USER_LOGIN msg=audit(1700000000.400:1005): pid=2000 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct="mallory" exe="/usr/sbin/sshd" hostname=? addr=203.0.113.5 terminal=ssh res=failed'`)
}
