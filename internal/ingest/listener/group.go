package listener

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Spec is a receiver's configuration of one listener: a Config, alone or
// embedded in the receiver's own listener type with its extra settings
// (Forward's shared key). Base returns the Config.
type Spec interface{ Base() Config }

// Base returns c: a Config is a Spec by itself.
func (c Config) Base() Config { return c }

// Socket is one listener of a Group, ready to serve: its Spec, the
// Listener made of it (allow-list parsed, TLS files loaded), and its index
// in the configuration.
type Socket[S Spec] struct {
	*Listener
	Spec  S
	Index int
}

// Handlers are what a receiver does on its sockets.
type Handlers[S Spec] struct {
	// Conn serves one stream (TCP or TLS) connection, authenticated as
	// tenant t, which exists, until it ends or ctx is done (the listener
	// stops). The Group closes c when Conn returns.
	Conn func(ctx context.Context, s *Socket[S], c net.Conn, t tenant.ID, from netip.Addr)
	// Packets reads a UDP socket until ctx is done or the socket is
	// closed, checking each sender with Group.Admit; nil for a receiver
	// without UDP.
	Packets func(ctx context.Context, s *Socket[S], pc *net.UDPConn)
}

// missingLogEvery is how often the refusals of one listener's missing
// tenant are logged.
const missingLogEvery = time.Minute

// Group runs a receiver's listeners. It binds them, accepts and
// authenticates each connection, checks that the sender's tenant exists
// (through Deps.Tenants, once per connection), and hands the connection to
// the receiver. A tenant that does not exist yet does not stop anything:
// its senders are refused, with a log line now and then, until it is
// created. Reload changes the listeners while the Group runs.
type Group[S Spec] struct {
	name    string
	refused string // the metric of refused senders
	d       ingest.Deps
	h       Handlers[S]

	reloads chan reload[S]
	ready   chan struct{}
	once    sync.Once
	done    chan struct{} // closed when Run returns

	mu      sync.Mutex
	state   int // idle, running, stopped
	initial []*Socket[S]
	cur     []*bound[S]
	bound   bool // the first bind succeeded

	missMu   sync.Mutex
	missing  map[missKey]*missState
	nMissing atomic.Int32
}

const (
	idle = iota
	running
	stopped
)

type reload[S Spec] struct {
	socks []*Socket[S]
	done  chan error
}

// bound is a socket being served.
type bound[S Spec] struct {
	sock   atomic.Pointer[Socket[S]] // replaced on a reload that keeps it
	closer io.Closer
	ln     net.Listener // stream sockets
	pc     *net.UDPConn // UDP sockets
	addr   net.Addr
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type missKey struct {
	listen string
	tenant tenant.ID
}

type missState struct {
	last       time.Time
	suppressed int
}

// NewGroup prepares the listeners of receiver name (see Prepare). refused
// is the counter of refused senders. d must have Tenants, Metrics and Log.
func NewGroup[S Spec](name, refused string, d ingest.Deps, h Handlers[S], specs []S) (*Group[S], error) {
	g := &Group[S]{
		name: name, refused: refused, d: d, h: h,
		reloads: make(chan reload[S]), ready: make(chan struct{}), done: make(chan struct{}),
		missing: map[missKey]*missState{},
	}
	socks, err := g.Prepare(specs)
	if err != nil {
		return nil, err
	}
	g.initial = socks
	return g, nil
}

// Prepare makes specs ready to serve, loading their TLS files, without
// changing anything. Errors name the listener: "listeners[1].tls: ...".
func (g *Group[S]) Prepare(specs []S) ([]*Socket[S], error) {
	socks := make([]*Socket[S], 0, len(specs))
	for i, s := range specs {
		l, err := New(s.Base(), g.d.Log)
		if err != nil {
			return nil, fmt.Errorf("listeners[%d].%w", i, err)
		}
		socks = append(socks, &Socket[S]{Listener: l, Spec: s, Index: i})
	}
	return socks, nil
}

// Addrs returns the bound addresses, in configuration order. It waits
// until Run has bound the first listeners, and returns nil if it failed
// to.
func (g *Group[S]) Addrs() []net.Addr {
	<-g.ready
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.bound {
		return nil
	}
	out := make([]net.Addr, 0, len(g.cur))
	for _, b := range g.cur {
		out = append(out, b.addr)
	}
	return out
}

// Tenants lists the tenants the current listeners name.
func (g *Group[S]) Tenants() []tenant.ID {
	g.mu.Lock()
	defer g.mu.Unlock()
	socks := g.initial
	if g.state != idle {
		socks = socks[:0:0]
		for _, b := range g.cur {
			socks = append(socks, b.sock.Load())
		}
	}
	var out []tenant.ID
	for _, s := range socks {
		for _, t := range s.Config.Tenants() {
			out = append(out, tenant.ID(t))
		}
	}
	return out
}

// Run binds every listener and serves until ctx is done (with none, it
// just waits for ctx). A listener that cannot bind (an address in use)
// is returned at once. On the way out it closes the listeners, lets the
// receiver finish each connection, and returns once all are done.
func (g *Group[S]) Run(ctx context.Context) error {
	defer close(g.done)
	defer g.once.Do(func() { close(g.ready) })
	g.mu.Lock()
	if g.state != idle {
		g.mu.Unlock()
		return errors.New("BUG: listener.Group run twice")
	}
	g.state = running
	socks := g.initial
	g.mu.Unlock()
	var cur []*bound[S]
	for _, s := range socks {
		b, err := g.bind(ctx, s)
		if err != nil {
			g.stop(cur, false)
			g.setState(stopped, nil)
			return fmt.Errorf("listeners[%d]: %w", s.Index, err)
		}
		cur = append(cur, b)
	}
	g.mu.Lock()
	g.cur, g.bound = cur, true
	g.mu.Unlock()
	g.once.Do(func() { close(g.ready) })
	for _, b := range cur {
		g.start(ctx, b)
	}
	for {
		select {
		case <-ctx.Done():
			g.setState(stopped, nil)
			g.stop(cur, false)
			return nil
		case req := <-g.reloads:
			var err error
			cur, err = g.apply(ctx, cur, req.socks)
			req.done <- err
		}
	}
}

func (g *Group[S]) setState(st int, cur []*bound[S]) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.state = st
	if cur != nil {
		g.cur = cur
	}
}

// Reload serves socks (from Prepare) in place of the current listeners:
// a listener whose Spec is unchanged keeps running with its connections
// (it takes socks' TLS files for new connections: a renewed certificate),
// a removed one stops (its connections end as at shutdown), a new one
// starts, and a changed one is stopped, then started again. Listeners
// that cannot bind are left out and named in the error; the others run.
// Before Run, socks replace the configured listeners.
func (g *Group[S]) Reload(ctx context.Context, socks []*Socket[S]) error {
	g.mu.Lock()
	switch g.state {
	case idle:
		g.initial = socks
		g.mu.Unlock()
		return nil
	case stopped:
		g.mu.Unlock()
		return errors.New("listeners stopped")
	}
	g.mu.Unlock()
	req := reload[S]{socks: socks, done: make(chan error, 1)}
	select {
	case g.reloads <- req:
	case <-g.done:
		return errors.New("listeners stopped")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// apply does a Reload in Run's goroutine.
func (g *Group[S]) apply(ctx context.Context, cur []*bound[S], socks []*Socket[S]) ([]*bound[S], error) {
	keep := make([]*bound[S], len(socks))
	used := make([]bool, len(cur))
	for i, s := range socks {
		for j, b := range cur {
			if !used[j] && reflect.DeepEqual(b.sock.Load().Spec, s.Spec) {
				keep[i], used[j] = b, true
				break
			}
		}
	}
	var gone []*bound[S]
	for j, b := range cur {
		if !used[j] {
			gone = append(gone, b)
		}
	}
	g.stop(gone, true)
	var errs []error
	next := make([]*bound[S], 0, len(socks))
	for i, s := range socks {
		b := keep[i]
		if b != nil {
			b.sock.Store(s)
		} else {
			var err error
			if b, err = g.bind(ctx, s); err != nil {
				g.d.Log.Error(g.name+" listener not started", "receiver", g.name, "protocol", s.Protocol, "listen", s.Address(), "err", err)
				errs = append(errs, fmt.Errorf("listeners[%d]: %w", s.Index, err))
				continue
			}
			g.start(ctx, b)
		}
		next = append(next, b)
	}
	g.setState(running, next)
	return next, errors.Join(errs...)
}

// bind opens s's socket.
func (g *Group[S]) bind(ctx context.Context, s *Socket[S]) (*bound[S], error) {
	var lc net.ListenConfig
	b := &bound[S]{}
	b.sock.Store(s)
	if s.Protocol == "udp" {
		pc, err := lc.ListenPacket(ctx, "udp", s.Address())
		if err != nil {
			return nil, err
		}
		b.pc, b.closer, b.addr = pc.(*net.UDPConn), pc, pc.LocalAddr()
		return b, nil
	}
	ln, err := lc.Listen(ctx, "tcp", s.Address())
	if err != nil {
		return nil, err
	}
	b.ln, b.closer, b.addr = ln, ln, ln.Addr()
	return b, nil
}

// start serves b until ctx (Run's) is done or b is stopped.
func (g *Group[S]) start(ctx context.Context, b *bound[S]) {
	ctx, cancel := context.WithCancel(ctx)
	b.cancel = cancel
	stop := context.AfterFunc(ctx, func() { b.closer.Close() })
	s := b.sock.Load()
	b.wg.Go(func() {
		defer stop()
		if b.pc != nil {
			g.h.Packets(ctx, s, b.pc)
			return
		}
		Accept(ctx, b.ln, &b.wg, g.d.Log, g.name, func(c net.Conn) { g.serveConn(ctx, b, c) })
	})
	g.d.Log.Info(g.name+" listening", "receiver", g.name, "protocol", s.Protocol, "addr", b.addr.String())
}

// stop closes bs and waits until their connections are done.
func (g *Group[S]) stop(bs []*bound[S], log bool) {
	for _, b := range bs {
		if b.cancel == nil { // bound, never started
			b.closer.Close()
			continue
		}
		b.cancel()
	}
	for _, b := range bs {
		b.wg.Wait()
		if log {
			s := b.sock.Load()
			g.d.Log.Info(g.name+" listener stopped", "receiver", g.name, "protocol", s.Protocol, "addr", b.addr.String())
		}
	}
}

// serveConn authenticates c and hands it to the receiver.
func (g *Group[S]) serveConn(ctx context.Context, b *bound[S], c net.Conn) {
	defer c.Close()
	s := b.sock.Load()
	from := RemoteAddr(c.RemoteAddr())
	// sc is c, or the TLS connection over it; closing c ends either.
	sc, t, err := s.Authenticate(ctx, c)
	if err != nil {
		g.Refuse(s, from, err.Error())
		return
	}
	if !g.Admit(ctx, s, t, from) {
		return
	}
	g.h.Conn(ctx, s, sc, t, from)
}

// Refuse counts and logs a sender that is not served.
func (g *Group[S]) Refuse(s *Socket[S], from netip.Addr, reason string) {
	g.d.Metrics.Count(g.refused, "", 1)
	g.d.Log.Warn(g.name+" sender refused", "receiver", g.name, "protocol", s.Protocol, "listen", s.Address(), "remote", from.String(), "reason", reason)
}

// Admit reports whether tenant t, which s's configuration gives a sender,
// exists. A sender of a tenant not created yet is refused and counted;
// the refusal is logged at most once a minute per listener and tenant,
// and once the tenant exists, its first sender is logged as accepted.
func (g *Group[S]) Admit(ctx context.Context, s *Socket[S], t tenant.ID, from netip.Addr) bool {
	_, err := g.d.Tenants.Tenant(ctx, t)
	key := missKey{s.Address(), t}
	if err == nil {
		if g.nMissing.Load() > 0 {
			g.missMu.Lock()
			if _, ok := g.missing[key]; ok {
				delete(g.missing, key)
				g.nMissing.Add(-1)
				g.d.Log.Info(g.name+" tenant now exists; accepting its senders", "receiver", g.name, "protocol", s.Protocol, "listen", s.Address(), "tenant", string(t))
			}
			g.missMu.Unlock()
		}
		return true
	}
	g.d.Metrics.Count(g.refused, "", 1)
	reason := fmt.Sprintf("tenant %q: %v", t, err)
	if errors.Is(err, tenant.ErrNotFound) {
		reason = fmt.Sprintf("tenant %q does not exist yet; its senders are refused until it is created (tarian tenant add %s)", t, t)
	}
	now := time.Now()
	g.missMu.Lock()
	m := g.missing[key]
	if m == nil {
		m = &missState{}
		g.missing[key] = m
		g.nMissing.Add(1)
	}
	logIt := m.last.IsZero() || now.Sub(m.last) >= missingLogEvery
	suppressed := m.suppressed
	if logIt {
		m.last, m.suppressed = now, 0
	} else {
		m.suppressed++
	}
	g.missMu.Unlock()
	if logIt {
		g.d.Log.Warn(g.name+" sender refused", "receiver", g.name, "protocol", s.Protocol, "listen", s.Address(), "remote", from.String(), "tenant", string(t), "reason", reason, "suppressed", suppressed)
	}
	return false
}
