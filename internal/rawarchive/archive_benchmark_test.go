package rawarchive

import (
	"bufio"
	"context"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/tarian-soc/tarian/internal/bus"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/indexer"
	"github.com/tarian-soc/tarian/internal/logstore/vlogs"
	"github.com/tarian-soc/tarian/internal/metrics"
	"github.com/tarian-soc/tarian/internal/parse"
	"github.com/tarian-soc/tarian/internal/stage"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// BenchmarkArchive measures the raw archive on the corpus' Windows events
// (Winlogbeat documents, 1,000 records a bus message as /api/v1/ingest
// writes them). One op is one event (for record, one lookup).
//
//	TARIAN_CORPUS=../shared/corpus go test ./internal/rawarchive -run '^$' -bench 'Archive/(consumer|stage)' -benchtime 100000x
//	TARIAN_CORPUS=../shared/corpus go test ./internal/rawarchive -run '^$' -bench Archive/record -benchtime 2000x
//
// "consumer" is the archive alone, handed parsed batches: cpu-µs/event is
// the CPU it takes an event (copying, compression, writes, fsyncs,
// checkpoints; ns/op adds the wait for the disk), disk-B/event its size.
// "stage/index" and "stage/index+archive" run bus → stage → event store
// without and with the archive; cpu-µs/event is the whole process' CPU
// time an event. "record" is one Record lookup of a random event.
// TARIAN_BENCH_ZSTD_LEVEL (fastest, default, better, best) sets the
// compression level, TARIAN_BENCH_FRAME_BYTES the frame size.
func BenchmarkArchive(b *testing.B) {
	root := os.Getenv("TARIAN_CORPUS")
	if root == "" {
		b.Skip("TARIAN_CORPUS not set: skipping the raw archive benchmark over the corpus' Windows events (.ci/run sets it)")
	}
	lines := windowsLines(b, root)
	lvl := level
	if s := os.Getenv("TARIAN_BENCH_ZSTD_LEVEL"); s != "" {
		ok := false
		if ok, lvl = zstd.EncoderLevelFromString(s); !ok {
			b.Fatalf("TARIAN_BENCH_ZSTD_LEVEL=%s: not a level", s)
		}
	}
	frame := frameBytes
	if s := os.Getenv("TARIAN_BENCH_FRAME_BYTES"); s != "" {
		var err error
		if frame, err = strconv.Atoi(s); err != nil || frame <= 0 {
			b.Fatalf("TARIAN_BENCH_FRAME_BYTES=%s: not a size", s)
		}
	}
	openBench := func(cfg Config, d Deps) *Archive {
		a, err := open(cfg, d, lvl)
		if err != nil {
			b.Fatal(err)
		}
		a.frameBytes = frame
		return a
	}
	b.Run("consumer", func(b *testing.B) { benchConsumer(b, lines, openBench) })
	b.Run("stage/index", func(b *testing.B) { benchStage(b, lines, nil) })
	b.Run("stage/index+archive", func(b *testing.B) { benchStage(b, lines, openBench) })
	b.Run("record", func(b *testing.B) { benchRecord(b, lines, openBench) })
}

// batches cuts n corpus records into stage batches of four 1,000-record
// messages.
func batches(lines [][]byte, n int) []*stage.Batch {
	now := time.Now()
	var out []*stage.Batch
	seq := uint64(0)
	for i := 0; i < n; {
		bt := &stage.Batch{}
		for range 4 {
			if i >= n {
				break
			}
			seq++
			m := stage.Msg{Message: bus.Message{Tenant: "council-a", Seq: seq}}
			for ; i < n && len(m.Records) < 1000; i++ {
				m.Records = append(m.Records, event.Raw{Received: now, Source: "elasticsearch", Data: lines[i%len(lines)]})
			}
			bt.Msgs = append(bt.Msgs, m)
		}
		out = append(out, bt)
	}
	return out
}

func benchConsumer(b *testing.B, lines [][]byte, open func(Config, Deps) *Archive) {
	ctx := context.Background()
	dir := b.TempDir()
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	pl, err := parse.New(parse.Config{RawArchive: true})
	if err != nil {
		b.Fatal(err)
	}
	a := open(Config{Dir: filepath.Join(dir, "raw")}, Deps{Checkpoints: db, Pipeline: pl})
	defer a.Close()
	bts := batches(lines, b.N)
	raw := 0
	for _, bt := range bts {
		for _, m := range bt.Msgs {
			for _, r := range m.Records {
				raw += len(r.Data)
			}
		}
	}
	if _, err := a.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for _, bt := range bts {
		if err := a.Process(ctx, bt); err != nil {
			b.Fatal(err)
		}
	}
	if err := a.flush(ctx); err != nil {
		b.Fatal(err)
	}
	cpu := cpuTime(b) - cpu0
	b.StopTimer()
	b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(b.N), "cpu-µs/event")
	b.ReportMetric(float64(dirBytes(b, a.cfg.Dir))/float64(b.N), "disk-B/event")
	b.ReportMetric(float64(raw)/float64(b.N), "raw-B/event")
}

type numbers struct{ db *sqlstore.DB }

func (n numbers) Number(ctx context.Context, t tenant.ID) (uint32, error) {
	tn, err := n.db.Tenant(ctx, t)
	return tn.Number, err
}

// benchStage runs the event path with the indexer, and with the archive
// when open is not nil.
func benchStage(b *testing.B, lines [][]byte, open func(Config, Deps) *Archive) {
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
	events, err := vlogs.Open(vlogs.Config{Path: filepath.Join(dir, "events"), MinFreeDiskBytes: -1}, numbers{db}, log)
	if err != nil {
		b.Fatal(err)
	}
	defer events.Close()
	bs, err := bus.Open(ctx, bus.DefaultConfig(), dir, log)
	if err != nil {
		b.Fatal(err)
	}
	defer bs.Close()
	now := time.Now()
	recs := make([]event.Raw, 0, 1000)
	for i := 0; i < b.N; i++ {
		recs = append(recs, event.Raw{Received: now, Source: "elasticsearch", Data: lines[i%len(lines)]})
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
	pl, err := parse.New(parse.Config{RawArchive: true})
	if err != nil {
		b.Fatal(err)
	}
	consumers := []stage.Consumer{indexer.New(indexer.Deps{Store: events, Checkpoints: db, DeadLetters: db, Metrics: metrics.New(), Log: log})}
	names := []string{indexer.Name}
	if open != nil {
		a := open(Config{Dir: filepath.Join(dir, "raw")}, Deps{Checkpoints: db, Pipeline: pl, Log: log})
		defer a.Close()
		consumers = append(consumers, a)
		names = append(names, Name)
	}
	st := stage.New(stage.Deps{Pipeline: pl, Bus: bs, Consumers: consumers})
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
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
	cpu := cpuTime(b) - cpu0
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
	if open != nil {
		b.ReportMetric(float64(dirBytes(b, filepath.Join(dir, "raw")))/float64(b.N), "archive-B/event")
	}
}

func benchRecord(b *testing.B, lines [][]byte, open func(Config, Deps) *Archive) {
	ctx := context.Background()
	dir := b.TempDir()
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	a := open(Config{Dir: filepath.Join(dir, "raw")}, Deps{Checkpoints: db})
	defer a.Close()
	const n = 100_000
	bts := batches(lines, n)
	if _, err := a.Start(ctx); err != nil {
		b.Fatal(err)
	}
	for _, bt := range bts {
		if err := a.Process(ctx, bt); err != nil {
			b.Fatal(err)
		}
	}
	if err := a.flush(ctx); err != nil {
		b.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		i := rnd.IntN(n)
		if _, err := a.Record(ctx, "council-a", uint64(i/1000+1), i%1000); err != nil {
			b.Fatal(err)
		}
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func dirBytes(b *testing.B, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		n += fi.Size()
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// windowsLines returns the corpus' Windows event lines (JSON documents).
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
