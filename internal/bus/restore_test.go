package bus

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A restored data directory's empty stream continues after the backup's
// sequence, once, and stays there across restarts.
func TestNextSeqFileContinuesSequence(t *testing.T) {
	dir := t.TempDir()
	if err := WriteNextSeq(dir, 1001); err != nil {
		t.Fatal(err)
	}
	b := openTest(t, dir, testConfig())
	if _, err := os.Stat(filepath.Join(dir, NextSeqFile)); !os.IsNotExist(err) {
		t.Fatalf("%s still there after open: %v", NextSeqFile, err)
	}
	ctx := context.Background()
	if err := b.Write(ctx, "a", records(1, "t")); err != nil {
		t.Fatal(err)
	}
	seq := firstSeq(t, b)
	if seq != 1001 {
		t.Fatalf("first message after restore has sequence %d, want 1001", seq)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = openTest(t, dir, testConfig())
	defer b.Close()
	if last, err := b.LastSeq(ctx); err != nil || last != 1001 {
		t.Fatalf("after restart: last sequence %d (%v), want 1001", last, err)
	}
}

// An ordinary data directory numbers from 1.
func TestNoNextSeqFileStartsAtOne(t *testing.T) {
	b := openTest(t, t.TempDir(), testConfig())
	defer b.Close()
	if err := b.Write(context.Background(), "a", records(1, "t")); err != nil {
		t.Fatal(err)
	}
	if seq := firstSeq(t, b); seq != 1 {
		t.Fatalf("first sequence %d, want 1", seq)
	}
}

func firstSeq(t *testing.T, b *Bus) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got uint64
	from := func(context.Context) (uint64, error) { return 1, nil }
	_ = b.Consume(ctx, ConsumeConfig{Name: "t", From: from, Batch: 1, MaxBytes: 1 << 20, MaxWait: 50 * time.Millisecond}, func(_ context.Context, msgs []Message) error {
		if len(msgs) > 0 && got == 0 {
			got = msgs[0].Seq
			cancel()
		}
		return nil
	})
	return got
}
