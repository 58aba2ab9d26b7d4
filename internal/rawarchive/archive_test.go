package rawarchive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/bus"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/parse"
	"github.com/tarian-soc/tarian/internal/stage"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// env is a bus, a state store and an archive in one temporary directory.
type env struct {
	dir string
	bus *bus.Bus
	db  *sqlstore.DB
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := bus.DefaultConfig()
	cfg.MessageBytes = 64 << 10 // several messages a write
	b, err := bus.Open(ctx, cfg, dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return &env{dir: dir, bus: b, db: db}
}

func (e *env) archive(t *testing.T, cfg Config, pl *parse.Pipeline) *Archive {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = filepath.Join(e.dir, "raw")
	}
	a, err := Open(cfg, Deps{Checkpoints: e.db, Pipeline: pl, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	a.frameBytes = 64 << 10 // many frames
	a.flushAge = 50 * time.Millisecond
	return a
}

// write puts n records of tenant tn on the bus, received at at; each
// record is unique and some are large, so frames fill.
func (e *env) write(t *testing.T, tn tenant.ID, from, n int, at time.Time) {
	t.Helper()
	var recs []event.Raw
	rnd := rand.New(rand.NewPCG(uint64(from), uint64(n)))
	for i := from; i < from+n; i++ {
		pad := ""
		if i%10 == 0 { // large and hardly compressible: several frames
			p := make([]byte, 10_000)
			for j := range p {
				p[j] = byte(rnd.Uint32())
			}
			pad = hex.EncodeToString(p)
		}
		recs = append(recs, event.Raw{Received: at, Source: "http", Data: fmt.Appendf(nil, `{"n":"%s-%d","message":"event %d %s"}`, tn, i, i, pad)})
	}
	if err := e.bus.Write(context.Background(), tn, recs); err != nil {
		t.Fatal(err)
	}
}

// seen records every event the stage handed out: its tenant, position
// and event.hash.
type seen struct {
	mu   sync.Mutex
	done uint64
	evs  []seenEvent
}

type seenEvent struct {
	t    tenant.ID
	seq  uint64
	idx  int
	n    string
	hash string
}

func (s *seen) Start(context.Context) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done, nil
}

func (s *seen) Process(_ context.Context, b *stage.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range b.Msgs {
		if m.Seq <= s.done {
			continue
		}
		for _, ev := range m.Events {
			seq, _ := ev.Get(event.FieldSeq)
			idx, _ := ev.Get(event.FieldIdx)
			hash, _ := ev.Get(event.FieldHash)
			n, _ := ev.Get("n")
			se := seenEvent{t: m.Tenant, hash: hash, n: n}
			se.seq, _ = strconv.ParseUint(seq, 10, 64)
			se.idx, _, _ = event.ParseIndex(idx)
			s.evs = append(s.evs, se)
		}
		s.done = m.Seq
	}
	return nil
}

func (s *seen) Idle(context.Context) error { return nil }

// start runs the stage with cs; stop ends it and returns its error.
func (e *env) start(pl *parse.Pipeline, cs ...stage.Consumer) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	st := stage.New(stage.Deps{Pipeline: pl, Bus: e.bus, Consumers: cs})
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	return func() error {
		cancel()
		return <-done
	}
}

// run runs the stage with cs until the archive's checkpoint reaches the
// bus' last message.
func (e *env) run(t *testing.T, pl *parse.Pipeline, cs ...stage.Consumer) {
	t.Helper()
	stop := e.start(pl, cs...)
	ctx := context.Background()
	last, err := e.bus.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		cp, err := e.db.Checkpoint(ctx, Name)
		if err != nil {
			t.Fatal(err)
		}
		if cp.Done >= last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("archive checkpoint at %d, bus at %d", cp.Done, last)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

// hash hashes an archived record as the stage hashes the record it
// parses for event.hash: SHA-256 over event.Raw.Data (event.Hash).
func hash(b []byte) string {
	sum := sha256.Sum256(b)
	if h := hex.EncodeToString(sum[:16]); h != event.Hash(b) {
		panic("BUG: event.Hash is no longer the first 128 bits of SHA-256: " + h)
	}
	return event.Hash(b)
}

// Every record comes back by its event's tarian.seq and tarian.idx, with
// the SHA-256 the stage stamped as event.hash, only for its own tenant.
func TestRecordByEventPosition(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	e.write(t, "council-a", 0, 600, now)
	e.write(t, "council-b", 0, 300, now)
	e.write(t, "council-a", 600, 200, now)
	a := e.archive(t, Config{}, nil)
	s := &seen{}
	e.run(t, nil, a, s)

	ctx := context.Background()
	if len(s.evs) != 1100 {
		t.Fatalf("%d events, want 1100", len(s.evs))
	}
	for _, ev := range s.evs {
		data, err := a.Record(ctx, ev.t, ev.seq, ev.idx)
		if err != nil {
			t.Fatalf("%s %d:%d: %v", ev.t, ev.seq, ev.idx, err)
		}
		if got := hash(data); got != ev.hash {
			t.Fatalf("%s %d:%d: archived record hashes to %s, event.hash is %s", ev.t, ev.seq, ev.idx, got, ev.hash)
		}
		if want := `{"n":"` + ev.n + `"`; !bytes.HasPrefix(data, []byte(want)) {
			t.Fatalf("%s %d:%d: record %.40q, want %s...", ev.t, ev.seq, ev.idx, data, want)
		}
		other := tenant.ID("council-b")
		if ev.t == other {
			other = "council-a"
		}
		if data, err := a.Record(ctx, other, ev.seq, ev.idx); !errors.Is(err, ErrNotFound) {
			t.Fatalf("tenant %s read %s's record %d:%d: %.40q, %v", other, ev.t, ev.seq, ev.idx, data, err)
		}
	}
	last, _ := e.bus.LastSeq(ctx)
	for _, c := range []struct {
		t   tenant.ID
		seq uint64
		idx int
	}{{"council-a", last + 1, 0}, {"council-a", 1, 100_000}, {"council-a", 1, -1}, {"council-c", 1, 0}} {
		if _, err := a.Record(ctx, c.t, c.seq, c.idx); !errors.Is(err, ErrNotFound) {
			t.Errorf("Record(%s, %d, %d): %v, want ErrNotFound", c.t, c.seq, c.idx, err)
		}
	}
	for _, bad := range []tenant.ID{"../council-a", "council-a/..", "", "Council-A"} {
		if data, err := a.Record(ctx, bad, 1, 0); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Record(%q): %.20q, %v; want an invalid tenant error", bad, data, err)
		}
	}
	// Several frames were written (records past frameBytes), and nothing
	// was archived twice.
	checkOnce(t, a, "council-a")
	checkOnce(t, a, "council-b")
}

// checkOnce fails unless every message of tn is indexed once, the index
// is in sequence order and the records file holds exactly the indexed
// frames.
func checkOnce(t *testing.T, a *Archive, tn tenant.ID) {
	t.Helper()
	days, err := os.ReadDir(filepath.Join(a.cfg.Dir, string(tn)))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range days {
		dir := filepath.Join(a.cfg.Dir, string(tn), d.Name())
		ix, err := os.ReadFile(filepath.Join(dir, indexFile))
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(filepath.Join(dir, recordsFile))
		if err != nil {
			t.Fatal(err)
		}
		if len(ix)%entryBytes != 0 {
			t.Fatalf("%s: index of %d bytes", dir, len(ix))
		}
		var prev entry
		frames := map[uint64]bool{}
		for i := 0; i < len(ix); i += entryBytes {
			e, err := readEntry(ix[i:])
			if err != nil {
				t.Fatal(err)
			}
			if i > 0 && e.seq <= prev.seq {
				t.Fatalf("%s: entry %d: seq %d after %d", dir, i/entryBytes, e.seq, prev.seq)
			}
			if i > 0 && e.offset != prev.offset && e.offset != prev.offset+uint64(prev.length) {
				t.Fatalf("%s: entry %d: frame at %d after the frame at %d+%d", dir, i/entryBytes, e.offset, prev.offset, prev.length)
			}
			frames[e.offset] = true
			prev = e
		}
		if end := int64(prev.offset) + int64(prev.length); end != st.Size() {
			t.Fatalf("%s: frames end at %d, records.zst is %d bytes", dir, end, st.Size())
		}
		t.Logf("%s: %d messages in %d frames, %d bytes", dir, len(ix)/entryBytes, len(frames), st.Size())
	}
}

// A flush that died after writing its data and before moving its
// checkpoint (with a torn tail, as kill -9 can leave) is cut back on the
// next start and written again: no record twice, none lost.
func TestCrashBeforeCheckpoint(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	e.write(t, "council-a", 0, 400, now)
	e.write(t, "council-b", 0, 100, now)
	pl, err := parse.New(parse.Config{RawArchive: true})
	if err != nil {
		t.Fatal(err)
	}
	// A first, complete run: the crash must not disturb what is already
	// checkpointed.
	a := e.archive(t, Config{}, pl)
	e.run(t, pl, a)
	e.write(t, "council-a", 400, 400, now)
	e.write(t, "council-b", 100, 100, now)

	crashed, gone := make(chan struct{}), make(chan struct{})
	a.failAfterWrite = func(written []*grown) error {
		// What a killed process may leave: part of a frame and part of
		// an index entry past the data just written.
		for _, g := range written {
			for _, name := range []string{recordsFile, indexFile} {
				f, err := os.OpenFile(filepath.Join(a.dayDir(g.k), name), os.O_WRONLY|os.O_APPEND, 0)
				if err != nil {
					return err
				}
				f.Write([]byte("torn write"))
				f.Close()
			}
		}
		close(crashed)
		<-gone // the process is gone: nothing more happens here
		return errors.New("killed")
	}
	stop := e.start(pl, a)
	t.Cleanup(func() {
		close(gone)
		stop()
	})
	<-crashed
	cp, err := e.db.Checkpoint(context.Background(), Name)
	if err != nil {
		t.Fatal(err)
	}
	last, _ := e.bus.LastSeq(context.Background())
	if cp.Done >= last {
		t.Fatalf("checkpoint %d moved past the crash (bus at %d)", cp.Done, last)
	}

	// The next process.
	b := e.archive(t, Config{Dir: a.cfg.Dir}, pl)
	s := &seen{}
	e.run(t, pl, b, s)
	if len(s.evs) != 1000 {
		t.Fatalf("%d events, want 1000", len(s.evs))
	}
	for _, ev := range s.evs {
		data, err := b.Record(context.Background(), ev.t, ev.seq, ev.idx)
		if err != nil || hash(data) != ev.hash {
			t.Fatalf("%s %d:%d: %v (hash %s, event.hash %s)", ev.t, ev.seq, ev.idx, err, hash(data), ev.hash)
		}
	}
	checkOnce(t, b, "council-a")
	checkOnce(t, b, "council-b")
	if _, err := os.Stat(filepath.Join(a.cfg.Dir, journalFile)); err != nil {
		t.Fatalf("journal of the last flush: %v", err)
	}
}

// Damage past the last good index entry that no journal covers (a disk
// or a hand that appended to the files) is cut off by the next flush to
// that day; what the index covers stays readable.
func TestDamagedTailCut(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	e.write(t, "council-a", 0, 200, now)
	a := e.archive(t, Config{}, nil)
	e.run(t, nil, a)
	dir := filepath.Join(a.cfg.Dir, "council-a", dayOf(now))
	for _, name := range []string{recordsFile, indexFile} {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(bytes.Repeat([]byte("damage "), 50_000)) // more than the next flush writes
		f.Close()
	}
	e.write(t, "council-a", 200, 200, now)
	s := &seen{}
	e.run(t, nil, a, s)
	for _, ev := range s.evs {
		if data, err := a.Record(context.Background(), ev.t, ev.seq, ev.idx); err != nil || hash(data) != ev.hash {
			t.Fatalf("%d:%d: %v", ev.seq, ev.idx, err)
		}
	}
	checkOnce(t, a, "council-a")
}

// A flush that fails without a crash (the checkpoint could not be written)
// has the stage start the archive again, which cuts its files back.
func TestFailedCheckpointRetried(t *testing.T) {
	e := newEnv(t)
	e.write(t, "council-a", 0, 500, time.Now())
	a := e.archive(t, Config{}, nil)
	fails := 2
	a.failAfterWrite = func([]*grown) error {
		if fails > 0 {
			fails--
			return errors.New("state store unavailable")
		}
		return nil
	}
	s := &seen{}
	e.run(t, nil, a, s)
	if fails != 0 {
		t.Fatalf("%d failures left", fails)
	}
	for _, ev := range s.evs {
		if data, err := a.Record(context.Background(), ev.t, ev.seq, ev.idx); err != nil || hash(data) != ev.hash {
			t.Fatalf("%d:%d: %v", ev.seq, ev.idx, err)
		}
	}
	checkOnce(t, a, "council-a")
}

// Days that ended longer ago than the retention are dropped; the others
// stay readable.
func TestRetentionSweep(t *testing.T) {
	e := newEnv(t)
	// Noon today: "a day later" below must not cross another midnight,
	// whatever the time the test runs.
	now := time.Now().UTC().Truncate(24 * time.Hour).Add(12 * time.Hour)
	old, twoAgo, yesterday := now.AddDate(0, 0, -10), now.AddDate(0, 0, -2), now.AddDate(0, 0, -1)
	for i, d := range []time.Time{old, twoAgo, yesterday, now} {
		e.write(t, "council-a", i*10, 10, d)
	}
	a := e.archive(t, Config{Retention: 48 * time.Hour}, nil)
	a.now = func() time.Time { return time.Now().AddDate(0, 0, -30) } // nothing to sweep yet
	s := &seen{}
	e.run(t, nil, a, s)
	check := func(when string, kept map[time.Time]bool) {
		t.Helper()
		for d, want := range kept {
			_, err := os.Stat(filepath.Join(a.cfg.Dir, "council-a", dayOf(d)))
			if got := err == nil; got != want {
				t.Errorf("%s: day %s kept: %v, want %v (%v)", when, dayOf(d), got, want, err)
			}
		}
		for _, ev := range s.evs {
			data, err := a.Record(context.Background(), ev.t, ev.seq, ev.idx)
			day := []time.Time{old, twoAgo, yesterday, now}[ev.seq-1]
			if kept[day] && (err != nil || hash(data) != ev.hash) || !kept[day] && !errors.Is(err, ErrNotFound) {
				t.Errorf("%s: %d:%d of day %s: %v", when, ev.seq, ev.idx, dayOf(day), err)
			}
		}
	}
	check("before the sweep", map[time.Time]bool{old: true, twoAgo: true, yesterday: true, now: true})
	// The day before yesterday ended less than 48 hours ago; the one ten
	// days ago long before.
	a.now = func() time.Time { return now }
	if err := a.Idle(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("now", map[time.Time]bool{old: false, twoAgo: true, yesterday: true, now: true})
	// A day later the day before yesterday has gone too; the sweep runs
	// again only after an hour.
	a.now = func() time.Time { return now.Add(25 * time.Hour) }
	if err := a.Idle(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("a day later", map[time.Time]bool{old: false, twoAgo: false, yesterday: true, now: true})
}

// raw_archive per source: a source's own setting wins over the top-level
// one, for its records only.
func TestPolicyPerSource(t *testing.T) {
	yes, no := true, false
	cases := []struct {
		name    string
		cfg     parse.Config
		archive map[tenant.ID]bool
	}{
		{"on", parse.Config{RawArchive: true}, map[tenant.ID]bool{"council-a": true, "council-b": true}},
		{"off", parse.Config{}, map[tenant.ID]bool{"council-a": false, "council-b": false}},
		{"source off", parse.Config{RawArchive: true, Sources: []parse.Source{{Tenant: "council-b", Type: parse.Auto, RawArchive: &no}}},
			map[tenant.ID]bool{"council-a": true, "council-b": false}},
		{"source on", parse.Config{Sources: []parse.Source{{Tenant: "council-a", Receiver: "http", Type: parse.Auto, RawArchive: &yes}}},
			map[tenant.ID]bool{"council-a": true, "council-b": false}},
		{"source without its own", parse.Config{RawArchive: true, Sources: []parse.Source{{Tenant: "council-a", Type: parse.Auto}, {Tenant: "council-b", Type: parse.Auto, RawArchive: &no}}},
			map[tenant.ID]bool{"council-a": true, "council-b": false}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.cfg.Archives(); got != (c.archive["council-a"] || c.archive["council-b"]) {
				t.Errorf("Archives() = %v", got)
			}
			e := newEnv(t)
			e.write(t, "council-a", 0, 20, time.Now())
			e.write(t, "council-b", 0, 20, time.Now())
			pl, err := parse.New(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			a := e.archive(t, Config{}, pl)
			s := &seen{}
			e.run(t, pl, a, s)
			for _, ev := range s.evs {
				data, err := a.Record(context.Background(), ev.t, ev.seq, ev.idx)
				if c.archive[ev.t] != (err == nil) || err == nil && hash(data) != ev.hash {
					t.Fatalf("%s %d:%d: %v, archived: want %v", ev.t, ev.seq, ev.idx, err, c.archive[ev.t])
				}
			}
		})
	}
}

// The policy reads a syslog record's envelope to match a source on its
// host and app-name.
func TestPolicySyslogSource(t *testing.T) {
	no := false
	pl, err := parse.New(parse.Config{RawArchive: true, Sources: []parse.Source{{Receiver: "syslog", Host: "fw*", App: "noisy", Type: parse.Auto, RawArchive: &no}}})
	if err != nil {
		t.Fatal(err)
	}
	p := pl.NewParser()
	for rec, want := range map[string]bool{
		"<13>1 2026-05-20T10:00:00Z fw01 noisy - - - hello":   false,
		"<13>1 2026-05-20T10:00:00Z fw01 quiet - - - hello":   true,
		"<13>1 2026-05-20T10:00:00Z host01 noisy - - - hello": true,
		"<13>May 20 10:00:00 FW02 noisy: hello":               false,
		"not syslog at all":                                   true,
	} {
		if got := p.Archived("council-a", event.Raw{Source: "syslog", Data: []byte(rec)}); got != want {
			t.Errorf("Archived(%q) = %v, want %v", rec, got, want)
		}
	}
}
