// Package rawarchive keeps raw records, compressed, outside the event
// store: per tenant and UTC day (the day the record was received), for as
// long as the event store keeps events, so an analyst can see the record an
// event came from after the bus has let it go.
//
// The archive is a stage consumer with its own checkpoint ("archive"). It
// groups the records the policy sends to it (raw_archive, per source) into
// zstd frames of about a MiB, appended to
//
//	<dir>/<tenant>/<YYYY-MM-DD>/records.zst
//
// with an index of fixed-size entries (bus sequence → frame offset and
// length) in the same directory, so a lookup by an event's tarian.seq and
// tarian.idx reads one entry and decompresses one frame.
//
// Exactly once across a crash: before a flush writes anything, a journal
// naming every file it will grow and their sizes is made durable; then the
// frames and index entries are written and fsynced, and only then does the
// checkpoint move. On start, a journal past the checkpoint cuts each file
// it names back to its size, and the stream is read again from the
// checkpoint.
package rawarchive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/tarian-soc/tarian/internal/parse"
	"github.com/tarian-soc/tarian/internal/store"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Name is the archive's checkpoint name.
const Name = "archive"

// ErrNotFound is returned by Record for a record the archive does not hold.
var ErrNotFound = errors.New("raw record not in the archive")

// Config configures the archive.
type Config struct {
	// Dir holds the archive (<data>/raw).
	Dir string
	// Name is the consumer's checkpoint name: Name (the default), or one
	// per bus partition. Archives of different names may share Dir: they
	// write different tenants' files, each with its own journal.
	Name string
	// Retention drops a day once it ended longer ago than this (the event
	// store's retention); 0 keeps every day.
	Retention time.Duration
}

// Checkpoints keeps the archive's position durably.
type Checkpoints interface {
	Checkpoint(ctx context.Context, name string) (store.Checkpoint, error)
	SetCheckpoint(ctx context.Context, name string, c store.Checkpoint) error
}

// Deps are the archive's collaborators.
type Deps struct {
	Checkpoints Checkpoints
	// Pipeline says which records are archived (raw_archive, and each
	// source's own); nil archives every record.
	Pipeline *parse.Pipeline
	Log      *slog.Logger
}

// Compression level. Measured in frames of a MiB (docs/normalisation.md):
// on the realistic mix of bench/ (Windows, firewall, Linux and cloud
// records with fresh times and ids) the fastest level keeps 164 B an
// event for 3 µs of CPU, the default 149 B for 3.6 µs and this one 133 B
// for 6.3 µs; the best level costs several times more. At 50,000 events a
// second for 90 days the 31 B between fastest and this level are 12 TB
// of disk, against a sixth of a core.
const level = zstd.SpeedBetterCompression

// Archive is the raw record archive. Its stage.Consumer methods are called
// from one goroutine; Record may be called from any.
type Archive struct {
	cfg Config
	d   Deps
	enc *zstd.Encoder
	dec *zstd.Decoder
	now func() time.Time
	// frameBytes and flushAge are the constants of those names (tests
	// make them smaller).
	frameBytes int
	flushAge   time.Duration

	// recent is the frame decompressed last: search shows a page of
	// events, most of them from one frame.
	recent struct {
		sync.Mutex
		path string
		e    entry
		body []byte
	}

	// The consumer's state.
	parser   *parse.Parser
	cp       store.Checkpoint
	last     uint64             // the last message taken into the buffers
	days     map[dayKey]*buffer // records not yet written, per tenant and day
	buffered int                // record bytes in days
	begun    time.Time          // when the first message past cp.Done was taken
	swept    time.Time          // the last retention sweep
	keep     []int              // scratch: the archived records of a message
	// failAfterWrite, in tests, makes a flush fail (as if the process died)
	// after its data is written and before the checkpoint moves.
	failAfterWrite func(written []*grown) error
}

// Open returns the archive in cfg.Dir, creating the directory.
func Open(cfg Config, d Deps) (*Archive, error) {
	return open(cfg, d, level)
}

func open(cfg Config, d Deps, lvl zstd.EncoderLevel) (*Archive, error) {
	if cfg.Dir == "" {
		return nil, errors.New("raw archive: no directory")
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("raw archive: %w", err)
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Name == "" {
		cfg.Name = Name
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(lvl), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("raw archive: zstd encoder: %w", err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxFrameBytes))
	if err != nil {
		enc.Close()
		return nil, fmt.Errorf("raw archive: zstd decoder: %w", err)
	}
	a := &Archive{cfg: cfg, d: d, enc: enc, dec: dec, now: time.Now, frameBytes: frameBytes, flushAge: flushAge, days: map[dayKey]*buffer{}}
	if d.Pipeline != nil {
		a.parser = d.Pipeline.NewParser()
	}
	return a, nil
}

// Close releases the compressors. Nothing buffered is written: what was
// not flushed is past the checkpoint and is archived on the next start.
func (a *Archive) Close() error {
	a.enc.Close()
	a.dec.Close()
	return nil
}

// maxFrameBytes bounds what one frame may decompress to: a frame holds at
// least one bus message (a few MiB at most) and is closed past frameBytes.
const maxFrameBytes = 64 << 20

// Record returns record idx (the record part of tarian.idx: 3 for "3" and
// for "3.1") of bus message seq (tarian.seq) of tenant t, as received, or
// ErrNotFound. It reads only t's directory.
func (a *Archive) Record(ctx context.Context, t tenant.ID, seq uint64, idx int) ([]byte, error) {
	if _, err := tenant.Parse(string(t)); err != nil {
		return nil, fmt.Errorf("raw archive: %w", err)
	}
	if idx < 0 {
		return nil, ErrNotFound
	}
	tdir := filepath.Join(a.cfg.Dir, string(t))
	des, err := os.ReadDir(tdir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("raw archive: %w", err)
	}
	// Newest day first: most lookups are of recent events. Days overlap
	// in sequence only around midnight, so all that hold seq are tried.
	slices.Reverse(des)
	for _, de := range des {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !de.IsDir() || !validDay(de.Name()) {
			continue
		}
		data, err := a.lookup(filepath.Join(tdir, de.Name()), seq, idx)
		if errors.Is(err, ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			continue // not there, or swept away meanwhile
		}
		return data, err
	}
	return nil, ErrNotFound
}

// lookup finds record idx of message seq in one day directory.
func (a *Archive) lookup(dir string, seq uint64, idx int) ([]byte, error) {
	ix, err := os.Open(filepath.Join(dir, indexFile))
	if err != nil {
		return nil, err
	}
	defer ix.Close()
	st, err := ix.Stat()
	if err != nil {
		return nil, err
	}
	n := st.Size() / entryBytes
	if n == 0 {
		return nil, ErrNotFound
	}
	var buf [entryBytes]byte
	at := func(i int64) (entry, error) {
		if _, err := ix.ReadAt(buf[:], i*entryBytes); err != nil {
			return entry{}, fmt.Errorf("raw archive: read %s: %w", ix.Name(), err)
		}
		e, err := readEntry(buf[:])
		if err != nil {
			return entry{}, fmt.Errorf("%w: %s entry %d", err, ix.Name(), i)
		}
		return e, nil
	}
	// The first entry at or past seq: entries are in increasing seq order.
	lo, hi := int64(0), n
	for lo < hi {
		mid := lo + (hi-lo)/2
		e, err := at(mid)
		if err != nil {
			return nil, err
		}
		if e.seq < seq {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == n {
		return nil, ErrNotFound
	}
	found, err := at(lo)
	if err != nil {
		return nil, err
	}
	if found.seq != seq {
		return nil, ErrNotFound
	}
	if found.length > maxFrameBytes {
		return nil, fmt.Errorf("raw archive: %s: frame of %d bytes", dir, found.length)
	}
	body, err := a.frame(filepath.Join(dir, recordsFile), found)
	if err != nil {
		return nil, err
	}
	data, ok, err := findRecord(body, seq, idx)
	if err != nil {
		return nil, fmt.Errorf("raw archive: %s at %d: %w", dir, found.offset, err)
	}
	if !ok {
		return nil, ErrNotFound
	}
	return bytes.Clone(data), nil
}

// frame returns the decompressed frame e locates in the records file at
// path.
func (a *Archive) frame(path string, e entry) ([]byte, error) {
	a.recent.Lock()
	if a.recent.path == path && a.recent.e == e {
		body := a.recent.body
		a.recent.Unlock()
		return body, nil
	}
	a.recent.Unlock()
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	frame := make([]byte, e.length)
	if _, err := f.ReadAt(frame, int64(e.offset)); err != nil {
		return nil, fmt.Errorf("raw archive: read %s at %d: %w", path, e.offset, err)
	}
	body, err := a.dec.DecodeAll(frame, nil)
	if err != nil {
		return nil, fmt.Errorf("raw archive: %s at %d: %w: %v", path, e.offset, errCorrupt, err)
	}
	a.recent.Lock()
	a.recent.path, a.recent.e, a.recent.body = path, e, body
	a.recent.Unlock()
	return body, nil
}

// forget empties the frame cache: frames were cut back or days removed,
// so an offset may come to hold another frame.
func (a *Archive) forget() {
	a.recent.Lock()
	a.recent.path, a.recent.body = "", nil
	a.recent.Unlock()
}
