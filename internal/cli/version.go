package cli

import (
	"runtime/debug"
	"strings"
)

// Version and Commit are stamped at build time (make build):
//
//	-ldflags "-X github.com/tarian-soc/tarian/internal/cli.Version=v1.2.3 -X github.com/tarian-soc/tarian/internal/cli.Commit=0123abc"
//
// Unstamped, `tarian version` falls back to what the Go toolchain recorded
// in the binary (the module version, vcs.revision); see versionString.
var (
	Version = ""
	Commit  = ""
)

// versionString is what `tarian version` prints after "tarian".
func versionString() string {
	bi, _ := debug.ReadBuildInfo()
	return formatVersion(Version, Commit, bi)
}

// formatVersion is "VERSION (commit REV)": the stamped version and commit,
// else the module version and vcs.revision (marked "+dirty" when the tree
// was modified) from bi, else "dev".
func formatVersion(version, commit string, bi *debug.BuildInfo) string {
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
			}
		}
	}
	if version == "" {
		version = "dev"
	}
	if commit == "" {
		return version
	}
	if len(commit) > 12 {
		commit = commit[:12]
	}
	if dirty && !strings.HasSuffix(commit, "+dirty") {
		commit += "+dirty"
	}
	return version + " (commit " + commit + ")"
}
