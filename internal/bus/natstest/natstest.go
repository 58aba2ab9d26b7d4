// Package natstest runs a clustered NATS JetStream in the test process: n
// nats-server nodes routed to each other, each with a client port on
// 127.0.0.1 and a file store (fsync on every write, as the embedded bus) in
// the test's temporary directory. Nodes can be killed and restarted to test
// fail-over; everything stops when the test ends.
package natstest

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// maxPayload matches the bus's embedded server: one record at the ingest
// line limit plus framing fits in a message.
const maxPayload = 8 << 20

// readyTimeout bounds a node's start and the cluster's first leader election.
const readyTimeout = 30 * time.Second

// Cluster is a running test cluster.
type Cluster struct {
	t     testing.TB
	mu    sync.Mutex
	opts  []*server.Options
	nodes []*server.Server // nil while killed
}

// Start starts an n-node JetStream cluster and waits until it has a
// meta leader. It stops when the test ends.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	if n < 1 {
		t.Fatalf("natstest: %d nodes", n)
	}
	ports := freePorts(t, 2*n)
	routes := make([]*url.URL, n)
	for i := range n {
		routes[i] = &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", ports[n+i])}
	}
	dir := t.TempDir()
	c := &Cluster{t: t, opts: make([]*server.Options, n), nodes: make([]*server.Server, n)}
	for i := range n {
		c.opts[i] = &server.Options{
			ServerName:         fmt.Sprintf("n%d", i),
			Host:               "127.0.0.1",
			Port:               ports[i],
			Cluster:            server.ClusterOpts{Name: "natstest", Host: "127.0.0.1", Port: ports[n+i]},
			Routes:             routes,
			JetStream:          true,
			StoreDir:           filepath.Join(dir, fmt.Sprintf("n%d", i)),
			SyncAlways:         true,
			MaxPayload:         maxPayload,
			JetStreamMaxMemory: 64 << 20,
			JetStreamMaxStore:  64 << 30, // a limit, not an allocation: room for the bus default
			NoSigs:             true,
			NoLog:              true,
		}
		if n == 1 {
			c.opts[i].Cluster = server.ClusterOpts{}
			c.opts[i].Routes = nil
		}
	}
	t.Cleanup(c.stop)
	for i := range n {
		c.start(i)
	}
	c.WaitReady()
	return c
}

// freePorts returns n distinct free TCP ports on 127.0.0.1.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, n)
	ls := make([]net.Listener, n)
	for i := range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("natstest: free port: %v", err)
		}
		ls[i] = l
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

func (c *Cluster) start(i int) {
	c.t.Helper()
	o := c.opts[i].Clone()
	s, err := server.NewServer(o)
	if err != nil {
		c.t.Fatalf("natstest: node %d: %v", i, err)
	}
	s.Start()
	if !s.ReadyForConnections(readyTimeout) {
		s.Shutdown()
		c.t.Fatalf("natstest: node %d not ready after %s", i, readyTimeout)
	}
	c.mu.Lock()
	c.nodes[i] = s
	c.mu.Unlock()
}

func (c *Cluster) stop() {
	c.mu.Lock()
	nodes := append([]*server.Server(nil), c.nodes...)
	clear(c.nodes)
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range nodes {
		if s == nil {
			continue
		}
		wg.Go(func() {
			s.Shutdown()
			s.WaitForShutdown()
		})
	}
	wg.Wait()
}

// N returns the number of nodes, running or not.
func (c *Cluster) N() int { return len(c.opts) }

// URL returns every node's client URL, comma-separated: what bus.Config.URL
// takes. The URLs stay valid across Kill and Restart.
func (c *Cluster) URL() string {
	urls := make([]string, len(c.opts))
	for i := range c.opts {
		urls[i] = c.NodeURL(i)
	}
	return strings.Join(urls, ",")
}

// NodeURL returns node i's client URL alone.
func (c *Cluster) NodeURL(i int) string {
	return fmt.Sprintf("nats://127.0.0.1:%d", c.opts[i].Port)
}

// Server returns node i, or nil while it is killed.
func (c *Cluster) Server(i int) *server.Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i]
}

// Kill stops node i at once: no lame-duck period, clients are cut off
// (the nearest to kill -9 in one process; nats-server still steps down the
// Raft groups the node leads on its way out, so elections start at once
// rather than after a missed heartbeat). Its store stays for Restart.
func (c *Cluster) Kill(i int) {
	c.mu.Lock()
	s := c.nodes[i]
	c.nodes[i] = nil
	c.mu.Unlock()
	if s == nil {
		return
	}
	s.Shutdown()
	s.WaitForShutdown()
}

// Restart starts killed node i again on the same ports and store, and
// waits until it is ready for clients (not until it has caught up: see
// WaitCurrent).
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	if c.Server(i) != nil {
		c.t.Fatalf("natstest: node %d is running", i)
	}
	c.start(i)
}

// WaitReady waits until the running nodes agree on a JetStream meta leader,
// each is current with it, and the leader counts every running node as an
// online peer (before that, a replicated stream may find "no suitable
// peers for placement").
func (c *Cluster) WaitReady() {
	c.t.Helper()
	c.waitFor("the JetStream meta leader and its peers", func() bool {
		var leader *server.Server
		leaders, running := 0, 0
		for i := range c.opts {
			s := c.Server(i)
			if s == nil {
				continue
			}
			running++
			if !s.JetStreamIsCurrent() {
				return false
			}
			if s.JetStreamIsLeader() {
				leaders++
				leader = s
			}
		}
		if len(c.opts) == 1 {
			return true
		}
		return leaders == 1 && len(leader.JetStreamClusterPeers()) >= running
	})
}

// StreamLeader returns the index of the node leading stream (in the
// default account), or -1 when none does right now.
func (c *Cluster) StreamLeader(stream string) int {
	if len(c.opts) == 1 { // not clustered: the one node has it, if anyone
		if _, ok := c.StreamState(0, stream); ok {
			return 0
		}
		return -1
	}
	for i := range c.opts {
		if s := c.Server(i); s != nil && s.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, stream) {
			return i
		}
	}
	return -1
}

// StreamState returns node i's own replica of stream: what that node has
// stored, which may trail the leader.
func (c *Cluster) StreamState(i int, stream string) (server.StreamState, bool) {
	s := c.Server(i)
	if s == nil {
		return server.StreamState{}, false
	}
	info, err := s.Jsz(&server.JSzOptions{Accounts: true, Streams: true})
	if err != nil {
		return server.StreamState{}, false
	}
	for _, a := range info.AccountDetails {
		for _, sd := range a.Streams {
			if sd.Name == stream {
				return sd.State, true
			}
		}
	}
	return server.StreamState{}, false
}

// WaitCurrent waits until every running node's replica of stream holds
// the same last sequence and message count as the leader's.
func (c *Cluster) WaitCurrent(stream string) {
	c.t.Helper()
	c.waitFor("every replica of "+stream+" to catch up", func() bool {
		l := c.StreamLeader(stream)
		if l < 0 {
			return false
		}
		want, ok := c.StreamState(l, stream)
		if !ok {
			return false
		}
		for i := range c.opts {
			if c.Server(i) == nil {
				continue
			}
			got, ok := c.StreamState(i, stream)
			if !ok || got.LastSeq != want.LastSeq || got.Msgs != want.Msgs {
				return false
			}
		}
		return true
	})
}

func (c *Cluster) waitFor(what string, ok func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for !ok() {
		if time.Now().After(deadline) {
			c.t.Fatalf("natstest: waited %s for %s", readyTimeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
