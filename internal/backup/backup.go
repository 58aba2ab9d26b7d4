// Package backup is Tarian's backup archive: a zstd-compressed tar of a
// data directory's files as of one bus position, with a manifest (the
// position, versions, each file's size and SHA-256) as its last entry, and
// the restore of such an archive into the data directory of a stopped
// server. What goes into an archive, and how it is made consistent while
// the server runs, is the server's (internal/server/backup.go); see
// docs/operations.md, "Backup and restore".
package backup

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Format is the archive format version this package writes and reads.
const Format = 1

// The first and last entries of an archive.
const (
	headerName   = "tarian-backup"
	manifestName = "manifest.json"
	headerText   = "tarian backup archive format 1\n"
)

// ErrCorrupt wraps every reason an archive is refused: not a backup,
// truncated, a file that does not match the manifest.
var ErrCorrupt = errors.New("backup archive refused")

// Errors of a server making a backup.
var (
	// ErrBusy means another backup is running.
	ErrBusy = errors.New("another backup is running")
	// ErrBehind means the consumers did not reach the backup's bus
	// position in time.
	ErrBehind = errors.New("the bus consumers did not catch up")
	// ErrUnsupported means the server's engines are not ones a backup
	// copies (external engines: back them up with their own tools).
	ErrUnsupported = errors.New("this server's data is not backed up by tarian backup")
)

// Manifest describes an archive. It is written last, once every file's
// digest is known.
type Manifest struct {
	Format  int    `json:"format"`
	Version string `json:"version"` // the server's version
	// Schema is the state database's schema version (its last migration).
	Schema  int       `json:"schema"`
	Created time.Time `json:"created"`
	// BusSeq is the bus position the archive is consistent at: every
	// consumer (indexer, detector, raw archive) had processed the stream
	// through it and nothing after it. A restored server's bus continues at
	// BusSeq+1.
	BusSeq uint64 `json:"bus_seq"`
	// Events is the number of events in the event store; Tenants the
	// number of tenants.
	Events  uint64 `json:"events"`
	Tenants int    `json:"tenants"`
	// SecretKey says whether the server's secret key file is in the
	// archive (false when the server took it from TARIAN_SECRET_KEY).
	SecretKey bool   `json:"secret_key"`
	Files     []File `json:"files"`
}

// File is one file of an archive, by its path in the data directory.
type File struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Bytes is the total size of the files.
func (m Manifest) Bytes() int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Size
	}
	return n
}

// Entry is a file to archive: its path in the data directory, its size,
// and its content (at least Size bytes; only Size are read).
type Entry struct {
	Path string
	Size int64
	Open func() (io.ReadCloser, error)
}

// Write writes an archive of entries to w, with m (Files filled in) as its
// manifest, and returns the manifest written.
func Write(w io.Writer, m Manifest, entries []Entry) (Manifest, error) {
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	tw := tar.NewWriter(zw)
	now := time.Now().UTC()
	if err := writeBytes(tw, headerName, []byte(headerText), now); err != nil {
		return m, err
	}
	m.Format = Format
	m.Files = m.Files[:0]
	for _, e := range entries {
		f, err := writeEntry(tw, e, now)
		if err != nil {
			return m, err
		}
		m.Files = append(m.Files, f)
	}
	js, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, fmt.Errorf("backup: manifest: %w", err)
	}
	if err := writeBytes(tw, manifestName, js, now); err != nil {
		return m, err
	}
	if err := tw.Close(); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	if err := zw.Close(); err != nil {
		return m, fmt.Errorf("backup: %w", err)
	}
	return m, nil
}

func writeBytes(tw *tar.Writer, name string, b []byte, t time.Time) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(b)), ModTime: t, Typeflag: tar.TypeReg}); err != nil {
		return fmt.Errorf("backup: %s: %w", name, err)
	}
	if _, err := tw.Write(b); err != nil {
		return fmt.Errorf("backup: %s: %w", name, err)
	}
	return nil
}

func writeEntry(tw *tar.Writer, e Entry, t time.Time) (File, error) {
	if err := checkPath(e.Path); err != nil {
		return File{}, fmt.Errorf("backup: %w", err)
	}
	r, err := e.Open()
	if err != nil {
		return File{}, fmt.Errorf("backup: %s: %w", e.Path, err)
	}
	defer r.Close()
	if err := tw.WriteHeader(&tar.Header{Name: e.Path, Mode: 0o600, Size: e.Size, ModTime: t, Typeflag: tar.TypeReg}); err != nil {
		return File{}, fmt.Errorf("backup: %s: %w", e.Path, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tw, h), io.LimitReader(r, e.Size))
	if err != nil {
		return File{}, fmt.Errorf("backup: %s: %w", e.Path, err)
	}
	if n != e.Size {
		return File{}, fmt.Errorf("backup: %s: shrank from %d to %d bytes while copied", e.Path, e.Size, n)
	}
	return File{Path: e.Path, Size: e.Size, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// checkPath refuses a path that is not a clean relative path inside the
// data directory, or that names an archive's own entries.
func checkPath(p string) error {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") || strings.Contains(p, "\\") ||
		p == headerName || p == manifestName {
		return fmt.Errorf("%q: not a file path inside the data directory", p)
	}
	return nil
}

// Read reads a whole archive from r, checking it entry by entry: the
// header first, every file's size and SHA-256 against the manifest, the
// manifest last and nothing after it. For each file that checks out so
// far, fn (if not nil) gets its content; the archive is good only if Read
// returns no error, so a caller that writes must be ready to undo it (or
// read twice: once with fn nil, then to write). Every refusal wraps
// ErrCorrupt and names the file and the reason.
func Read(r io.Reader, fn func(f File, content io.Reader) error) (Manifest, error) {
	var m Manifest
	zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return m, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	hdr, err := tr.Next()
	if err != nil {
		return m, fmt.Errorf("%w: not a tarian backup (no archive header): %v", ErrCorrupt, err)
	}
	if hdr.Name != headerName {
		return m, fmt.Errorf("%w: not a tarian backup: first entry %q", ErrCorrupt, hdr.Name)
	}
	b, err := io.ReadAll(io.LimitReader(tr, 1024))
	if err != nil || string(b) != headerText {
		return m, fmt.Errorf("%w: not a tarian backup of format %d (header %q)", ErrCorrupt, Format, b)
	}
	var seen []File
	last := headerName
	for {
		hdr, err := tr.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return m, fmt.Errorf("%w: truncated or corrupt after %s: %v (no manifest)", ErrCorrupt, last, err)
		}
		if hdr.Name == manifestName {
			js, err := io.ReadAll(io.LimitReader(tr, 64<<20))
			if err != nil {
				return m, fmt.Errorf("%w: %s: %v", ErrCorrupt, manifestName, err)
			}
			if err := json.Unmarshal(js, &m); err != nil {
				return m, fmt.Errorf("%w: %s: %v", ErrCorrupt, manifestName, err)
			}
			if _, err := tr.Next(); !errors.Is(err, io.EOF) {
				return m, fmt.Errorf("%w: data after %s (%v)", ErrCorrupt, manifestName, err)
			}
			// The zstd stream must end cleanly too.
			if _, err := io.Copy(io.Discard, zr); err != nil {
				return m, fmt.Errorf("%w: after %s: %v", ErrCorrupt, manifestName, err)
			}
			return m, check(m, seen)
		}
		if hdr.Typeflag != tar.TypeReg {
			return m, fmt.Errorf("%w: %s: not a regular file", ErrCorrupt, hdr.Name)
		}
		if err := checkPath(hdr.Name); err != nil {
			return m, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		h := sha256.New()
		var content io.Reader = io.TeeReader(tr, h)
		if fn != nil {
			if err := fn(File{Path: hdr.Name, Size: hdr.Size}, content); err != nil {
				return m, err
			}
		}
		if _, err := io.Copy(io.Discard, content); err != nil {
			return m, fmt.Errorf("%w: %s: truncated or corrupt: %v", ErrCorrupt, hdr.Name, err)
		}
		seen = append(seen, File{Path: hdr.Name, Size: hdr.Size, SHA256: hex.EncodeToString(h.Sum(nil))})
		last = hdr.Name
	}
}

// check compares the files read with the manifest.
func check(m Manifest, seen []File) error {
	if m.Format != Format {
		return fmt.Errorf("%w: format %d, this tarian reads format %d", ErrCorrupt, m.Format, Format)
	}
	if len(m.Files) != len(seen) {
		return fmt.Errorf("%w: the manifest lists %d files, the archive holds %d", ErrCorrupt, len(m.Files), len(seen))
	}
	for i, f := range m.Files {
		s := seen[i]
		switch {
		case f.Path != s.Path:
			return fmt.Errorf("%w: file %d is %s, the manifest says %s", ErrCorrupt, i+1, s.Path, f.Path)
		case f.Size != s.Size:
			return fmt.Errorf("%w: %s: %d bytes, the manifest says %d", ErrCorrupt, f.Path, s.Size, f.Size)
		case f.SHA256 != s.SHA256:
			return fmt.Errorf("%w: %s: SHA-256 %s does not match the manifest's %s", ErrCorrupt, f.Path, s.SHA256, f.SHA256)
		}
	}
	return nil
}
