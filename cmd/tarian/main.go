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
		Hangup:     hangup,
	})
	stop()
	os.Exit(code)
}

// hangup delivers SIGHUP from now on, instead of letting it end the
// process (`tarian serve` reloads its configuration on it).
func hangup() <-chan os.Signal {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGHUP)
	return c
}
