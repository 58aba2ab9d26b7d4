//go:build !unix

package server

import "os"

// tryLock does not lock where flock is missing; the event store's own lock
// still refuses a second server, less clearly.
func tryLock(*os.File) error { return nil }

func unlock(*os.File) {}
