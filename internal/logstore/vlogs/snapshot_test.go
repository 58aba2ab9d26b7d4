package vlogs

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// A snapshot holds what was added before it, over every day, and nothing
// added after; copied into partitions/<day> of an empty directory it opens
// as a store; release deletes it.
func TestSnapshot(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, testConfig(dir))
	now := time.Now()
	var batch []event.Event
	for i := range 300 {
		at := now.Add(-time.Duration(i%2) * 24 * time.Hour).Add(-time.Duration(i) * time.Millisecond)
		batch = append(batch, ev(at, "message", fmt.Sprintf("e%d", i)))
	}
	mustAdd(t, s, "council-a", batch...)
	snaps, release, err := s.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 2 {
		t.Fatalf("%d partition snapshots, want 2 (two days): %+v", len(snaps), snaps)
	}
	mustAdd(t, s, "council-a", ev(now, "message", "after"))

	restored := t.TempDir()
	for _, sn := range snaps {
		if err := copyTree(sn.Dir, filepath.Join(restored, "partitions", sn.Day)); err != nil {
			t.Fatal(err)
		}
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	for _, sn := range snaps {
		if _, err := os.Stat(sn.Dir); !os.IsNotExist(err) {
			t.Errorf("snapshot %s still there after release: %v", sn.Dir, err)
		}
	}
	c := openStore(t, testConfig(restored))
	rows := search(t, c, logstore.Query{Tenants: []tenant.ID{"council-a"}, LogsQL: "*", Limit: 10_000})
	checkExactlyOnce(t, rows, 300)
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o700)
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(to)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}
