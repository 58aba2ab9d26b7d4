package vlhttp_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/logstore/logstoretest"
	"github.com/tarian-soc/tarian/internal/logstore/vlhttp"
	"github.com/tarian-soc/tarian/internal/logstore/vltest"
	"github.com/tarian-soc/tarian/internal/tenant"
)

func batch(from, to int) []event.Event {
	var evs []event.Event
	for i := from; i < to; i++ {
		evs = append(evs, logstoretest.Ev(time.Now().Add(-time.Minute), "n", strconv.Itoa(i), "message", "event "+strconv.Itoa(i)))
	}
	return evs
}

func count(ctx context.Context, s *vlhttp.Store) (map[string]int, error) {
	got := map[string]int{}
	err := s.Search(ctx, logstore.Query{Tenants: []tenant.ID{logstoretest.A}, LogsQL: "*", Limit: 1 << 20}, func(r logstore.Row) error {
		for _, f := range r.Fields {
			if f.Name == "n" {
				got[f.Value]++
			}
		}
		return nil
	})
	return got, err
}

func checkOnce(t *testing.T, got map[string]int, n int) {
	t.Helper()
	if len(got) != n {
		t.Errorf("%d distinct events, want %d", len(got), n)
	}
	for k, c := range got {
		if c != 1 {
			t.Errorf("event n=%s found %d times", k, c)
		}
	}
}

// TestClusterFailures: a storage node down stops searches and flushes (no
// partial results, no false durability) but not adds, which the front
// routes to the other node; the front down stops everything; both come
// back without loss.
func TestClusterFailures(t *testing.T) {
	front, nodes := vltest.ClusterProcesses(t)
	s := open(t, vlhttp.Config{URL: front.URL, StorageNodes: []string{nodes[0].URL, nodes[1].URL}}, logstoretest.Resolver{})
	ctx := t.Context()
	if err := s.Add(ctx, logstoretest.A, batch(0, 1000)); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	nodes[1].Kill()
	if err := s.Add(ctx, logstoretest.A, batch(1000, 2000)); err != nil {
		t.Errorf("add with a storage node down: %v, want the front to take it", err)
	}
	if _, err := count(ctx, s); !errors.Is(err, vlhttp.ErrUnavailable) {
		t.Errorf("search with a storage node down: %v, want ErrUnavailable", err)
	}
	if err := s.Flush(ctx); !errors.Is(err, vlhttp.ErrUnavailable) {
		t.Errorf("flush with a storage node down: %v, want ErrUnavailable", err)
	}
	nodes[1].Restart()
	// The front retries a node it failed to reach after a few seconds.
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := s.Flush(ctx)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("flush after the node came back: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	got, err := count(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	checkOnce(t, got, 2000)

	front.Kill()
	if err := s.Add(ctx, logstoretest.A, batch(2000, 2001)); !errors.Is(err, vlhttp.ErrUnavailable) {
		t.Errorf("add with the front down: %v, want ErrUnavailable", err)
	}
	if _, err := count(ctx, s); !errors.Is(err, vlhttp.ErrUnavailable) {
		t.Errorf("search with the front down: %v, want ErrUnavailable", err)
	}
	if err := s.Flush(ctx); !errors.Is(err, vlhttp.ErrUnavailable) {
		t.Errorf("flush with the front down: %v, want ErrUnavailable", err)
	}
	front.Restart()
	if err := s.Add(ctx, logstoretest.A, batch(2000, 2001)); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, err = count(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	checkOnce(t, got, 2001)
}

// TestFlushSurvivesKill: what Flush returned for survives a kill -9 of the
// single node, or of the front and every storage node.
func TestFlushSurvivesKill(t *testing.T) {
	for _, mode := range []string{"single", "cluster"} {
		t.Run(mode, func(t *testing.T) {
			var cfg vlhttp.Config
			var procs []*vltest.Process // killed in order, restarted in reverse
			if mode == "single" {
				p := vltest.Start(t)
				cfg.URL, procs = p.URL, []*vltest.Process{p}
			} else {
				front, nodes := vltest.ClusterProcesses(t)
				cfg = vlhttp.Config{URL: front.URL, StorageNodes: []string{nodes[0].URL, nodes[1].URL}}
				procs = []*vltest.Process{front, nodes[0], nodes[1]}
			}
			s := open(t, cfg, logstoretest.Resolver{})
			ctx := t.Context()
			for i := range 5 {
				if err := s.Add(ctx, logstoretest.A, batch(i*2000, (i+1)*2000)); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			for _, p := range procs {
				p.Kill()
			}
			for i := len(procs) - 1; i >= 0; i-- {
				procs[i].Restart()
			}
			got, err := count(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			checkOnce(t, got, 10000)
		})
	}
}
