package bus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// TestSetUpTriesAgainOnTimeouts: a creation that times out is tried again
// until it succeeds; one that fails for another reason is not.
func TestSetUpTriesAgainOnTimeouts(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	calls := 0
	err := SetUp(context.Background(), log, "TEST", func(context.Context) error {
		calls++
		if calls < 3 {
			return fmt.Errorf("create stream TEST: %w", context.DeadlineExceeded)
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("err %v after %d calls, want nil after 3", err, calls)
	}
	refused := errors.New("stream name already in use with a different configuration")
	calls = 0
	err = SetUp(context.Background(), log, "TEST", func(context.Context) error {
		calls++
		return refused
	})
	if !errors.Is(err, refused) || calls != 1 {
		t.Fatalf("err %v after %d calls, want the refusal after 1", err, calls)
	}
}

// TestOpenNamesTheServers: a bus.url nobody answers at is named in the
// error, without its password.
func TestOpenNamesTheServers(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := DefaultConfig()
	cfg.URL = "nats://tarian:hunter2@127.0.0.1:1,nats://127.0.0.1:2"
	b, err := Open(context.Background(), cfg, t.TempDir(), log)
	if err == nil {
		b.Close()
		t.Fatal("connected to nothing")
	}
	if msg := err.Error(); !strings.Contains(msg, "127.0.0.1:1") || !strings.Contains(msg, "127.0.0.1:2") || strings.Contains(msg, "hunter2") {
		t.Fatalf("error %q: want both servers named, no password", msg)
	}
}
