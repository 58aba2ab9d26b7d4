package cli

import (
	"runtime/debug"
	"strings"
)

// Version, Commit and BuildDate are stamped at build time (make build, the
// Dockerfile):
//
//	-ldflags "-X github.com/tarian-soc/tarian/internal/cli.Version=v1.2.3 -X github.com/tarian-soc/tarian/internal/cli.Commit=0123abc -X github.com/tarian-soc/tarian/internal/cli.BuildDate=2026-12-06T10:00:00Z"
//
// Unstamped, `tarian version` falls back to what the Go toolchain recorded
// in the binary (the module version, vcs.revision, vcs.time); see
// versionString.
var (
	Version   = ""
	Commit    = ""
	BuildDate = ""
)

// versionString is what `tarian version` prints after "tarian".
func versionString() string {
	bi, _ := debug.ReadBuildInfo()
	return formatVersion(Version, Commit, BuildDate, bi)
}

// formatVersion is "VERSION (commit REV, built DATE)": the stamped
// version, commit and build date, else the module version, vcs.revision
// (marked "+dirty" when the tree was modified) and vcs.time (the commit's
// time) from bi, else "dev".
func formatVersion(version, commit, date string, bi *debug.BuildInfo) string {
	dirty := false
	if bi != nil {
		if version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if commit == "" {
					commit = s.Value
				}
			case "vcs.modified":
				dirty = s.Value == "true"
			case "vcs.time":
				if date == "" {
					date = s.Value
				}
			}
		}
	}
	if version == "" {
		version = "dev"
	}
	var about []string
	if commit != "" {
		if len(commit) > 12 {
			commit = commit[:12]
		}
		if dirty && !strings.HasSuffix(commit, "+dirty") {
			commit += "+dirty"
		}
		about = append(about, "commit "+commit)
	}
	if date != "" {
		about = append(about, "built "+date)
	}
	if len(about) == 0 {
		return version
	}
	return version + " (" + strings.Join(about, ", ") + ")"
}
