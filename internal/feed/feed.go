// Package feed fans out live changes (alerts, cases) to subscribers in
// process: the live stream's hub. Publish never blocks: each subscriber
// has a bounded buffer, and one that falls behind gets an Overflow
// message and is dropped, never silently skipped. A small ring of recent
// messages lets a subscriber resume after the last message it saw.
//
// Who may see a message is the subscriber's decision (its filter); the
// hub knows nothing of roles or principals.
package feed

import (
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// Kind is what a message is about.
type Kind string

// Kinds of messages.
const (
	KindAlert Kind = "alert"
	KindCase  Kind = "case"
	// KindOverflow ends a subscription whose buffer filled up: its ID is
	// the first message the subscriber missed.
	KindOverflow Kind = "overflow"
	// KindReset starts a resumed subscription when messages after the
	// resume point are no longer held (or came before a restart): its ID
	// is the oldest message still held (the subscriber missed those before).
	KindReset Kind = "reset"
)

// Message is one change.
type Message struct {
	// ID is set by Publish: increasing, also across restarts (the hub
	// numbers from its start time in microseconds).
	ID     uint64
	Tenant tenant.ID
	Kind   Kind
	// What is the change: created, updated, or the analyst's verb (ack,
	// assign, resolve, escalate, reopen, comment, ...).
	What string
	// Actor is who made the change ("" for Tarian itself).
	Actor string
	// Internal messages are for the provider's roles only, such as a
	// change of a case not escalated to its member.
	Internal bool
	// Data is the changed object as one JSON value; subscribers share it
	// and must not modify it.
	Data json.RawMessage
}

// Config sizes the hub.
type Config struct {
	// Buffer is how many messages a subscriber may lag behind before it
	// is dropped with an Overflow message.
	Buffer int `yaml:"buffer"`
	// History is how many recent messages are kept for resuming.
	History int `yaml:"history"`
	// Keepalive is how often an idle stream sends a comment, so proxies
	// and clients see the connection is alive.
	Keepalive time.Duration `yaml:"keepalive"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Buffer: 256, History: 1024, Keepalive: 15 * time.Second}
}

// Validate reports the first bad setting.
func (c Config) Validate() error {
	switch {
	case c.Buffer < 1:
		return errors.New("buffer: must be at least 1")
	case c.History < 0:
		return errors.New("history: must not be negative")
	case c.Keepalive <= 0:
		return errors.New("keepalive: must be more than 0")
	}
	return nil
}

// ErrClosed is a subscription to a closed hub.
var ErrClosed = errors.New("feed closed")

// Hub fans messages out to subscribers. It is safe for concurrent use.
type Hub struct {
	cfg Config

	mu     sync.Mutex
	next   uint64
	ring   []Message // the last cfg.History messages, oldest at head
	head   int
	subs   map[*sub]struct{}
	closed bool
}

type sub struct {
	ch     chan Message
	filter func(Message) bool
}

// New returns a hub; its first message's ID is the current Unix time in
// microseconds.
func New(cfg Config) *Hub {
	return &Hub{cfg: cfg, next: uint64(time.Now().UnixMicro()), subs: map[*sub]struct{}{}}
}

// Config returns the hub's configuration.
func (h *Hub) Config() Config { return h.cfg }

// Publish numbers m, keeps it for resuming, and hands it to every
// subscriber whose filter accepts it, without waiting for any. It returns
// m with its ID.
func (h *Hub) Publish(m Message) Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return m
	}
	m.ID = h.next
	h.next++
	if h.cfg.History > 0 {
		if len(h.ring) < h.cfg.History {
			h.ring = append(h.ring, m)
		} else {
			h.ring[h.head] = m
			h.head = (h.head + 1) % len(h.ring)
		}
	}
	for s := range h.subs {
		if s.filter(m) {
			h.send(s, m)
		}
	}
	return m
}

// send hands m to s, or, when s's buffer is full, an Overflow message in
// the slot kept for it, and drops s. Only the hub sends, under h.mu, so
// the length check cannot race with another send.
func (h *Hub) send(s *sub, m Message) {
	if len(s.ch) < cap(s.ch)-1 {
		s.ch <- m
		return
	}
	s.ch <- Message{ID: m.ID, Kind: KindOverflow}
	close(s.ch)
	delete(h.subs, s)
}

// Subscribe returns a channel of the messages filter accepts, from now
// on, and a func that ends the subscription. The channel is closed when
// the subscription ends: by cancel, by Close, or after an Overflow
// message when the subscriber fell Buffer messages behind.
func (h *Hub) Subscribe(filter func(Message) bool) (<-chan Message, func()) {
	ch, cancel, _ := h.subscribe(0, false, filter)
	return ch, cancel
}

// Resume is Subscribe starting after message after: the held messages
// since then that filter accepts come first. When some are no longer
// held (after is older than the ring, or from before a restart), a Reset
// message comes first. It returns ErrClosed once the hub is closed.
func (h *Hub) Resume(after uint64, filter func(Message) bool) (<-chan Message, func(), error) {
	return h.subscribe(after, true, filter)
}

func (h *Hub) subscribe(after uint64, resume bool, filter func(Message) bool) (<-chan Message, func(), error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		ch := make(chan Message)
		close(ch)
		return ch, func() {}, ErrClosed
	}
	var backlog []Message
	if resume {
		// The oldest message held, or the next one when none is.
		oldest := h.next
		if len(h.ring) > 0 {
			oldest = h.ring[h.head].ID
		}
		if after+1 < oldest || after >= h.next {
			backlog = append(backlog, Message{ID: oldest, Kind: KindReset})
		}
		for i := range h.ring {
			m := h.ring[(h.head+i)%len(h.ring)]
			if m.ID > after && after < h.next && filter(m) {
				backlog = append(backlog, m)
			}
		}
	}
	// The backlog fits on top of the buffer, and one slot more is kept
	// for an Overflow message.
	s := &sub{ch: make(chan Message, h.cfg.Buffer+len(backlog)+1), filter: filter}
	for _, m := range backlog {
		s.ch <- m
	}
	h.subs[s] = struct{}{}
	cancel := func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.subs[s]; ok {
			close(s.ch)
			delete(h.subs, s)
		}
	}
	return s.ch, cancel, nil
}

// Close ends every subscription (their channels close) and refuses new
// ones; later Publish calls are dropped. Call it when the server shuts
// down, so open streams end.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		close(s.ch)
		delete(h.subs, s)
	}
}
