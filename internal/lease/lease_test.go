package lease

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tarian-soc/tarian/internal/bus"
	"github.com/tarian-soc/tarian/internal/bus/natstest"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// env gives two nodes' JetStream contexts on one NATS.
type env struct {
	name     string
	replicas int
	js       func(t *testing.T, node int) jetstream.JetStream
}

func embedded(t *testing.T) env {
	b, err := bus.Open(context.Background(), bus.DefaultConfig(), t.TempDir(), discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return env{"embedded", 1, func(*testing.T, int) jetstream.JetStream { return b.JetStream() }}
}

// connect returns a JetStream context on its own connection to the
// servers in url, and no others the cluster tells of.
func connect(t *testing.T, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond), nats.ReconnectBufSize(-1), nats.IgnoreDiscoveredServers())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

func cluster(t *testing.T) env {
	c := natstest.Start(t, 3)
	return env{"cluster", 3, func(t *testing.T, _ int) jetstream.JetStream {
		_, js := connect(t, c.URL())
		return js
	}}
}

func newManager(t *testing.T, js jetstream.JetStream, node string, ttl, renew time.Duration, replicas int) *Manager {
	t.Helper()
	cfg := DefaultConfig(node)
	cfg.TTL, cfg.Renew, cfg.Replicas = ttl, renew, replicas
	m, err := New(context.Background(), js, cfg, discard())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// job records who runs it and whether two ever ran at once.
type job struct {
	running atomic.Int32
	overlap atomic.Bool
	events  chan string // "start a", "stop a", ...
}

func newJob() *job { return &job{events: make(chan string, 100)} }

func (j *job) fn(node string) func(context.Context) error {
	return func(ctx context.Context) error {
		if j.running.Add(1) != 1 {
			j.overlap.Store(true)
		}
		j.events <- "start " + node
		<-ctx.Done()
		j.running.Add(-1)
		j.events <- "stop " + node
		return nil
	}
}

// next returns the job's next event.
func (j *job) next(t *testing.T, within time.Duration) string {
	t.Helper()
	select {
	case e := <-j.events:
		return e
	case <-time.After(within):
		t.Fatalf("no job event in %s", within)
		return ""
	}
}

// runner runs Manager.Run in the background until stopped.
type runner struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func run(m *Manager, name string, fn func(context.Context) error) *runner {
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		_ = m.Run(ctx, name, fn)
	}()
	return r
}

func (r *runner) stop() { r.cancel(); <-r.done }

func other(node string) string {
	if node == "a" {
		return "b"
	}
	return "a"
}

func forEnv(t *testing.T, test func(t *testing.T, e env)) {
	t.Run("embedded", func(t *testing.T) { test(t, embedded(t)) })
	t.Run("cluster", func(t *testing.T) { test(t, cluster(t)) })
}

// One node runs the job; a graceful stop hands it to the other at once,
// not after the TTL.
func TestGracefulHandover(t *testing.T) {
	forEnv(t, func(t *testing.T, e env) {
		const ttl, renew = 6 * time.Second, time.Second
		ms := map[string]*Manager{
			"a": newManager(t, e.js(t, 0), "a", ttl, renew, e.replicas),
			"b": newManager(t, e.js(t, 1), "b", ttl, renew, e.replicas),
		}
		j := newJob()
		rs := map[string]*runner{}
		for n, m := range ms {
			rs[n] = run(m, "report", j.fn(n))
		}
		first := j.next(t, 10*time.Second)[len("start "):]
		if h, ok, err := ms["a"].Holder(context.Background(), "report"); err != nil || !ok || h != first {
			t.Errorf("Holder = %q, %v, %v; want %s", h, ok, err, first)
		}
		start := time.Now()
		rs[first].stop()
		if e := j.next(t, 5*time.Second); e != "stop "+first {
			t.Fatalf("event %q, want stop %s", e, first)
		}
		if e := j.next(t, ttl); e != "start "+other(first) {
			t.Fatalf("event %q, want start %s", e, other(first))
		}
		t.Logf("handed over in %s (ttl %s)", time.Since(start), ttl)
		rs[other(first)].stop()
		if h, ok, err := ms["a"].Holder(context.Background(), "report"); err != nil || ok {
			t.Errorf("after both stopped, Holder = %q, %v, %v; want none", h, ok, err)
		}
		if j.overlap.Load() {
			t.Error("the job ran on two nodes at once")
		}
	})
}

// A holder that dies (cut off from the bucket, releasing nothing) stops
// its job when its lease runs out, and the other node takes over after
// that, within about TTL + Renew.
func TestDeadHolderReplaced(t *testing.T) {
	forEnv(t, func(t *testing.T, e env) {
		ttl, renew := 600*time.Millisecond, 150*time.Millisecond
		if e.name == "cluster" {
			ttl, renew = time.Second, 250*time.Millisecond
		}
		ms := map[string]*Manager{
			"a": newManager(t, e.js(t, 0), "a", ttl, renew, e.replicas),
			"b": newManager(t, e.js(t, 1), "b", ttl, renew, e.replicas),
		}
		j := newJob()
		var wg sync.WaitGroup
		for n, m := range ms {
			r := run(m, "retention", j.fn(n))
			wg.Go(func() { <-r.done })
			defer r.stop()
		}
		first := j.next(t, 10*time.Second)[len("start "):]
		died := time.Now()
		ms[first].Halt()
		if e := j.next(t, ttl+5*time.Second); e != "stop "+first {
			t.Fatalf("event %q, want stop %s: a holder cut off must stop its job", e, first)
		}
		stopped := time.Since(died)
		if e := j.next(t, ttl+renew+5*time.Second); e != "start "+other(first) {
			t.Fatalf("event %q, want start %s", e, other(first))
		}
		t.Logf("holder stopped %s after it was cut off, replaced after %s (ttl %s, renew %s)", stopped, time.Since(died), ttl, renew)
		if j.overlap.Load() {
			t.Error("the job ran on two nodes at once")
		}
	})
}

// A node partitioned from the cluster (its server killed) loses the lease
// and its job's context is cancelled; the other node takes over; once the
// partition heals the first does not run the job beside it, and gets it
// back when the other stops.
func TestPartitionedNodeLosesLease(t *testing.T) {
	c := natstest.Start(t, 3)
	const ttl, renew = time.Second, 250 * time.Millisecond
	// Manager a talks to node 0 only; b to the others.
	_, jsA := connect(t, c.NodeURL(0))
	_, jsB := connect(t, c.NodeURL(1)+","+c.NodeURL(2))
	ma := newManager(t, jsA, "a", ttl, renew, 3)
	mb := newManager(t, jsB, "b", ttl, renew, 3)
	j := newJob()
	ra := run(ma, "digest", j.fn("a"))
	defer ra.stop()
	if e := j.next(t, 10*time.Second); e != "start a" {
		t.Fatalf("event %q, want start a", e)
	}
	rb := run(mb, "digest", j.fn("b"))
	defer rb.stop()

	c.Kill(0)
	if e := j.next(t, ttl+5*time.Second); e != "stop a" {
		t.Fatalf("event %q, want stop a", e)
	}
	if e := j.next(t, ttl+renew+10*time.Second); e != "start b" {
		t.Fatalf("event %q, want start b", e)
	}
	c.Restart(0)
	select {
	case e := <-j.events:
		t.Fatalf("event %q while b holds the lease", e)
	case <-time.After(3 * ttl):
	}
	rb.stop()
	if e := j.next(t, 5*time.Second); e != "stop b" {
		t.Fatalf("event %q, want stop b", e)
	}
	if e := j.next(t, ttl+renew+10*time.Second); e != "start a" {
		t.Fatalf("event %q, want start a: the healed node takes over", e)
	}
	if j.overlap.Load() {
		t.Error("the job ran on two nodes at once")
	}
}

func TestConfigAndName(t *testing.T) {
	if err := DefaultConfig("n1").Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []Config{
		{Bucket: "L", Node: "", TTL: time.Second, Renew: 100 * time.Millisecond, Replicas: 1},
		{Bucket: "L", Node: "n", TTL: time.Second, Renew: 500 * time.Millisecond, Replicas: 1},
		{Bucket: "L.x", Node: "n", TTL: time.Second, Renew: 100 * time.Millisecond, Replicas: 1},
		{Bucket: "L", Node: "n", TTL: time.Second, Renew: 100 * time.Millisecond, Replicas: 0},
	} {
		if c.Validate() == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	e := embedded(t)
	m := newManager(t, e.js(t, 0), "a", time.Second, 100*time.Millisecond, 1)
	if err := m.Run(context.Background(), "bad name", nil); err == nil {
		t.Error("Run accepted a name with a space")
	}
}

// A job that returns while its node holds the lease gives the lease back
// and runs again (here, on the only node) after Renew.
func TestJobReturningEarlyRunsAgain(t *testing.T) {
	e := embedded(t)
	m := newManager(t, e.js(t, 0), "a", 300*time.Millisecond, 50*time.Millisecond, 1)
	runs := make(chan struct{}, 10)
	r := run(m, "once", func(context.Context) error {
		runs <- struct{}{}
		return errors.New("job failed")
	})
	defer r.stop()
	for i := range 3 {
		select {
		case <-runs:
		case <-time.After(10 * time.Second):
			t.Fatalf("job ran %d times, want 3", i)
		}
	}
}

// A node that has been reading a lease (Holder, as a node at its fair
// share checks who holds the partitions it does not) and only contends for
// it some time after the holder died takes over TTL after it first read
// the dead holder's last renewal, not TTL after it began to contend.
func TestTakeoverTimedFromFirstRead(t *testing.T) {
	e := embedded(t)
	const ttl, renew, late = 3 * time.Second, 500 * time.Millisecond, 3 * time.Second
	ma := newManager(t, e.js(t, 0), "a", ttl, renew, 1)
	mb := newManager(t, e.js(t, 1), "b", ttl, renew, 1)
	j := newJob()
	ra := run(ma, "stage.p0", j.fn("a"))
	defer ra.stop()
	if ev := j.next(t, 10*time.Second); ev != "start a" {
		t.Fatalf("event %q, want start a", ev)
	}
	// b looks at the lease, as the server does every couple of seconds.
	watch := func(d time.Duration) {
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(renew / 2) {
			if _, _, err := mb.Holder(context.Background(), "stage.p0"); err != nil {
				t.Fatal(err)
			}
		}
	}
	watch(2 * renew)
	died := time.Now()
	ma.Halt()
	watch(late)
	rb := run(mb, "stage.p0", j.fn("b"))
	defer rb.stop()
	if ev := j.next(t, 10*time.Second); ev != "stop a" {
		t.Fatalf("event %q, want stop a", ev)
	}
	if ev := j.next(t, late+ttl+10*time.Second); ev != "start b" {
		t.Fatalf("event %q, want start b", ev)
	}
	took := time.Since(died)
	t.Logf("taken over %s after the holder died; b contended from %s (ttl %s, renew %s)", took, late, ttl, renew)
	// Timed from b's first read of a's last renewal: about ttl after the
	// death, here as soon as b contends; timed from the start of
	// contention it would be late + ttl.
	if took >= late+ttl/2 {
		t.Errorf("taken over %s after the holder died, want under %s: the TTL was timed from the start of contention, not from the first read", took, late+ttl/2)
	}
	if j.overlap.Load() {
		t.Error("the job ran on two nodes at once")
	}
}
