package rawarchive

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// The journal (<dir>/journal) is written, durably, before a flush appends
// anything. It names the flush's last bus sequence and every file the
// flush grows, with its size before:
//
//	tarian raw archive journal 1
//	last <seq>
//	<tenant> <day> <records.zst size> <index size>
//	...
//
// A journal whose last is past the checkpoint is a flush that did not
// finish: on start each file it names is cut back to its size.
const (
	journalFile   = "journal"
	journalHeader = "tarian raw archive journal 1"
)

// journalPath is the journal's file: journal for the archive named Name,
// journal.<name> for another.
func (a *Archive) journalPath() string {
	if a.cfg.Name == Name {
		return filepath.Join(a.cfg.Dir, journalFile)
	}
	return filepath.Join(a.cfg.Dir, journalFile+"."+a.cfg.Name)
}

// writeJournal makes the journal of a flush durable: written aside,
// fsynced, renamed over the last one, the directory fsynced.
func (a *Archive) writeJournal(last uint64, files []*grown) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nlast %d\n", journalHeader, last)
	for _, g := range files {
		fmt.Fprintf(&b, "%s %s %d %d\n", g.k.t, g.k.day, g.recSize, g.idxSize)
	}
	path := a.journalPath()
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("raw archive: journal: %w", err)
	}
	_, err = f.Write(b.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("raw archive: journal: %w", err)
	}
	return syncDir(a.cfg.Dir)
}

// journaled is one file entry of the journal.
type journaled struct {
	k                dayKey
	recSize, idxSize int64
}

// readJournal returns the journal's last sequence and files; ok is false
// when there is none.
func (a *Archive) readJournal() (last uint64, files []journaled, ok bool, err error) {
	path := a.journalPath()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil, false, nil
	}
	if err != nil {
		return 0, nil, false, fmt.Errorf("raw archive: journal: %w", err)
	}
	bad := func(line int, why string) error {
		return fmt.Errorf("raw archive: journal %s line %d: %s", path, line, why)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		switch {
		case line == 1:
			if sc.Text() != journalHeader {
				return 0, nil, false, bad(line, "not a journal")
			}
		case line == 2:
			if len(f) != 2 || f[0] != "last" {
				return 0, nil, false, bad(line, "want last <seq>")
			}
			if last, err = strconv.ParseUint(f[1], 10, 64); err != nil {
				return 0, nil, false, bad(line, "bad sequence")
			}
		default:
			if len(f) != 4 {
				return 0, nil, false, bad(line, "want <tenant> <day> <size> <size>")
			}
			t, err := tenant.Parse(f[0])
			if err != nil || !validDay(f[1]) {
				return 0, nil, false, bad(line, "bad tenant or day")
			}
			j := journaled{k: dayKey{t, f[1]}}
			j.recSize, err = strconv.ParseInt(f[2], 10, 64)
			if err == nil {
				j.idxSize, err = strconv.ParseInt(f[3], 10, 64)
			}
			if err != nil || j.recSize < 0 || j.idxSize < 0 {
				return 0, nil, false, bad(line, "bad size")
			}
			files = append(files, j)
		}
	}
	if line < 2 {
		// A journal is renamed into place whole; a short one is not ours.
		return 0, nil, false, bad(line, "truncated")
	}
	return last, files, true, nil
}

// recover cuts back the files of a flush the checkpoint does not cover,
// then removes the journal.
func (a *Archive) recover(done uint64) error {
	last, files, ok, err := a.readJournal()
	if err != nil || !ok {
		return err
	}
	if last > done {
		defer a.forget()
		for _, j := range files {
			dir := a.dayDir(j.k)
			for name, size := range map[string]int64{recordsFile: j.recSize, indexFile: j.idxSize} {
				if err := truncate(filepath.Join(dir, name), size); err != nil {
					return err
				}
			}
		}
		a.d.Log.Info("raw archive cut back a write its checkpoint does not cover", "checkpoint", done, "last_seq", last, "files", 2*len(files))
	}
	if err := os.Remove(a.journalPath()); err != nil {
		return fmt.Errorf("raw archive: journal: %w", err)
	}
	return nil
}

// truncate cuts path to size, durably; a missing file is left missing.
func truncate(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("raw archive: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("raw archive: %w", err)
	}
	if st.Size() <= size {
		return nil
	}
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("raw archive: cut back %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("raw archive: sync %s: %w", path, err)
	}
	return nil
}
