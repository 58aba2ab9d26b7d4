package bench

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/server/servertest"
)

const waveRule = `title: DNS query into a wave domain
id: 6a7b8c9d-3333-4a2b-9c3d-000000000001
author: Tarian bench
logsource: {product: windows, category: dns_query}
detection:
  sel: {QueryName|contains: '.wave-'}
  condition: sel
level: high
`

func sysmon(id int, host string, n int, data map[string]any) string {
	b, _ := json.Marshal(map[string]any{"Event": map[string]any{
		"System": map[string]any{"EventID": id, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": host, "EventRecordID": n,
			"Provider":    map[string]any{"#attributes": map[string]any{"Name": "Microsoft-Windows-Sysmon"}},
			"TimeCreated": map[string]any{"#attributes": map[string]any{"SystemTime": time.Now().UTC().Format(time.RFC3339Nano)}}},
		"EventData": data,
	}})
	return string(b)
}

// BenchmarkPropagation measures defend-as-one's promise: a provider
// analyst confirms an alert at one member as a true positive, and every
// other member's next event with the shared observable alerts. 25 members
// ingest background events all along (TARIAN_BENCH_LOAD events/s in all,
// default 2,500); each op is one confirmation, then one matching event at
// each of the 24 others, timed from its ingest acknowledgement to its
// alert in the member's queue. Reports p50 and p99 over every sample.
func BenchmarkPropagation(b *testing.B) {
	load := 2500
	if v := os.Getenv("TARIAN_BENCH_LOAD"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		load = n
	}
	s := servertest.Start(b, servertest.Config(b.TempDir()))
	const members = 25
	ingest, reader := make([]string, members), make([]string, members)
	for i := range members {
		id := fmt.Sprintf("member-%02d", i)
		s.AddTenant(b, id)
		ingest[i], reader[i] = s.Token(b, id, "ingest"), s.Token(b, id, "tenant-analyst")
	}
	prov := s.Token(b, "", "provider-analyst")
	s.JSON(b, "POST", "/api/v1/rules", servertest.AdminToken, map[string]any{"files": []map[string]any{{"name": "wave.yml", "data": []byte(waveRule)}}}, nil)

	// Background: every member ships ordinary events.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var sent atomic.Int64
	perMember := max(load/members, 1)
	for i := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(200 * time.Millisecond)
			defer tick.Stop()
			n := 0
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				var lines []string
				for range max(perMember/5, 1) {
					n++
					lines = append(lines, sysmon(1, fmt.Sprintf("M%02d-WS%d", i, n%50), n, map[string]any{"Image": `C:\Windows\System32\svchost.exe`, "CommandLine": "svchost -k netsvcs", "User": "SYSTEM"}))
				}
				if st, _ := s.Do(b, "POST", "/api/v1/ingest", ingest[i], []byte(strings.Join(lines, "\n"))); st == http.StatusOK {
					sent.Add(int64(len(lines)))
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()

	alertOf := func(i int, host string) int64 {
		var out struct {
			Alerts []struct {
				ID       int64  `json:"id"`
				Host     string `json:"host"`
				Producer string `json:"producer"`
			} `json:"alerts"`
		}
		s.JSON(b, "GET", "/api/v1/alerts?limit=50", reader[i], nil, &out)
		for _, a := range out.Alerts {
			if a.Host == host {
				return a.ID
			}
		}
		return 0
	}
	wait := func(i int, host string) (int64, time.Duration) {
		start := time.Now()
		for time.Since(start) < time.Minute {
			if id := alertOf(i, host); id != 0 {
				return id, time.Since(start)
			}
			time.Sleep(10 * time.Millisecond)
		}
		b.Fatalf("member %d: no alert for %s within a minute", i, host)
		return 0, 0
	}
	var samples []time.Duration
	b.ResetTimer()
	for round := 0; b.Loop(); round++ {
		domain := fmt.Sprintf("login.wave-%d.net", round)
		first := round % members
		host := fmt.Sprintf("M%02d-HIT%d", first, round)
		s.Do(b, "POST", "/api/v1/ingest", ingest[first], []byte(sysmon(22, host, 1, map[string]any{"QueryName": domain, "User": "clerk"})))
		id, _ := wait(first, host)
		s.JSON(b, "POST", fmt.Sprintf("/api/v1/alerts/%d/resolve", id), prov, map[string]any{"as": "true-positive"}, nil)
		var mu sync.Mutex
		var rw sync.WaitGroup
		for i := range members {
			if i == first {
				continue
			}
			rw.Add(1)
			go func() {
				defer rw.Done()
				h := fmt.Sprintf("M%02d-CONN%d", i, round)
				if st, body := s.Do(b, "POST", "/api/v1/ingest", ingest[i], []byte(sysmon(3, h, 1, map[string]any{"DestinationHostname": domain, "DestinationPort": 443}))); st != http.StatusOK {
					b.Errorf("ingest: %d %s", st, body)
					return
				}
				_, d := wait(i, h)
				mu.Lock()
				samples = append(samples, d)
				mu.Unlock()
			}()
		}
		rw.Wait()
	}
	b.StopTimer()
	slices.Sort(samples)
	q := func(p float64) float64 { return samples[min(len(samples)-1, int(p*float64(len(samples))))].Seconds() }
	b.ReportMetric(q(0.5), "p50-s")
	b.ReportMetric(q(0.99), "p99-s")
	b.ReportMetric(float64(len(samples)), "samples")
	b.ReportMetric(float64(sent.Load())/b.Elapsed().Seconds(), "background-events/s")
}
