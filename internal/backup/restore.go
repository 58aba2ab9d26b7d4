package backup

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ErrNotEmpty means the restore's target directory holds data.
var ErrNotEmpty = errors.New("data directory not empty")

// ErrNewerSchema means the archive's state database has migrations this
// tarian does not know: it was written by a newer one.
var ErrNewerSchema = errors.New("backup written by a newer tarian")

// StateFile is the state database's path in an archive.
const StateFile = "state.db"

// RestoreOptions tune Restore.
type RestoreOptions struct {
	// Force restores into a directory that holds data, removing it first.
	Force bool
	// Lock takes the data directory's lock as a server does (nil: none);
	// it fails while a server runs there, and holds the directory for the
	// time of the restore.
	Lock func(dir string) (release func() error, err error)
	// LockFile is the lock's file name in the directory, which a restore
	// leaves in place.
	LockFile string
	// Finish runs after every file is written (nil: nothing), e.g. to
	// record where the restored bus continues.
	Finish func(dir string, m Manifest) error
	// Schema is the latest state schema version this tarian knows
	// (sqlstore.Schema; 0: not checked). An archive of a later one is
	// refused with ErrNewerSchema before anything is written; an earlier
	// one is restored as it is, and the server migrates it when it starts.
	Schema int
	// Version is this tarian's version, for the refusal.
	Version string
	// StateSchema reads the schema version of a state database file
	// (sqlstore.FileSchema), for an archive whose manifest does not record
	// it (Manifest.Schema 0): its state database is copied to a temporary
	// file and asked. nil: such an archive is restored unchecked.
	StateSchema func(path string) (int, error)
}

// Restore checks the archive at file whole (Read), then writes it into
// the data directory dir. Nothing is written before the archive has been
// checked, and nothing is written while a server holds dir's lock.
func Restore(file, dir string, o RestoreOptions) (Manifest, error) {
	m, err := readFile(file, nil)
	if err != nil {
		return m, err
	}
	if m, err = checkSchema(file, m, o); err != nil {
		return m, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return m, err
	}
	if o.Lock != nil {
		release, err := o.Lock(dir)
		if err != nil {
			return m, err
		}
		defer release()
	}
	if err := clearDir(dir, o.LockFile, o.Force); err != nil {
		return m, err
	}
	write := func(f File, content io.Reader) error {
		return writeFile(filepath.Join(dir, filepath.FromSlash(f.Path)), content)
	}
	if _, err := readFile(file, write); err != nil {
		return m, fmt.Errorf("the archive changed since it was checked: %w", err)
	}
	if o.Finish != nil {
		if err := o.Finish(dir, m); err != nil {
			return m, err
		}
	}
	if err := syncDir(dir); err != nil {
		return m, err
	}
	return m, nil
}

// checkSchema refuses an archive whose state schema is later than
// o.Schema. A manifest without the schema gets it from the archive's
// state database, if o.StateSchema can read it; an archive without a
// state database has none to check.
func checkSchema(file string, m Manifest, o RestoreOptions) (Manifest, error) {
	if o.Schema == 0 {
		return m, nil
	}
	if m.Schema == 0 && o.StateSchema != nil && slices.ContainsFunc(m.Files, func(f File) bool { return f.Path == StateFile }) {
		v, err := archiveSchema(file, o.StateSchema)
		if err != nil {
			return m, fmt.Errorf("%s: the manifest does not record the state schema version, and the state database's cannot be read: %w", file, err)
		}
		m.Schema = v
	}
	if m.Schema > o.Schema {
		return m, fmt.Errorf("%w: %s holds state schema %d (written by tarian %s); this tarian (%s) knows state schema %d at most: restore it with the tarian that wrote it, or a later one",
			ErrNewerSchema, file, m.Schema, cmp.Or(m.Version, "of a version not recorded"), cmp.Or(o.Version, "version unknown"), o.Schema)
	}
	return m, nil
}

// archiveSchema copies the archive's state database to a temporary file
// and reads its schema version with schema.
func archiveSchema(file string, schema func(path string) (int, error)) (int, error) {
	tmp, err := os.MkdirTemp("", "tarian-restore-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	path := filepath.Join(tmp, StateFile)
	_, err = readFile(file, func(f File, content io.Reader) error {
		if f.Path != StateFile {
			return nil
		}
		return writeFile(path, content)
	})
	if err != nil {
		return 0, err
	}
	return schema(path)
}

// Verify checks the archive at file whole and returns its manifest.
func Verify(file string) (Manifest, error) { return readFile(file, nil) }

func readFile(file string, fn func(File, io.Reader) error) (Manifest, error) {
	f, err := os.Open(file)
	if err != nil {
		return Manifest{}, err
	}
	defer f.Close()
	m, err := Read(f, fn)
	if err != nil {
		return m, fmt.Errorf("%s: %w", file, err)
	}
	return m, nil
}

// clearDir refuses a directory holding anything but the lock file, or
// with force removes it all.
func clearDir(dir, lockFile string, force bool) error {
	des, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var names []string
	for _, de := range des {
		if de.Name() != lockFile {
			names = append(names, de.Name())
		}
	}
	if len(names) == 0 {
		return nil
	}
	if !force {
		return fmt.Errorf("%w: %s holds %s; restore into an empty directory, or pass --force to replace its data",
			ErrNotEmpty, dir, strings.Join(names, ", "))
	}
	for _, n := range names {
		if err := os.RemoveAll(filepath.Join(dir, n)); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes content to path durably, creating its directories.
func writeFile(path string, content io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("restore: %s: %w", path, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
