package lease

// Halt cuts m off from the bucket, as a node that died or was partitioned
// away: every bucket operation fails from now on and nothing is released.
func (m *Manager) Halt() { m.halted.Store(true) }
