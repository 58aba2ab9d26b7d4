// Package config is the server's configuration: defaults, a YAML file,
// TARIAN_* environment overrides, and validation that names the key and
// the reason. It composes each component's own Config.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/alert/notify"
	"github.com/tarian-soc/tarian/internal/bus"
	"github.com/tarian-soc/tarian/internal/defend"
	"github.com/tarian-soc/tarian/internal/health"
	"github.com/tarian-soc/tarian/internal/incident"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/ingest/esbulk"
	"github.com/tarian-soc/tarian/internal/ingest/forward"
	"github.com/tarian-soc/tarian/internal/ingest/hec"
	"github.com/tarian-soc/tarian/internal/ingest/lumberjack"
	"github.com/tarian-soc/tarian/internal/ingest/otlp"
	"github.com/tarian-soc/tarian/internal/ingest/syslog"
	"github.com/tarian-soc/tarian/internal/intel/indicators"
	"github.com/tarian-soc/tarian/internal/logstore/vlogs"
	"github.com/tarian-soc/tarian/internal/parse"
	"github.com/tarian-soc/tarian/internal/poll"
	"github.com/tarian-soc/tarian/internal/report"
	"github.com/tarian-soc/tarian/internal/taxii"
	"github.com/tarian-soc/tarian/internal/web"
)

// Config is the whole server configuration.
type Config struct {
	// Listen is the HTTP API address.
	Listen string `yaml:"listen"`
	// Data is the directory for every embedded store.
	Data string `yaml:"data"`
	// MemoryLimitBytes is the soft limit of the Go heap (as GOMEMLIMIT, which
	// wins when set): the collector works harder near it rather than letting
	// the process grow. 0 leaves the runtime's default.
	MemoryLimitBytes int64 `yaml:"memory_limit_bytes"`
	// GCPercent is the Go collector's GOGC (the environment's GOGC wins
	// when set): how far the heap grows past what is live before the next
	// collection. Default 200, the memory limit bounding the heap: at the
	// runtime's 100, with the heap near 640 MiB, collection took about a
	// third of the server's CPU at full ingest.
	GCPercent int `yaml:"gc_percent"`
	Log       Log `yaml:"log"`
	// Ingest limits of the HTTP ingest endpoint.
	Ingest ingest.Config `yaml:"ingest"`
	// Limits are per-tenant ingest rate limits and daily quotas, applied
	// to every receiver (none by default).
	Limits ingest.LimitsConfig `yaml:"limits"`
	// Syslog configures the syslog receivers (none by default).
	Syslog syslog.Config `yaml:"syslog"`
	// HEC configures the Splunk HTTP Event Collector receiver (off by default).
	HEC hec.Config `yaml:"hec"`
	// Elasticsearch configures the Elasticsearch bulk API emulation for
	// Beats, Elastic Agent, Fluent Bit, Vector and Logstash (off by default).
	Elasticsearch esbulk.Config `yaml:"elasticsearch"`
	// Lumberjack configures the Lumberjack v2 receivers, the Beats' Logstash
	// output (none by default).
	Lumberjack lumberjack.Config `yaml:"lumberjack"`
	// Forward configures the Fluent Forward receivers: Fluent Bit and
	// Fluentd forward outputs, the Docker fluentd log driver (none by default).
	Forward forward.Config `yaml:"forward"`
	// OTLP configures the OpenTelemetry logs receiver, OTLP/HTTP and
	// OTLP/gRPC (off by default).
	OTLP otlp.Config `yaml:"otlp"`
	// Node names this tarian node among several sharing one bus, event
	// store and state store (docs/scaling.md).
	Node   Node       `yaml:"node"`
	Bus    bus.Config `yaml:"bus"`
	Events Events     `yaml:"events"`
	// State is the state store: embedded SQLite under data, or PostgreSQL.
	State State `yaml:"state"`
	// Retention is how long each tenant's data is kept, per kind, within
	// events.retention (retention.go).
	Retention Retention `yaml:"retention"`
	// Poll tunes the Microsoft 365 / Entra cloud pollers (sources are added
	// per tenant through the API).
	Poll poll.Config `yaml:"poll"`
	// Sources declare what the records of each tenant and receiver are
	// (their format); records no source claims have it detected.
	Sources []parse.Source `yaml:"sources"`
	// Raw is when an event keeps its raw record in the event store:
	// on_parse_error (default), always or never; a source may say
	// otherwise for its own records.
	Raw string `yaml:"raw"`
	// RawArchive keeps every raw record, compressed, in the raw archive
	// (<data>/raw, per tenant and day, for events.retention), where search
	// can still show an event's record (on by default); a source may say
	// otherwise for its own records.
	RawArchive bool `yaml:"raw_archive"`
	// Detection configures the detection engine.
	Detection Detection `yaml:"detection"`
	// Alerts is deduplication, grouping into incidents and service levels.
	Alerts alert.Config `yaml:"alerts"`
	// Cases is case management (evidence file limit).
	Cases incident.Config `yaml:"cases"`
	// Intel is threat intelligence: retro-hunts, warning lists, defaults.
	Intel indicators.Config `yaml:"intel"`
	// TAXII is the TAXII 2.1 server and the remote collections polled.
	TAXII taxii.Config `yaml:"taxii"`
	// Defend is defend-as-one: what is shared, campaigns, k-anonymity.
	Defend defend.Config `yaml:"defend"`
	// Health is log-source health: silence and drop alerts.
	Health health.Config `yaml:"health"`
	// Notify is the delivery of alert notifications (channels are added
	// per tenant through the API).
	Notify notify.Config `yaml:"notify"`
	API    web.Config    `yaml:"api"`

	// Reports is the monthly member reports' schedule and mail.
	Reports report.Config `yaml:"reports"`

	// BootstrapToken, when set, is a provider-admin token secret ensured at
	// start (from TARIAN_BOOTSTRAP_TOKEN; never from the file).
	BootstrapToken string `yaml:"-"`
	// SecretKey, when set, is the key (base64 or hex, 32 bytes) that seals
	// cloud-source credentials, instead of <data>/secret.key (from
	// TARIAN_SECRET_KEY; never from the file).
	SecretKey string `yaml:"-"`
}

// Detection configures the detection engine.
type Detection struct {
	// MappingFile extends the built-in field and log-source mapping (see
	// docs/detection.md) with the user's own YAML.
	MappingFile string `yaml:"mapping_file"`
}

// Log configures the server's own logs.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is json or text.
	Format string `yaml:"format"`
}

// External says whether any engine is external (bus.url, events.url or
// state.url): then several nodes may share them.
func (c Config) External() bool {
	return c.Bus.URL != "" || c.Events.URL != "" || c.State.URL != ""
}

// Node is this node's identity in a cluster.
type Node struct {
	// Name is unique per node (it holds leases under it); the host name
	// by default.
	Name string `yaml:"name"`
}

// Validate checks the name: 1–64 letters, digits, '.', '_' or '-' (it is
// a key of the bus' lease bucket).
func (n Node) Validate() error {
	if n.Name == "" || len(n.Name) > 64 {
		return errors.New("name: must be 1 to 64 characters")
	}
	for _, r := range n.Name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("name: %q: only letters, digits, '.', '_' and '-'", n.Name)
		}
	}
	return nil
}

// hostName is the default node name.
func hostName() string {
	h, err := os.Hostname()
	if err != nil || (Node{Name: h}).Validate() != nil {
		return "tarian"
	}
	return h
}

// State configures the state store.
type State struct {
	// URL of a PostgreSQL database (postgres://user@host:port/db?…), shared
	// by every node; empty keeps the embedded SQLite database
	// <data>/state.db.
	URL string `yaml:"url"`
}

// Validate checks the URL's form.
func (s State) Validate() error {
	if s.URL == "" {
		return nil
	}
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return fmt.Errorf("url: %q is not a postgres://user@host:port/database URL", redactURL(s.URL))
	}
	return nil
}

// redactURL drops a password from a URL for an error message.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if strings.Contains(raw, "@") {
			return "(unparsable URL)" // it may hold a password
		}
		return raw
	}
	return u.Redacted()
}

// Events configures the event store: embedded, or a VictoriaLogs server
// or cluster front over HTTP.
type Events struct {
	// URL of a VictoriaLogs server or cluster front (vlselect/vlinsert on
	// one address); empty keeps the embedded store under <data>/events.
	URL string `yaml:"url"`
	// StorageNodes are the HTTP addresses of a VictoriaLogs cluster's
	// storage nodes (those its front's -storageNode names), through which
	// the indexer makes what it wrote durable before it moves its
	// checkpoint; without them it waits out the nodes' flush interval.
	StorageNodes        []string      `yaml:"storage_nodes"`
	Retention           time.Duration `yaml:"retention"`
	FutureRetention     time.Duration `yaml:"future_retention"`
	MinFreeDiskBytes    int64         `yaml:"min_free_disk_bytes"`
	MaxDiskUsagePercent int           `yaml:"max_disk_usage_percent"`
	// MemoryBytes is the event store's memory (VictoriaLogs takes 60% of
	// RAM unless told): its caches, a query's state, and new data, a tenth
	// of it, merged in memory before it is written out. Default 1 GiB:
	// with 256 MiB the new data went to disk in parts of about 1 MB,
	// which cost a quarter more bytes per event until merged.
	MemoryBytes  int64    `yaml:"memory_bytes"`
	StreamFields []string `yaml:"stream_fields"`
}

// validate checks the embedded store's settings, or the URL's form.
func (e Events) validate(data string) error {
	if e.URL == "" {
		return e.Store(filepath.Join(data, "events")).Validate()
	}
	u, err := url.Parse(e.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url: %q is not an http(s)://host:port URL of VictoriaLogs", redactURL(e.URL))
	}
	return nil
}

// Store returns the event store configuration under dir.
func (e Events) Store(dir string) vlogs.Config {
	return vlogs.Config{
		Path:                dir,
		Retention:           e.Retention,
		FutureRetention:     e.FutureRetention,
		MinFreeDiskBytes:    e.MinFreeDiskBytes,
		MaxDiskUsagePercent: e.MaxDiskUsagePercent,
		StreamFields:        e.StreamFields,
	}
}

// Default returns the embedded defaults: everything on this machine, data
// in ./tarian-data, API on 127.0.0.1:8080.
func Default() Config {
	v := vlogs.DefaultConfig()
	return Config{
		Listen: "127.0.0.1:8080",
		Data:   "tarian-data",
		Node:   Node{Name: hostName()},
		// With events.memory_bytes for the event store's caches, this keeps
		// the whole process near 1 GiB.
		MemoryLimitBytes: 800 << 20,
		GCPercent:        200,
		Log:              Log{Level: "info", Format: "json"},
		Ingest:           ingest.DefaultConfig(),
		Syslog:           syslog.DefaultConfig(),
		HEC:              hec.DefaultConfig(),
		Elasticsearch:    esbulk.DefaultConfig(),
		Lumberjack:       lumberjack.DefaultConfig(),
		Forward:          forward.DefaultConfig(),
		OTLP:             otlp.DefaultConfig(),
		Bus:              bus.DefaultConfig(),
		Poll:             poll.DefaultConfig(),
		Raw:              parse.RawOnParseError,
		RawArchive:       true,
		Retention:        DefaultRetention(),
		Events: Events{
			Retention:        v.Retention,
			FutureRetention:  v.FutureRetention,
			MinFreeDiskBytes: v.MinFreeDiskBytes,
			MemoryBytes:      1 << 30,
			StreamFields:     v.StreamFields,
		},
		API:    web.DefaultConfig(),
		Alerts: alert.DefaultConfig(),
		Cases:  incident.DefaultConfig(),
		Intel:  indicators.DefaultConfig(),
		TAXII:  taxii.DefaultConfig(),
		Defend: defend.DefaultConfig(),
		Health: health.DefaultConfig(),
		Notify: notify.DefaultConfig(),

		Reports: report.DefaultConfig(),
	}
}

// Load returns the defaults overridden by the YAML file at path (if not
// empty) and then by TARIAN_* environment variables (getenv), validated.
// An unknown key or a bad value names the file, line, key and reason.
func Load(path string, getenv func(string) string) (Config, error) {
	c := Default()
	var data []byte
	if path != "" {
		var err error
		data, err = os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("config %s: %s", path, describe(err, data))
		}
	}
	if err := applyEnv(reflect.ValueOf(&c).Elem(), "TARIAN", getenv); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	c.BootstrapToken = getenv("TARIAN_BOOTSTRAP_TOKEN")
	c.SecretKey = getenv("TARIAN_SECRET_KEY")
	if err := c.Validate(); err != nil {
		where := "config"
		if env := envOfKey(err.Error()); env != "" && getenv(env) != "" {
			where += " (" + env + " in the environment)"
		} else if path != "" {
			where = "config " + path
			if line := lineOfKey(data, err.Error()); line > 0 {
				where += fmt.Sprintf(": line %d", line)
			}
		}
		return c, fmt.Errorf("%s: %w", where, err)
	}
	return c, nil
}

// describe turns a YAML decoding error into lines that each name the key
// at fault: "line 3: ingest.max_line_bytes: cannot unmarshal !!str `lots`
// into int".
func describe(err error, data []byte) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return strings.TrimPrefix(err.Error(), "yaml: ")
	}
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	keys := map[int]string{}
	keysByLine(&root, "", keys)
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		var line int
		if _, err := fmt.Sscanf(m, "line %d:", &line); err == nil && keys[line] != "" {
			rest := strings.TrimSpace(strings.SplitN(m, ":", 2)[1])
			m = fmt.Sprintf("line %d: %s: %s", line, keys[line], rest)
		}
		msgs[i] = m
	}
	return strings.Join(msgs, "; ")
}

// lineOfKey is the line of the file data where the key a validation
// error msg names ("alerts.group.window: ...") is set, or of the nearest
// enclosing key the file sets; 0 when the file sets none of them (the
// value is a default or came from the environment).
func lineOfKey(data []byte, msg string) int {
	key, _, ok := strings.Cut(msg, ": ")
	if !ok || strings.ContainsAny(key, " \t") {
		return 0
	}
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		return 0
	}
	byLine := map[int]string{}
	keysByLine(&root, "", byLine)
	for ; key != ""; key = parentKey(key) {
		line := 0
		for l, k := range byLine {
			// A sequence item's first line names its first key
			// (cases.templates[0].name): the item starts there too.
			within := k == key || strings.HasPrefix(k, key+".") || strings.HasPrefix(k, key+"[")
			if within && (line == 0 || l < line) {
				line = l
			}
		}
		if line > 0 {
			return line
		}
	}
	return 0
}

// envOfKey is the environment variable that sets the key a validation
// error msg names ("state.url: ..." gives TARIAN_STATE_URL), or "".
func envOfKey(msg string) string {
	key, _, ok := strings.Cut(msg, ": ")
	if !ok || strings.ContainsAny(key, " \t[") {
		return ""
	}
	return "TARIAN_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// parentKey is the key enclosing key: its sequence without the index
// ("cases.templates[0]" gives "cases.templates"), or the mapping above.
func parentKey(key string) string {
	if strings.HasSuffix(key, "]") {
		if i := strings.LastIndex(key, "["); i > 0 {
			return key[:i]
		}
	}
	before, _, _ := cutLast(key, ".")
	return before
}

// cutLast is strings.Cut at the last sep: "a.b.c" gives "a.b", "c".
func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return "", s, false
}

// keysByLine records the dotted key of every mapping entry by its line.
func keysByLine(n *yaml.Node, prefix string, out map[int]string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			keysByLine(c, prefix, out)
		}
	case yaml.SequenceNode:
		// An item is the key with its index: cases.templates[1].
		for i, c := range n.Content {
			key := fmt.Sprintf("%s[%d]", prefix, i)
			if _, set := out[c.Line]; !set {
				out[c.Line] = key
			}
			keysByLine(c, key, out)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := k.Value
			if prefix != "" {
				key = prefix + "." + key
			}
			out[k.Line] = key
			if v.Line != k.Line {
				out[v.Line] = key
			}
			keysByLine(v, key, out)
		}
	}
}

// applyEnv sets each field from the variable PREFIX_KEY (upper-cased yaml
// keys joined by '_'), e.g. TARIAN_INGEST_MAX_LINE_BYTES.
func applyEnv(v reflect.Value, prefix string, getenv func(string) string) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			continue
		}
		name := prefix + "_" + strings.ToUpper(key)
		fv := v.Field(i)
		if f.Type.Kind() == reflect.Struct {
			if err := applyEnv(fv, name, getenv); err != nil {
				return err
			}
			continue
		}
		s := getenv(name)
		if s == "" {
			continue
		}
		if err := setValue(fv, s); err != nil {
			return fmt.Errorf("%s=%q: %w", name, s, err)
		}
	}
	return nil
}

func setValue(v reflect.Value, s string) error {
	switch {
	case v.Type() == reflect.TypeOf(time.Duration(0)):
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Int || v.Kind() == reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return errors.New("want an integer")
		}
		v.SetInt(n)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return errors.New("want true or false")
		}
		v.SetBool(b)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		parts := strings.Split(s, ",")
		v.Set(reflect.ValueOf(parts))
	default:
		return fmt.Errorf("BUG: no environment form for %s", v.Type())
	}
	return nil
}

// Validate checks every section, naming the key of the first problem.
func (c Config) Validate() error {
	if c.Listen == "" {
		return errors.New("listen: must not be empty")
	}
	if c.Data == "" {
		return errors.New("data: must not be empty")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level: %q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "json", "text":
	default:
		return fmt.Errorf("log.format: %q is not json or text", c.Log.Format)
	}
	if c.MemoryLimitBytes != 0 && c.MemoryLimitBytes < 128<<20 {
		return errors.New("memory_limit_bytes: must be 0 (no limit) or at least 134217728 (128 MiB)")
	}
	if c.GCPercent != -1 && (c.GCPercent < 25 || c.GCPercent > 10_000) {
		return errors.New("gc_percent: must be 25 to 10000, or -1 (collect only at memory_limit_bytes)")
	}
	if c.Events.MemoryBytes < 64<<20 {
		return errors.New("events.memory_bytes: must be at least 67108864 (64 MiB)")
	}
	for _, s := range []struct {
		key string
		err error
	}{
		{"ingest", c.Ingest.Validate()},
		{"limits", c.Limits.Validate()},
		{"poll", c.Poll.Validate()},
		{"", parse.Config{Sources: c.Sources, Raw: c.Raw}.Validate()},
		{"syslog", c.Syslog.Validate()},
		{"hec", c.HEC.Validate()},
		{"elasticsearch", c.Elasticsearch.Validate()},
		{"lumberjack", c.Lumberjack.Validate()},
		{"forward", c.Forward.Validate()},
		{"otlp", c.OTLP.Validate()},
		{"node", c.Node.Validate()},
		{"bus", c.Bus.Validate()},
		{"state", c.State.Validate()},
		{"events", c.Events.validate(c.Data)},
		{"retention", c.Retention.Validate(c.Events.Retention)},
		{"api", c.API.Validate()},
		{"alerts", c.Alerts.Validate()},
		{"cases", c.Cases.Validate()},
		{"intel", c.Intel.Validate()},
		{"taxii", c.TAXII.Validate()},
		{"defend", c.Defend.Validate()},
		{"health", c.Health.Validate()},
		{"notify", c.Notify.Validate()},
		{"reports", c.Reports.Validate()},
	} {
		if s.err != nil && s.key == "" {
			return s.err
		}
		if s.err != nil {
			return fmt.Errorf("%s.%w", s.key, s.err)
		}
	}
	if c.Alerts.EventMemory < c.Bus.MaxAge {
		return fmt.Errorf("alerts.event_memory: %s is shorter than bus.max_age (%s): an event replayed from the bus could count twice", c.Alerts.EventMemory, c.Bus.MaxAge)
	}
	return nil
}
