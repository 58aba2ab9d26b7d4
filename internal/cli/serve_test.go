package cli

import (
	"testing"

	"github.com/tarian-soc/tarian/internal/config"
)

// TestDemoDataDir: the demo runs in its own directory unless the
// configuration file or TARIAN_DATA names one (--data is applied after).
func TestDemoDataDir(t *testing.T) {
	def := config.Default().Data
	for _, c := range []struct{ configured, env, want string }{
		{def, "", demoData},
		{"/srv/demo", "", "/srv/demo"},
		{"/srv/env", "/srv/env", "/srv/env"},
	} {
		if got := demoDataDir(c.configured, c.env); got != c.want {
			t.Errorf("demoDataDir(%q, %q) = %q, want %q", c.configured, c.env, got, c.want)
		}
	}
}
