package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/backup"
	"github.com/tarian-soc/tarian/internal/buildinfo"
	"github.com/tarian-soc/tarian/internal/detector"
	"github.com/tarian-soc/tarian/internal/indexer"
	"github.com/tarian-soc/tarian/internal/poll"
	"github.com/tarian-soc/tarian/internal/rawarchive"
	"github.com/tarian-soc/tarian/internal/stage"
)

// BackupWait bounds how long a backup waits for the bus consumers to
// process the stream through its position.
const BackupWait = 2 * time.Minute

// Backup writes a consistent archive of the data directory to the writer
// start returns, while the server goes on ingesting:
//
//  1. S, the bus's last sequence, is the backup's position; the stage's
//     read is held after S (records keep arriving on the bus).
//  2. It waits, up to BackupWait, until the indexer, the detector and the
//     raw archive have durably processed the stream through S: their
//     checkpoints, the events, alerts and correlation state then all stand
//     at S.
//  3. The event store is flushed and snapshotted (hard links), the state
//     database copied (VACUUM INTO), the raw archive's files opened at
//     their sizes; then the read goes on.
//  4. The snapshot, the copy, the raw archive, the case evidence and the
//     secret key are streamed, the manifest (S, versions, every file's
//     SHA-256) last.
//
// start is called once, with the manifest as known before the files are
// written, just before the first byte; an error before it leaves nothing
// written.
func (s *Server) Backup(ctx context.Context, start func(backup.Manifest) io.Writer) (backup.Manifest, error) {
	began := time.Now()
	m, entries, cleanup, err := s.snapshot(ctx)
	defer cleanup()
	if err != nil {
		return m, err
	}
	w := start(m)
	m, err = backup.Write(w, m, entries)
	if err != nil {
		return m, err
	}
	s.log.Info("backup written", "bus_seq", m.BusSeq, "files", len(m.Files), "bytes", m.Bytes(), "took", time.Since(began).Round(time.Millisecond))
	return m, nil
}

// snapshot takes the consistent copies of step 1–3 and lists the files.
func (s *Server) snapshot(ctx context.Context) (m backup.Manifest, entries []backup.Entry, cleanup func(), err error) {
	var undo []func()
	cleanup = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	if s.cfg.External() {
		return m, nil, cleanup, errExternalBackup
	}
	st := s.stage.Load()
	if st == nil {
		return m, nil, cleanup, errors.New("backup: the server is not running")
	}
	seq, err := s.bus.LastSeq(ctx)
	if err != nil {
		return m, nil, cleanup, fmt.Errorf("backup: bus position: %w", err)
	}
	held := time.Now()
	release, err := st.Hold(seq)
	if errors.Is(err, stage.ErrHeld) {
		return m, nil, cleanup, backup.ErrBusy
	}
	if err != nil {
		return m, nil, cleanup, err
	}
	undo = append(undo, release)
	if err := s.waitConsumers(ctx, seq); err != nil {
		return m, nil, cleanup, err
	}
	caughtUp := time.Now()

	snaps, dropSnaps, err := s.events.(snapshotter).Snapshot(ctx)
	if err != nil {
		return m, nil, cleanup, fmt.Errorf("backup: event store: %w", err)
	}
	undo = append(undo, func() {
		if err := dropSnaps(); err != nil {
			s.log.Warn("backup: delete event store snapshot", "err", err)
		}
	})
	dbCopy := filepath.Join(s.cfg.Data, "backup-"+strconv.FormatInt(time.Now().UnixNano(), 10)+".db.tmp")
	undo = append(undo, func() { os.Remove(dbCopy) })
	schema, err := s.db.CopyTo(ctx, dbCopy)
	if err != nil {
		return m, nil, cleanup, fmt.Errorf("backup: %w", err)
	}
	// Open what changes in place while the read is held, so each is read
	// as it is now: the state copy, the raw archive's files (appended to;
	// only their current size is read), the evidence and the key.
	var opened []*os.File
	undo = append(undo, func() {
		for _, f := range opened {
			f.Close()
		}
	})
	add := func(rel, path string) error {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		opened = append(opened, f)
		fi, err := f.Stat()
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		entries = append(entries, backup.Entry{Path: rel, Size: fi.Size(), Open: func() (io.ReadCloser, error) {
			return io.NopCloser(io.NewSectionReader(f, 0, fi.Size())), nil
		}})
		return nil
	}
	if err := add("state.db", dbCopy); err != nil {
		return m, nil, cleanup, err
	}
	key := filepath.Join(s.cfg.Data, poll.KeyFile)
	if _, err := os.Stat(key); err == nil {
		if err := add(poll.KeyFile, key); err != nil {
			return m, nil, cleanup, err
		}
		m.SecretKey = true
	}
	for _, dir := range []string{"raw", "evidence"} {
		err := walkFiles(filepath.Join(s.cfg.Data, dir), func(rel, path string) error {
			if strings.HasSuffix(rel, ".tmp") {
				return nil // a file being written aside, renamed when complete
			}
			return add(dir+"/"+rel, path)
		})
		if err != nil {
			return m, nil, cleanup, err
		}
	}
	ts, err := s.db.Tenants(ctx)
	if err != nil {
		return m, nil, cleanup, fmt.Errorf("backup: %w", err)
	}
	m.Events, m.Tenants = s.events.Stats().Rows, len(ts)
	release() // the snapshots and open files are fixed: the read goes on
	s.log.Info("backup snapshot taken", "bus_seq", seq, "caught_up_in", caughtUp.Sub(held).Round(time.Millisecond),
		"read_held", time.Since(held).Round(time.Millisecond))

	// The event store's snapshots are hard links that nothing changes.
	for _, sn := range snaps {
		err := walkFiles(sn.Dir, func(rel, path string) error {
			fi, err := os.Stat(path)
			if err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			entries = append(entries, backup.Entry{Path: "events/partitions/" + sn.Day + "/" + rel, Size: fi.Size(),
				Open: func() (io.ReadCloser, error) { return os.Open(path) }})
			return nil
		})
		if err != nil {
			return m, nil, cleanup, err
		}
	}
	m.Version, m.Schema, m.Created, m.BusSeq = buildinfo.String(), schema, time.Now().UTC(), seq
	return m, entries, cleanup, nil
}

// waitConsumers waits until every bus consumer's checkpoint is at seq.
func (s *Server) waitConsumers(ctx context.Context, seq uint64) error {
	err := s.waitProcessed(ctx, seq, BackupWait, indexer.Name, detector.Name, rawarchive.Name)
	if b := (behindError{}); errors.As(err, &b) {
		return fmt.Errorf("%w: %s", backup.ErrBehind, b.where)
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// behindError is waitProcessed's answer when the consumers did not catch
// up in time.
type behindError struct{ where string }

func (e behindError) Error() string { return "the bus consumers did not catch up: " + e.where }

// waitProcessed waits, up to wait, until the checkpoints of the consumers
// of those kinds (of every partition) are at bus sequence seq.
func (s *Server) waitProcessed(ctx context.Context, seq uint64, wait time.Duration, kinds ...string) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		behind := ""
		var n uint64
		for _, kind := range kinds {
			var err error
			n, behind, err = s.lag(ctx, kind, seq, nil)
			if err != nil {
				return fmt.Errorf("checkpoint %s: %w", kind, err)
			}
			if n > 0 {
				break
			}
		}
		if behind == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return behindError{fmt.Sprintf("bus position %d not reached within %v (%s, %d messages behind)", seq, wait, behind, n)}
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// walkFiles calls fn with the slash path relative to root and the path of
// every regular file under root (none if root does not exist).
func walkFiles(root string, fn func(rel, path string) error) error {
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		return fn(filepath.ToSlash(rel), path)
	})
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}
