// Package bench holds end-to-end throughput benchmarks of the built tarian
// binary: HTTP NDJSON ingest, acknowledged after the durable bus write,
// through to searchable in the event store. See README.md.
package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const (
	eventBytes    = 500  // each event line, newline included
	batchEvents   = 1000 // events per request
	defaultEvents = 500_000
	bootstrap     = "trn_bench-bootstrap-provider-admin-0123456789"
)

// Settings from the environment.
func eventsPerOp() int  { return envInt("TARIAN_BENCH_EVENTS", defaultEvents) }
func clientsCount() int { return envInt("TARIAN_BENCH_CLIENTS", 4) }

func envInt(name string, def int) int {
	if s := os.Getenv(name); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return def
}

var (
	binDir   string
	binOnce  sync.Once
	binPath  string
	binError error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// tarianBinary builds cmd/tarian once (only when a benchmark runs).
func tarianBinary(b *testing.B) string {
	binOnce.Do(func() {
		binDir, binError = os.MkdirTemp("", "tarian-bench-bin-")
		if binError != nil {
			return
		}
		binPath = filepath.Join(binDir, "tarian")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/tarian-soc/tarian/cmd/tarian").CombinedOutput()
		if err != nil {
			binError = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binError != nil {
		b.Fatal(binError)
	}
	return binPath
}

// proc is a running `tarian serve`.
type proc struct {
	cmd     *exec.Cmd
	data    string
	url     string
	logPath string
	done    chan struct{}
	waitErr error
}

// startTarian starts tarian serve on data, with env (KEY=VALUE) added to
// the bootstrap token.
func startTarian(b *testing.B, data string, env ...string) *proc {
	b.Helper()
	p := &proc{data: data, logPath: filepath.Join(b.TempDir(), "server.log"), done: make(chan struct{})}
	logf, err := os.Create(p.logPath)
	if err != nil {
		b.Fatal(err)
	}
	p.cmd = exec.Command(tarianBinary(b), "serve", "--data", data, "--listen", "127.0.0.1:0")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TARIAN_") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	p.cmd.Env = append(p.cmd.Env, "TARIAN_BOOTSTRAP_TOKEN="+bootstrap)
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	b.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Signal(syscall.SIGKILL)
			<-p.done
		}
		if b.Failed() {
			log, _ := os.ReadFile(p.logPath)
			b.Logf("server log:\n%s", log)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-p.done:
			log, _ := os.ReadFile(p.logPath)
			b.Fatalf("server exited: %v\n%s", p.waitErr, log)
		default:
		}
		if a, err := os.ReadFile(filepath.Join(data, "tarian.addr")); err == nil && bytes.HasSuffix(a, []byte("\n")) {
			p.url = "http://" + strings.TrimSpace(string(a))
			if resp, err := http.Get(p.url + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return p
				}
			}
		}
		if time.Now().After(deadline) {
			b.Fatal("server not ready after 60s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop stops the server gracefully (it drains the bus and flushes).
func (p *proc) stop(b *testing.B) {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(2 * time.Minute):
		b.Fatal("server did not stop within 2m of SIGTERM")
	}
	if p.waitErr != nil {
		b.Fatalf("server exit: %v", p.waitErr)
	}
}

// peakRSS returns the process's VmHWM (peak resident set) in bytes.
func peakRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// diskUsage is what du reports for dir: allocated blocks, in bytes.
func diskUsage(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			n += st.Blocks * 512
		}
		return nil
	})
	return n, err
}

// api calls the JSON API with token.
func api(b *testing.B, base, token, method, path string, in, out any) {
	b.Helper()
	var body io.Reader
	if in != nil {
		j, _ := json.Marshal(in)
		body = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, base+path, body)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		b.Fatalf("%s %s: HTTP %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			b.Fatal(err)
		}
	}
}

// makeBodies returns n events of eventBytes each as NDJSON bodies of
// batchEvents lines. The events look like network and authentication logs:
// varied hosts, users, addresses, ports and free text drawn from a seeded
// generator, unique IDs and increasing timestamps, so the store's
// compression sees realistic entropy rather than one repeated line.
func makeBodies(n int, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, 0x7a61))
	words := strings.Fields("accepted denied session opened closed for user from port ssh2 kerberos ticket granted policy rule matched outbound inbound tcp udp dns query response timeout retry certificate verify failed ok mailbox login logout token refresh service account admin backup share mounted printer spooler update installed registry key value changed process started stopped")
	actions := []string{"allow", "deny", "drop", "login", "logout", "create", "delete"}
	procs := []string{"sshd", "svchost.exe", "lsass.exe", "nginx", "postfix", "powershell.exe", "cron", "explorer.exe"}
	start := time.Now().Add(-time.Hour).UTC()
	step := time.Hour / time.Duration(max(n, 1))
	var bodies [][]byte
	var buf bytes.Buffer
	line := make([]byte, 0, 2*eventBytes)
	for i := range n {
		ts := start.Add(time.Duration(i) * step).Format(time.RFC3339Nano)
		line = fmt.Appendf(line[:0], `{"@timestamp":%q,"event":{"id":"%016x","action":%q},"host":{"name":"host-%03d"},"user":{"name":"user%04d"},"source":{"ip":"10.%d.%d.%d","port":%d},"destination":{"ip":"172.16.%d.%d","port":%d},"process":{"name":%q,"pid":%d},"message":"`,
			ts, r.Uint64(), actions[r.IntN(len(actions))], r.IntN(300), r.IntN(5000),
			r.IntN(256), r.IntN(256), r.IntN(256), 1024+r.IntN(60000), r.IntN(256), r.IntN(256), []int{22, 25, 53, 80, 443, 445, 3389}[r.IntN(7)],
			procs[r.IntN(len(procs))], 100+r.IntN(30000))
		for len(line) < eventBytes-3 {
			line = append(line, words[r.IntN(len(words))]...)
			line = append(line, ' ')
		}
		line = append(line[:eventBytes-3], `"}`...)
		line = append(line, '\n')
		buf.Write(line)
		if (i+1)%batchEvents == 0 || i == n-1 {
			bodies = append(bodies, bytes.Clone(buf.Bytes()))
			buf.Reset()
		}
	}
	return bodies
}

// sendResult is what the clients saw.
type sendResult struct {
	accepted int64
	retries  int64
	elapsed  time.Duration // until the last acknowledgement
}

// send posts bodies from clients concurrent clients, retrying 429/503 as
// the server asks. Each body must be answered 200 with every line accepted.
func send(b *testing.B, target, token string, bodies [][]byte, clients int) sendResult {
	b.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: clients, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 2 * time.Minute}
	var next, accepted, retries atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) {
					return
				}
				n, r, err := post(hc, target, token, bodies[i])
				retries.Add(int64(r))
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				accepted.Add(int64(n))
			}
		}()
	}
	wg.Wait()
	res := sendResult{accepted: accepted.Load(), retries: retries.Load(), elapsed: time.Since(start)}
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	return res
}

func post(hc *http.Client, target, token string, body []byte) (accepted, retries int, err error) {
	lines := bytes.Count(body, []byte("\n"))
	for {
		req, err := http.NewRequest("POST", target, bytes.NewReader(body))
		if err != nil {
			return 0, retries, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/x-ndjson")
		resp, err := hc.Do(req)
		if err != nil {
			return 0, retries, err
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, retries, err
		}
		switch resp.StatusCode {
		case http.StatusOK:
			var sum struct {
				Accepted int `json:"accepted"`
				Rejected int `json:"rejected"`
			}
			if err := json.Unmarshal(data, &sum); err != nil {
				return 0, retries, err
			}
			if sum.Accepted != lines || sum.Rejected != 0 {
				return 0, retries, fmt.Errorf("accepted %d, rejected %d of %d lines: %s", sum.Accepted, sum.Rejected, lines, data)
			}
			return sum.Accepted, retries, nil
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			retries++
			wait := time.Second
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
				wait = time.Duration(s) * time.Second
			}
			time.Sleep(min(wait, 200*time.Millisecond))
		default:
			return 0, retries, fmt.Errorf("HTTP %d: %s", resp.StatusCode, data)
		}
	}
}

// count returns the tenant's number of searchable events.
func count(b *testing.B, base, token string) int64 {
	b.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/search?"+url.Values{"q": {"* | stats count() as n"}}.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("count: HTTP %d %s", resp.StatusCode, data)
	}
	var row struct {
		N string `json:"n"`
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return 0
	}
	if err := json.Unmarshal(data, &row); err != nil {
		b.Fatalf("count row %q: %v", data, err)
	}
	n, _ := strconv.ParseInt(row.N, 10, 64)
	return n
}

// BenchmarkIngestHTTP measures the whole path of the target: 500-byte
// events over HTTP NDJSON in batches of 1,000 from several clients, each
// request answered 200 only once its events are durable on the bus, until
// every event is searchable. TARIAN_BENCH_EVENTS events per op (default
// 500,000), TARIAN_BENCH_CLIENTS clients (default 4). The events are
// generated before the timer starts.
//
// Metrics: events/s (acknowledged and searchable, end to end),
// ack-events/s (acknowledged only), peak-RSS-MiB of the server (VmHWM),
// disk-B/event (du of the event store after a graceful stop) and
// bus-disk-B/event (du of the JetStream store), 503-retries.
func BenchmarkIngestHTTP(b *testing.B) {
	per := eventsPerOp()
	total := per * b.N
	bodies := makeBodies(total, 1)
	data := b.TempDir()
	p := startTarian(b, data)

	api(b, p.url, bootstrap, "POST", "/api/v1/tenants", map[string]string{"id": "bench", "name": "Bench"}, nil)
	var ing, ana struct {
		Token string `json:"token"`
	}
	api(b, p.url, bootstrap, "POST", "/api/v1/tokens", map[string]string{"tenant": "bench", "role": "ingest"}, &ing)
	api(b, p.url, bootstrap, "POST", "/api/v1/tokens", map[string]string{"tenant": "bench", "role": "tenant-analyst"}, &ana)

	// No ReportAllocs: the allocations of this process are the load
	// generator's, not the server's.
	b.SetBytes(int64(per) * eventBytes)
	b.ResetTimer()
	start := time.Now()
	res := send(b, p.url+"/api/v1/ingest", ing.Token, bodies, clientsCount())
	deadline := time.Now().Add(5 * time.Minute)
	for {
		n := count(b, p.url, ana.Token)
		if n == int64(total) {
			break
		}
		if n > int64(total) {
			b.Fatalf("%d events searchable, only %d sent", n, total)
		}
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d events searchable after 5m", n, total)
		}
		time.Sleep(20 * time.Millisecond)
	}
	e2e := time.Since(start)
	b.StopTimer()

	if res.accepted != int64(total) {
		b.Fatalf("accepted %d of %d", res.accepted, total)
	}
	rss, err := peakRSS(p.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	p.stop(b)
	evDisk, err := diskUsage(filepath.Join(data, "events"))
	if err != nil {
		b.Fatal(err)
	}
	busDisk, err := diskUsage(filepath.Join(data, "jetstream"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(total)/e2e.Seconds(), "events/s")
	b.ReportMetric(float64(total)/res.elapsed.Seconds(), "ack-events/s")
	b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(evDisk)/float64(total), "disk-B/event")
	b.ReportMetric(float64(busDisk)/float64(total), "bus-disk-B/event")
	b.ReportMetric(float64(res.retries), "503-retries")
}

// BenchmarkIngestHTTPBaseline sends the very same bodies, from the same
// client code and number of clients, to a minimal HTTP server in this test
// process that reads each body, counts its lines and answers 200 — no JSON
// validation, no bus, no fsync, no store. It is the ceiling this machine and
// load generator put on any HTTP NDJSON ingest: what HTTP framing, loopback
// transfer and the client itself cost. Note that here client and server
// share one process (and, as with tarian, the same 2 cores), so it is an
// upper bound to compare ack-events/s against, not a server of its own.
func BenchmarkIngestHTTPBaseline(b *testing.B) {
	per := eventsPerOp()
	total := per * b.N
	bodies := makeBodies(total, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"accepted":%d,"rejected":0,"errors":[]}`, bytes.Count(data, []byte("\n")))
	})}
	go srv.Serve(ln)
	defer srv.Close()

	// No ReportAllocs: the allocations of this process are the load
	// generator's, not the server's.
	b.SetBytes(int64(per) * eventBytes)
	b.ResetTimer()
	res := send(b, "http://"+ln.Addr().String()+"/api/v1/ingest", "none", bodies, clientsCount())
	b.StopTimer()
	if res.accepted != int64(total) {
		b.Fatalf("accepted %d of %d", res.accepted, total)
	}
	b.ReportMetric(float64(total)/res.elapsed.Seconds(), "ack-events/s")
}
