package vlogs

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// ids returns the values of field id of tenant tn's events, sorted.
func ids(t *testing.T, s *Store, tn tenant.ID) []string {
	t.Helper()
	var out []string
	err := s.Export(t.Context(), tn, func(r logstore.Row) error {
		if r.Tenant != tn {
			return fmt.Errorf("row of %s in the export of %s", r.Tenant, tn)
		}
		for _, f := range r.Fields {
			if f.Name == "id" {
				out = append(out, f.Value)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// TestDeleteBefore deletes exactly one tenant's events older than a time:
// its newer events and every other tenant's events stay, and a second run
// deletes nothing.
func TestDeleteBefore(t *testing.T) {
	s := openStore(t, testConfig(t.TempDir()))
	now := time.Now().UTC()
	old, recent := now.Add(-40*24*time.Hour), now.Add(-time.Hour)
	for _, tn := range []tenant.ID{"council-a", "council-b"} {
		mustAdd(t, s, tn,
			ev(old, "id", string(tn)+"-old-1", "message", "x"),
			ev(old.Add(time.Hour), "id", string(tn)+"-old-2", "message", "x"),
			ev(recent, "id", string(tn)+"-new", "message", "x"))
	}
	mustFlush(t, s)
	n, err := s.Delete(t.Context(), "council-a", now.Add(-30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("deleted %d, want 2", n)
	}
	if got, want := ids(t, s, "council-a"), []string{"council-a-new"}; !slices.Equal(got, want) {
		t.Errorf("council-a keeps %v, want %v", got, want)
	}
	if got, want := ids(t, s, "council-b"), []string{"council-b-new", "council-b-old-1", "council-b-old-2"}; !slices.Equal(got, want) {
		t.Errorf("council-b keeps %v, want %v", got, want)
	}
	if n, err := s.Delete(t.Context(), "council-a", now.Add(-30*24*time.Hour)); err != nil || n != 0 {
		t.Errorf("second run deleted %d (%v), want 0", n, err)
	}
	// Everything of a tenant.
	if n, err := s.Delete(t.Context(), "council-b", time.Time{}); err != nil || n != 3 {
		t.Errorf("delete all of council-b: %d (%v), want 3", n, err)
	}
	if got := ids(t, s, "council-b"); len(got) != 0 {
		t.Errorf("council-b keeps %v", got)
	}
	if got, want := ids(t, s, "council-a"), []string{"council-a-new"}; !slices.Equal(got, want) {
		t.Errorf("council-a keeps %v after council-b's removal, want %v", got, want)
	}
	if _, err := s.Delete(t.Context(), "nobody", time.Time{}); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("unknown tenant: %v", err)
	}
}
