// Command tarian is the Tarian shared-SOC platform: one binary that serves
// the API and runs every engine embedded, and the client commands that
// talk to it. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	// Device time zones (FortiGate tz=, CEF dtz=) must resolve on hosts
	// without a zoneinfo database (minimal containers).
	_ "time/tzdata"

	"github.com/mattn/go-isatty"

	"github.com/tarian-soc/tarian/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.Env{
		Stdin:      os.Stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		Getenv:     os.Getenv,
		IsTerminal: isatty.IsTerminal(os.Stderr.Fd()),
	})
	stop()
	os.Exit(code)
}
