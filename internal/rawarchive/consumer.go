package rawarchive

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/tarian-soc/tarian/internal/stage"
	"github.com/tarian-soc/tarian/internal/store"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Flush policy: buffered records are written, fsynced and checkpointed
// once they reach flushBytes or the oldest has waited flushAge. A frame is
// closed once it holds frameBytes of records, so a lookup decompresses
// about that much.
const (
	flushBytes = 32 << 20
	flushAge   = time.Second
	frameBytes = 1 << 20
)

// sweepEvery is how often Idle drops the days past retention.
const sweepEvery = time.Hour

// dayKey names one tenant's day.
type dayKey struct {
	t   tenant.ID
	day string
}

// buffer is one day's records not yet written: whole frames, and the
// records of the frame being filled.
type buffer struct {
	frames []frame
	open   frame
}

// frame is a frame's content (compressed once closed) and the sequences
// of the messages in it.
type frame struct {
	data []byte
	seqs []uint64
}

// Start drops anything buffered, cuts back a write the checkpoint does not
// cover, and returns the checkpoint.
func (a *Archive) Start(ctx context.Context) (uint64, error) {
	cp, err := a.d.Checkpoints.Checkpoint(ctx, a.cfg.Name)
	if err != nil {
		return 0, fmt.Errorf("raw archive: read checkpoint: %w", err)
	}
	if err := a.recover(cp.Done); err != nil {
		return 0, err
	}
	a.cp, a.last = cp, cp.Done
	clear(a.days)
	a.buffered, a.begun = 0, time.Time{}
	return cp.Done, nil
}

// Process buffers the archived records of the batch's messages past the
// checkpoint, flushes when due and sweeps once an hour.
func (a *Archive) Process(ctx context.Context, b *stage.Batch) error {
	for i := range b.Msgs {
		m := &b.Msgs[i]
		if m.Seq <= a.last {
			continue
		}
		if a.last == a.cp.Done {
			a.begun = a.now()
		}
		a.add(m)
		a.last = m.Seq
	}
	return a.tick(ctx)
}

// Idle flushes when due and sweeps once an hour.
func (a *Archive) Idle(ctx context.Context) error {
	return a.tick(ctx)
}

// tick flushes when due, and drops the days past retention once an hour
// (under a load that never leaves the stream idle too).
func (a *Archive) tick(ctx context.Context) error {
	if a.due() {
		if err := a.flush(ctx); err != nil {
			return err
		}
	}
	if a.cfg.Retention > 0 && a.now().Sub(a.swept) >= sweepEvery {
		a.swept = a.now()
		return a.sweep()
	}
	return nil
}

func (a *Archive) due() bool {
	return a.last > a.cp.Done && (a.buffered >= flushBytes || a.now().Sub(a.begun) >= a.flushAge)
}

// add buffers the records of m that go to the archive.
func (a *Archive) add(m *stage.Msg) {
	a.keep = a.keep[:0]
	for i, r := range m.Records {
		if a.parser == nil || a.parser.Archived(m.Tenant, r) {
			a.keep = append(a.keep, i)
		}
	}
	if len(a.keep) == 0 {
		return
	}
	k := dayKey{m.Tenant, dayOf(m.Records[0].Received)}
	buf := a.days[k]
	if buf == nil {
		buf = &buffer{}
		a.days[k] = buf
	}
	start := len(buf.open.data)
	buf.open.data = appendMessage(buf.open.data, m.Seq, len(a.keep))
	for _, i := range a.keep {
		buf.open.data = appendRecord(buf.open.data, i, m.Records[i].Data)
	}
	buf.open.seqs = append(buf.open.seqs, m.Seq)
	a.buffered += len(buf.open.data) - start
	if len(buf.open.data) >= a.frameBytes {
		a.close(buf)
	}
}

// close compresses buf's open frame.
func (a *Archive) close(buf *buffer) {
	if len(buf.open.seqs) == 0 {
		return
	}
	buf.frames = append(buf.frames, frame{data: a.enc.EncodeAll(buf.open.data, nil), seqs: buf.open.seqs})
	buf.open = frame{data: buf.open.data[:0]}
}

// grown is one day a flush appends to: its frames, and its files' sizes
// before.
type grown struct {
	k                dayKey
	recSize, idxSize int64
	created          bool
	frames           []frame
}

// flush writes every buffered frame and index entry, fsyncs them and moves
// the checkpoint to the last message taken, under the journal's cover.
func (a *Archive) flush(ctx context.Context) error {
	if a.last == a.cp.Done {
		return nil
	}
	keys := make([]dayKey, 0, len(a.days))
	for k := range a.days {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y dayKey) int {
		return cmp.Or(cmp.Compare(x.t, y.t), cmp.Compare(x.day, y.day))
	})
	files := make([]*grown, 0, len(keys))
	for _, k := range keys {
		buf := a.days[k]
		a.close(buf)
		g, err := a.openDay(k)
		if err != nil {
			return err
		}
		files = append(files, g)
		g.frames = buf.frames
	}
	if len(files) > 0 {
		if err := a.writeJournal(a.last, files); err != nil {
			return err
		}
		if err := a.write(files); err != nil {
			return err
		}
	}
	if a.failAfterWrite != nil {
		if err := a.failAfterWrite(files); err != nil {
			return err
		}
	}
	cp := store.Checkpoint{Done: a.last, Pending: a.last}
	if err := a.d.Checkpoints.SetCheckpoint(ctx, a.cfg.Name, cp); err != nil {
		return fmt.Errorf("raw archive: checkpoint: %w", err)
	}
	a.cp = cp
	clear(a.days)
	a.buffered = 0
	return nil
}

// openDay creates a day's directory and files if need be and notes their
// sizes. Days are opened one at a time (a flush may touch every tenant).
func (a *Archive) openDay(k dayKey) (*grown, error) {
	dir := a.dayDir(k)
	g := &grown{k: k}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		g.created = true
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("raw archive: %w", err)
		}
	}
	records, err := os.OpenFile(filepath.Join(dir, recordsFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("raw archive: %w", err)
	}
	defer records.Close()
	index, err := os.OpenFile(filepath.Join(dir, indexFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("raw archive: %w", err)
	}
	defer index.Close()
	if err := a.tail(g, records, index); err != nil {
		return nil, fmt.Errorf("raw archive: %s: %w", dir, err)
	}
	return g, nil
}

// tail sets g's sizes to where the day's last good index entry says its
// files end, cutting off anything after: a crashed flush's tail is cut
// back on start by the journal, so this finds one only if something else
// damaged the files (no entry is lost that a lookup could still read).
func (a *Archive) tail(g *grown, records, index *os.File) error {
	sizes := [2]int64{}
	for i, f := range []*os.File{records, index} {
		st, err := f.Stat()
		if err != nil {
			return err
		}
		sizes[i] = st.Size()
	}
	g.recSize, g.idxSize = 0, sizes[1]-sizes[1]%entryBytes
	var buf [entryBytes]byte
	for g.idxSize > 0 {
		if _, err := index.ReadAt(buf[:], g.idxSize-entryBytes); err != nil {
			return err
		}
		if e, err := readEntry(buf[:]); err == nil && int64(e.offset)+int64(e.length) <= sizes[0] {
			g.recSize = int64(e.offset) + int64(e.length)
			break
		}
		g.idxSize -= entryBytes
	}
	if g.recSize == sizes[0] && g.idxSize == sizes[1] {
		return nil
	}
	a.d.Log.Warn("raw archive cut off a damaged tail", "dir", filepath.Dir(records.Name()),
		"records_bytes", sizes[0]-g.recSize, "index_bytes", sizes[1]-g.idxSize)
	if err := records.Truncate(g.recSize); err != nil {
		return err
	}
	return index.Truncate(g.idxSize)
}

// write appends each day's frames and index entries at the sizes the
// journal holds and fsyncs them, then any new directory.
func (a *Archive) write(files []*grown) error {
	var entries []byte
	synced := map[string]bool{}
	for _, g := range files {
		dir := a.dayDir(g.k)
		entries = entries[:0]
		off := g.recSize
		for _, fr := range g.frames {
			for _, seq := range fr.seqs {
				entries = entry{seq: seq, offset: uint64(off), length: uint32(len(fr.data))}.append(entries)
			}
			off += int64(len(fr.data))
		}
		err := appendTo(filepath.Join(dir, recordsFile), func(f *os.File) error {
			off := g.recSize
			for _, fr := range g.frames {
				if _, err := f.WriteAt(fr.data, off); err != nil {
					return err
				}
				off += int64(len(fr.data))
			}
			return nil
		})
		if err == nil {
			err = appendTo(filepath.Join(dir, indexFile), func(f *os.File) error {
				_, err := f.WriteAt(entries, g.idxSize)
				return err
			})
		}
		if err != nil {
			return err
		}
		if g.created {
			// The new directory's entries, and its own entry in its parents.
			for _, d := range []string{dir, filepath.Dir(dir), a.cfg.Dir} {
				if synced[d] {
					continue
				}
				synced[d] = true
				if err := syncDir(d); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// appendTo opens path, has write write to it, and fsyncs it.
func appendTo(path string, write func(*os.File) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("raw archive: %w", err)
	}
	defer f.Close()
	if err := write(f); err != nil {
		return fmt.Errorf("raw archive: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("raw archive: sync %s: %w", path, err)
	}
	return nil
}

func (a *Archive) dayDir(k dayKey) string {
	return filepath.Join(a.cfg.Dir, string(k.t), k.day)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("raw archive: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("raw archive: sync %s: %w", dir, err)
	}
	return nil
}

// sweep removes every tenant's days that ended longer ago than the
// retention.
func (a *Archive) sweep() error {
	cutoff := a.now().Add(-a.cfg.Retention)
	tenants, err := os.ReadDir(a.cfg.Dir)
	if err != nil {
		return fmt.Errorf("raw archive: %w", err)
	}
	removed := 0
	for _, td := range tenants {
		if _, err := tenant.Parse(td.Name()); err != nil || !td.IsDir() {
			continue
		}
		days, err := os.ReadDir(filepath.Join(a.cfg.Dir, td.Name()))
		if err != nil {
			return fmt.Errorf("raw archive: %w", err)
		}
		for _, dd := range days {
			day, err := time.Parse(dayLayout, dd.Name())
			if err != nil || !dd.IsDir() || day.Add(24*time.Hour).After(cutoff) {
				continue
			}
			a.forget()
			if err := os.RemoveAll(filepath.Join(a.cfg.Dir, td.Name(), dd.Name())); err != nil {
				return fmt.Errorf("raw archive: drop a day past retention: %w", err)
			}
			removed++
		}
	}
	if removed > 0 {
		a.d.Log.Info("raw archive dropped days past retention", "days", removed, "before", cutoff.UTC().Format(dayLayout))
	}
	return nil
}
