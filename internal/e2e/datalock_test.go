package e2e

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestSecondServerSameData starts a second `tarian serve` on a data
// directory a running server holds: it must exit non-zero with one clear
// error naming the directory and the running process, without reaching
// the event store's own lock (whose failure is a panic-level FATAL line),
// and leave the first server serving.
func TestSecondServerSameData(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	first := startServer(t, data)

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, tarianBin, "serve", "--data", data, "--listen", "127.0.0.1:0")
	cmd.Env = append(baseEnv(), "TARIAN_BOOTSTRAP_TOKEN="+adminToken)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("second server: %v, want exit 1\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	msg := stderr.String()
	want := "tarian serve: data directory in use: " + data + " is used by a running tarian (process " + strconv.Itoa(first.cmd.Process.Pid) + ")"
	if !strings.HasPrefix(msg, want) || strings.Count(msg, "\n") != 1 {
		t.Errorf("stderr = %q\nwant the one line %q...", msg, want)
	}
	if strings.Contains(msg, "FATAL") || strings.Contains(msg, "panic") {
		t.Errorf("stderr has a panic-level line: %q", msg)
	}

	first.waitReady() // still serving
	first.stop()
	startServer(t, data) // the directory is free again
}
