package backup

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotEmpty means the restore's target directory holds data.
var ErrNotEmpty = errors.New("data directory not empty")

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
}

// Restore checks the archive at file whole (Read), then writes it into
// the data directory dir. Nothing is written before the archive has been
// checked, and nothing is written while a server holds dir's lock.
func Restore(file, dir string, o RestoreOptions) (Manifest, error) {
	m, err := readFile(file, nil)
	if err != nil {
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
