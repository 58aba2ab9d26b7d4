package vlogs

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/tarian-soc/tarian/internal/logstore"
)

// PartitionSnapshot is a hard-link snapshot of one day's partition: Dir
// holds its indexdb and datadb as they were, and stays unchanged while the
// store goes on, until the snapshot is deleted.
type PartitionSnapshot struct {
	// Day is the partition's name (YYYYMMDD).
	Day string
	// Dir is the snapshot's directory.
	Dir string
}

// Snapshot flushes the store and takes a hard-link snapshot of every
// partition, for a backup. The caller copies the snapshots and then calls
// release, which deletes them. Adds that return before Snapshot is called
// are in it.
func (s *Store) Snapshot(ctx context.Context) (_ []PartitionSnapshot, release func() error, err error) {
	if err := s.Flush(ctx); err != nil {
		return nil, nil, err
	}
	s.life.RLock()
	defer s.life.RUnlock()
	if s.closed {
		return nil, nil, fmt.Errorf("snapshot: %w", logstore.ErrClosed)
	}
	s.flushMu.Lock()
	s.st.DebugFlush()
	dirs := s.st.PartitionSnapshotMustCreate("")
	s.flushMu.Unlock()
	slices.Sort(dirs)
	snaps := make([]PartitionSnapshot, len(dirs))
	for i, d := range dirs {
		// <events>/partitions/<day>/snapshots/<name>
		snaps[i] = PartitionSnapshot{Day: filepath.Base(filepath.Dir(filepath.Dir(d))), Dir: d}
	}
	release = func() error {
		s.life.RLock()
		defer s.life.RUnlock()
		if s.closed {
			return nil
		}
		for _, d := range dirs {
			if err := s.st.PartitionSnapshotDelete(d); err != nil {
				return fmt.Errorf("delete snapshot: %w", err)
			}
		}
		return nil
	}
	return snaps, release, nil
}
