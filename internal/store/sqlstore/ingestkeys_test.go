package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// TestIngestKeys: an answer is kept per tenant and key, the first of two
// racing writes wins, and keys older than the cut-off are neither found
// nor kept.
func TestIngestKeys(t *testing.T) {
	backends(t, func(t *testing.T, open func(testing.TB) *DB) {
		d := open(t)
		ctx := context.Background()
		t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
		day := 24 * time.Hour
		if err := d.PutIngestKey(ctx, "a", "k1", "h1", "answer 1", t0, t0.Add(-day)); err != nil {
			t.Fatal(err)
		}
		if err := d.PutIngestKey(ctx, "a", "k1", "h2", "answer 2", t0.Add(time.Second), t0.Add(-day)); err != nil {
			t.Fatal(err)
		}
		get := func(tn, key string, since time.Time) string {
			t.Helper()
			h, a, found, err := d.IngestKey(ctx, tenant.ID(tn), key, since)
			if err != nil {
				t.Fatal(err)
			}
			if !found {
				return "none"
			}
			return h + " " + a
		}
		if got := get("a", "k1", t0.Add(-day)); got != "h1 answer 1" {
			t.Errorf("a/k1: %q, want the first answer", got)
		}
		if got := get("b", "k1", t0.Add(-day)); got != "none" {
			t.Errorf("b/k1: %q, want none (another tenant's key)", got)
		}
		if got := get("a", "k1", t0.Add(time.Minute)); got != "none" {
			t.Errorf("a/k1 kept before since: %q, want none", got)
		}
		// A day later, the next write forgets it.
		later := t0.Add(day + time.Minute)
		if err := d.PutIngestKey(ctx, "a", "k2", "h3", "answer 3", later, later.Add(-day)); err != nil {
			t.Fatal(err)
		}
		if got := get("a", "k1", time.Time{}); got != "none" {
			t.Errorf("a/k1 after its day: %q, want forgotten", got)
		}
		if got := get("a", "k2", later.Add(-day)); got != "h3 answer 3" {
			t.Errorf("a/k2: %q", got)
		}
	})
}
