package cli

import (
	"fmt"
	"io"
)

// runRulesValidate implements `tarian rules validate PATH...` (offline).
func runRulesValidate(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "tarian rules validate: not built yet")
	return 2
}

// runRulesTest implements `tarian rules test --rules PATH... [--json] EVENTS.jsonl...` (offline).
func runRulesTest(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "tarian rules test: not built yet")
	return 2
}
