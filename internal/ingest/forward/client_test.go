package forward

import (
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/fluent/fluent-logger-golang/fluent"

	"github.com/tarian-soc/tarian/internal/ingest/ingesttest"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// port returns the port of a listener address.
func port(t testing.TB, a net.Addr) int {
	t.Helper()
	_, p, err := net.SplitHostPort(a.String())
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestGoClient drives github.com/fluent/fluent-logger-golang against the
// receiver: sync with sub-second precision, with acknowledgements, and
// async, two tenants at once (one listener each). Every record lands
// exactly once in its listener's tenant, with its time.
func TestGoClient(t *testing.T) {
	r, sink := start(t, tcpConfig("alpha", "bravo"))
	addrs := r.Addrs()
	base := time.Date(2024, 5, 1, 10, 22, 33, 123456789, time.UTC)
	const n = 200
	modes := []struct {
		name string
		cfg  fluent.Config
	}{
		{"sync-subsecond", fluent.Config{SubSecondPrecision: true}},
		{"ack", fluent.Config{SubSecondPrecision: true, RequestAck: true}},
		{"async", fluent.Config{Async: true}},
		{"async-ack", fluent.Config{Async: true, RequestAck: true, SubSecondPrecision: true}},
	}
	var wg sync.WaitGroup
	for ti, tn := range []string{"alpha", "bravo"} {
		for _, m := range modes {
			wg.Go(func() {
				cfg := m.cfg
				cfg.FluentHost, cfg.FluentPort = "127.0.0.1", port(t, addrs[ti])
				cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = 5*time.Second, 10*time.Second, 5*time.Second
				cfg.MaxRetry = 3
				f, err := fluent.New(cfg)
				if err != nil {
					t.Errorf("%s %s: %v", tn, m.name, err)
					return
				}
				for i := range n {
					rec := map[string]any{"client": "go", "mode": m.name, "i": i, "to": tn}
					if err := f.PostWithTime("app."+m.name, base.Add(time.Duration(i)*time.Millisecond), rec); err != nil {
						t.Errorf("%s %s post %d: %v", tn, m.name, i, err)
						break
					}
				}
				if err := f.Close(); err != nil { // async: flushes first
					t.Errorf("%s %s close: %v", tn, m.name, err)
				}
			})
		}
	}
	wg.Wait()
	total := 2 * len(modes) * n
	ingesttest.WaitFor(t, 20*time.Second, fmt.Sprintf("%d records", total), func() bool { return sink.Total() >= total })
	time.Sleep(200 * time.Millisecond) // any duplicate would have landed by now
	for _, tn := range []tenant.ID{"alpha", "bravo"} {
		seen := map[string]int{}
		for _, d := range sink.data(tn) {
			var rec struct {
				Client, Mode, To string
				I                int
				Time             string `json:"@timestamp"`
				Tag              string `json:"fluent.tag"`
			}
			if err := json.Unmarshal([]byte(d), &rec); err != nil {
				t.Fatalf("%s: %v: %s", tn, err, d)
			}
			if rec.To != string(tn) {
				t.Fatalf("%s holds another tenant's record: %s", tn, d)
			}
			seen[fmt.Sprintf("%s %s %d %s %s", rec.Client, rec.Mode, rec.I, rec.Time, rec.Tag)]++
		}
		for _, m := range modes {
			for i := range n {
				ts := base.Add(time.Duration(i) * time.Millisecond)
				if !m.cfg.SubSecondPrecision {
					ts = ts.Truncate(time.Second)
				}
				want := fmt.Sprintf("go %s %d %s app.%s", m.name, i, ts.Format(time.RFC3339Nano), m.name)
				if seen[want] != 1 {
					t.Fatalf("%s: record %q seen %d times (of %d records)", tn, want, seen[want], len(seen))
				}
			}
		}
		if len(sink.data(tn)) != len(modes)*n {
			t.Errorf("%s: %d records, want %d", tn, len(sink.data(tn)), len(modes)*n)
		}
	}
	if sink.DeadTotal() != 0 || sink.Counted(MetricMalformed, "alpha")+sink.Counted(MetricMalformed, "bravo") != 0 {
		t.Errorf("dead letters %d, malformed %d", sink.DeadTotal(), sink.Counted(MetricMalformed, "alpha"))
	}
}

// With RequestAck, the Go client's Post returns only after the
// acknowledgement, which comes after the durable write: under
// back-pressure it waits, then succeeds, and nothing is duplicated.
func TestGoClientAckUnderBackpressure(t *testing.T) {
	r, sink := start(t, tcpConfig("alpha"))
	f, err := fluent.New(fluent.Config{FluentHost: "127.0.0.1", FluentPort: port(t, r.Addrs()[0]), RequestAck: true,
		Timeout: 5 * time.Second, ReadTimeout: 10 * time.Second, MaxRetry: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sink.RefuseNext(4)
	if err := f.Post("bp", map[string]string{"message": "held back"}); err != nil {
		t.Fatalf("post: %v", err)
	}
	if got := sink.data("alpha"); len(got) != 1 || sink.Writes() != 5 {
		t.Fatalf("after the ack: records %q, writes %d (want 1 record after 4 refusals)", got, sink.Writes())
	}
}
