package detector

import "context"

// Reload compiles the stored rules and every tenant's settings again (rule
// switches, placeholders, filters): after a tenant's removal, so a tenant
// created again with its ID starts with none of them.
func (s *Service) Reload(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reload(ctx)
}
