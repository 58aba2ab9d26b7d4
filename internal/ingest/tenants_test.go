package ingest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/ingest/ingesttest"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// countingStore counts the lookups that reach the store.
type countingStore struct {
	*ingesttest.Directory
	n int
}

func (s *countingStore) Tenant(ctx context.Context, id tenant.ID) (tenant.Tenant, error) {
	s.n++
	return s.Directory.Tenant(ctx, id)
}

// TestTenantCache: a tenant found is asked for once; one missing is asked
// for again only after MissTTL, or at once after Added.
func TestTenantCache(t *testing.T) {
	ctx := context.Background()
	store := &countingStore{Directory: ingesttest.NewDirectory("alpha")}
	c := ingest.NewTenantCache(store)
	clk := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	ingest.SetTenantCacheClock(c, func() time.Time { return clk })
	for range 3 {
		if tn, err := c.Tenant(ctx, "alpha"); err != nil || tn.ID != "alpha" {
			t.Fatalf("alpha: %v, %v", tn, err)
		}
	}
	if store.n != 1 {
		t.Errorf("alpha looked up %d times, want 1", store.n)
	}
	for range 3 {
		if _, err := c.Tenant(ctx, "gwynedd"); !errors.Is(err, tenant.ErrNotFound) {
			t.Fatalf("gwynedd: %v, want not found", err)
		}
	}
	if store.n != 2 {
		t.Errorf("a missing tenant looked up %d times within MissTTL, want 1", store.n-1)
	}
	clk = clk.Add(ingest.MissTTL)
	if _, err := c.Tenant(ctx, "gwynedd"); !errors.Is(err, tenant.ErrNotFound) || store.n != 3 {
		t.Errorf("after MissTTL: %v, %d lookups, want not found and 3", err, store.n)
	}
	// Created: Added makes the next lookup see it, without waiting.
	store.Add("gwynedd")
	if _, err := c.Tenant(ctx, "gwynedd"); err == nil {
		t.Error("created tenant seen before Added or MissTTL (the cache asked the store)")
	}
	c.Added("gwynedd")
	if _, err := c.Tenant(ctx, "gwynedd"); err != nil {
		t.Errorf("after Added: %v", err)
	}
}

// racingStore finds its tenant, but the tenant is removed (and the cache
// told) while the look-up is on its way back.
type racingStore struct {
	gone  bool
	cache *ingest.TenantCache
}

func (s *racingStore) Tenant(_ context.Context, id tenant.ID) (tenant.Tenant, error) {
	if s.gone {
		return tenant.Tenant{}, tenant.ErrNotFound
	}
	s.gone = true
	s.cache.Removed(id)
	return tenant.Tenant{ID: id}, nil
}

// TestTenantCacheRemovedDuringLookup: a look-up that found a tenant just
// before it was removed does not leave it cached as found: the next
// look-up asks the store, and the removed tenant's senders are refused.
func TestTenantCacheRemovedDuringLookup(t *testing.T) {
	ctx := context.Background()
	store := &racingStore{}
	c := ingest.NewTenantCache(store)
	store.cache = c
	if _, err := c.Tenant(ctx, "alpha"); err != nil {
		t.Fatalf("the look-up in flight: %v", err)
	}
	if _, err := c.Tenant(ctx, "alpha"); !errors.Is(err, tenant.ErrNotFound) {
		t.Errorf("after Removed: %v, want not found", err)
	}
}
