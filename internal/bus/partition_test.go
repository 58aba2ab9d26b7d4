package bus

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// A tenant's partition is FNV-1a of its ID modulo n: pinned here, since a
// change would move every tenant's records away from its consumer.
func TestPartitionIsStable(t *testing.T) {
	for _, tc := range []struct {
		t    tenant.ID
		n    int
		want int
	}{
		{"council-a", 8, 6}, {"council-b", 8, 3}, {"acme", 8, 7}, {"tenant-42", 8, 2},
		{"council-a", 4, 2}, {"acme", 4, 3},
		{"council-a", 1, 0}, {"acme", 0, 0},
	} {
		if got := Partition(tc.t, tc.n); got != tc.want {
			t.Errorf("Partition(%s, %d) = %d, want %d", tc.t, tc.n, got, tc.want)
		}
	}
	if got := Subject("acme", 1); got != "tarian.events.acme" {
		t.Errorf("Subject(acme, 1) = %s", got)
	}
	if got := Subject("acme", 8); got != "tarian.events.p7.acme" {
		t.Errorf("Subject(acme, 8) = %s", got)
	}
}

var partitionTenants = []tenant.ID{"council-a", "council-b", "acme", "tenant-42", "p1", "p2"}

// writeTenants writes i+1 records for the i-th tenant and returns how many
// records each got.
func writeTenants(t *testing.T, b *Bus) map[tenant.ID]int {
	t.Helper()
	want := map[tenant.ID]int{}
	for i, ten := range partitionTenants {
		for j := range i + 1 {
			if err := b.Write(context.Background(), ten, records(1, fmt.Sprintf("%s-%d", ten, j))); err != nil {
				t.Fatal(err)
			}
		}
		want[ten] = i + 1
	}
	return want
}

func tenantCounts(msgs []Message) map[tenant.ID]int {
	got := map[tenant.ID]int{}
	for _, m := range msgs {
		got[m.Tenant] += len(m.Records)
	}
	return got
}

// With n partitions each consumer of one partition reads exactly the
// tenants hashed to it, with their tenant IDs, a lag that counts down to
// zero, and PartitionLastSeq at its last message.
func TestPartitionedConsume(t *testing.T) {
	const n = 4
	cfg := testConfig()
	cfg.Partitions = n
	b := openTest(t, t.TempDir(), cfg)
	defer b.Close()
	want := writeTenants(t, b)

	union := map[tenant.ID]int{}
	for k := range n {
		msgs := readAll(t, b, k)
		for i, m := range msgs {
			if p := Partition(m.Tenant, n); p != k {
				t.Errorf("partition %d delivered tenant %s of partition %d", k, m.Tenant, p)
			}
			if want := uint64(len(msgs) - 1 - i); m.Pending != want {
				t.Errorf("partition %d message %d: pending %d, want %d", k, m.Seq, m.Pending, want)
			}
		}
		for ten, c := range tenantCounts(msgs) {
			union[ten] += c
		}
		last, err := b.PartitionLastSeq(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) > 0 && last != msgs[len(msgs)-1].Seq || len(msgs) == 0 && last != 0 {
			t.Errorf("PartitionLastSeq(%d) = %d; read %d messages", k, last, len(msgs))
		}
	}
	if fmt.Sprint(union) != fmt.Sprint(want) {
		t.Errorf("partitions together read %v, want %v", union, want)
	}
	// The whole stream, partition subjects and all.
	if got := tenantCounts(readAll(t, b)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("whole stream read %v, want %v", got, want)
	}
	if err := b.Consume(context.Background(), ConsumeConfig{Partitions: []int{n}}, nil); err == nil {
		t.Error("Consume of partition n succeeded")
	}
}

// With one partition, subjects are tarian.events.<tenant> as before
// partitions, partition 0 is the whole stream, and a stream from before
// partitions (no count recorded) opens as one partition.
func TestOnePartitionKeepsSubjects(t *testing.T) {
	dir := t.TempDir()
	b := openTest(t, dir, testConfig())
	want := writeTenants(t, b)
	ctx := context.Background()
	if _, err := b.stream.GetLastMsgForSubject(ctx, "tarian.events.council-a"); err != nil {
		t.Fatalf("no message on tarian.events.council-a: %v", err)
	}
	// Drop the recorded count, as a stream created before partitions.
	info, err := b.stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sc := info.Config
	sc.Metadata = nil
	if _, err := b.js.UpdateStream(ctx, sc); err != nil {
		t.Fatal(err)
	}
	b.Close()

	b = openTest(t, dir, testConfig())
	defer b.Close()
	if got := tenantCounts(readAll(t, b, 0)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("partition 0 of 1 read %v, want %v", got, want)
	}
	last, err := b.LastSeq(ctx)
	if pl, perr := b.PartitionLastSeq(ctx, 0); err != nil || perr != nil || pl != last {
		t.Errorf("PartitionLastSeq(0) = %d (%v), LastSeq %d (%v)", pl, perr, last, err)
	}
}

// A different partition count over a stream that holds messages is
// refused; once the stream is empty it is taken.
func TestPartitionsChangeRefusedUntilEmpty(t *testing.T) {
	dir := t.TempDir()
	b := openTest(t, dir, testConfig())
	writeTenants(t, b)
	b.Close()

	cfg := testConfig()
	cfg.Partitions = 4
	if b, err := Open(context.Background(), cfg, dir, discard()); !errors.Is(err, ErrPartitionsChanged) {
		if err == nil {
			b.Close()
		}
		t.Fatalf("Open with 4 partitions over 1 = %v; want ErrPartitionsChanged", err)
	}

	b = openTest(t, dir, testConfig())
	last, err := b.LastSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Trim(context.Background(), last+1); err != nil {
		t.Fatal(err)
	}
	b.Close()

	b = openTest(t, dir, cfg)
	defer b.Close()
	info, err := b.stream.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Metadata[partitionsKey] != "4" {
		t.Errorf("stream records %q partitions, want 4", info.Config.Metadata[partitionsKey])
	}
	if err := b.Write(context.Background(), "acme", records(1, "t")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.stream.GetLastMsgForSubject(context.Background(), Subject("acme", 4)); err != nil {
		t.Errorf("no message on %s: %v", Subject("acme", 4), err)
	}
	if last2, _ := b.LastSeq(context.Background()); last2 != last+1 {
		t.Errorf("sequence went from %d to %d: a repartitioned stream keeps numbering", last, last2)
	}
}
