package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// consoleRule raises one alert per host running the benchmark's marker
// process, so n events on n hosts make n alerts.
const consoleRule = `title: console benchmark process
id: 6a2f0c1e-5b1d-4c66-9a0e-00000000c0b1
author: Tarian benchmarks
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image|endswith: '\benchmark-marker.exe'}
  condition: sel
level: high
tags: [attack.execution, attack.t1204]
`

// BenchmarkConsoleQueue measures issue 13's console budget over a queue of
// TARIAN_BENCH_ALERTS alerts (default 100,000) at two members: a provider
// analyst navigates to the alert queue in Debian's headless chromium
// (web/tests/queue-bench.mjs); each op is one navigation, timed from the
// navigation's start to the first alert row on screen, with the server's
// time for the page of alerts (time to first byte), its transfer, and the
// JavaScript of the first load (gzipped).
// Needs node, chromium and web/node_modules, as the console's e2e tests.
func BenchmarkConsoleQueue(b *testing.B) {
	node, err := exec.LookPath("node")
	if err != nil {
		b.Skip("needs node")
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		if chromium, err = exec.LookPath("chromium"); err != nil {
			b.Skip("needs Debian's chromium")
		}
	}
	webDir, _ := filepath.Abs(filepath.Join("..", "web"))
	if _, err := os.Stat(filepath.Join(webDir, "node_modules", "playwright-core")); err != nil {
		b.Skip("needs web/node_modules (make ui)")
	}
	n := envInt("TARIAN_BENCH_ALERTS", 100_000)
	p := startTarian(b, b.TempDir())
	defer p.stop(b)
	api(b, p.url, bootstrap, "POST", "/api/v1/rules", map[string]any{"files": []map[string]any{{"name": "console.yml", "data": []byte(consoleRule)}}}, nil)
	members := []string{"gwynedd", "powys"}
	ingest := map[string]string{}
	for _, m := range members {
		api(b, p.url, bootstrap, "POST", "/api/v1/tenants", map[string]string{"id": m, "name": m}, nil)
		var tok struct{ Token string }
		api(b, p.url, bootstrap, "POST", "/api/v1/tokens", map[string]string{"tenant": m, "role": "ingest"}, &tok)
		ingest[m] = tok.Token
	}
	const user, password = "bench-analyst", "a long benchmark password"
	api(b, p.url, bootstrap, "POST", "/api/v1/users", map[string]string{"name": user, "role": "provider-analyst", "password": password}, nil)

	// n events on n hosts, half at each member, in batches of 1,000.
	start := time.Now()
	now := time.Now().UTC().Format(time.RFC3339Nano)
	for i := 0; i < n; i += batchEvents {
		m := members[(i/batchEvents)%len(members)]
		var lines []string
		for j := i; j < min(i+batchEvents, n); j++ {
			e, _ := json.Marshal(map[string]any{"Event": map[string]any{
				"System": map[string]any{"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": fmt.Sprintf("WS-%06d", j), "EventRecordID": j,
					"Provider":    map[string]any{"#attributes": map[string]any{"Name": "Microsoft-Windows-Sysmon"}},
					"TimeCreated": map[string]any{"#attributes": map[string]any{"SystemTime": now}}},
				"EventData": map[string]any{"Image": `C:\Users\Public\benchmark-marker.exe`, "User": fmt.Sprintf("COUNCIL\\user%d", j%500), "ProcessId": j},
			}})
			lines = append(lines, string(e))
		}
		postLines(b, p.url, ingest[m], lines)
	}
	deadline := time.Now().Add(15 * time.Minute)
	for alertCount(b, p.url) < n {
		if time.Now().After(deadline) {
			b.Fatalf("%d alerts after 15 min, want %d", alertCount(b, p.url), n)
		}
		time.Sleep(time.Second)
	}
	b.Logf("%d alerts raised in %s", n, time.Since(start).Round(time.Second))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	b.ResetTimer()
	cmd := exec.CommandContext(ctx, node, filepath.Join(webDir, "tests", "queue-bench.mjs"))
	cmd.Dir = webDir
	cmd.Env = append(os.Environ(), "TARIAN_URL="+p.url, "CHROMIUM="+chromium, "CONSOLE_USER="+user, "CONSOLE_PASSWORD="+password, fmt.Sprint("RUNS=", 5*b.N))
	out, err := cmd.Output()
	b.StopTimer()
	if err != nil {
		b.Fatalf("queue-bench.mjs: %v\n%s", err, out)
	}
	var res struct {
		RenderMS, ServerMS, TransferMS []float64
		JSGzipBytes                    int
		Rows                           int
	}
	if err := json.Unmarshal(out[strings.LastIndexByte(strings.TrimSpace(string(out)), '\n')+1:], &res); err != nil {
		b.Fatalf("queue-bench.mjs output %q: %v", out, err)
	}
	if res.Rows == 0 || len(res.RenderMS) != 5*b.N {
		b.Fatalf("queue-bench.mjs: %+v", res)
	}
	b.ReportMetric(median(res.RenderMS), "render-ms")
	b.ReportMetric(median(res.ServerMS), "server-ms")
	b.ReportMetric(median(res.TransferMS), "transfer-ms")
	b.ReportMetric(float64(res.JSGzipBytes)/1024, "js-gz-KiB")
	b.ReportMetric(float64(res.Rows), "rows")
}

// postLines ingests lines as one NDJSON request.
func postLines(b *testing.B, base, token string, lines []string) {
	b.Helper()
	if _, _, err := post(http.DefaultClient, base+"/api/v1/ingest", token, []byte(strings.Join(lines, "\n")+"\n")); err != nil {
		b.Fatal(err)
	}
}

// alertCount is the number of alerts raised at every member in the last
// day (the SOC metrics' count, a provider's view).
func alertCount(b *testing.B, base string) int {
	var out struct{ Alerts int }
	api(b, base, bootstrap, "GET", "/api/v1/metrics/soc?tenant=*&from=-1d", nil, &out)
	return out.Alerts
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
