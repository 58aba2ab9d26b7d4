package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tarian.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func noEnv(string) string { return "" }

func TestDefaultsValid(t *testing.T) {
	c, err := Load("", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || c.Data != "tarian-data" || c.Ingest.MaxLineBytes != 1<<20 || c.Ingest.MaxBodyBytes != 64<<20 {
		t.Errorf("defaults = %+v", c)
	}
}

func TestFileAndEnv(t *testing.T) {
	p := writeFile(t, "listen: 127.0.0.1:9999\ningest:\n  max_line_bytes: 2048\nbus:\n  max_age: 1h\n")
	env := map[string]string{"TARIAN_INGEST_MAX_BODY_BYTES": "1000000", "TARIAN_LOG_LEVEL": "debug", "TARIAN_BOOTSTRAP_TOKEN": "s3cret"}
	c, err := Load(p, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9999" || c.Ingest.MaxLineBytes != 2048 || c.Bus.MaxAge != time.Hour {
		t.Errorf("file not applied: %+v", c)
	}
	if c.Ingest.MaxBodyBytes != 1000000 || c.Log.Level != "debug" || c.BootstrapToken != "s3cret" {
		t.Errorf("env not applied: %+v", c)
	}
}

func TestBadConfigNamesKeyAndReason(t *testing.T) {
	tests := []struct {
		name, body string
		env        map[string]string
		want       []string
	}{
		{"unknown key", "listen: x\ningest:\n  max_lines: 5\n", nil, []string{"tarian.yaml", "line 3", "max_lines"}},
		{"bad type", "ingest:\n  max_line_bytes: lots\n", nil, []string{"line 2", "ingest.max_line_bytes", "lots"}},
		{"bad duration type", "bus:\n  max_age: forever\n", nil, []string{"line 2", "bus.max_age", "forever"}},
		{"bad value", "ingest:\n  max_line_bytes: 10\n", nil, []string{"line 2", "ingest.max_line_bytes", "between"}},
		{"bad level", "listen: 127.0.0.1:1\nlog:\n  format: json\n  level: loud\n", nil, []string{"line 4", "log.level", "loud"}},
		{"bad map entry", "alerts:\n  rules:\n    r1:\n      window: -1h\n", nil, []string{"line 4", "alerts.rules.r1.window"}},
		{"bad list item", "cases:\n  max_evidence_bytes: 100\n  templates:\n    - name: Phishing\n      tasks: [a]\n    - name: phishing\n      tasks: [b]\n", nil, []string{"line 6", "cases.templates[1]", "used twice"}},
		{"event memory under the bus' max age", "alerts:\n  event_memory: 48h\n", nil, []string{"line 2", "alerts.event_memory", "bus.max_age"}},
		{"bad gc percent", "gc_percent: 5\n", nil, []string{"gc_percent", "25"}},
		{"bad duration", "bus:\n  max_age: 1s\n", nil, []string{"bus.max_age"}},
		{"bad env", "", map[string]string{"TARIAN_INGEST_MAX_LINE_BYTES": "x"}, []string{"TARIAN_INGEST_MAX_LINE_BYTES", "integer"}},
		// A value from the environment is blamed on the environment, not on
		// the file's line that it replaced; a URL that does not parse is
		// shown when it can hold no password.
		{"bad env over the file", "listen: 127.0.0.1:1\nstate:\n  url: postgres://tarian@db/tarian\n", map[string]string{"TARIAN_STATE_URL": "mysql://db/tarian"},
			[]string{"TARIAN_STATE_URL in the environment", "state.url", "mysql://db/tarian"}},
		{"URL without a scheme", "", map[string]string{"TARIAN_EVENTS_URL": "127.0.0.1:19428"}, []string{"TARIAN_EVENTS_URL in the environment", "127.0.0.1:19428"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeFile(t, tt.body), func(k string) string { return tt.env[k] })
			if err == nil {
				t.Fatal("bad config accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if tt.env != nil && strings.Contains(err.Error(), "line ") {
				t.Errorf("error %q blames a line of the file for the environment's value", err)
			}
		})
	}
}

// The documented example must load and equal the defaults it claims.
func TestExampleFileIsTheDefaults(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "docs", "tarian.example.yaml"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Default(), c); diff != "" {
		t.Errorf("docs/tarian.example.yaml differs from the defaults (-default +file):\n%s", diff)
	}
}
