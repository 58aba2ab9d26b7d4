package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
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
	flags := newFlagSet(name, env)
	cfgPath := flags.String("config", "", "YAML configuration file")
	data := flags.String("data", "", "data directory (default ./tarian-data)")
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

// seedDemo adds the demo member bodies, on first start only, and ingests
// their events through the HTTP API like any shipper; on every start it
// replays the files under replay, if set, into west-fire. What to try next
// goes to stdout, apart from the logs on stderr.
func seedDemo(ctx context.Context, srv *server.Server, cfg config.Config, env Env, replay string) error {
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
	base := srv.URL()
	hc := newClientHTTP()
	if cfg.API.TLSCert != "" {
		// The demo trusts its own certificate (self-signed or not).
		var err error
		if hc, err = clientHTTPTrusting(cfg.API.TLSCert); err != nil {
			return fmt.Errorf("api.tls_cert: %w", err)
		}
	}
	c := &client{base: base, token: admin, hc: hc}
	now := time.Now()
	var files []importFile
	for name, data := range demo.RuleFiles() {
		files = append(files, importFile{Name: "demo/" + name, Data: data})
	}
	var imported map[string]any
	if err := c.json(ctx, "POST", "/api/v1/rules", map[string]any{"files": files}, &imported); err != nil {
		return fmt.Errorf("import demo rules: %w", err)
	}
	replayToken := ""
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
		if t.ID == "west-fire" {
			replayToken = tok["token"]
		}
		ic := &client{base: base, token: tok["token"], hc: c.hc}
		body := bytes.Join(demo.Events(t, 5000, now, uint64(i+1)), []byte("\n"))
		resp, err := ic.do(ctx, "POST", "/api/v1/ingest", bytes.NewReader(body), "application/x-ndjson")
		if err != nil {
			return err
		}
		resp.Body.Close()
	}
	console, err := demoConsoleUser(ctx, c, cfg.Data)
	if err != nil {
		return err
	}
	var replayErr error
	if replay != "" {
		replayErr = replayDemo(ctx, c, replayToken, env, replay)
	}
	tokenHint := "$(cat " + filepath.Join(cfg.Data, server.AdminTokenFile) + ")"
	if cfg.BootstrapToken != "" {
		tokenHint = "$TARIAN_BOOTSTRAP_TOKEN"
	}
	fmt.Fprintf(env.Stdout, `
Tarian demo is running at %s with %d member bodies and a day of their events.
The console: open %s/ in a browser and log in as %s
In another terminal:
  export TARIAN_URL=%s TARIAN_TOKEN=%s
  go run ./cmd/tarian tenant list
  go run ./cmd/tarian search --tenant '*' 'source.ip:%s | stats by (tenant) count()'
  go run ./cmd/tarian search --tenant riverside 'vssadmin'
  go run ./cmd/tarian search --tenant '*' 'email.from.address:"%s"' --limit 5
  go run ./cmd/tarian alerts incidents --tenant '*'     # the queue, one line per intrusion
  go run ./cmd/tarian alerts list --tenant '*'
  go run ./cmd/tarian alerts show 2                     # then: alerts ack 2, cases create --tenant riverside --title ... --from-alert 2
Stop with Ctrl-C.
`, base, len(demo.Tenants), base, console, base, tokenHint, demo.SprayIP, demo.PhishSender)
	return replayErr
}

// demoConsoleFile keeps the demo analyst's password in the data directory,
// so every start of the demo can print it.
const demoConsoleFile = "demo-console-login.txt"

// demoConsoleUser creates, on the first start, a provider analyst for the
// console with a generated password, and returns "NAME with password PW".
func demoConsoleUser(ctx context.Context, c *client, data string) (string, error) {
	path := filepath.Join(data, demoConsoleFile)
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	var u struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := c.json(ctx, "POST", "/api/v1/users", map[string]string{"name": "analyst", "role": "provider-analyst"}, &u); err != nil {
		return "", fmt.Errorf("demo console user: %w", err)
	}
	login := u.Name + " with password " + u.Password
	if err := os.WriteFile(path, []byte(login+"\n"), 0o600); err != nil {
		return "", err
	}
	return login, nil
}

// replayDemo ingests every .json and .jsonl file under dir into west-fire,
// with token (an ingest token of west-fire) or, when it is empty, a new one
// made with the admin client c.
func replayDemo(ctx context.Context, c *client, token string, env Env, dir string) error {
	if token == "" { // west-fire was seeded on an earlier start
		var tok map[string]string
		if err := c.json(ctx, "POST", "/api/v1/tokens", map[string]string{"tenant": "west-fire", "role": "ingest", "name": "demo replay"}, &tok); err != nil {
			return fmt.Errorf("replay %s: ingest token for west-fire: %w", dir, err)
		}
		token = tok["token"]
	}
	in := &ingester{c: &client{base: c.base, token: token, hc: c.hc}, env: env, start: time.Now()}
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".jsonl") || strings.HasSuffix(path, ".json")) {
			return err
		}
		files++
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		return in.stream(ctx, path, f)
	})
	if err != nil {
		return fmt.Errorf("replay %s: %w", dir, err)
	}
	if files == 0 {
		return fmt.Errorf("replay %s: no .json or .jsonl files there", dir)
	}
	fmt.Fprintf(env.Stdout, "replayed %s from %s under %s into west-fire (%d rejected)\n", plural(in.accepted, "event"), plural(files, "file"), dir, in.rejected)
	return nil
}
