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
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/logstore/vltest"
)

// Settings of BenchmarkRealisticVsVictoriaLogs.
const (
	defaultRealEvents = 100_000
	defaultRealMix    = "windows=70,firewall=10,linux=10,cloud=10"
	vlAccountID       = "1"
	realSpan          = 5 * time.Minute // generated events' times spread over the last realSpan
	clockTicks        = 100             // USER_HZ: /proc/PID/stat counts CPU time in these
)

// realSources are the corpus files of each category but Windows, relative
// to $TARIAN_CORPUS/logs (globs). Windows events are every JSON-lines file
// under $TARIAN_CORPUS/events. Wazuh's .ini files hold one sample a
// "log N pass = " line; the other files one a line.
var realSources = map[string][]string{
	"firewall": {
		"elastic-integrations/fortinet_fortigate/*.log",
		"wazuh-ruleset-tests/fortigate.ini",
		"wazuh-ruleset-tests/cisco_asa.ini",
		"wazuh-ruleset-tests/paloalto.ini",
		"wazuh-ruleset-tests/sophos_fw.ini",
		"wazuh-ruleset-tests/iptables.ini",
	},
	"linux": {
		"wazuh-ruleset-tests/sshd.ini",
		"wazuh-ruleset-tests/pam.ini",
		"wazuh-ruleset-tests/sudo.ini",
		"wazuh-ruleset-tests/auditd.ini",
		"wazuh-ruleset-tests/syslog.ini",
		"otrf-security-datasets/linux/*.log",
	},
	"cloud": {
		"elastic-integrations/azure-signinlogs/*.log",
		"otrf-security-datasets/m365-aad-goldensaml/AADAuditEvents.json",
		"otrf-security-datasets/m365-aad-goldensaml/Microsoft365DefenderEvents.json",
		"otrf-security-datasets/m365-aad-goldensaml/OfficeActivityEvents.json",
		"wazuh-ruleset-tests/office365.ini",
		"wazuh-ruleset-tests/ms-graph.ini",
	},
}

// vlTimeFields are where the generated events carry their time, as
// VictoriaLogs names them once it has flattened a record; it takes the
// first one present.
var vlTimeFields = []string{
	"@timestamp",
	"Event.System.TimeCreated.#attributes.SystemTime",
	"TimeCreated",
	"TimeGenerated",
	"time",
	"Timestamp",
	"office365.CreationTime",
	"ms-graph.createdDateTime",
}

// timeKeys and idKeys are the JSON keys (the last element of a field's
// path) whose values get a fresh time or a fresh unique id in each event.
var (
	timeKeys = map[string]bool{
		"SystemTime": true, "UtcTime": true, "@timestamp": true, "timestamp": true,
		"TimeCreated": true, "EventTime": true, "EventReceivedTime": true, "TimeGenerated": true,
		"time": true, "Timestamp": true, "createdDateTime": true, "CreationTime": true, "ActivityDateTime": true,
	}
	idKeys = map[string]bool{
		"EventRecordID": true, "RecordNumber": true, "id": true, "Id": true, "OfficeId": true, "ReportId": true,
	}
)

// BenchmarkRealisticVsVictoriaLogs is the acceptance benchmark of the
// parse stage: the same realistic events — the corpus's Windows/Sysmon
// events, firewall, Linux and cloud logs, each with fresh times and ids —
// go through a standalone VictoriaLogs server and then through Tarian, one
// after the other, from the same client code (TARIAN_BENCH_CLIENTS
// clients, default 4, in NDJSON requests of 1,000 events generated before
// the timer starts). Tarian has every SigmaHQ Windows rule loaded.
//
// TARIAN_BENCH_REAL_EVENTS events (default 100,000), mixed by
// TARIAN_BENCH_REAL_MIX (default windows=70,firewall=10,linux=10,cloud=10).
// TARIAN_BENCH_NO_RULES=1 loads no rule into Tarian (the path without
// detection's work).
// The VictoriaLogs binary is TARIAN_VL_BIN when that names a file, else
// v1.52.1 built with go install.
//
// Metrics, for each side: events/s from the first request until every
// event is searchable, CPU seconds of the server process per 1,000
// events, peak RSS, and disk bytes per event after a graceful stop; for
// Tarian also ack-events/s, the bus's bytes per event and detect-lag-s
// (how long after the last acknowledgement the detector had read every
// event); ratio-x is Tarian's events/s ÷ VictoriaLogs'.
func BenchmarkRealisticVsVictoriaLogs(b *testing.B) {
	root := os.Getenv("TARIAN_CORPUS")
	if root == "" {
		b.Skip("TARIAN_CORPUS not set: skipping the realistic benchmark against VictoriaLogs (set it to ../shared/corpus)")
	}
	load := loadAvg()
	vlBin := vlBinary(b) // first: a cold build takes minutes, and the events' times are to be fresh
	cats := realCorpus(b, root)
	total := envInt("TARIAN_BENCH_REAL_EVENTS", defaultRealEvents) * b.N
	clients := clientsCount()
	gen := realBodies(cats, total, 9)
	var desc []string
	for _, c := range cats {
		desc = append(desc, fmt.Sprintf("%s %d", c.name, gen.perCat[c.name]))
	}
	// Go prints at most 10 lines of a benchmark's log: keep it short.
	b.Logf("%d events (%s) from %d corpus records; %.1f MB of NDJSON, %.0f B/event; %d clients; load average %s",
		total, strings.Join(desc, ", "), gen.records, float64(gen.bytes)/1e6, float64(gen.bytes)/float64(total), clients, load)

	if path := os.Getenv("TARIAN_BENCH_DUMP"); path != "" {
		// The generated events, for offline runs (tarian parse, rules test).
		if err := os.WriteFile(path, bytes.Join(gen.bodies, nil), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	var rules []map[string]any
	if os.Getenv("TARIAN_BENCH_NO_RULES") == "" {
		rules = sigmaWindowsRules(b, root)
	}
	b.ResetTimer()
	b.StopTimer()
	vl := runVL(b, vlBin, gen.bodies, total, clients)
	debug.FreeOSMemory() // the load generator's garbage of the first run is not collected during the second
	tr := runTarian(b, rules, gen.bodies, total, clients)

	b.ReportMetric(tr.eventsPerSec(total), "tarian-events/s")
	b.ReportMetric(vl.eventsPerSec(total), "vl-events/s")
	b.ReportMetric(tr.eventsPerSec(total)/vl.eventsPerSec(total), "ratio-x")
	b.ReportMetric(float64(total)/tr.ack.Seconds(), "tarian-ack-events/s")
	b.ReportMetric(tr.cpu/float64(total)*1000, "tarian-cpu-s/1k")
	b.ReportMetric(vl.cpu/float64(total)*1000, "vl-cpu-s/1k")
	b.ReportMetric(float64(tr.rss)/(1<<20), "tarian-RSS-MiB")
	b.ReportMetric(float64(vl.rss)/(1<<20), "vl-RSS-MiB")
	b.ReportMetric(float64(tr.disk)/float64(total), "tarian-B/event")
	b.ReportMetric(float64(vl.disk)/float64(total), "vl-B/event")
	b.ReportMetric(float64(tr.bus)/float64(total), "bus-B/event")
	b.ReportMetric((tr.detected - tr.ack).Seconds(), "detect-lag-s")

	line := func(name string, r sideResult, bus string) string {
		return fmt.Sprintf("\n%-13s %9.0f %9.0f %9.4f %8.0f %10.1f %10s", name, r.eventsPerSec(total), float64(total)/r.ack.Seconds(),
			r.cpu/float64(total)*1000, float64(r.rss)/(1<<20), float64(r.disk)/float64(total), bus)
	}
	b.Logf("%-13s %9s %9s %9s %8s %10s %10s%s%s", "", "events/s", "ack/s", "CPU s/1k", "RSS MiB", "store B/ev", "bus B/ev",
		line("Tarian", tr, fmt.Sprintf("%.1f", float64(tr.bus)/float64(total))), line("VictoriaLogs", vl, "-"))
	b.Logf("Tarian ÷ VictoriaLogs events/s %.3f; Tarian: last ack %.1fs, all searchable %.1fs, detector caught up %.1fs after the first request (%.1fs after the last ack), %.0f alerts; HTTP retries Tarian %d, VictoriaLogs %d; load average %s at end",
		tr.eventsPerSec(total)/vl.eventsPerSec(total), tr.ack.Seconds(), tr.searchable.Seconds(), tr.detected.Seconds(), (tr.detected - tr.ack).Seconds(),
		tr.alerts, tr.retries, vl.retries, loadAvg())
}

// sideResult is what one server did with the events.
type sideResult struct {
	ack        time.Duration // first request → last acknowledgement
	searchable time.Duration // first request → every event searchable
	detected   time.Duration // first request → detector lag 0 (Tarian)
	cpu        float64       // server CPU seconds, user + system, over the run
	rss        int64         // peak resident set
	disk       int64         // event store after a graceful stop
	bus        int64         // bus store after a graceful stop (Tarian)
	retries    int64
	alerts     float64
}

func (r sideResult) eventsPerSec(n int) float64 { return float64(n) / r.searchable.Seconds() }

// runVL sends bodies to a standalone VictoriaLogs server until every event
// is searchable.
func runVL(b *testing.B, bin string, bodies [][]byte, total, clients int) sideResult {
	data := b.TempDir()
	p := startVL(b, bin, data)
	hdr := http.Header{}
	hdr.Set("Content-Type", "application/stream+json")
	hdr.Set("AccountID", vlAccountID)
	q := url.Values{"_time_field": {strings.Join(vlTimeFields, ",")}, "_msg_field": {"message"}}
	tg := target{url: p.url + "/insert/jsonline?" + q.Encode(), header: hdr, accepted: func(_ []byte, lines int) (int, error) { return lines, nil }}

	var r sideResult
	cpu0 := cpuSeconds(b, p.cmd.Process.Pid)
	profiled := profile(b, p.url, "vl")
	b.StartTimer()
	start := time.Now()
	res := sendTo(b, tg, bodies, clients)
	r.ack, r.retries = res.elapsed, res.retries
	deadline := time.Now().Add(5 * time.Minute)
	var n int64
	for {
		if n = vlCount(b, p.url); n >= int64(total) {
			break
		}
		if time.Now().After(deadline) {
			b.Logf("VictoriaLogs metrics: %s", vlDropped(p.url))
			b.Fatalf("VictoriaLogs: only %d of %d events searchable after 5m", n, total)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.searchable = time.Since(start)
	b.StopTimer()
	if n != int64(total) {
		b.Fatalf("VictoriaLogs: %d events searchable, only %d sent", n, total)
	}
	r.cpu = cpuSeconds(b, p.cmd.Process.Pid) - cpu0
	var err error
	if r.rss, err = peakRSS(p.cmd.Process.Pid); err != nil {
		b.Fatal(err)
	}
	dropped := vlDropped(p.url)
	<-profiled
	p.stop(b)
	if r.disk, err = diskUsage(data); err != nil {
		b.Fatal(err)
	}
	log, _ := os.ReadFile(p.logPath)
	if errs := bytes.Count(log, []byte("\n")); dropped != "" || errs > 0 {
		b.Logf("VictoriaLogs: dropped rows %q; %d log lines (errors), the first: %.300s", dropped, errs, firstLines(log, 1))
	}
	return r
}

// profile takes a CPU profile of the server at base while it takes the
// load, when TARIAN_BENCH_PPROF names a file: TARIAN_BENCH_PPROF_SECONDS
// (default 15) seconds from now, written to that file with "."+side
// appended. The channel closes when the profile is written (at once when
// none is taken).
func profile(b *testing.B, base, side string) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		savePprof(b, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", base, envInt("TARIAN_BENCH_PPROF_SECONDS", 15)), side)
	}()
	return done
}

// allocs saves the server's allocation profile (counted since it
// started) to TARIAN_BENCH_PPROF.name, when that is set: the one before
// the load is the base of the one after (go tool pprof -diff_base).
func allocs(b *testing.B, base, name string) {
	savePprof(b, base+"/debug/pprof/allocs", name)
}

// savePprof fetches a profile from url to TARIAN_BENCH_PPROF.name, when
// that is set.
func savePprof(b *testing.B, url, name string) {
	path := os.Getenv("TARIAN_BENCH_PPROF")
	if path == "" {
		return
	}
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+bootstrap)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Errorf("profile %s: %v", name, err)
		return
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if err := os.WriteFile(path+"."+name, data, 0o644); err != nil {
		b.Errorf("profile %s: %v", name, err)
	}
}

// runTarian loads rules into a fresh `tarian serve`, sends bodies, and
// waits until every event is searchable and the detector has read them
// all.
func runTarian(b *testing.B, rules []map[string]any, bodies [][]byte, total, clients int) sideResult {
	data := b.TempDir()
	p := startTarian(b, data)
	api(b, p.url, bootstrap, "POST", "/api/v1/tenants", map[string]string{"id": "bench", "name": "Bench"}, nil)
	var ing, ana struct {
		Token string `json:"token"`
	}
	api(b, p.url, bootstrap, "POST", "/api/v1/tokens", map[string]string{"tenant": "bench", "role": "ingest"}, &ing)
	api(b, p.url, bootstrap, "POST", "/api/v1/tokens", map[string]string{"tenant": "bench", "role": "tenant-analyst"}, &ana)
	active := 0
	for i := 0; i < len(rules); i += 500 {
		var res struct {
			Active int `json:"active"`
		}
		api(b, p.url, bootstrap, "POST", "/api/v1/rules", map[string]any{"files": rules[i:min(i+500, len(rules))]}, &res)
		active = res.Active
	}
	b.Logf("Tarian: %d SigmaHQ Windows rule files imported, %d rules active", len(rules), active)

	hdr := http.Header{}
	hdr.Set("Authorization", "Bearer "+ing.Token)
	hdr.Set("Content-Type", "application/x-ndjson")
	tg := target{url: p.url + "/api/v1/ingest", header: hdr, accepted: ingestAccepted}

	var r sideResult
	pid := p.cmd.Process.Pid
	cpu0 := cpuSeconds(b, pid)
	allocs(b, p.url, "allocs0.tarian")
	profiled := profile(b, p.url, "tarian")
	b.StartTimer()
	start := time.Now()
	res := sendTo(b, tg, bodies, clients)
	r.ack, r.retries = res.elapsed, res.retries
	deadline := time.Now().Add(5 * time.Minute)
	n, lag := int64(-1), -1.0
	for r.searchable == 0 || r.detected == 0 {
		if r.searchable == 0 {
			if n = count(b, p.url, ana.Token); n == int64(total) {
				r.searchable = time.Since(start)
			} else if n > int64(total) {
				b.Fatalf("Tarian: %d events searchable, only %d sent", n, total)
			}
		}
		if r.detected == 0 {
			var ok bool
			if lag, ok = scrape(b, p.url)["tarian_detector_lag_messages"]; ok && lag == 0 {
				r.detected = time.Since(start)
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("Tarian after 5m: %d of %d events searchable, detector lag %v messages", n, total, lag)
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.StopTimer()
	r.cpu = cpuSeconds(b, pid) - cpu0
	<-profiled
	allocs(b, p.url, "allocs1.tarian")
	var err error
	if r.rss, err = peakRSS(pid); err != nil {
		b.Fatal(err)
	}
	m := scrape(b, p.url)
	r.alerts = m["tarian_alerts_total"]
	p.stop(b)
	if r.disk, err = diskUsage(filepath.Join(data, "events")); err != nil {
		b.Fatal(err)
	}
	if r.bus, err = diskUsage(filepath.Join(data, "jetstream")); err != nil {
		b.Fatal(err)
	}
	var bad []string
	if log, err := os.ReadFile(p.logPath); err == nil {
		for l := range strings.Lines(string(log)) {
			if strings.Contains(l, `"level":"ERROR"`) || strings.Contains(l, `"level":"WARN"`) {
				bad = append(bad, strings.TrimSpace(l))
			}
		}
	}
	b.Logf("Tarian: parse failures %.0f, ingest rejected %.0f, events stored at their ingest time (own time outside retention or missing) %.0f; server log: %d WARN/ERROR lines%s",
		m["tarian_parse_failed_total"], m["tarian_ingest_rejected_total"], m["tarian_events_time_adjusted_total"], len(bad), firstOf(bad))
	return r
}

// vlBinary returns the victoria-logs binary of vltest.Version:
// TARIAN_VL_BIN when it names a file, else one built once into the user
// cache directory (see vltest.Binary).
func vlBinary(b *testing.B) string {
	bin := vltest.Binary(b)
	b.Logf("VictoriaLogs: %s", bin)
	return bin
}

// startVL starts a standalone VictoriaLogs on data and a free port, and
// waits until it is healthy. It stops on SIGTERM as on SIGINT, so
// proc.stop stops it gracefully.
func startVL(b *testing.B, bin, data string) *proc {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &proc{data: data, url: "http://" + addr, logPath: filepath.Join(b.TempDir(), "victoria-logs.log"), done: make(chan struct{})}
	logf, err := os.Create(p.logPath)
	if err != nil {
		b.Fatal(err)
	}
	p.cmd = exec.Command(bin, "-storageDataPath", data, "-httpListenAddr", addr, "-loggerLevel", "ERROR")
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
			p.cmd.Process.Kill()
			<-p.done
		}
		if b.Failed() {
			log, _ := os.ReadFile(p.logPath)
			b.Logf("victoria-logs log:\n%s", log)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-p.done:
			log, _ := os.ReadFile(p.logPath)
			b.Fatalf("victoria-logs exited: %v\n%s", p.waitErr, log)
		default:
		}
		if resp, err := http.Get(p.url + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			b.Fatal("victoria-logs not healthy after 60s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// vlCount returns the number of searchable events of the benchmark's
// VictoriaLogs tenant.
func vlCount(b *testing.B, base string) int64 {
	b.Helper()
	req, _ := http.NewRequest("GET", base+"/select/logsql/query?"+url.Values{"query": {"* | stats count() as n"}}.Encode(), nil)
	req.Header.Set("AccountID", vlAccountID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("VictoriaLogs count: HTTP %d %s", resp.StatusCode, data)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return 0
	}
	var row struct {
		N string `json:"n"`
	}
	if err := json.Unmarshal(data, &row); err != nil {
		b.Fatalf("VictoriaLogs count row %q: %v", data, err)
	}
	n, _ := strconv.ParseInt(row.N, 10, 64)
	return n
}

// vlDropped returns VictoriaLogs' non-zero vl_rows_dropped_total series.
func vlDropped(base string) string {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var out []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "vl_rows_dropped_total") && !strings.HasSuffix(l, " 0") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "; ")
}

// scrape reads Tarian's /metrics and sums each metric over its labels.
func scrape(b *testing.B, base string) map[string]float64 {
	b.Helper()
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+bootstrap)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("GET /metrics: HTTP %d", resp.StatusCode)
	}
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if l == "" || l[0] == '#' {
			continue
		}
		series, value, ok := strings.Cut(l, " ")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(series, "{")
		if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
			m[name] += v
		}
	}
	return m
}

// cpuSeconds returns the user + system CPU time of process pid.
func cpuSeconds(b *testing.B, pid int) float64 {
	b.Helper()
	v, err := procCPU(pid)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// procCPU reads the user + system CPU time of process pid.
func procCPU(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses: state is
	// field 3, utime 14 and stime 15.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: %q", pid, data)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %q", pid, data)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return float64(ut+st) / clockTicks, nil
}

func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return err.Error()
	}
	return strings.Join(strings.Fields(string(data))[:3], " ")
}

func firstLines(data []byte, n int) string {
	lines := strings.SplitN(string(data), "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

func firstOf(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return fmt.Sprintf(", the first: %.300s", lines[0])
}

// target is an ingest endpoint: its URL, its request headers, and how many
// lines a 200 answer accepted.
type target struct {
	url      string
	header   http.Header
	accepted func(data []byte, lines int) (int, error)
}

// sendTo posts bodies from clients concurrent clients, retrying 429/503
// (back-pressure) as send does. Every body must be accepted whole.
func sendTo(b *testing.B, tg target, bodies [][]byte, clients int) sendResult {
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
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) {
					return
				}
				n, r, err := postTo(hc, tg, bodies[i])
				retries.Add(int64(r))
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				accepted.Add(int64(n))
			}
		})
	}
	wg.Wait()
	res := sendResult{accepted: accepted.Load(), retries: retries.Load(), elapsed: time.Since(start)}
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	if lines := countLines(bodies); res.accepted != lines {
		b.Fatalf("%s: accepted %d of %d events", tg.url, res.accepted, lines)
	}
	return res
}

func countLines(bodies [][]byte) int64 {
	var n int64
	for _, body := range bodies {
		n += int64(bytes.Count(body, []byte("\n")))
	}
	return n
}

func postTo(hc *http.Client, tg target, body []byte) (accepted, retries int, err error) {
	lines := bytes.Count(body, []byte("\n"))
	for {
		req, err := http.NewRequest("POST", tg.url, bytes.NewReader(body))
		if err != nil {
			return 0, retries, err
		}
		req.Header = tg.header.Clone()
		resp, err := hc.Do(req)
		if err != nil {
			return 0, retries, err
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, retries, err
		}
		switch {
		case resp.StatusCode/100 == 2:
			n, err := tg.accepted(data, lines)
			return n, retries, err
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
			retries++
			wait := time.Second
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
				wait = time.Duration(s) * time.Second
			}
			time.Sleep(min(wait, 200*time.Millisecond))
		default:
			return 0, retries, fmt.Errorf("%s: HTTP %d: %.500s", tg.url, resp.StatusCode, data)
		}
	}
}

// category is one kind of source in the mix: its share of the events and
// its corpus records.
type category struct {
	name  string
	share int // percent
	recs  []template
}

// realCorpus reads the corpus records of every category of the mix
// (TARIAN_BENCH_REAL_MIX).
func realCorpus(b *testing.B, root string) []*category {
	mix := os.Getenv("TARIAN_BENCH_REAL_MIX")
	if mix == "" {
		mix = defaultRealMix
	}
	var cats []*category
	sum := 0
	for part := range strings.SplitSeq(mix, ",") {
		name, pct, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(pct)
		if _, known := realSources[name]; !ok || err != nil || n < 0 || name != "windows" && !known {
			b.Fatalf("TARIAN_BENCH_REAL_MIX=%q: want name=percent,... of windows, firewall, linux, cloud", mix)
		}
		if n > 0 {
			cats = append(cats, &category{name: name, share: n})
			sum += n
		}
	}
	if sum == 0 {
		b.Fatalf("TARIAN_BENCH_REAL_MIX=%q: no events", mix)
	}
	for _, c := range cats {
		var lines []string
		if c.name == "windows" {
			lines = windowsLines(b, filepath.Join(root, "events"))
		} else {
			lines = logLines(b, filepath.Join(root, "logs"), realSources[c.name])
		}
		for _, l := range lines {
			if tp, err := jsonTemplate([]byte(l)); err == nil {
				c.recs = append(c.recs, tp)
			} else if c.name == "windows" {
				b.Fatalf("Windows event %.100q: %v", l, err)
			} else {
				c.recs = append(c.recs, textTemplate(l))
			}
		}
		if len(c.recs) == 0 {
			b.Fatalf("no %s records in the corpus at %s", c.name, root)
		}
	}
	return cats
}

// windowsLines returns every line of the JSON-lines files under dir.
func windowsLines(b *testing.B, dir string) []string {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") && !strings.HasSuffix(path, ".jsonl") {
			return err
		}
		data, err := os.ReadFile(path)
		for l := range strings.Lines(string(data)) {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return out
}

var iniLog = regexp.MustCompile(`^log \d+ (?:pass|fail) = (.+)$`)

// logLines returns the samples of the files matching globs under dir.
func logLines(b *testing.B, dir string, globs []string) []string {
	var out []string
	for _, g := range globs {
		files, err := filepath.Glob(filepath.Join(dir, g))
		if err != nil || len(files) == 0 {
			b.Logf("corpus: no file matches %s", filepath.Join(dir, g))
			continue
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			for l := range strings.Lines(string(data)) {
				l = strings.TrimRight(l, "\r\n")
				if strings.HasSuffix(f, ".ini") {
					m := iniLog.FindStringSubmatch(l)
					if m == nil {
						continue
					}
					l = m[1]
				}
				if strings.TrimSpace(l) != "" {
					out = append(out, l)
				}
			}
		}
	}
	return out
}

// generated is the benchmark's input.
type generated struct {
	bodies  [][]byte
	bytes   int64
	records int // corpus records they were made from
	perCat  map[string]int
}

// realBodies makes n events in NDJSON bodies of batchEvents lines: each a
// corpus record of a category drawn by the mix's shares, its times set
// to now minus realSpan … now in event order, its ids unique.
func realBodies(cats []*category, n int, seed uint64) generated {
	r := rand.New(rand.NewPCG(seed, 0x7e11))
	g := generated{perCat: map[string]int{}}
	sum := 0
	order := make([][]int, len(cats))
	for i, c := range cats {
		sum += c.share
		order[i] = r.Perm(len(c.recs))
		g.records += len(c.recs)
	}
	used := make([]int, len(cats))
	u := uuidPrefix{r.Uint32(), uint16(r.Uint32()), uint16(r.Uint32() & 0xfff), uint16(r.Uint32() & 0xfff)}
	start := time.Now().Add(-realSpan).UTC()
	var buf []byte
	for i := range n {
		k, pick := 0, r.IntN(sum)
		for pick >= cats[k].share {
			pick -= cats[k].share
			k++
		}
		c := cats[k]
		tp := &c.recs[order[k][used[k]%len(c.recs)]]
		used[k]++
		g.perCat[c.name]++
		t := start.Add(time.Duration(int64(realSpan) * int64(i) / int64(n)))
		buf = tp.append(buf, t, eventID{serial: 10_000_000 + uint64(i), uuid: u})
		buf = append(buf, '\n')
		if (i+1)%batchEvents == 0 || i == n-1 {
			g.bodies = append(g.bodies, bytes.Clone(buf))
			g.bytes += int64(len(buf))
			buf = buf[:0]
		}
	}
	return g
}

// A template is a corpus record with holes where each event gets its own
// time and id: parts[0] slots[0] parts[1] … parts[len(slots)].
type template struct {
	parts [][]byte
	slots []slot
}

type slotKind int

const (
	slotTime   slotKind = iota // t formatted by layout in loc
	slotEpoch                  // Unix time in digits digits (10 s, 13 ms, 16 µs, 19 ns), frac decimals after a dot
	slotSerial                 // the event's serial number
	slotUUID                   // a UUID unique to the event
)

type slot struct {
	kind   slotKind
	layout string
	loc    *time.Location
	digits int
	frac   int
}

type uuidPrefix struct {
	a    uint32
	b    uint16
	c, d uint16
}

type eventID struct {
	serial uint64
	uuid   uuidPrefix
}

func (tp *template) append(dst []byte, t time.Time, id eventID) []byte {
	for i, s := range tp.slots {
		dst = append(dst, tp.parts[i]...)
		dst = s.append(dst, t, id)
	}
	return append(dst, tp.parts[len(tp.parts)-1]...)
}

func (s slot) append(dst []byte, t time.Time, id eventID) []byte {
	switch s.kind {
	case slotTime:
		loc := s.loc
		if loc == nil {
			loc = time.UTC
		}
		return t.In(loc).AppendFormat(dst, s.layout)
	case slotEpoch:
		if s.frac > 0 {
			return fmt.Appendf(dst, "%d.%0*d", t.Unix(), s.frac, t.Nanosecond()/pow10(9-s.frac))
		}
		return strconv.AppendInt(dst, t.UnixNano()/int64(pow10(19-s.digits)), 10)
	case slotSerial:
		return strconv.AppendUint(dst, id.serial, 10)
	default:
		u := id.uuid
		return fmt.Appendf(dst, "%08x-%04x-4%03x-8%03x-%012x", u.a, u.b, u.c, u.d, id.serial)
	}
}

func pow10(n int) int {
	p := 1
	for range n {
		p *= 10
	}
	return p
}

// isoTime matches the timestamps of JSON records: RFC 3339 or SQL style,
// with or without fraction and zone.
var isoTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}([T ])\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?$`)

// isoLayout returns the layout that writes a time as v is written (in
// UTC: a zone offset becomes +00:00).
func isoLayout(v string) (string, bool) {
	m := isoTime.FindStringSubmatch(v)
	if m == nil {
		return "", false
	}
	layout := "2006-01-02" + m[1] + "15:04:05"
	if m[2] != "" {
		layout += "." + strings.Repeat("0", len(m[2])-1)
	}
	switch {
	case m[3] == "Z":
		layout += "Z"
	case strings.Contains(m[3], ":"):
		layout += "-07:00"
	case m[3] != "":
		layout += "-0700"
	}
	return layout, true
}

// jsonTemplate makes a template of a JSON object, with slots at the values
// of timeKeys that are timestamps and of idKeys. The record's bytes are
// kept as they are around them.
func jsonTemplate(line []byte) (template, error) {
	var tp template
	if !json.Valid(line) || len(bytes.TrimSpace(line)) == 0 || bytes.TrimSpace(line)[0] != '{' {
		return tp, errors.New("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	// inObj[i] says whether container i is an object; wantKey whether the
	// next token in the innermost object is a key.
	var inObj []bool
	wantKey := false
	key, last := "", 0
	for {
		off := int(dec.InputOffset())
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return tp, err
		}
		end := int(dec.InputOffset())
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				inObj = append(inObj, d == '{')
				wantKey = d == '{'
			default:
				inObj = inObj[:len(inObj)-1]
				wantKey = len(inObj) > 0 && inObj[len(inObj)-1]
			}
			continue
		}
		if wantKey {
			key, wantKey = tok.(string), false
			continue
		}
		wantKey = len(inObj) > 0 && inObj[len(inObj)-1]
		if !wantKey {
			continue // an array element
		}
		// line[off:end] is the value, after a colon and spaces.
		start := off + bytes.IndexFunc(line[off:end], func(r rune) bool { return r != ':' && r != ' ' && r != '\t' && r != '\n' && r != '\r' })
		var s slot
		switch v := tok.(type) {
		case string:
			if end-start-2 != len(v) {
				continue // escaped: not a time or id
			}
			start, end = start+1, end-1
			if layout, ok := isoLayout(v); ok && timeKeys[key] {
				s = slot{kind: slotTime, layout: layout}
			} else if idKeys[key] && v != "" {
				s = slot{kind: slotUUID}
			} else {
				continue
			}
		case json.Number:
			if !idKeys[key] {
				continue
			}
			s = slot{kind: slotSerial}
		default:
			continue
		}
		tp.parts = append(tp.parts, line[last:start])
		tp.slots = append(tp.slots, s)
		last = end
	}
	tp.parts = append(tp.parts, line[last:])
	return tp, nil
}

// Times in lines of text, and the slots they become: each submatch of an
// expression is one slot.
var (
	textTimes = []struct {
		re    *regexp.Regexp
		slots []slot // nil: the layout of isoLayout
	}{
		{regexp.MustCompile(`^([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2})`), []slot{{kind: slotTime, layout: time.Stamp}}},
		{regexp.MustCompile(`(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?)`), nil},
		{regexp.MustCompile(`\bdate=(\d{4}-\d{2}-\d{2}) time=(\d{2}:\d{2}:\d{2})`), []slot{{kind: slotTime, layout: time.DateOnly}, {kind: slotTime, layout: time.TimeOnly}}},
		{regexp.MustCompile(`(\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2})`), []slot{{kind: slotTime, layout: "2006/01/02 15:04:05"}}},
		{regexp.MustCompile(`\beventtime=(\d{10}|\d{13}|\d{16}|\d{19})\b`), nil},
		{regexp.MustCompile(`audit\((\d+\.\d{3}):(\d+)\)`), []slot{{kind: slotEpoch, frac: 3}, {kind: slotSerial}}},
	}
	textZone = regexp.MustCompile(`\b(?:tz|timezone)="?([+-]\d{2}):?(\d{2})?"?`)
)

// textTemplate makes a template of a line of text, sent as a shipper
// would: {"@timestamp": <now>, "message": <line>}, with slots at the
// line's own times (device times in the line's tz= or timezone= zone)
// and auditd serial numbers.
func textTemplate(line string) template {
	loc := time.UTC
	if m := textZone.FindStringSubmatch(line); m != nil {
		h, _ := strconv.Atoi(m[1])
		mins, _ := strconv.Atoi(m[2])
		if h < 0 || m[1][0] == '-' {
			mins = -mins
		}
		loc = time.FixedZone("device", h*3600+mins*60)
	}
	type span struct {
		start, end int
		s          slot
	}
	var spans []span
	for _, tt := range textTimes {
		for _, m := range tt.re.FindAllStringSubmatchIndex(line, -1) {
			for g := 1; 2*g < len(m); g++ {
				v := line[m[2*g]:m[2*g+1]]
				var s slot
				switch {
				case tt.slots != nil:
					s = tt.slots[g-1]
				case strings.Contains(v, "-"):
					layout, _ := isoLayout(v)
					s = slot{kind: slotTime, layout: layout}
				default:
					s = slot{kind: slotEpoch, digits: len(v)}
				}
				if s.kind == slotTime && s.layout != time.Stamp && !strings.Contains(s.layout, "Z") && !strings.Contains(s.layout, "07") {
					s.loc = loc
				}
				spans = append(spans, span{m[2*g], m[2*g+1], s})
			}
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	tp := template{parts: [][]byte{[]byte(`{"@timestamp":"`)}, slots: []slot{{kind: slotTime, layout: "2006-01-02T15:04:05.000Z"}}}
	msg := []byte(`","message":"`)
	last := 0
	for _, sp := range spans {
		if sp.start < last {
			continue // overlaps one taken
		}
		msg = appendJSONText(msg, line[last:sp.start])
		tp.parts = append(tp.parts, msg)
		tp.slots = append(tp.slots, sp.s)
		msg, last = nil, sp.end
	}
	msg = appendJSONText(msg, line[last:])
	tp.parts = append(tp.parts, append(msg, `"}`...))
	return tp
}

// appendJSONText appends s escaped as the inside of a JSON string.
func appendJSONText(dst []byte, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	q := bytes.TrimSpace(buf.Bytes())
	return append(dst, q[1:len(q)-1]...)
}
