package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/server"
	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// TestSecondServerRefused: a second server on a data directory in use is
// refused with ErrDataInUse naming the directory and the running process,
// before it opens any engine; once the first stops, the directory is free.
func TestSecondServerRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg := servertest.Config(dir)
	first := servertest.Start(t, cfg)

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	_, err := server.New(context.Background(), cfg, log)
	if !errors.Is(err, server.ErrDataInUse) {
		t.Fatalf("second New: %v, want ErrDataInUse", err)
	}
	if msg := err.Error(); !strings.Contains(msg, dir) || !strings.Contains(msg, "process "+strconv.Itoa(os.Getpid())) {
		t.Errorf("error %q does not name the directory and the running process", msg)
	}

	first.Stop(t)
	servertest.Start(t, cfg) // the lock went with the first server
}
