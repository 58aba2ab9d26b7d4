package linuxauth

import (
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
)

func bench(b *testing.B, parse func([]byte, *event.Event) error, lines ...string) {
	payloads := make([][]byte, len(lines))
	for i, l := range lines {
		payloads[i] = []byte(l)
	}
	recv := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
	ev := event.Event{Fields: make([]event.Field, 0, 64)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ev.Fields, ev.Time = ev.Fields[:0], recv
		if err := parse(payloads[i%len(payloads)], &ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkParseSSHD(b *testing.B) {
	var p Parser
	bench(b, p.Parse,
		"Mar  1 08:00:01 bastion sshd[4242]: Accepted publickey for alice from 203.0.113.9 port 50022 ssh2: ED25519 SHA256:abcDEF123",
		"Mar  1 08:00:02 bastion sshd[4243]: Failed password for invalid user oracle from 198.51.100.7 port 40000 ssh2",
		"Mar  1 08:00:07 bastion sshd[4248]: Connection closed by authenticating user root 192.0.2.49 port 5001 [preauth]",
		"Mar  1 08:01:00 bastion sshd[4251]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.52  user=frank")
}

func BenchmarkParseSudo(b *testing.B) {
	var p Parser
	bench(b, p.Parse,
		"Mar  1 08:02:00 bastion sudo:   mallory : TTY=pts/1 ; PWD=/home/mallory ; USER=root ; COMMAND=/usr/bin/id -a",
		"Mar  1 08:01:01 bastion sudo: pam_unix(sudo:session): session opened for user root(uid=0) by grace(uid=1000)")
}

// BenchmarkParseEnvelopeMessage: the payload is the message alone, the
// envelope's fields name the host and program.
func BenchmarkParseEnvelopeMessage(b *testing.B) {
	var p Parser
	env := []event.Field{{Name: fieldHostname, Value: "bastion"}, {Name: fieldAppname, Value: "sshd"}, {Name: fieldProcID, Value: "4243"}}
	payload := []byte("Failed password for invalid user oracle from 198.51.100.7 port 40000 ssh2")
	ev := event.Event{Fields: make([]event.Field, 0, 64)}
	b.ReportAllocs()
	for b.Loop() {
		ev.Fields = append(ev.Fields[:0], env...)
		ev.Time = time.Time{}
		if err := p.Parse(payload, &ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkParseSyslog(b *testing.B) {
	var p SyslogParser
	bench(b, p.Parse,
		"Mar  1 08:08:00 bastion kernel: [ 12.5] usb 1-1: new high-speed USB device",
		"2026-03-01T08:08:02.123456+01:00 web nginx[77]: 10.0.0.1 - - \"GET / HTTP/1.1\" 200")
}
