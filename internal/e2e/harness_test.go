// Package e2e holds end-to-end tests that build the real tarian binary once,
// start it on temporary data directories and free ports, and drive it
// through its CLI and HTTP API, as a user or a shipper would (in the style
// of VictoriaLogs' apptest).
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/bus/natstest"
	"github.com/tarian-soc/tarian/internal/logstore/vltest"
	"github.com/tarian-soc/tarian/internal/store/pgtest"
)

// tarianBin is the binary TestMain builds.
var tarianBin string

// adminToken is the provider-admin secret every test server is started with
// (TARIAN_BOOTSTRAP_TOKEN).
const adminToken = "trn_e2e-bootstrap-provider-admin-0123456789abcdef"

// Deadlines: generous, since the tests share 2 noisy cores. They bound a
// poll, they never pace it.
const (
	startTimeout = 60 * time.Second
	stopTimeout  = 60 * time.Second
	indexTimeout = 60 * time.Second
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "tarian-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "tarian")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/tarian-soc/tarian/cmd/tarian")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build tarian:", err)
		return 1
	}
	tarianBin = bin
	code := m.Run()
	if err := pgtest.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: stop PostgreSQL:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// EnvEngines set to "external" runs every test server on external engines
// instead of the embedded ones, through the same configuration keys a
// scale-out deployment uses: its own NATS JetStream server, VictoriaLogs
// server and PostgreSQL database per data directory (bus.url, events.url,
// state.url), started by the test and kept across the server's restarts.
const EnvEngines = "TARIAN_E2E_ENGINES"

var engines sync.Map // data directory → []string, the server's engine variables

// engineEnv returns the variables that point a server on data at its
// external engines (none unless EnvEngines is "external", or when the
// test's own env names a bus).
func engineEnv(t testing.TB, data string, env []string) []string {
	t.Helper()
	if os.Getenv(EnvEngines) != "external" {
		return nil
	}
	for _, kv := range env {
		if strings.HasPrefix(kv, "TARIAN_BUS_URL=") {
			return nil // the test brings its own engines (TestCluster)
		}
	}
	if kept, ok := engines.Load(data); ok {
		return kept.([]string)
	}
	ext := []string{
		"TARIAN_BUS_URL=" + natstest.Start(t, 1).URL(),
		"TARIAN_EVENTS_URL=" + vltest.Single(t),
		"TARIAN_STATE_URL=" + pgtest.Start(t),
	}
	engines.Store(data, ext)
	t.Cleanup(func() { engines.Delete(data) })
	return ext
}

// baseEnv is the test process's environment without any TARIAN_ variable,
// so a developer's settings never leak into a test server or client.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TARIAN_") {
			env = append(env, kv)
		}
	}
	return env
}

// server is one running `tarian serve` process.
type server struct {
	t       testing.TB
	data    string
	env     []string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
	addr    string
	url     string
	hc      *http.Client
}

var serverSeq atomic.Int64

// startServer runs `tarian serve --data data --listen 127.0.0.1:0` with
// TARIAN_BOOTSTRAP_TOKEN=adminToken and env (KEY=VALUE) added, and waits
// until it has written its address and answers /readyz. Its stderr goes to
// a file that is shown when the test fails. The server is stopped with
// SIGTERM at the end of the test if it is still running.
func startServer(t testing.TB, data string, env ...string) *server {
	t.Helper()
	return startServerWith(t, data, nil, env...)
}

// startServerWith is startServer with more arguments for `tarian serve`
// (--config FILE).
func startServerWith(t testing.TB, data string, args []string, env ...string) *server {
	t.Helper()
	s := &server{
		t:       t,
		data:    data,
		env:     slices.Concat(baseEnv(), []string{"TARIAN_BOOTSTRAP_TOKEN=" + adminToken}, engineEnv(t, data, env), env),
		logPath: filepath.Join(t.TempDir(), fmt.Sprintf("server-%d.log", serverSeq.Add(1))),
		hc:      &http.Client{Timeout: 2 * time.Minute},
	}
	// A restart reuses the data directory: never read the previous run's address.
	if err := os.Remove(filepath.Join(data, "tarian.addr")); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	logf, err := os.Create(s.logPath)
	if err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(tarianBin, append([]string{"serve", "--data", data, "--listen", "127.0.0.1:0"}, args...)...)
	s.cmd.Env = s.env
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	s.done = make(chan struct{})
	go func() {
		s.waitErr = s.cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	t.Cleanup(func() {
		if s.running() {
			s.signal(syscall.SIGTERM)
			select {
			case <-s.done:
			case <-time.After(stopTimeout):
				s.signal(syscall.SIGKILL)
				<-s.done
				t.Errorf("server pid %d did not stop within %v of SIGTERM", s.cmd.Process.Pid, stopTimeout)
			}
		}
		if t.Failed() {
			t.Logf("server log %s:\n%s", s.logPath, s.log())
		}
	})
	s.waitReady()
	if os.Getenv(EnvEngines) == "external" && !strings.Contains(s.log(), `"bus":"external","events":"external","state":"external"`) {
		t.Fatalf("%s=external, but the server did not say it runs on external engines:\n%s", EnvEngines, s.log())
	}
	return s
}

func (s *server) running() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

func (s *server) signal(sig os.Signal) {
	if err := s.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.t.Errorf("signal %v to pid %d: %v", sig, s.cmd.Process.Pid, err)
	}
}

// log returns the server's output so far (its last 64 KiB).
func (s *server) log() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return err.Error()
	}
	if len(b) > 64<<10 {
		b = append([]byte("...\n"), b[len(b)-64<<10:]...)
	}
	return string(b)
}

func (s *server) waitReady() {
	t := s.t
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-s.done:
			t.Fatalf("server exited before it was ready: %v\n%s", s.waitErr, s.log())
		default:
		}
		if s.addr == "" {
			if b, err := os.ReadFile(filepath.Join(s.data, "tarian.addr")); err == nil && bytes.HasSuffix(b, []byte("\n")) {
				s.addr = strings.TrimSpace(string(b))
				s.url = "http://" + s.addr
			}
		}
		if s.addr != "" {
			resp, err := s.hc.Get(s.url + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready after %v (addr %q)\n%s", startTimeout, s.addr, s.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for a clean exit (status 0).
func (s *server) stop() {
	t := s.t
	t.Helper()
	s.signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		t.Fatalf("server did not stop within %v of SIGTERM\n%s", stopTimeout, s.log())
	}
	if s.waitErr != nil {
		t.Fatalf("server exited with %v after SIGTERM, want status 0\n%s", s.waitErr, s.log())
	}
}

// kill9 kills the server with SIGKILL, as a crash would, and waits for it.
func (s *server) kill9() {
	s.signal(syscall.SIGKILL)
	<-s.done
}

// cliResult is the outcome of one tarian client command.
type cliResult struct {
	stdout, stderr string
	code           int
}

// cli runs `tarian args...` against s with TARIAN_TOKEN=token.
func (s *server) cli(token string, args ...string) cliResult {
	t := s.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tarianBin, args...)
	cmd.Env = append(baseEnv(), "TARIAN_URL="+s.url, "TARIAN_TOKEN="+token)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := cliResult{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		t.Fatalf("tarian %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// mustCLI runs a client command that must succeed and returns its stdout.
func (s *server) mustCLI(token string, args ...string) string {
	s.t.Helper()
	r := s.cli(token, args...)
	if r.code != 0 {
		s.t.Fatalf("tarian %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// addTenant adds a tenant through `tarian tenant add`.
func (s *server) addTenant(id string) {
	s.t.Helper()
	out := s.mustCLI(adminToken, "tenant", "add", id, "--name", "Tenant "+id)
	if !strings.Contains(out, id) {
		s.t.Fatalf("tenant add %s printed %q", id, out)
	}
}

// createdToken is the JSON `tarian token create --json` prints.
type createdToken struct {
	ID     string `json:"id"`
	Token  string `json:"token"`
	Tenant string `json:"tenant"`
	Role   string `json:"role"`
	Name   string `json:"name"`
}

// createToken makes a token through `tarian token create --json`; tenant
// is empty for provider roles.
func (s *server) createToken(tenant, role string) createdToken {
	t := s.t
	t.Helper()
	args := []string{"token", "create", "--role", role, "--json"}
	if tenant != "" {
		args = append(args, "--tenant", tenant)
	}
	out := s.mustCLI(adminToken, args...)
	var tok createdToken
	if err := json.Unmarshal([]byte(out), &tok); err != nil {
		t.Fatalf("token create printed %q: %v", out, err)
	}
	if tok.Token == "" || tok.ID == "" || tok.Role != role || tok.Tenant != tenant {
		t.Fatalf("token create --tenant %q --role %s printed %+v", tenant, role, tok)
	}
	return tok
}

// do sends one HTTP request and returns the status, headers and body.
// hdr is pairs of header name and value.
func (s *server) do(method, path, token string, body []byte, hdr ...string) (int, http.Header, []byte) {
	t := s.t
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, s.url+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, b
}

// ingestSummary is the 200 answer of POST /api/v1/ingest.
type ingestSummary struct {
	Accepted int `json:"accepted"`
	Rejected int `json:"rejected"`
	Errors   []struct {
		Line   int    `json:"line"`
		Reason string `json:"reason"`
	} `json:"errors"`
}

// ingestHTTP posts an NDJSON body that must be answered 200.
func (s *server) ingestHTTP(token string, body []byte, hdr ...string) ingestSummary {
	t := s.t
	t.Helper()
	status, _, b := s.do("POST", "/api/v1/ingest", token, body, append([]string{"Content-Type", "application/x-ndjson"}, hdr...)...)
	if status != http.StatusOK {
		t.Fatalf("ingest: HTTP %d %s", status, b)
	}
	var sum ingestSummary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatalf("ingest answer %s: %v", b, err)
	}
	return sum
}

// wantError checks an error answer: the status, and a body that is exactly
// {"error":code,"message":"..."} with a non-empty message.
func wantError(t testing.TB, what string, status int, hdr http.Header, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("%s: HTTP %d %s, want %d", what, status, body, wantStatus)
		return
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want application/json", what, ct)
	}
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil {
		t.Errorf("%s: error body %q is not JSON: %v", what, body, err)
		return
	}
	code, _ := e["error"].(string)
	msg, _ := e["message"].(string)
	if len(e) != 2 || code != wantCode || msg == "" {
		t.Errorf("%s: error body %s, want {\"error\":%q,\"message\":\"...\"}", what, body, wantCode)
	}
}

// searchRows runs GET /api/v1/search and returns its rows; the status must be 200.
func (s *server) searchRows(token, tenant, query string, limit int) []map[string]string {
	t := s.t
	t.Helper()
	status, _, b := s.do("GET", searchPath(tenant, query, limit), token, nil)
	if status != http.StatusOK {
		t.Fatalf("search %q (tenant %q): HTTP %d %s", query, tenant, status, b)
	}
	return parseRows(t, b)
}

func searchPath(tenant, query string, limit int) string {
	v := url.Values{"q": {query}}
	if tenant != "" {
		v.Set("tenant", tenant)
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	return "/api/v1/search?" + v.Encode()
}

// parseRows reads NDJSON result rows; a row that is an in-stream error fails the test.
func parseRows(t testing.TB, b []byte) []map[string]string {
	t.Helper()
	var rows []map[string]string
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var row map[string]string
		if err := json.Unmarshal(line, &row); err != nil {
			t.Fatalf("result line %q: %v", line, err)
		}
		if _, ok := row["error"]; ok && len(row) == 2 {
			t.Fatalf("search failed mid-stream: %s", line)
		}
		rows = append(rows, row)
	}
	return rows
}

// counts runs `QUERY | stats count() as n` and returns n per tenant.
func (s *server) counts(token, tenant, query string) map[string]int {
	t := s.t
	t.Helper()
	got := map[string]int{}
	for _, row := range s.searchRows(token, tenant, query+" | stats count() as n", 0) {
		n, err := strconv.Atoi(row["n"])
		if err != nil {
			t.Fatalf("count row %v: %v", row, err)
		}
		got[row["tenant"]] += n
	}
	return got
}

// waitCount polls the per-tenant count of query until it equals want, and
// fails at once if it goes past it (a duplicate) or at the deadline.
// Search after ingest is eventually consistent.
func (s *server) waitCount(token, tenant, query string, want map[string]int) {
	t := s.t
	t.Helper()
	deadline := time.Now().Add(indexTimeout)
	for {
		got := s.counts(token, tenant, query)
		done := true
		for ten, n := range got {
			if n > want[ten] {
				t.Fatalf("count of %q (scope %q): tenant %q has %d events, want %d: %v", query, tenant, ten, n, want[ten], got)
			}
		}
		for ten, n := range want {
			if got[ten] != n {
				done = false
			}
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("count of %q (scope %q) is %v after %v, want %v", query, tenant, got, indexTimeout, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// metrics returns /metrics as a map from series (name with labels) to value.
func (s *server) metrics() map[string]float64 {
	t := s.t
	t.Helper()
	status, _, b := s.do("GET", "/metrics", adminToken, nil)
	if status != http.StatusOK {
		t.Fatalf("/metrics: HTTP %d", status)
	}
	m := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", line, err)
		}
		m[line[:i]] = v
	}
	return m
}

// waitIndexed waits until the indexer has taken everything on the bus
// (tarian_bus_lag_messages is 0), so that counts are final.
func (s *server) waitIndexed() {
	t := s.t
	t.Helper()
	deadline := time.Now().Add(indexTimeout)
	for {
		lag, ok := s.metrics()["tarian_bus_lag_messages"]
		if !ok {
			t.Fatal("/metrics has no tarian_bus_lag_messages")
		}
		if lag == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("bus lag is still %v after %v", lag, indexTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
