package ingest

import "time"

// SetLimiterClock replaces l's clock, for tests.
func SetLimiterClock(l *Limiter, now func() time.Time) { l.now = now }

// SetTenantCacheClock replaces c's clock, for tests.
func SetTenantCacheClock(c *TenantCache, now func() time.Time) { c.now = now }
