// Package buildinfo says which build of Tarian is running: the version,
// commit and build date `tarian version` prints and a backup records.
package buildinfo

import (
	"os"
	"runtime/debug"
	"strings"
	"time"
)

// Version, Commit and BuildDate are stamped at build time (make build, the
// Dockerfile):
//
//	-ldflags "-X github.com/tarian-soc/tarian/internal/buildinfo.Version=v1.2.3 -X github.com/tarian-soc/tarian/internal/buildinfo.Commit=0123abc -X github.com/tarian-soc/tarian/internal/buildinfo.BuildDate=2026-12-06T10:00:00Z"
//
// Unstamped, `tarian version` falls back to what the Go toolchain recorded
// in the binary (the module version, vcs.revision, vcs.time), and when
// neither is there (GOFLAGS=-buildvcs=false, go run) says the commit is
// unknown and takes the build date from the executable's modification
// time; see String.
var (
	Version   = ""
	Commit    = ""
	BuildDate = ""
)

// String is "VERSION (commit REV, built DATE)", what `tarian version`
// prints after "tarian".
func String() string {
	bi, _ := debug.ReadBuildInfo()
	return format(Version, Commit, BuildDate, bi, executableTime())
}

// executableTime is when the running binary was written (go build writes
// it once, so it is the build time), in RFC 3339, or "" when unknown.
func executableTime() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	fi, err := os.Stat(exe)
	if err != nil {
		return ""
	}
	return fi.ModTime().UTC().Format(time.RFC3339)
}

// format is "VERSION (commit REV, built DATE)": the stamped
// version, commit and build date, else the module version, vcs.revision
// (marked "+dirty" when the tree was modified) and vcs.time (the commit's
// time) from bi, else "dev", "commit unknown" and built, the executable's
// modification time.
func format(version, commit, date string, bi *debug.BuildInfo, built string) string {
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
	switch {
	case commit == "":
		commit = "unknown"
	case len(commit) > 12:
		commit = commit[:12]
	}
	if dirty && !strings.HasSuffix(commit, "+dirty") {
		commit += "+dirty"
	}
	about := []string{"commit " + commit}
	if date == "" {
		date = built
	}
	if date != "" {
		about = append(about, "built "+date)
	}
	return version + " (" + strings.Join(about, ", ") + ")"
}
