// Package defendtest has the intel service as defend's tests use it.
package defendtest

import (
	"context"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Intel keeps the indicators it is given (defend.Intel): what a
// confirmation shared, what a withdrawal revoked.
type Intel struct {
	// Batches are the imports, in order.
	Batches []intel.Batch
	// Held is the newest version of each indicator.
	Held map[string]intel.Indicator
}

// Import keeps b's indicators, each unless an as new version is held.
func (k *Intel) Import(_ context.Context, b intel.Batch) (intel.Summary, error) {
	k.Batches = append(k.Batches, b)
	if k.Held == nil {
		k.Held = map[string]intel.Indicator{}
	}
	for _, i := range b.Indicators {
		if old, ok := k.Held[i.ID]; !ok || i.Modified.After(old.Modified) {
			k.Held[i.ID] = i
		}
	}
	return intel.Summary{Imported: len(b.Indicators)}, nil
}

// Get returns the indicator held as id.
func (k *Intel) Get(_ context.Context, id string, _ tenant.ID, _ bool) (intel.Indicator, error) {
	i, ok := k.Held[id]
	if !ok {
		return i, intel.ErrNotFound
	}
	return i, nil
}

// Revoke marks the indicator held as id revoked.
func (k *Intel) Revoke(_ context.Context, id string, _ tenant.ID, _ bool) (intel.Indicator, error) {
	i, ok := k.Held[id]
	if !ok {
		return i, intel.ErrNotFound
	}
	i.Revoked = true
	k.Held[id] = i
	return i, nil
}
