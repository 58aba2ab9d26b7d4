package bus

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// NextSeqFile, in the data directory, is written by a restore (tarian
// restore): the bus sequence the restored data continues from. Sequences
// are event references (tarian.seq, alerts' event references, the event
// store's de-duplication), so a restored server's empty stream must not
// number its messages from 1 again. On open, a stream whose next sequence
// is below it is purged up to it (JetStream then numbers the next message
// with it), and the file is removed. A data directory without the file is
// opened as always.
const NextSeqFile = "bus.next-seq"

// WriteNextSeq records in dir that the stream must continue at next.
func WriteNextSeq(dir string, next uint64) error {
	path := filepath.Join(dir, NextSeqFile)
	if err := os.WriteFile(path, []byte(strconv.FormatUint(next, 10)+"\n"), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// continueAfterRestore applies NextSeqFile, if dir has one.
func (b *Bus) continueAfterRestore(ctx context.Context, dir string) error {
	path := filepath.Join(dir, NextSeqFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bus: %w", err)
	}
	next, err := strconv.ParseUint(strings.TrimSpace(string(raw)), 10, 64)
	if err != nil || next == 0 {
		return fmt.Errorf("bus: %s: not a sequence: %q", path, strings.TrimSpace(string(raw)))
	}
	last, err := b.LastSeq(ctx)
	if err != nil {
		return fmt.Errorf("bus: %w", err)
	}
	if last+1 < next {
		// Purging up to next on a stream that ends before it moves the
		// stream's first sequence to next.
		if err := b.stream.Purge(ctx, jetstream.WithPurgeSequence(next)); err != nil {
			return fmt.Errorf("bus: continue restored data at sequence %d: %w", next, err)
		}
		if last, err = b.LastSeq(ctx); err != nil {
			return fmt.Errorf("bus: %w", err)
		}
		if last+1 != next {
			return fmt.Errorf("bus: continue restored data at sequence %d: stream's next sequence is %d", next, last+1)
		}
		b.log.Info("bus continues a restored data directory", "next_seq", next)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("bus: %w", err)
	}
	return nil
}
