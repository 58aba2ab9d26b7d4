package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const latencyRule = `title: Tarian latency marker
id: 7a7a7a7a-0000-4000-8000-00000000a1e7
status: test
author: Tarian bench
logsource:
  product: windows
  category: process_creation
detection:
  sel:
    CommandLine|contains: 'tarian-latency-marker-'
  condition: sel
level: high
`

// BenchmarkDetectLatency measures ingest → alert latency under sustained
// load: TARIAN_BENCH_RATE events/s (default 50,000) for TARIAN_BENCH_SECONDS
// (default 5), paced, in requests of 1,000 events. Each request carries
// one marker (a Sysmon process creation that a test rule matches); the rest
// are the 500-byte events of BenchmarkIngestHTTP. With TARIAN_CORPUS set,
// every SigmaHQ Windows rule is loaded too, so each event meets the whole
// rule set. A marker's latency runs from the start of its request to the
// moment its alert is listed by the API (polled every 20 ms).
//
// Metrics: p50-ms, p99-ms, max-ms, and the events/s the clients achieved
// (below the target when the server pushes back).
func BenchmarkDetectLatency(b *testing.B) {
	rate := envInt("TARIAN_BENCH_RATE", 50_000)
	seconds := envInt("TARIAN_BENCH_SECONDS", 5)
	requests := max(1, rate*seconds/batchEvents) * b.N
	bodies := makeBodies(requests*batchEvents, 2)
	for i := range bodies {
		bodies[i] = withMarker(bodies[i], i)
	}

	p := startTarian(b, b.TempDir())
	api(b, p.url, bootstrap, "POST", "/api/v1/tenants", map[string]string{"id": "bench", "name": "Bench"}, nil)
	var ing, an struct {
		Token string `json:"token"`
	}
	api(b, p.url, bootstrap, "POST", "/api/v1/tokens", map[string]string{"tenant": "bench", "role": "ingest"}, &ing)
	api(b, p.url, bootstrap, "POST", "/api/v1/tokens", map[string]string{"tenant": "bench", "role": "tenant-analyst"}, &an)
	files := []map[string]any{{"name": "latency.yml", "data": []byte(latencyRule)}}
	if root := os.Getenv("TARIAN_CORPUS"); root != "" {
		files = append(files, sigmaWindowsRules(b, root)...)
	} else {
		b.Log("TARIAN_CORPUS not set: only the marker rule is loaded, not the SigmaHQ Windows rules")
	}
	for i := 0; i < len(files); i += 500 {
		var res struct {
			Active int `json:"active"`
		}
		api(b, p.url, bootstrap, "POST", "/api/v1/rules", map[string]any{"files": files[i:min(i+500, len(files))]}, &res)
		if i+500 >= len(files) {
			b.Logf("%d rules active", res.Active)
		}
	}

	// Send paced: request i starts at start + i/requests-per-second.
	tr := &http.Transport{MaxIdleConnsPerHost: 16, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 2 * time.Minute}
	interval := time.Duration(float64(time.Second) * batchEvents / float64(rate))
	sent := make([]time.Time, len(bodies))
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var firstErr error
	seen := map[int]time.Time{}
	stopPoll := make(chan struct{})
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		pollAlerts(hc, p.url, an.Token, seen, stopPoll, len(bodies))
	}()
	profiled := profile(b, p.url, "latency")
	b.ResetTimer()
	start := time.Now()
	for i := range bodies {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		sent[i] = time.Now()
		wg.Go(func() {
			if _, _, err := post(hc, p.url+"/api/v1/ingest", ing.Token, bodies[i]); err != nil {
				errMu.Lock()
				firstErr = err
				errMu.Unlock()
			}
		})
	}
	wg.Wait()
	sendTime := time.Since(start)
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	select {
	case <-pollDone:
	case <-time.After(5 * time.Minute):
		close(stopPoll)
		<-pollDone
	}
	b.StopTimer()
	<-profiled
	var lat []time.Duration
	for i, at := range sent {
		if t, ok := seen[i]; ok {
			lat = append(lat, t.Sub(at))
		}
	}
	if len(lat) != len(bodies) {
		b.Fatalf("%d of %d marker alerts raised within 5 minutes of the last request", len(lat), len(bodies))
	}
	slices.Sort(lat)
	pct := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	achieved := float64(len(bodies)*batchEvents) / sendTime.Seconds()
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(achieved, "events/s")
	b.Logf("target %d events/s for %ds: sent %d events at %.0f events/s; ingest → alert p50 %v, p99 %v, max %v",
		rate, seconds, len(bodies)*batchEvents, achieved, pct(0.50), pct(0.99), lat[len(lat)-1])
	p.stop(b)
}

// withMarker replaces the first event of body with marker event i. Each
// marker names its own host, so each raises its own alert (the queue
// deduplicates one rule's detections on one host and user).
func withMarker(body []byte, i int) []byte {
	nl := bytes.IndexByte(body, '\n')
	ts := time.Now().UTC().Format(time.RFC3339Nano)
	marker := fmt.Sprintf(`{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"bench-ws-%d","TimeCreated":{"#attributes":{"SystemTime":%q}}},"EventData":{"UtcTime":%q,"Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":"cmd /c echo tarian-latency-marker-%d"}}}`, i, ts, ts[:23], i)
	return append([]byte(marker), body[nl:]...)
}

// pollAlerts records when each marker's alert is first listed, until all n
// are seen or stop closes.
func pollAlerts(hc *http.Client, base, token string, seen map[int]time.Time, stop <-chan struct{}, n int) {
	for len(seen) < n {
		select {
		case <-stop:
			return
		case <-time.After(20 * time.Millisecond):
		}
		req, _ := http.NewRequest("GET", base+"/api/v1/alerts?limit=100000", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err != nil {
			continue
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		now := time.Now()
		var out struct {
			Alerts []struct {
				RuleID string            `json:"rule_id"`
				Fields map[string]string `json:"fields"`
			} `json:"alerts"`
		}
		if json.Unmarshal(data, &out) != nil {
			continue
		}
		for _, a := range out.Alerts {
			var i int
			if _, err := fmt.Sscanf(a.Fields["CommandLine"], "cmd /c echo tarian-latency-marker-%d", &i); err != nil {
				continue
			}
			if _, ok := seen[i]; !ok {
				seen[i] = now
			}
		}
	}
}

// sigmaWindowsRules returns every SigmaHQ Windows rule file of the corpus
// as the rules API takes them.
func sigmaWindowsRules(b *testing.B, root string) []map[string]any {
	var out []map[string]any
	err := filepath.WalkDir(filepath.Join(root, "sigma", "rules", "windows"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yml") {
			return err
		}
		data, err := os.ReadFile(path)
		out = append(out, map[string]any{"name": path, "data": data})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return out
}
