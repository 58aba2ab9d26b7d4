package vlogs

import (
	"flag"
	"fmt"
	"strconv"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/memory"
)

// SetProcessLimits prepares the process-wide state that VictoriaLogs' storage
// engine reads, and must run once before the first Open (main calls it;
// test helpers may call it again).
//
// It exists because the engine is built as part of a program that owns its
// process, not as a library: its packages register flags on the standard
// flag set and panic when they are used before flag.Parse; its caches size
// themselves from the flag memory.allowedBytes (by default 60% of RAM, read
// once, on first use); and its logger prints every INFO line to stderr. This
// function is the one place Tarian touches that global state: it parses
// flag.CommandLine with no arguments if nothing has parsed it yet, caps the
// engine's caches to memoryBytes, and lowers the engine's log level to
// errors only (still to stderr). Tarian's own flags live in cmd/, on their
// own flag set, so parsing the standard set here takes nothing from them.
//
// memoryBytes must be positive and well below the machine's memory:
// VictoriaMetrics exits the process when it leaves nothing to the OS. The
// first call fixes the limit for the life of the process; later calls change
// nothing and return nil.
func SetProcessLimits(memoryBytes int64) error {
	if memoryBytes <= 0 {
		return fmt.Errorf("set process limits: memory %d bytes: must be positive", memoryBytes)
	}
	if !flag.Parsed() {
		if err := flag.CommandLine.Parse(nil); err != nil {
			return fmt.Errorf("set process limits: parse flags: %w", err)
		}
	}
	settings := []struct{ name, value string }{
		{"loggerLevel", "ERROR"},
		{"memory.allowedBytes", strconv.FormatInt(memoryBytes, 10)},
	}
	for _, s := range settings {
		if err := flag.Set(s.name, s.value); err != nil {
			return fmt.Errorf("set process limits: flag %s=%s: %w", s.name, s.value, err)
		}
	}
	// Fix the limit now: the engine reads the flag once, on first use.
	memory.Allowed()
	return nil
}
