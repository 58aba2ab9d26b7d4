package ingest

import "time"

// SetLimiterClock replaces l's clock, for tests.
func SetLimiterClock(l *Limiter, now func() time.Time) { l.now = now }
