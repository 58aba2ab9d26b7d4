package ingesttest

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// TenantList is a tenant store that knows a fixed set of tenants; any
// other is tenant.ErrNotFound.
type TenantList []tenant.ID

// Tenant looks id up.
func (ts TenantList) Tenant(_ context.Context, id tenant.ID) (tenant.Tenant, error) {
	if slices.Contains(ts, id) {
		return tenant.Tenant{ID: id}, nil
	}
	return tenant.Tenant{}, fmt.Errorf("tenant %s: %w", id, tenant.ErrNotFound)
}

// Directory is a tenant store a test adds tenants to while a receiver
// runs (a member onboarded on a running server).
type Directory struct {
	mu  sync.Mutex
	ids map[tenant.ID]bool
}

// NewDirectory returns a store that knows ids.
func NewDirectory(ids ...tenant.ID) *Directory {
	d := &Directory{ids: map[tenant.ID]bool{}}
	for _, id := range ids {
		d.ids[id] = true
	}
	return d
}

// Add creates tenant id.
func (d *Directory) Add(id tenant.ID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ids[id] = true
}

// Tenant looks id up.
func (d *Directory) Tenant(_ context.Context, id tenant.ID) (tenant.Tenant, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ids[id] {
		return tenant.Tenant{ID: id}, nil
	}
	return tenant.Tenant{}, fmt.Errorf("tenant %s: %w", id, tenant.ErrNotFound)
}

// WaitFor polls cond until it holds, and fails the test if it does not
// within d.
func WaitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Listening is a receiver that serves sockets: Run serves until ctx is
// done, Addrs waits until Run has bound them.
type Listening interface {
	Run(ctx context.Context) error
	Addrs() []net.Addr
}

// Serve runs r until the test ends (failing it if Run returns an error)
// and fails the test at once unless r binds n listeners.
func Serve(t testing.TB, r Listening, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	if got := r.Addrs(); len(got) != n {
		t.Fatalf("receiver bound %v, want %d listeners", got, n)
	}
}
