package stage_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/bus"
	"github.com/tarian-soc/tarian/internal/detector"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/indexer"
	"github.com/tarian-soc/tarian/internal/logstore/vlogs"
	"github.com/tarian-soc/tarian/internal/metrics"
	"github.com/tarian-soc/tarian/internal/parse"
	"github.com/tarian-soc/tarian/internal/stage"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

type numbers struct{ db *sqlstore.DB }

func (n numbers) Number(ctx context.Context, t tenant.ID) (uint32, error) {
	tn, err := n.db.Tenant(ctx, t)
	return tn.Number, err
}

// BenchmarkStage measures the event path after the bus on the corpus'
// Windows events: N records already durable on the bus (1,000 a message,
// as /api/v1/ingest writes them) are read, parsed once, stored in the
// embedded event store (flushed to disk) and evaluated by every SigmaHQ
// Windows rule. One op is one event; "events/s" is the rate at which both
// the indexer's and the detector's checkpoints pass the last record.
//
//	TARIAN_CORPUS=../shared/corpus go test ./internal/stage -run '^$' -bench Stage -benchtime 200000x
//
// Sub-benchmarks: "store" (indexer only) and "store+detect" (indexer and
// detector with the rules loaded). TARIAN_BENCH_RAW sets the raw record
// policy (default on_parse_error); TARIAN_BENCH_STREAM_FIELDS the event
// store's stream fields (comma-separated).
func BenchmarkStage(b *testing.B) {
	root := os.Getenv("TARIAN_CORPUS")
	if root == "" {
		b.Skip("TARIAN_CORPUS not set: skipping the stage benchmark over the corpus' Windows events (.ci/run sets it)")
	}
	lines := windowsLines(b, root)
	if f := os.Getenv("TARIAN_BENCH_EVENTS_FILE"); f != "" {
		// Other events, one JSON record a line: e.g. the realistic
		// benchmark's (bench/, TARIAN_BENCH_DUMP).
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		lines = bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	}
	rules := windowsRules(b, root)
	for _, mode := range []string{"store", "store+detect"} {
		b.Run(mode, func(b *testing.B) {
			runStage(b, lines, rules, mode == "store+detect")
		})
	}
}

func runStage(b *testing.B, lines [][]byte, rules []detector.ImportFile, detect bool) {
	if err := vlogs.SetProcessLimits(512 << 20); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	dir := b.TempDir()
	log := slog.New(slog.DiscardHandler)
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.CreateTenant(ctx, tenant.Tenant{ID: "council-a", Name: "A"}); err != nil {
		b.Fatal(err)
	}
	vc := vlogs.Config{Path: filepath.Join(dir, "events"), MinFreeDiskBytes: -1}
	if s, ok := os.LookupEnv("TARIAN_BENCH_STREAM_FIELDS"); ok {
		vc.StreamFields = strings.FieldsFunc(s, func(r rune) bool { return r == ',' })
	}
	events, err := vlogs.Open(vc, numbers{db}, log)
	if err != nil {
		b.Fatal(err)
	}
	defer events.Close()
	bs, err := bus.Open(ctx, bus.DefaultConfig(), dir, log)
	if err != nil {
		b.Fatal(err)
	}
	defer bs.Close()
	// The records, on the bus before the clock starts.
	now := time.Now()
	recs := make([]event.Raw, 0, 1000)
	for i := 0; i < b.N; i++ {
		recs = append(recs, event.Raw{Received: now, Source: "http", Data: lines[i%len(lines)]})
		if len(recs) == cap(recs) || i == b.N-1 {
			if err := bs.Write(ctx, "council-a", recs); err != nil {
				b.Fatal(err)
			}
			recs = recs[:0]
		}
	}
	last, err := bs.LastSeq(ctx)
	if err != nil {
		b.Fatal(err)
	}
	busStats, err := bs.Stats(ctx)
	if err != nil {
		b.Fatal(err)
	}
	m := metrics.New()
	consumers := []stage.Consumer{indexer.New(indexer.Deps{Store: events, Checkpoints: db, DeadLetters: db, Metrics: m, Log: log})}
	names := []string{indexer.Name}
	if detect {
		det, err := detector.New(ctx, detector.Deps{Store: db, Metrics: m, Log: log})
		if err != nil {
			b.Fatal(err)
		}
		res, err := det.Import(ctx, "", rules)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("%d rules active, %d not evaluated", res.Active, res.NotEvaluated)
		consumers = append(consumers, det)
		names = append(names, detector.Name)
	}
	pl, err := parse.New(parse.Config{Raw: os.Getenv("TARIAN_BENCH_RAW")})
	if err != nil {
		b.Fatal(err)
	}
	st := stage.New(stage.Deps{Pipeline: pl, Bus: bs, Consumers: consumers})
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	go func() { done <- st.Run(rctx) }()
	for _, name := range names {
		for {
			cp, err := db.Checkpoint(ctx, name)
			if err != nil {
				b.Fatal(err)
			}
			if cp.Done >= last {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	el := time.Since(start)
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")
	if err := events.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(events.Stats().DiskBytes)/float64(b.N), "disk-B/event")
	b.ReportMetric(float64(busStats.Bytes)/float64(b.N), "bus-B/event")
}

// windowsLines returns the corpus' Windows event lines.
func windowsLines(b *testing.B, root string) [][]byte {
	var out [][]byte
	err := filepath.WalkDir(filepath.Join(root, "events"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".jsonl") {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			if l := sc.Bytes(); len(l) > 0 && l[0] == '{' {
				out = append(out, append([]byte(nil), l...))
			}
		}
		return sc.Err()
	})
	if err != nil || len(out) == 0 {
		b.Fatalf("corpus events: %d lines, %v", len(out), err)
	}
	return out
}

// windowsRules returns every SigmaHQ Windows rule file.
func windowsRules(b *testing.B, root string) []detector.ImportFile {
	var out []detector.ImportFile
	err := filepath.WalkDir(filepath.Join(root, "sigma", "rules", "windows"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yml") {
			return err
		}
		data, err := os.ReadFile(path)
		out = append(out, detector.ImportFile{Name: path, Data: data})
		return err
	})
	if err != nil || len(out) < 100 {
		b.Fatal(fmt.Errorf("SigmaHQ Windows rules: %d, %v", len(out), err))
	}
	return out
}
