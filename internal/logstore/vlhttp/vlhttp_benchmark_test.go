//go:build unix

package vlhttp_test

import (
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/logstore/logstoretest"
	"github.com/tarian-soc/tarian/internal/logstore/vlhttp"
	"github.com/tarian-soc/tarian/internal/logstore/vlogs"
	"github.com/tarian-soc/tarian/internal/logstore/vltest"
)

// adder is what the benchmark needs of a store.
type adder interface {
	logstoretest.Store
	Close() error
}

// BenchmarkAdd adds batches of 1,000 realistic events, flushing every 100
// batches, to a single victoria-logs node over HTTP (each request
// compression) and to the embedded store, in the same run. It reports
// events/s, and CPU seconds per million events of this process (client; for
// vlogs, the whole store) and of the victoria-logs server
// (process_cpu_seconds_total).
func BenchmarkAdd(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	const batchSize, flushEvery = 1000, 100
	batches := make([][]event.Event, 100)
	at := time.Now().Add(-time.Hour)
	for i := range batches {
		batches[i] = logstoretest.Realistic(r, batchSize, at, uint64(i*10))
		at = batches[i][batchSize-1].Time
	}
	url := vltest.Single(b)
	for _, comp := range []string{"zstd", "gzip", "none"} {
		b.Run("vlhttp-"+comp, func(b *testing.B) {
			s, err := vlhttp.Open(vlhttp.Config{URL: url, Compression: comp}, logstoretest.Resolver{}, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			run(b, s, batches, flushEvery, url)
		})
	}
	b.Run("vlogs", func(b *testing.B) {
		if err := vlogs.SetProcessLimits(512 << 20); err != nil {
			b.Fatal(err)
		}
		s, err := vlogs.Open(vlogs.Config{Path: b.TempDir(), MinFreeDiskBytes: -1}, logstoretest.Resolver{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		run(b, s, batches, flushEvery, "")
	})
}

func run(b *testing.B, s adder, batches [][]event.Event, flushEvery int, server string) {
	b.ReportAllocs()
	cpu0, srv0 := processCPU(), serverCPU(b, server)
	start := time.Now()
	n, flushes := 0, 0
	var flushTime time.Duration
	for b.Loop() {
		if err := s.Add(b.Context(), logstoretest.A, batches[n%len(batches)]); err != nil {
			b.Fatal(err)
		}
		n++
		if n%flushEvery == 0 {
			t0 := time.Now()
			if err := s.Flush(b.Context()); err != nil {
				b.Fatal(err)
			}
			flushTime += time.Since(t0)
			flushes++
		}
	}
	if err := s.Flush(b.Context()); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	cpu, srv := processCPU()-cpu0, serverCPU(b, server)-srv0
	events := float64(n * len(batches[0]))
	b.ReportMetric(events/elapsed.Seconds(), "events/s")
	if flushes > 0 {
		b.ReportMetric(float64(flushTime.Milliseconds())/float64(flushes), "ms/flush")
	}
	b.ReportMetric(cpu.Seconds()/events*1e6, "client-cpu-s/Mevents")
	if server != "" {
		b.ReportMetric(srv/events*1e6, "server-cpu-s/Mevents")
	}
}

// processCPU is this process's user and system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverCPU is the victoria-logs server's CPU seconds so far.
func serverCPU(b *testing.B, base string) float64 {
	if base == "" {
		return 0
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "process_cpu_seconds_total "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	b.Fatal("no process_cpu_seconds_total in the server's metrics")
	return 0
}
