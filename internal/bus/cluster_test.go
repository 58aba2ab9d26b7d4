package bus

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/bus/natstest"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/tenant"
)

func clusterConfig(c *natstest.Cluster) Config {
	cfg := testConfig()
	cfg.URL = c.URL()
	cfg.Replicas = c.N()
	return cfg
}

// readAll reads the whole stream from the start until it has read through
// LastSeq, returning every message.
func readAll(t *testing.T, b *Bus, partitions ...int) []Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a loaded machine
	defer cancel()
	last := uint64(0)
	var err error
	if len(partitions) == 1 {
		last, err = b.PartitionLastSeq(ctx, partitions[0])
	} else {
		last, err = b.LastSeq(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	if last == 0 {
		return nil
	}
	var got []Message
	var seen uint64
	from := func(context.Context) (uint64, error) { return seen + 1, nil }
	cc := ConsumeConfig{Name: "t", From: from, Batch: 64, MaxBytes: 4 << 20, MaxWait: 50 * time.Millisecond, Partitions: partitions}
	err = b.Consume(ctx, cc, func(_ context.Context, msgs []Message) error {
		for _, m := range msgs {
			for i := range m.Records {
				m.Records[i].Data = append([]byte(nil), m.Records[i].Data...)
			}
			got = append(got, m)
			seen = m.Seq
		}
		if seen >= last {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < last {
		t.Fatalf("read through sequence %d, want %d", seen, last)
	}
	return got
}

// Writers keep writing while the stream leader is killed: every write
// acknowledged is on the bus exactly once (retries through the leader
// change are de-duplicated), a write refused is there at most once, and
// the killed node, restarted, catches up.
func TestClusterLeaderKilledMidStream(t *testing.T) {
	c := natstest.Start(t, 3)
	b := openTest(t, t.TempDir(), clusterConfig(c))
	defer b.Close()

	const writers, perWrite = 4, 5
	var (
		mu      sync.Mutex
		acked   = map[string]bool{}
		refused = map[string]bool{}
		nAcked  atomic.Int64
		stop    = make(chan struct{})
		wg      sync.WaitGroup
	)
	for w := range writers {
		wg.Go(func() {
			ten := tenant.ID(fmt.Sprintf("council-%d", w))
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				recs := make([]event.Raw, perWrite)
				for j := range recs {
					recs[j] = event.Raw{Received: time.Unix(1700000000, 0), Source: "t", Data: fmt.Appendf(nil, "w%d-%d-%d", w, i, j)}
				}
				err := b.Write(context.Background(), ten, recs)
				if err != nil && !isBackpressure(err) {
					t.Errorf("write: %v; want nil or back-pressure", err)
				}
				mu.Lock()
				for _, r := range recs {
					if err == nil {
						acked[string(r.Data)] = true
					} else {
						refused[string(r.Data)] = true
					}
				}
				mu.Unlock()
				if err == nil {
					nAcked.Add(1)
				}
			}
		})
	}
	// A consumer reads along, through the kill.
	var (
		liveMu   sync.Mutex
		liveSeen uint64
		liveRecs = map[string]int{}
	)
	liveCtx, liveStop := context.WithCancel(context.Background())
	defer liveStop()
	liveDone := make(chan struct{})
	go func() {
		defer close(liveDone)
		from := func(context.Context) (uint64, error) {
			liveMu.Lock()
			defer liveMu.Unlock()
			return liveSeen + 1, nil
		}
		cc := ConsumeConfig{Name: "live", From: from, Batch: 64, MaxBytes: 4 << 20, MaxWait: 50 * time.Millisecond}
		_ = b.Consume(liveCtx, cc, func(_ context.Context, msgs []Message) error {
			liveMu.Lock()
			defer liveMu.Unlock()
			for _, m := range msgs {
				if m.Seq <= liveSeen {
					t.Errorf("live consumer: sequence %d after %d", m.Seq, liveSeen)
				}
				liveSeen = m.Seq
				for _, r := range m.Records {
					liveRecs[string(r.Data)]++
				}
			}
			return nil
		})
	}()
	waitAcked := func(n int64) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for nAcked.Load() < n {
			if time.Now().After(deadline) {
				close(stop)
				wg.Wait()
				t.Fatalf("%d writes acknowledged, waited for %d", nAcked.Load(), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitAcked(20)
	leader := c.StreamLeader(streamName)
	if leader < 0 {
		leader = 0
	}
	c.Kill(leader)
	// Writes go on through the election and on two nodes.
	waitAcked(nAcked.Load() + 20)
	close(stop)
	wg.Wait()

	c.Restart(leader)
	c.WaitCurrent(streamName)
	st, ok := c.StreamState(leader, streamName)
	if last, err := b.LastSeq(context.Background()); !ok || err != nil || st.LastSeq != last {
		t.Errorf("restarted node holds through %d, stream through %d (%v)", st.LastSeq, last, err)
	}

	count := map[string]int{}
	for _, m := range readAll(t, b) {
		for _, r := range m.Records {
			count[string(r.Data)]++
		}
	}
	for k := range acked {
		if count[k] != 1 {
			t.Errorf("acknowledged record %s read %d times, want once", k, count[k])
		}
	}
	for k, n := range count {
		switch {
		case !acked[k] && !refused[k]:
			t.Errorf("record %s was never written", k)
		case n > 1:
			t.Errorf("record %s read %d times", k, n)
		}
	}
	// The live consumer gets through to the end too, each record once.
	last, err := b.LastSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		liveMu.Lock()
		seen := liveSeen
		liveMu.Unlock()
		if seen >= last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("live consumer at %d, stream at %d", seen, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
	liveStop()
	<-liveDone
	if fmt.Sprint(liveRecs) != fmt.Sprint(count) {
		t.Errorf("the live consumer read other records than a reader after the fact")
	}
	t.Logf("%d records acknowledged, %d refused, leader n%d killed", len(acked), len(refused), leader)
}
