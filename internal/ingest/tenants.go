package ingest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// MissTTL is how long a TenantCache trusts that a tenant does not exist
// before it asks the store again (Added ends that at once).
const MissTTL = 5 * time.Second

// TenantCache is Tenants with memory, so a listener can check its sender's
// tenant on every connection or datagram: a tenant found is kept (tenants
// are never removed), one not found is asked for again after MissTTL, or
// at once after Added says it was created.
type TenantCache struct {
	store Tenants
	now   func() time.Time

	found  sync.Map // tenant.ID → tenant.Tenant
	missed sync.Map // tenant.ID → time.Time (when it was found missing)
	// gen counts Added and Removed calls, so an answer read before a
	// tenant was added or removed is not remembered after it.
	gen atomic.Uint64
	mu  sync.Mutex // serialises the remembering of misses against Added
}

// NewTenantCache returns a cache in front of store.
func NewTenantCache(store Tenants) *TenantCache {
	return &TenantCache{store: store, now: time.Now}
}

// Tenant returns tenant id, or an error wrapping tenant.ErrNotFound.
func (c *TenantCache) Tenant(ctx context.Context, id tenant.ID) (tenant.Tenant, error) {
	if t, ok := c.found.Load(id); ok {
		return t.(tenant.Tenant), nil
	}
	if at, ok := c.missed.Load(id); ok && c.now().Sub(at.(time.Time)) < MissTTL {
		return tenant.Tenant{}, &missingError{id}
	}
	gen := c.gen.Load()
	t, err := c.store.Tenant(ctx, id)
	switch {
	case err == nil:
		// Not when the tenant was removed (or added) meanwhile: the store
		// may have answered before the removal.
		c.mu.Lock()
		if c.gen.Load() == gen {
			c.found.Store(id, t)
			c.missed.Delete(id)
		}
		c.mu.Unlock()
	case errors.Is(err, tenant.ErrNotFound):
		c.mu.Lock()
		if c.gen.Load() == gen {
			c.missed.Store(id, c.now())
		}
		c.mu.Unlock()
	}
	return t, err
}

// Added tells the cache that tenant id now exists.
func (c *TenantCache) Added(id tenant.ID) {
	c.mu.Lock()
	c.gen.Add(1)
	c.missed.Delete(id)
	c.mu.Unlock()
}

// missingError is a remembered miss.
type missingError struct{ id tenant.ID }

func (e *missingError) Error() string {
	return "tenant " + string(e.id) + ": " + tenant.ErrNotFound.Error()
}
func (e *missingError) Unwrap() error { return tenant.ErrNotFound }
