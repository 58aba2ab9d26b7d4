package rawarchive

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// DropBefore removes tenant t's days that ended before cutoff (its own
// retention, shorter than the archive's) and returns how many. It may run
// beside the consumer: the consumer writes only to the days of records it
// receives now, and a day that ended before a cutoff at least a day ago
// receives none.
func (a *Archive) DropBefore(t tenant.ID, cutoff time.Time) (int, error) {
	dir := filepath.Join(a.cfg.Dir, string(t))
	days, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("raw archive: %w", err)
	}
	removed := 0
	for _, dd := range days {
		day, err := time.Parse(dayLayout, dd.Name())
		if err != nil || !dd.IsDir() || day.Add(24*time.Hour).After(cutoff) {
			continue
		}
		a.forget()
		if err := os.RemoveAll(filepath.Join(dir, dd.Name())); err != nil {
			return removed, fmt.Errorf("raw archive: drop a day of %s past its retention: %w", t, err)
		}
		removed++
	}
	return removed, nil
}

// Dir returns the directory of tenant t's archive (which may not exist).
func (a *Archive) Dir(t tenant.ID) string { return filepath.Join(a.cfg.Dir, string(t)) }

// Remove deletes all of tenant t's archive and returns how many days it
// held. The caller makes sure no record of t is still on its way (the
// removal of a tenant holds the bus read past them).
func (a *Archive) Remove(t tenant.ID) (int, error) {
	dir := a.Dir(t)
	days, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("raw archive: %w", err)
	}
	a.forget()
	if err := os.RemoveAll(dir); err != nil {
		return 0, fmt.Errorf("raw archive: remove %s: %w", t, err)
	}
	n := 0
	for _, d := range days {
		if d.IsDir() {
			n++
		}
	}
	return n, nil
}
