package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/config"
	"github.com/tarian-soc/tarian/internal/demo"
	"github.com/tarian-soc/tarian/internal/logstore/vlogs"
	"github.com/tarian-soc/tarian/internal/server"
)

// demoData is where `tarian demo` keeps its data unless told otherwise, so
// the demo never mixes with a real deployment's ./tarian-data.
const demoData = "tarian-demo-data"

func runServe(ctx context.Context, args []string, env Env, withDemo bool) error {
	name := "serve"
	if withDemo {
		name = "demo"
	}
	fs := newFlagSet(name, env)
	cfgPath := fs.String("config", "", "YAML configuration file")
	data := fs.String("data", "", "data directory (default ./tarian-data)")
	listen := fs.String("listen", "", "HTTP API address (default 127.0.0.1:8080)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(fmt.Sprintf("unexpected argument %q", pos[0]))
	}
	cfg, err := config.Load(*cfgPath, env.Getenv)
	if err != nil {
		return err
	}
	if withDemo && *data == "" && *cfgPath == "" && env.Getenv("TARIAN_DATA") == "" {
		cfg.Data = demoData
	}
	if *data != "" {
		cfg.Data = *data
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	log := newLogger(cfg.Log, env)
	if cfg.MemoryLimitBytes > 0 && env.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(cfg.MemoryLimitBytes)
	}
	if err := vlogs.SetProcessLimits(cfg.Events.MemoryBytes); err != nil {
		return err
	}
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	if !withDemo {
		return srv.Run(ctx)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run(ctx) }()
	if err := seedDemo(ctx, srv, cfg, env); err != nil {
		log.Error("demo data", "err", err)
	}
	return <-runErr
}

func newLogger(c config.Log, env Env) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(env.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(env.Stderr, opts))
}

// seedDemo adds the demo member bodies, on first start only, and ingests
// their events through the HTTP API like any shipper.
func seedDemo(ctx context.Context, srv *server.Server, cfg config.Config, env Env) error {
	for srv.Addr() == "" {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	admin := cfg.BootstrapToken
	if admin == "" {
		b, err := os.ReadFile(filepath.Join(cfg.Data, server.AdminTokenFile))
		if err != nil {
			return fmt.Errorf("read admin token: %w", err)
		}
		admin = strings.TrimSpace(string(b))
	}
	base := "http://" + srv.Addr()
	c := &client{base: base, token: admin, hc: newClientHTTP()}
	now := time.Now()
	for i, t := range demo.Tenants {
		var tj tenantJSON
		err := c.json(ctx, "POST", "/api/v1/tenants", map[string]string{"id": t.ID, "name": t.Name}, &tj)
		var ae *apiError
		if errors.As(err, &ae) && ae.Code == "tenant_exists" {
			continue // seeded on an earlier start
		}
		if err != nil {
			return err
		}
		var tok map[string]string
		if err := c.json(ctx, "POST", "/api/v1/tokens", map[string]string{"tenant": t.ID, "role": "ingest", "name": "demo"}, &tok); err != nil {
			return err
		}
		ic := &client{base: base, token: tok["token"], hc: c.hc}
		body := bytes.Join(demo.Events(t, 5000, now, uint64(i+1)), []byte("\n"))
		resp, err := ic.do(ctx, "POST", "/api/v1/ingest", bytes.NewReader(body), "application/x-ndjson")
		if err != nil {
			return err
		}
		resp.Body.Close()
	}
	tokenHint := "$(cat " + filepath.Join(cfg.Data, server.AdminTokenFile) + ")"
	if cfg.BootstrapToken != "" {
		tokenHint = "$TARIAN_BOOTSTRAP_TOKEN"
	}
	fmt.Fprintf(env.Stderr, `
Tarian demo is running at %s with %d member bodies and a day of their events.
In another terminal:
  export TARIAN_URL=%s TARIAN_TOKEN=%s
  go run ./cmd/tarian tenant list
  go run ./cmd/tarian search --tenant '*' 'source.ip:%s | stats by (tenant) count()'
  go run ./cmd/tarian search --tenant riverside 'vssadmin'
  go run ./cmd/tarian search --tenant '*' 'email.from.address:"%s"' --limit 5
Stop with Ctrl-C.
`, base, len(demo.Tenants), base, tokenHint, demo.SprayIP, demo.PhishSender)
	return nil
}
