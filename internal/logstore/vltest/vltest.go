// Package vltest runs real victoria-logs processes for tests: a single node
// (Single) or a cluster of two storage nodes behind a front (Cluster), on
// free loopback ports, stopped when the test ends; their logs are shown when
// it fails. Binary finds or builds the victoria-logs binary of Version.
package vltest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Version is the VictoriaLogs release the tests run, the one go.mod
// requires.
const Version = "v1.52.1"

// EnvBinary names an environment variable that, when it names a file, is
// the victoria-logs binary to use instead of building one.
const EnvBinary = "TARIAN_VL_BIN"

const pkg = "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs"

// Binary returns the path of a victoria-logs binary of Version: $TARIAN_VL_BIN
// if it names a file, else one built once with `go install pkg@Version` into
// the user cache directory (tarian/victoria-logs-<Version>), under a file
// lock so that test packages run in parallel build it once. It skips the
// test when the binary cannot be built (no go command, no network and no
// module cache), saying why.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(EnvBinary); p != "" {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
		t.Logf("%s=%q is not a file; building victoria-logs %s", EnvBinary, p, Version)
	}
	path, err := build()
	if err != nil {
		t.Skipf("victoria-logs %s cannot be built, so the tests that need it do not run: %v", Version, err)
	}
	return path
}

// build returns the cached binary, building it if missing.
func build() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("user cache dir: %w", err)
	}
	dir := filepath.Join(cache, "tarian", "victoria-logs-"+Version)
	name := "victoria-logs"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	bin := filepath.Join(dir, name)
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := lockFile(lock); err != nil {
		return "", fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	if _, err := os.Stat(bin); err == nil {
		return bin, nil // another package built it while we waited
	}
	gobin, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(gobin)
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", errors.New("no go command in PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, "install", pkg+"@"+Version)
	// Outside any module, so that pkg@Version is built as released.
	cmd.Dir = gobin
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=-mod=mod", "GOWORK=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s@%s: %w\n%s", pkg, Version, err, out)
	}
	if err := os.Rename(filepath.Join(gobin, name), bin); err != nil {
		return "", err
	}
	return bin, nil
}

// Process is one running victoria-logs.
type Process struct {
	// URL is its HTTP address, http://127.0.0.1:port.
	URL string
	// Addr is host:port, as -storageNode takes it.
	Addr string

	t    testing.TB
	bin  string
	args []string
	dir  string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs victoria-logs with its data in a new temporary directory,
// listening on a free loopback port, with args added to the defaults (which
// args may override: a later flag wins): -defaultMsgValue= (Tarian stores
// events without a message as they are), -retentionPeriod=100y,
// -delete.enable, -internaldelete.enable, and no fsync
// (DISABLE_FSYNC_FOR_TESTING; a kill -9 still loses nothing written). It
// waits until the process answers /health and stops it when the test ends.
func Start(t testing.TB, args ...string) *Process {
	t.Helper()
	p := &Process{t: t, bin: Binary(t), args: args, dir: t.TempDir()}
	p.log = filepath.Join(p.dir, "victoria-logs.log")
	var err error
	for range 3 {
		if err = p.start(""); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("start victoria-logs: %v\n%s", err, p.logTail())
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("victoria-logs %s (%s) log:\n%s", p.URL, strings.Join(p.args, " "), p.logTail())
		}
	})
	return p
}

// start starts the process on addr, or a free port when addr is empty, and
// waits until it is ready.
func (p *Process) start(addr string) error {
	if addr == "" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		addr = l.Addr().String()
		l.Close()
	}
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	args := append([]string{
		"-httpListenAddr=" + addr,
		"-storageDataPath=" + filepath.Join(p.dir, "data"),
		"-defaultMsgValue=",
		"-retentionPeriod=100y",
		"-delete.enable",
		"-internaldelete.enable",
		"-loggerLevel=INFO",
	}, p.args...)
	cmd := exec.Command(p.bin, args...)
	cmd.Env = append(os.Environ(), "DISABLE_FSYNC_FOR_TESTING=1")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(done)
	}()
	p.cmd, p.done, p.Addr, p.URL = cmd, done, addr, "http://"+addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-done:
			return fmt.Errorf("victoria-logs on %s exited: %v", addr, cmd.ProcessState)
		default:
		}
		resp, err := http.Get(p.URL + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			p.Kill()
			return fmt.Errorf("victoria-logs on %s not ready after 30s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops the process gracefully (SIGTERM; SIGKILL after 20 seconds).
func (p *Process) Stop() {
	if p.cmd == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.Kill()
	}
}

// Kill kills the process (SIGKILL) and waits for it to exit.
func (p *Process) Kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Restart starts the process again on the same address and data directory
// after Stop or Kill.
func (p *Process) Restart() {
	p.t.Helper()
	if err := p.start(p.Addr); err != nil {
		p.t.Fatalf("restart victoria-logs: %v\n%s", err, p.logTail())
	}
}

// logTail is the end of the process's log.
func (p *Process) logTail() string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return err.Error()
	}
	const max = 16 << 10
	if len(b) > max {
		b = b[len(b)-max:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

// Single starts a single-node victoria-logs and returns its URL.
func Single(t testing.TB, args ...string) string {
	t.Helper()
	return Start(t, args...).URL
}

// Cluster starts two storage nodes and a front that routes to them
// (-storageNode=a,b), and returns the front's URL and the nodes' URLs.
func Cluster(t testing.TB) (front string, nodes []string) {
	f, n := ClusterProcesses(t)
	return f.URL, []string{n[0].URL, n[1].URL}
}

// ClusterProcesses is Cluster with the processes, to stop or kill one.
func ClusterProcesses(t testing.TB) (front *Process, nodes [2]*Process) {
	t.Helper()
	for i := range nodes {
		nodes[i] = Start(t)
	}
	front = Start(t, "-storageNode="+nodes[0].Addr+","+nodes[1].Addr)
	return front, nodes
}
