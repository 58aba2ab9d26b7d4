package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LockFile, in the data directory, is held (flock) by the server using the
// directory and names its process id.
const LockFile = "tarian.lock"

// ErrDataInUse means another server holds the data directory.
var ErrDataInUse = errors.New("data directory in use")

// errLocked is what tryLock returns when another process holds the lock.
var errLocked = errors.New("locked")

// dataLock is a held lock on a data directory.
type dataLock struct{ f *os.File }

// lockData takes the data directory's lock, before any engine opens a file
// there, and writes our process id into it. A second server on the same
// directory gets ErrDataInUse naming the holder's process id, rather than
// the event store's own lock failing later.
func lockData(dir string) (*dataLock, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data directory: %w", err)
	}
	if err := tryLock(f); err != nil {
		f.Close()
		if !errors.Is(err, errLocked) {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		holder := "another process"
		if b, err := os.ReadFile(path); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
				holder = "process " + strconv.Itoa(pid)
			}
		}
		return nil, fmt.Errorf("%w: %s is used by a running tarian (%s); stop it first, or give this one another --data directory", ErrDataInUse, dir, holder)
	}
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		unlock(f)
		f.Close()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &dataLock{f: f}, nil
}

// release gives the lock up; again, it does nothing. The file stays: removing it could let a
// server starting just then lock a file no one else will see.
func (l *dataLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	unlock(l.f)
	err := l.f.Close()
	l.f = nil
	return err
}
