//go:build !unix

package vltest

import "os"

// lockFile does nothing here: parallel builds may race, and the last rename
// wins with an identical binary.
func lockFile(*os.File) error { return nil }
