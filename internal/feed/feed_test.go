package feed

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/tenant"
)

func testConfig(buffer, history int) Config {
	return Config{Buffer: buffer, History: history, Keepalive: time.Second}
}

func msg(t tenant.ID, what string) Message {
	return Message{Tenant: t, Kind: KindAlert, What: what, Data: []byte(`{}`)}
}

func of(t tenant.ID) func(Message) bool { return func(m Message) bool { return m.Tenant == t } }

// drain reads ch until it is closed, failing after a second.
func drain(t *testing.T, ch <-chan Message) []Message {
	t.Helper()
	var out []Message
	for {
		select {
		case m, ok := <-ch:
			if !ok {
				return out
			}
			out = append(out, m)
		case <-time.After(time.Second):
			t.Fatalf("channel not closed after %d messages", len(out))
		}
	}
}

// summary is what a test compares of messages: kind, tenant, what.
func summary(ms []Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%s %s %s", m.Kind, m.Tenant, m.What))
	}
	return out
}

func TestFanOutByFilter(t *testing.T) {
	h := New(testConfig(10, 10))
	a, cancelA := h.Subscribe(of("a"))
	b, cancelB := h.Subscribe(of("b"))
	all, cancelAll := h.Subscribe(func(Message) bool { return true })
	var ids []uint64
	for _, m := range []Message{msg("a", "created"), msg("b", "created"), msg("a", "ack")} {
		ids = append(ids, h.Publish(m).ID)
	}
	if !(ids[0] < ids[1] && ids[1] < ids[2]) || ids[0] < uint64(time.Now().Add(-time.Minute).UnixMicro()) {
		t.Errorf("ids %v: want increasing from the start time in microseconds", ids)
	}
	cancelA()
	cancelB()
	cancelAll()
	cancelA() // a second cancel does nothing
	got := map[string][]string{"a": summary(drain(t, a)), "b": summary(drain(t, b)), "all": summary(drain(t, all))}
	want := map[string][]string{
		"a":   {"alert a created", "alert a ack"},
		"b":   {"alert b created"},
		"all": {"alert a created", "alert b created", "alert a ack"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("messages (-want +got):\n%s", d)
	}
}

// TestOverflow: Publish never waits for a subscriber; one that falls
// Buffer messages behind gets what fitted, then an Overflow message naming
// the first it missed, then its channel closes. Others are unaffected.
func TestOverflow(t *testing.T) {
	h := New(testConfig(3, 100))
	slow, cancel := h.Subscribe(func(Message) bool { return true })
	defer cancel()
	other, cancelOther := h.Subscribe(of("b"))
	var ids []uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 10 {
			ids = append(ids, h.Publish(msg("a", fmt.Sprint(i))).ID)
		}
		h.Publish(msg("b", "after"))
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Publish blocked on a slow subscriber")
	}
	got := drain(t, slow)
	want := []string{"alert a 0", "alert a 1", "alert a 2", "overflow  "}
	if d := cmp.Diff(want, summary(got)); d != "" {
		t.Fatalf("slow subscriber (-want +got):\n%s", d)
	}
	if got[3].ID != ids[3] {
		t.Errorf("overflow names %d as the first missed, want %d", got[3].ID, ids[3])
	}
	cancel() // after the overflow: nothing to close twice
	cancelOther()
	if d := cmp.Diff([]string{"alert b after"}, summary(drain(t, other))); d != "" {
		t.Errorf("other subscriber (-want +got):\n%s", d)
	}
}

func TestResume(t *testing.T) {
	h := New(testConfig(10, 4))
	var ids []uint64
	for i := range 6 {
		ten := tenant.ID("a")
		if i%2 == 1 {
			ten = "b"
		}
		ids = append(ids, h.Publish(msg(ten, fmt.Sprint(i))).ID)
	}
	// The ring holds messages 2..5.
	for _, tc := range []struct {
		name   string
		after  uint64
		filter func(Message) bool
		want   []string
	}{
		{"all held", ids[1], of("a"), []string{"alert a 2", "alert a 4"}},
		{"partly held", ids[3], nil, []string{"alert a 4", "alert b 5"}},
		{"up to date", ids[5], nil, nil},
		{"older than the ring", ids[0], of("b"), []string{"reset  ", "alert b 3", "alert b 5"}},
		{"before a restart", 7, nil, []string{"reset  ", "alert a 2", "alert b 3", "alert a 4", "alert b 5"}},
		{"from the future", ids[5] + 100, nil, []string{"reset  "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			filter := tc.filter
			if filter == nil {
				filter = func(Message) bool { return true }
			}
			ch, cancel, err := h.Resume(tc.after, filter)
			if err != nil {
				t.Fatal(err)
			}
			cancel()
			got := drain(t, ch)
			if d := cmp.Diff(tc.want, summary(got)); d != "" {
				t.Errorf("resume after %d (-want +got):\n%s", tc.after, d)
			}
			if len(got) > 0 && got[0].Kind == KindReset && tc.name != "from the future" && got[0].ID != ids[2] {
				t.Errorf("reset names %d as the oldest held, want %d", got[0].ID, ids[2])
			}
		})
	}
	// A resumed subscription goes on with live messages, in order.
	ch, cancel, err := h.Resume(ids[4], nil2all)
	if err != nil {
		t.Fatal(err)
	}
	h.Publish(msg("a", "6"))
	cancel()
	if d := cmp.Diff([]string{"alert b 5", "alert a 6"}, summary(drain(t, ch))); d != "" {
		t.Errorf("resume then live (-want +got):\n%s", d)
	}
}

func nil2all(Message) bool { return true }

func TestClose(t *testing.T) {
	h := New(testConfig(10, 10))
	ch, cancel := h.Subscribe(nil2all)
	h.Publish(msg("a", "1"))
	h.Close()
	if d := cmp.Diff([]string{"alert a 1"}, summary(drain(t, ch))); d != "" {
		t.Errorf("before close (-want +got):\n%s", d)
	}
	cancel()
	h.Publish(msg("a", "2")) // dropped, no panic
	if _, _, err := h.Resume(0, nil2all); !errors.Is(err, ErrClosed) {
		t.Errorf("Resume on a closed hub: %v, want ErrClosed", err)
	}
	ch, _ = h.Subscribe(nil2all)
	if got := drain(t, ch); len(got) != 0 {
		t.Errorf("Subscribe on a closed hub got %v", got)
	}
}

// TestConcurrent runs publishers and subscribers at once (for -race): each
// subscriber sees its tenant's messages in publish order, or an overflow.
func TestConcurrent(t *testing.T) {
	h := New(testConfig(64, 128))
	var subs, pubs sync.WaitGroup
	for i := range 4 {
		ten := tenant.ID(fmt.Sprint("t", i%2))
		subs.Go(func() {
			ch, cancel := h.Subscribe(of(ten))
			defer cancel()
			var last uint64
			for m := range ch {
				if m.Kind == KindOverflow {
					return
				}
				if m.Tenant != ten || m.ID <= last {
					t.Errorf("subscriber of %s got %s %d after %d", ten, m.Tenant, m.ID, last)
				}
				last = m.ID
			}
		})
	}
	for i := range 4 {
		pubs.Go(func() {
			for n := range 200 {
				h.Publish(msg(tenant.ID(fmt.Sprint("t", (i+n)%2)), "x"))
			}
		})
	}
	pubs.Wait()
	h.Close()
	subs.Wait()
}

func TestValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	for _, c := range []Config{{Buffer: 0, Keepalive: 1}, {Buffer: 1, History: -1, Keepalive: 1}, {Buffer: 1}} {
		if c.Validate() == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}
