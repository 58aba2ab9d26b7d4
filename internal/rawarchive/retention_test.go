package rawarchive

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// TestDropBefore drops one tenant's days that ended before the cut-off,
// and nothing of another tenant; Remove drops all of a tenant's.
func TestDropBefore(t *testing.T) {
	dir := t.TempDir()
	a, err := Open(Config{Dir: dir}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	days := []string{"2026-10-01", "2026-11-05", "2026-11-06", "2026-12-06"}
	for _, tn := range []string{"north-vale", "south-fire"} {
		for _, d := range days {
			if err := os.MkdirAll(filepath.Join(dir, tn, d), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, tn, d, "records.zst"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	// 30 days before 2026-12-06T12:00: days ending by 2026-11-06T12:00 go.
	cutoff := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC).Add(-30 * 24 * time.Hour)
	n, err := a.DropBefore("north-vale", cutoff)
	if err != nil || n != 2 {
		t.Fatalf("dropped %d (%v), want 2", n, err)
	}
	left := func(tn tenant.ID) []string {
		es, _ := os.ReadDir(filepath.Join(dir, string(tn)))
		var out []string
		for _, e := range es {
			out = append(out, e.Name())
		}
		return out
	}
	if got, want := left("north-vale"), []string{"2026-11-06", "2026-12-06"}; !slices.Equal(got, want) {
		t.Errorf("north-vale keeps %v, want %v", got, want)
	}
	if got := left("south-fire"); !slices.Equal(got, days) {
		t.Errorf("south-fire keeps %v, want %v", got, days)
	}
	if n, err := a.DropBefore("north-vale", cutoff); err != nil || n != 0 {
		t.Errorf("again: %d (%v)", n, err)
	}
	if n, err := a.Remove("south-fire"); err != nil || n != 4 {
		t.Errorf("remove: %d (%v), want 4", n, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "south-fire")); !os.IsNotExist(err) {
		t.Errorf("south-fire's archive is still there: %v", err)
	}
	if n, err := a.DropBefore("nobody", cutoff); err != nil || n != 0 {
		t.Errorf("unknown tenant: %d (%v)", n, err)
	}
}
