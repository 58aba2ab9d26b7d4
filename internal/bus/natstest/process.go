package natstest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Processes is a NATS JetStream cluster of separate nats-server processes
// on loopback ports, for tests that kill a node with SIGKILL or measure
// the bus' own CPU and memory apart from the test process.
type Processes struct {
	ports []int
	cmds  []*exec.Cmd
	dir   string
}

// binary builds nats-server, once per process, from the module go.mod
// already requires for the embedded bus (no other download).
var binary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "tarian-nats-server-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "nats-server")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/nats-io/nats-server/v2")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build nats-server: %v\n%s", err, out)
	}
	return bin, nil
})

// StartProcesses starts n clustered nats-server processes with JetStream
// (fsync on every write, as the embedded bus does) and waits until each
// listens. They stop when the test ends.
func StartProcesses(t testing.TB, n int) *Processes {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	ports := freePorts(t, 2*n)
	p := &Processes{ports: ports[:n], dir: t.TempDir()}
	var routes []string
	for _, port := range ports[n:] {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", port))
	}
	for i := range n {
		conf := filepath.Join(p.dir, fmt.Sprintf("n%d.conf", i))
		cluster := ""
		if n > 1 {
			cluster = fmt.Sprintf("cluster { name: tarian, listen: 127.0.0.1:%d, routes: [%s] }\n", ports[n+i], strings.Join(routes, ", "))
		}
		body := fmt.Sprintf("server_name: n%d\nlisten: 127.0.0.1:%d\nmax_payload: 8MB\njetstream { store_dir: %q, sync_interval: always }\n%s",
			i, p.ports[i], filepath.Join(p.dir, fmt.Sprintf("js%d", i)), cluster)
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		logf, err := os.Create(filepath.Join(p.dir, fmt.Sprintf("n%d.log", i)))
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-c", conf)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		p.cmds = append(p.cmds, cmd)
		t.Cleanup(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
			logf.Close()
			if t.Failed() {
				b, _ := os.ReadFile(logf.Name())
				t.Logf("nats-server n%d log:\n%s", i, b)
			}
		})
	}
	deadline := time.Now().Add(processReady)
	for _, port := range p.ports {
		for {
			conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
			if err == nil {
				conn.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("nats-server on port %d not listening after %v", port, readyTimeout)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// Listening is not ready: JetStream answers once the nodes have
	// elected their meta leader, which takes seconds on a loaded machine.
	nc, err := nats.Connect(p.URL(), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatalf("nats-server: connect: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := js.AccountInfo(ctx)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server cluster: JetStream not ready after %v: %v", processReady, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return p
}

// processReady bounds the processes' start and first leader election.
const processReady = 2 * time.Minute

// URL is every node's client URL, comma-separated.
func (p *Processes) URL() string {
	var us []string
	for _, port := range p.ports {
		us = append(us, fmt.Sprintf("nats://127.0.0.1:%d", port))
	}
	return strings.Join(us, ",")
}

// Kill kills node i with SIGKILL.
func (p *Processes) Kill(i int) { _ = p.cmds[i].Process.Signal(syscall.SIGKILL) }

// PIDs are the nodes' process IDs.
func (p *Processes) PIDs() []int {
	var pids []int
	for _, c := range p.cmds {
		pids = append(pids, c.Process.Pid)
	}
	return pids
}
