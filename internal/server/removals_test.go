package server

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// countSink counts the records written through it.
type countSink struct{ n int }

func (c *countSink) Write(_ context.Context, _ tenant.ID, recs []event.Raw) error {
	c.n += len(recs)
	return nil
}

// TestRemovalMarks: a removal this node runs refuses the member's writes
// until it ends, however long it takes; one another node runs refuses
// them while that node keeps saying so, and no longer once it has been
// silent for removalHeard (it died, or its word that the member was kept
// got lost), so a member is not locked out for good.
func TestRemovalMarks(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	r := &removals{now: func() time.Time { return now }}
	next := &countSink{}
	g := removalGuard{next: next, removing: r}
	write := func(id tenant.ID) error {
		return g.Write(context.Background(), id, []event.Raw{{}})
	}

	r.begin("here")
	r.heard("there")
	for _, id := range []tenant.ID{"here", "there"} {
		if err := write(id); !errors.Is(err, tenant.ErrNotFound) {
			t.Fatalf("write to %s while it is being removed: %v, want tenant.ErrNotFound", id, err)
		}
	}
	if err := write("other"); err != nil || next.n != 1 {
		t.Fatalf("write to another member: %v (%d records through)", err, next.n)
	}

	// The other node says it again before removalHeard: still refused.
	now = now.Add(removalHeard - time.Second)
	r.heard("there")
	now = now.Add(removalHeard - time.Second)
	if err := write("there"); !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("write while the other node keeps announcing: %v", err)
	}
	// Silence for removalHeard: the member writes again; this node's own
	// removal still refuses.
	now = now.Add(2 * time.Second)
	if err := write("there"); err != nil {
		t.Fatalf("write after the other node went silent: %v", err)
	}
	now = now.Add(24 * time.Hour)
	if err := write("here"); !errors.Is(err, tenant.ErrNotFound) {
		t.Fatalf("write while this node's own removal runs: %v", err)
	}
	r.end("here")
	if err := write("here"); err != nil {
		t.Fatalf("write after the removal ended: %v", err)
	}
	if next.n != 3 {
		t.Fatalf("%d records reached the bus, want 3", next.n)
	}
}
