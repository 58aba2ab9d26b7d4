package e2e

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReloadOnSIGHUP drives issue 17's configuration reload with the built
// binary: a syslog listener added to the configuration file starts on
// SIGHUP, its member's records are accepted, and the connection to the
// listener already there keeps working throughout; a file that does not
// load is refused with its line, and everything keeps running.
func TestReloadOnSIGHUP(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "tarian.yaml")
	// Listeners on port 0 (a port picked beforehand could be taken by
	// another test's connection before the server binds it); the server's
	// log says where each one listens.
	const anyPort = "127.0.0.1:0"
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(cfgPath, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	listener := func(addr, tenant string) string {
		return fmt.Sprintf("    - protocol: tcp\n      listen: %q\n      tenant: %s\n", addr, tenant)
	}
	write("syslog:\n  listeners:\n" + listener(anyPort, "reload-a"))
	// The listener's tenant is created after the server starts.
	s := startServerWith(t, filepath.Join(dir, "data"), []string{"--config", cfgPath})
	s.addTenant("reload-a")
	s.addTenant("reload-b")
	a := syslogAddrs(t, s, 1)[0]

	ca, err := net.Dial("tcp", a)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	n := 0
	sendA := func(count int) {
		t.Helper()
		for range count {
			n++
			msg := fmt.Sprintf("<38>1 2026-11-25T10:00:00Z fw01 sshd 1 - - sighup-a %d", n)
			if _, err := fmt.Fprintf(ca, "%d %s", len(msg), msg); err != nil {
				t.Fatalf("the connection to the first listener, record %d: %v", n, err)
			}
		}
	}
	sendA(5)
	s.waitCount(adminToken, "*", `"sighup-a"`, map[string]int{"reload-a": 5})

	// Add a listener for reload-b and send SIGHUP.
	write("syslog:\n  listeners:\n" + listener(anyPort, "reload-a") + listener(anyPort, "reload-b"))
	s.signal(syscall.SIGHUP)
	b := syslogAddrs(t, s, 2)[1]
	var cb net.Conn
	for deadline := time.Now().Add(startTimeout); ; time.Sleep(20 * time.Millisecond) {
		if cb, err = net.Dial("tcp", b); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the listener added to the file does not accept after SIGHUP: %v\n%s", err, s.log())
		}
	}
	for i := range 5 {
		msg := fmt.Sprintf("<38>1 2026-11-25T10:00:00Z fw02 sshd 1 - - sighup-b %d", i)
		if _, err := fmt.Fprintf(cb, "%d %s", len(msg), msg); err != nil {
			t.Fatal(err)
		}
	}
	cb.Close()
	sendA(5)
	s.waitCount(adminToken, "*", `"sighup-b"`, map[string]int{"reload-b": 5})
	s.waitCount(adminToken, "*", `"sighup-a"`, map[string]int{"reload-a": 10})

	// A file that does not load is refused, naming its line; nothing stops.
	write("syslog:\n  listeners:\n" + listener(anyPort, "reload-a") + "  max_message_bytes: lots\n")
	s.signal(syscall.SIGHUP)
	for deadline := time.Now().Add(startTimeout); !strings.Contains(s.log(), "configuration reload refused"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no refusal logged for a broken file:\n%s", s.log())
		}
	}
	if log := s.log(); !strings.Contains(log, "line 6: syslog.max_message_bytes") {
		t.Errorf("the refusal does not name the line and key:\n%s", log)
	}
	if !s.running() {
		t.Fatal("the server stopped on a broken configuration")
	}
	sendA(1)
	s.waitCount(adminToken, "*", `"sighup-a"`, map[string]int{"reload-a": 11})
	if c, err := net.Dial("tcp", b); err != nil {
		t.Errorf("the second listener stopped on a refused reload: %v", err)
	} else {
		_, _ = io.WriteString(c, "")
		c.Close()
	}
}

// syslogAddrs waits until the server's log has said n times where a syslog
// listener listens, and returns those addresses in the order it said them.
func syslogAddrs(t *testing.T, s *server, n int) []string {
	t.Helper()
	re := regexp.MustCompile(`"msg":"syslog listening".*"addr":"([^"]+)"`)
	for deadline := time.Now().Add(startTimeout); ; time.Sleep(20 * time.Millisecond) {
		var addrs []string
		for _, m := range re.FindAllStringSubmatch(s.log(), -1) {
			addrs = append(addrs, m[1])
		}
		if len(addrs) >= n {
			return addrs
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server's log names %d syslog listeners, want %d:\n%s", len(addrs), n, s.log())
		}
	}
}
