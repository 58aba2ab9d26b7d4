package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestFormat(t *testing.T) {
	vcs := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "false"}, {Key: "vcs.time", Value: "2026-12-01T09:30:00Z"}}}
	dirty := &debug.BuildInfo{Main: debug.Module{Version: "v0.3.1"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}}
	for _, c := range []struct {
		version, commit, date string
		bi                    *debug.BuildInfo
		want                  string
	}{
		{"v1.2.0", "abc1234", "2026-12-06T10:00:00Z", vcs, "v1.2.0 (commit abc1234, built 2026-12-06T10:00:00Z)"},
		{"", "", "", vcs, "dev (commit 0123456789ab, built 2026-12-01T09:30:00Z)"},
		{"", "", "", dirty, "v0.3.1 (commit 0123456789ab+dirty)"},
		{"v1.2.0", "", "2026-12-06T10:00:00Z", nil, "v1.2.0 (commit unknown, built 2026-12-06T10:00:00Z)"},
		{"", "", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev (commit unknown)"},
		{"", "", "", nil, "dev (commit unknown)"},
	} {
		if got := format(c.version, c.commit, c.date, c.bi, ""); got != c.want {
			t.Errorf("format(%q, %q, %q, ...) = %q, want %q", c.version, c.commit, c.date, got, c.want)
		}
	}
	if got, want := format("", "", "", nil, "2026-12-05T08:00:00Z"), "dev (commit unknown, built 2026-12-05T08:00:00Z)"; got != want {
		t.Errorf("unstamped, no build info: %q, want %q (the executable's time as the build date)", got, want)
	}
}
