package bench

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/bus/natstest"
	"github.com/tarian-soc/tarian/internal/logstore/vltest"
	"github.com/tarian-soc/tarian/internal/store/pgtest"
)

// BenchmarkScaleOut measures Tarian on the external engines, as
// docs/scaling.md sizes a national deployment from it: a three-node NATS
// JetStream cluster (nats-server processes, R3), a VictoriaLogs cluster
// (two storage nodes behind a front), PostgreSQL, every SigmaHQ Windows
// rule, eight members over four bus partitions. The same realistic events
// (the corpus' Windows, firewall, Linux and cloud logs with fresh times
// and ids, as BenchmarkRealisticVsVictoriaLogs) go first through one
// tarian node, then through two (half the requests to each). Each phase
// runs until every event is searchable and detected, and reports events/s
// and the CPU seconds each component spent per 1,000 events, and each
// tarian node's peak memory.
func BenchmarkScaleOut(b *testing.B) {
	root := os.Getenv("TARIAN_CORPUS")
	if root == "" {
		b.Skip("TARIAN_CORPUS not set: skipping the scale-out benchmark (set it to ../shared/corpus)")
	}
	load := loadAvg()
	vltest.Binary(b)
	nats := natstest.StartProcesses(b, 3)
	front, storage := vltest.Cluster(b)
	pg := pgtest.Start(b)
	cats := realCorpus(b, root)
	per := envInt("TARIAN_BENCH_SCALE_EVENTS", 50_000) * b.N
	clients := clientsCount()
	gen := realBodies(cats, 2*per, 13)
	rules := sigmaWindowsRules(b, root)

	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		b.Fatal(err)
	}
	env := func(node string) []string {
		return []string{"TARIAN_NODE_NAME=" + node, "TARIAN_BUS_URL=" + nats.URL(), "TARIAN_BUS_REPLICAS=3", "TARIAN_BUS_PARTITIONS=4",
			"TARIAN_EVENTS_URL=" + front, "TARIAN_EVENTS_STORAGE_NODES=" + strings.Join(storage, ","), "TARIAN_STATE_URL=" + pg,
			"TARIAN_SECRET_KEY=" + hex.EncodeToString(key)} // every node the same (docs/scaling.md)
	}
	a := startTarian(b, b.TempDir(), env("a")...)
	const members = 8
	tokens := make([]string, members)
	var analyst struct {
		Token string `json:"token"`
	}
	for i := range tokens {
		id := fmt.Sprintf("member%d", i)
		api(b, a.url, bootstrap, "POST", "/api/v1/tenants", map[string]string{"id": id, "name": id}, nil)
		var tok struct {
			Token string `json:"token"`
		}
		api(b, a.url, bootstrap, "POST", "/api/v1/tokens", map[string]string{"tenant": id, "role": "ingest"}, &tok)
		tokens[i] = tok.Token
	}
	api(b, a.url, bootstrap, "POST", "/api/v1/tokens", map[string]string{"role": "provider-analyst"}, &analyst)
	for i := 0; i < len(rules); i += 500 {
		api(b, a.url, bootstrap, "POST", "/api/v1/rules", map[string]any{"files": rules[i:min(i+500, len(rules))]}, nil)
	}
	waitHeld(b, map[*proc]int{a: 4})

	b.ResetTimer()
	one := runScale(b, []*proc{a}, tokens, analyst.Token, gen.bodies[:len(gen.bodies)/2], clients, 0)
	bn := startTarian(b, b.TempDir(), env("b")...)
	waitHeld(b, map[*proc]int{a: 2, bn: 2})
	two := runScale(b, []*proc{a, bn}, tokens, analyst.Token, gen.bodies[len(gen.bodies)/2:], clients, int64(per))
	b.StopTimer()

	b.ReportMetric(one.eventsPerSec(per), "one-node-events/s")
	b.ReportMetric(two.eventsPerSec(per), "two-node-events/s")
	for _, c := range []string{"tarian", "nats", "victoria-logs", "postgres"} {
		b.ReportMetric(one.cpu[c]/float64(per)*1000, "one-"+c+"-cpu-s/1k")
		b.ReportMetric(two.cpu[c]/float64(per)*1000, "two-"+c+"-cpu-s/1k")
	}
	b.ReportMetric(float64(one.rss[0])/(1<<20), "one-node-RSS-MiB")
	b.ReportMetric(float64(max(two.rss[0], two.rss[1]))/(1<<20), "two-node-max-RSS-MiB")
	row := func(name string, r scaleResult) string {
		return fmt.Sprintf("\n%-9s %9.0f %9.0f %8.4f %8.4f %8.4f %8.4f %8.0f", name, r.eventsPerSec(per), float64(per)/r.ack.Seconds(),
			r.cpu["tarian"]/float64(per)*1000, r.cpu["nats"]/float64(per)*1000, r.cpu["victoria-logs"]/float64(per)*1000,
			r.cpu["postgres"]/float64(per)*1000, float64(slices.Max(r.rss))/(1<<20))
	}
	b.Logf("%d events a phase, %d clients, 8 members, 4 partitions, %d rule files; load average %s at start, %s at end",
		per, clients, len(rules), load, loadAvg())
	b.Logf("%-9s %9s %9s %8s %8s %8s %8s %8s%s%s", "CPU s/1k", "events/s", "ack/s", "tarian", "nats", "vl", "pg", "RSS MiB",
		row("one node", one), row("two nodes", two))
}

// scaleResult is one phase of BenchmarkScaleOut.
type scaleResult struct {
	ack, done time.Duration
	cpu       map[string]float64 // CPU seconds by component over the phase
	rss       []int64            // each tarian node's peak resident set
}

func (r scaleResult) eventsPerSec(n int) float64 { return float64(n) / r.done.Seconds() }

// runScale sends bodies round-robin to the members (body i to member i %
// members) and the nodes, and waits until before+len(events) are
// searchable and the detector has caught up.
func runScale(b *testing.B, nodes []*proc, tokens []string, analyst string, bodies [][]byte, clients int, before int64) scaleResult {
	b.Helper()
	pids := func() map[string][]int {
		m := map[string][]int{"nats": pidsOf("nats-server"), "victoria-logs": pidsOf("victoria-logs"), "postgres": pidsOf("postgres")}
		for _, n := range nodes {
			m["tarian"] = append(m["tarian"], n.cmd.Process.Pid)
		}
		return m
	}
	cpu := func() map[string]float64 {
		out := map[string]float64{}
		for c, ps := range pids() {
			for _, pid := range ps {
				v, _ := procCPU(pid) // a process that ended counts 0
				out[c] += v
			}
		}
		return out
	}
	cpu0 := cpu()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	hc := &http.Client{Timeout: 2 * time.Minute}
	var failed atomic.Value
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) {
					return
				}
				hdr := http.Header{}
				hdr.Set("Authorization", "Bearer "+tokens[i%len(tokens)])
				hdr.Set("Content-Type", "application/x-ndjson")
				tg := target{url: nodes[i%len(nodes)].url + "/api/v1/ingest", header: hdr, accepted: ingestAccepted}
				if _, _, err := postTo(hc, tg, bodies[i]); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	r := scaleResult{ack: time.Since(start)}
	want := before + countLines(bodies)
	deadline := time.Now().Add(10 * time.Minute)
	for {
		n := countAll(b, nodes[0].url, analyst)
		lag, ok := scrape(b, nodes[0].url)["tarian_detector_lag_messages"]
		if n == want && ok && lag == 0 {
			break
		}
		if n > want {
			b.Fatalf("%d events searchable, only %d sent", n, want)
		}
		if time.Now().After(deadline) {
			b.Fatalf("after 10m: %d of %d events searchable, detector lag %v", n, want, lag)
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.done = time.Since(start)
	r.cpu = cpu()
	for c := range r.cpu {
		r.cpu[c] -= cpu0[c]
	}
	for _, n := range nodes {
		rss, err := peakRSS(n.cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		r.rss = append(r.rss, rss)
	}
	return r
}

// ingestAccepted checks an ingest answer: every line accepted.
func ingestAccepted(data []byte, lines int) (int, error) {
	var sum struct {
		Accepted int `json:"accepted"`
		Rejected int `json:"rejected"`
	}
	if err := json.Unmarshal(data, &sum); err != nil {
		return 0, err
	}
	if sum.Accepted != lines || sum.Rejected != 0 {
		return 0, fmt.Errorf("accepted %d, rejected %d of %d lines: %.500s", sum.Accepted, sum.Rejected, lines, data)
	}
	return sum.Accepted, nil
}

// countAll is every member's searchable events (a provider token, "*").
func countAll(b *testing.B, base, token string) int64 {
	b.Helper()
	var n int64
	for _, row := range searchAll(b, base, token, "* | stats count() as n") {
		v, _ := strconv.ParseInt(row["n"], 10, 64)
		n += v
	}
	return n
}

// waitHeld waits until each node runs want bus partitions.
func waitHeld(b *testing.B, want map[*proc]int) {
	b.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		ok := true
		for p, n := range want {
			if scrape(b, p.url)["tarian_partitions_held"] != float64(n) {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("partitions not shared as %v after 3m", want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pidsOf lists the processes whose command name is comm.
func pidsOf(comm string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		c, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err == nil && strings.TrimSpace(string(c)) == comm {
			pids = append(pids, pid)
		}
	}
	return pids
}

// searchAll runs query over every member (tenant *) and returns its rows.
func searchAll(b *testing.B, base, token, query string) []map[string]string {
	b.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/search?"+url.Values{"q": {query}, "tenant": {"*"}}.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("search: HTTP %d %s", resp.StatusCode, data)
	}
	var rows []map[string]string
	for line := range bytes.Lines(data) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var row map[string]string
		if err := json.Unmarshal(line, &row); err != nil {
			b.Fatalf("search row %q: %v", line, err)
		}
		rows = append(rows, row)
	}
	return rows
}
