package detect

import (
	"runtime"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse/envelope"
	"github.com/tarian-soc/tarian/internal/sigma"
)

// BenchmarkWindowsRules compiles every rule of $TARIAN_CORPUS/sigma/rules/windows
// and evaluates the corpus events, replayed, single-threaded (one op = one
// event, JSON decoding included). "fast" is the engine; "naive" tries every
// rule on every event, as the baseline. Run a million events with
//
//	TARIAN_CORPUS=../shared/corpus go test ./internal/detect -run '^$' \
//	    -bench WindowsRules -benchtime 1000000x
func BenchmarkWindowsRules(b *testing.B) {
	root := corpusRoot(b)
	rules := loadCorpusRules(b, root, "rules/windows")
	events := corpusEvents(b, root)
	for _, mode := range []struct {
		name  string
		naive bool
	}{{"fast", false}, {"naive", true}} {
		b.Run(mode.name, func(b *testing.B) {
			e, mem := compileMeasured(b, rules, Options{Naive: mode.naive})
			matches := 0
			fn := func(Match) { matches++ }
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if err := e.Evaluate(events[i%len(events)], fn); err != nil {
					b.Fatal(err)
				}
			}
			el := time.Since(start)
			b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")
			b.ReportMetric(float64(matches)/float64(b.N), "matches/event")
			b.ReportMetric(float64(mem)/(1<<20), "compiled-MB")
			b.Logf("%s: %d rules compiled (%d skipped), %d events, %.0f events/s", mode.name, e.Rules(), len(e.Skipped()), b.N, float64(b.N)/el.Seconds())
		})
	}
}

// compileMeasured compiles and returns the heap the engine holds.
func compileMeasured(b *testing.B, rules []*sigma.Rule, opts Options) (*Engine, uint64) {
	b.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	e, err := Compile(rules, opts)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(e)
	if after.HeapAlloc < before.HeapAlloc {
		return e, 0
	}
	return e, after.HeapAlloc - before.HeapAlloc
}

// BenchmarkCompile measures compiling the Windows rules.
func BenchmarkCompile(b *testing.B) {
	root := corpusRoot(b)
	rules := loadCorpusRules(b, root, "rules/windows")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Compile(rules, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWindowsRulesFlat is BenchmarkWindowsRules/fast on the parsed
// form the server evaluates (flat, dotted fields, as the pipeline stores
// them; parsing is not included), against the JSON form in the same run.
func BenchmarkWindowsRulesFlat(b *testing.B) {
	root := corpusRoot(b)
	rules := loadCorpusRules(b, root, "rules/windows")
	raws := corpusEvents(b, root)
	flat := make([][]event.Field, len(raws))
	var p envelope.JSON
	for i, raw := range raws {
		var ev event.Event
		if err := p.Parse(event.Raw{Data: raw}, &ev); err != nil {
			b.Fatal(err)
		}
		flat[i] = ev.Fields
	}
	e, err := Compile(rules, Options{})
	if err != nil {
		b.Fatal(err)
	}
	fn := func(Match) {}
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_ = e.Evaluate(raws[i%len(raws)], fn)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("flat", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			e.EvaluateFields(nil, flat[i%len(flat)], fn)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}
