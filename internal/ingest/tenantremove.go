package ingest

import "github.com/tarian-soc/tarian/internal/tenant"

// Removed tells the cache that tenant id was removed (offboarding): it is
// asked for again, and found missing, from the next look-up.
func (c *TenantCache) Removed(id tenant.ID) {
	c.mu.Lock()
	c.gen.Add(1)
	c.found.Delete(id)
	c.missed.Delete(id)
	c.mu.Unlock()
}
