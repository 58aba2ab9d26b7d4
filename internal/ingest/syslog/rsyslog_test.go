package syslog

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/ingest/ingesttest"
	"github.com/tarian-soc/tarian/internal/parse/envelope"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// findTool looks for a program on PATH and in the sbin folders, which a
// test's PATH may lack.
func findTool(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if p := filepath.Join(dir, name); fileExists(p) {
			return p
		}
	}
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestRsyslog is the acceptance test with the real client: Debian's
// rsyslogd, run in the foreground with its own work folder and a private
// imuxsock socket, forwards lines injected with logger(1) to the receiver
// over TCP with octet counting, TCP with newlines, UDP, and TLS (gtls
// driver, client certificate). Every line sent must reach the sink once,
// in the listener's or the certificate's tenant.
func TestRsyslog(t *testing.T) {
	rsyslogd, logger := findTool("rsyslogd"), findTool("logger")
	if rsyslogd == "" || logger == "" {
		t.Skip("rsyslogd or logger not installed: skipping the real-client test (apt-get install -y rsyslog rsyslog-gnutls; CI installs them)")
	}
	gtls, _ := filepath.Glob("/usr/lib/*/rsyslog/lmnsd_gtls.so")
	if len(gtls) == 0 {
		t.Skip("rsyslog's GnuTLS driver is not installed: skipping the real-client test (apt-get install -y rsyslog-gnutls; CI installs it)")
	}
	dir := t.TempDir()
	ca := ingesttest.NewPKI(t, "Tarian test members CA")
	srvCert, srvKey := ca.Issue(t, "localhost", []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")}, x509.ExtKeyUsageServerAuth)
	cliCert, cliKey := ca.Issue(t, "council-web01.delta.example", nil, nil, x509.ExtKeyUsageClientAuth)

	cfg := DefaultConfig()
	cfg.Listeners = []Listener{
		{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "alpha"},
		{Protocol: "tcp", Listen: "127.0.0.1:0", Tenant: "bravo"},
		{Protocol: "udp", Listen: "127.0.0.1:0", Sources: map[string]string{"127.0.0.1": "charlie"}},
		{Protocol: "tls", Listen: "127.0.0.1:0", TLS: &TLSConfig{Cert: srvCert, Key: srvKey, ClientCA: ca.CAFile,
			Clients: map[string]string{"council-web01.delta.example": "delta"}}},
	}
	r, sink := start(t, cfg)
	ports := make([]string, 4)
	for i, a := range r.Addrs() {
		_, p, _ := net.SplitHostPort(a.String())
		ports[i] = p
	}

	sock := filepath.Join(dir, "log.sock")
	conf := fmt.Sprintf(`global(workDirectory=%[1]q localHostname="council-web01" maxMessageSize="64k"
       DefaultNetstreamDriverCAFile=%[2]q DefaultNetstreamDriverCertFile=%[3]q DefaultNetstreamDriverKeyFile=%[4]q)
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket=%[5]q CreatePath="on" RateLimit.Interval="0" useSpecialParser="off" parseHostname="off")
action(type="omfwd" target="127.0.0.1" port=%[6]q protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format"
       queue.type="LinkedList" action.resumeRetryCount="-1" action.resumeInterval="1")
action(type="omfwd" target="127.0.0.1" port=%[7]q protocol="tcp" TCP_Framing="traditional" template="RSYSLOG_ForwardFormat"
       queue.type="LinkedList" action.resumeRetryCount="-1" action.resumeInterval="1")
action(type="omfwd" target="127.0.0.1" port=%[8]q protocol="udp" template="RSYSLOG_TraditionalForwardFormat"
       queue.type="LinkedList" action.resumeRetryCount="-1" action.resumeInterval="1")
action(type="omfwd" target="127.0.0.1" port=%[9]q protocol="tcp"
       StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name" StreamDriverPermittedPeers="localhost"
       TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format"
       queue.type="LinkedList" action.resumeRetryCount="-1" action.resumeInterval="1")
`, filepath.Join(dir, "work"), ca.CAFile, cliCert, cliKey, sock, ports[0], ports[1], ports[2], ports[3])
	if err := os.MkdirAll(filepath.Join(dir, "work"), 0o700); err != nil {
		t.Fatal(err)
	}
	confFile := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(rsyslogd, "-n", "-f", confFile, "-i", filepath.Join(dir, "rsyslogd.pid"))
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	t.Cleanup(stop)
	ingesttest.WaitFor(t, 10*time.Second, "rsyslogd's socket", func() bool { return fileExists(sock) })

	// The lines: a batch on stdin, an embedded newline and tab, a long one.
	run := fmt.Sprintf("t%d", time.Now().UnixNano())
	var tokens []string
	var lines strings.Builder
	for i := range 40 {
		tok := fmt.Sprintf("%s-line-%03d", run, i)
		tokens = append(tokens, tok)
		fmt.Fprintf(&lines, "Failed password for invalid user u%d from 203.0.113.%d port %d ssh2 %s\n", i, i, 40000+i, tok)
	}
	inject := func(stdin string, args ...string) {
		t.Helper()
		c := exec.Command(logger, append([]string{"-u", sock}, args...)...)
		c.Stdin = strings.NewReader(stdin)
		if b, err := c.CombinedOutput(); err != nil {
			t.Fatalf("logger %v: %v: %s", args, err, b)
		}
	}
	inject(lines.String(), "-t", "sshd", "-p", "authpriv.info")
	multi := run + "-multiline"
	inject("", "-t", "multiline", "-p", "user.warning", "first line "+multi+"\nsecond line\twith tab")
	long := run + "-long"
	inject("", "--size", "8192", "-t", "longmsg", "-p", "user.info", long+" "+strings.Repeat("A", 3000))
	sd := run + "-sd"
	inject("", "--rfc5424", "--sd-id", "exampleSDID@32473", "--sd-param", `eventID="1011"`, "--msgid", "ID47", "-t", "evntslog", "-p", "local4.notice", "with SD "+sd)
	tokens = append(tokens, multi, long, sd)

	tenants := []tenant.ID{"alpha", "bravo", "charlie", "delta"}
	complete := func() bool {
		for _, tn := range tenants {
			if len(sink.messages(tn)) < len(tokens) {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(30 * time.Second)
	for !complete() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // anything sent twice would show now
	stop()
	names := []string{"tcp octet-counted", "tcp newline", "udp", "tls (gtls, client certificate)"}
	for i, tn := range tenants {
		msgs := sink.messages(tn)
		t.Run(names[i], func(t *testing.T) {
			for _, tok := range tokens {
				n := 0
				for _, m := range msgs {
					if strings.Contains(m, tok+" ") || strings.HasSuffix(m, tok) || strings.Contains(m, tok+"#") {
						n++
					}
				}
				if n != 1 {
					t.Errorf("tenant %s: line %s arrived %d times, want once", tn, tok, n)
				}
			}
			if len(msgs) != len(tokens) {
				t.Errorf("tenant %s: %d records, want %d", tn, len(msgs), len(tokens))
			}
			var p envelope.Syslog
			for _, m := range msgs {
				if strings.Contains(m, long) && !strings.Contains(m, strings.Repeat("A", 3000)) {
					t.Errorf("tenant %s: long line cut: %d bytes", tn, len(m))
				}
				// What arrived parses as the syslog it was sent as.
				var ev event.Event
				if err := p.Parse(event.Raw{Received: time.Now(), Source: Source, Data: []byte(m)}, &ev); err != nil {
					t.Fatal(err)
				}
				msg, _ := ev.Get("message")
				app, _ := ev.Get("log.syslog.appname")
				host, _ := ev.Get("host.hostname")
				switch {
				case strings.Contains(m, multi):
					if want := "first line " + multi + "\nsecond line\twith tab"; msg != want || app != "multiline" {
						t.Errorf("tenant %s: multiline parsed as %q by %q, want %q", tn, msg, app, want)
					}
				case strings.Contains(m, sd):
					// Only the RFC 5424 forwards (octet-counted TCP, TLS) carry structured data.
					if id, _ := ev.Get("log.syslog.structured_data.exampleSDID@32473.eventID"); (i == 0 || i == 3) && id != "1011" {
						t.Errorf("tenant %s: structured data lost: %q", tn, m)
					}
				case app != "sshd" || host != "council-web01" || !strings.HasPrefix(msg, "Failed password") && !strings.HasPrefix(msg, long):
					if !strings.Contains(m, long) {
						t.Errorf("tenant %s: %q parsed as app %q host %q message %q", tn, m, app, host, msg)
					}
				}
			}
		})
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("rsyslogd output:\n%s", out.String())
		for _, tn := range tenants {
			for _, m := range sink.messages(tn) {
				t.Logf("%s: %.160q", tn, m)
			}
		}
	}
	if n := sink.Counted(MetricRefused, ""); n != 0 {
		t.Errorf("%d senders refused", n)
	}
}
