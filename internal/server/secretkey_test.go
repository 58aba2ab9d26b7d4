package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/poll"
	"github.com/tarian-soc/tarian/internal/server"
	"github.com/tarian-soc/tarian/internal/server/servertest"
	"github.com/tarian-soc/tarian/internal/store"
)

// TestSecretKeyMustMatchTheStateStore: a server whose secret key is not
// the one its state store was set up with (its key file lost, or a
// cluster node given another key) refuses to start, saying why; with the
// store's key it starts.
func TestSecretKeyMustMatchTheStateStore(t *testing.T) {
	dir := t.TempDir()
	cfg := servertest.Config(dir)
	s := servertest.Start(t, cfg)
	s.Stop(t)
	key, err := os.ReadFile(filepath.Join(dir, poll.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, poll.KeyFile)); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := server.New(ctx, cfg, log)
	if err == nil {
		cancel()
		_ = srv.Run(ctx)
		t.Fatal("a server with a new secret key started on the old state store")
	}
	if !errors.Is(err, store.ErrSecretKeyDiffers) || !strings.Contains(err.Error(), "TARIAN_SECRET_KEY") {
		t.Fatalf("error %q: want ErrSecretKeyDiffers naming TARIAN_SECRET_KEY", err)
	}
	// The store's key, given as TARIAN_SECRET_KEY, is the one.
	cfg.SecretKey = strings.TrimSpace(string(key))
	servertest.Start(t, cfg).Stop(t)
}
