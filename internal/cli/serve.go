package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/tarian-soc/tarian/internal/config"
	"github.com/tarian-soc/tarian/internal/demo"
	"github.com/tarian-soc/tarian/internal/logstore/vlogs"
	"github.com/tarian-soc/tarian/internal/server"
)

// demoData is where `tarian demo` keeps its data unless told otherwise, so
// the demo never mixes with a real deployment's ./tarian-data.
const demoData = "tarian-demo-data"

// demoDataDir is the demo's data directory when the configuration and
// the environment leave data at the default: the demo keeps apart from a
// real deployment's (--data, applied after, still wins).
func demoDataDir(configured, fromEnv string) string {
	if fromEnv == "" && configured == config.Default().Data {
		return demoData
	}
	return configured
}

func runServe(ctx context.Context, args []string, env Env, withDemo bool) error {
	name := "serve"
	if withDemo {
		name = "demo"
	}
	flags := newFlagSet(name, env)
	cfgPath := flags.String("config", "", "YAML configuration file")
	dataHelp := "data directory (default ./tarian-data)"
	if withDemo {
		dataHelp = "data directory (default ./" + demoData + ", apart from a real deployment's)"
	}
	data := flags.String("data", "", dataHelp)
	listen := flags.String("listen", "", "HTTP API address (default 127.0.0.1:8080)")
	var replay *string
	if withDemo {
		replay = flags.String("replay", "", "also ingest every .json/.jsonl file under this folder into the demo tenant west-fire (e.g. $TARIAN_CORPUS/events)")
	}
	pos, err := parse(flags, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(fmt.Sprintf("unexpected argument %q", pos[0]))
	}
	if withDemo && *replay != "" {
		if _, err := os.Stat(*replay); err != nil {
			return fmt.Errorf("--replay: %w", err)
		}
	}
	// load reads the configuration: at start, and again on SIGHUP.
	load := func() (config.Config, error) {
		cfg, err := config.Load(*cfgPath, env.Getenv)
		if err != nil {
			return cfg, err
		}
		if withDemo {
			cfg.Data = demoDataDir(cfg.Data, env.Getenv("TARIAN_DATA"))
			// Each member's firewall is an expected source (demo.go).
			cfg.Sources = append(demo.Sources(), cfg.Sources...)
		}
		if *data != "" {
			cfg.Data = *data
		}
		if *listen != "" {
			cfg.Listen = *listen
		}
		if err := cfg.Validate(); err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		return cfg, nil
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, env)
	if cfg.MemoryLimitBytes > 0 && env.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(cfg.MemoryLimitBytes)
	}
	if env.Getenv("GOGC") == "" {
		debug.SetGCPercent(cfg.GCPercent)
	}
	if err := vlogs.SetProcessLimits(cfg.Events.MemoryBytes); err != nil {
		return err
	}
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	if env.Hangup != nil {
		go reloadOnHangup(ctx, env.Hangup(), load, srv, log)
	}
	if !withDemo {
		return srv.Run(ctx)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run(ctx) }()
	if err := seedDemo(ctx, srv, cfg, env, *replay); err != nil {
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
