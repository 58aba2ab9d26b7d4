package listener

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"

	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Settings is a stream receiver's configuration: checked whole, and
// holding its listeners.
type Settings[S Spec] interface {
	Validate() error
	Sockets() []S
}

// Runner is what the stream receivers (syslog, Lumberjack, Forward) share
// around their Group: Run, Reload, Addrs and Tenants, and the current
// configuration, which a reload swaps for new connections. A receiver
// embeds it and serves connections with its Handlers.
type Runner[C Settings[S], S Spec] struct {
	name string
	cfg  atomic.Pointer[C]
	g    *Group[S]
}

// NewRunner checks cfg and d (which needs Tenants; a missing Log becomes a
// discarding one, in *d) and prepares cfg's listeners. Errors start with
// the receiver's name: "syslog: listeners[0].tls: ...".
func NewRunner[C Settings[S], S Spec](name, refused string, cfg C, d *ingest.Deps, h Handlers[S]) (*Runner[C, S], error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := d.Require(name, ingest.NeedTenants); err != nil {
		return nil, err
	}
	g, err := NewGroup(name, refused, *d, h, cfg.Sockets())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	r := &Runner[C, S]{name: name, g: g}
	r.cfg.Store(&cfg)
	return r, nil
}

// Config is the configuration new connections take.
func (r *Runner[C, S]) Config() *C { return r.cfg.Load() }

// Group is the listeners.
func (r *Runner[C, S]) Group() *Group[S] { return r.g }

// Addrs returns the listeners' bound addresses, in configuration order.
// It waits until Run has bound them, and returns nil if Run failed to.
func (r *Runner[C, S]) Addrs() []net.Addr { return r.g.Addrs() }

// Tenants lists the tenants the listeners name.
func (r *Runner[C, S]) Tenants() []tenant.ID { return r.g.Tenants() }

// Run binds every listener and serves until ctx is done (with no listener,
// it just waits for ctx); see Group.Run. An address in use is returned at
// once. A listener whose tenant does not exist yet serves anyway and
// refuses that tenant's senders until it is created.
func (r *Runner[C, S]) Run(ctx context.Context) error {
	if err := r.g.Run(ctx); err != nil {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	return nil
}

// Reload takes cfg while Run serves: listeners added, removed or changed
// start and stop, the others keep their connections (see Group.Reload);
// the other settings apply to new connections. An invalid cfg, or one
// whose TLS files do not load, changes nothing.
func (r *Runner[C, S]) Reload(ctx context.Context, cfg C) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	socks, err := r.g.Prepare(cfg.Sockets())
	if err != nil {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	r.cfg.Store(&cfg)
	if err := r.g.Reload(ctx, socks); err != nil {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	return nil
}
