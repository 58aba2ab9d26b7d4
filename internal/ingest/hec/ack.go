package hec

import (
	"container/list"
	"sync"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// maxChannels bounds the channels remembered per tenant; the least recently
// used is forgotten first. A forgotten channel answers false for its old
// ackIds, so its client resends (at least once, never lost).
const maxChannels = 10_000

// acks issues indexer acknowledgement IDs per (tenant, channel). A request
// is answered only once its events are durable, so every ackId issued is
// already true: a channel needs only the next ID to issue.
type acks struct {
	mu      sync.Mutex
	tenants map[tenant.ID]*channels
}

// channels is one tenant's channels, most recently used at the front.
type channels struct {
	byID map[string]*list.Element
	lru  list.List
}

type channel struct {
	id   string
	next int64
}

func newAcks() *acks { return &acks{tenants: map[tenant.ID]*channels{}} }

// get returns tenant t's channel ch, made on first use and marked used.
func (a *acks) get(t tenant.ID, ch string, create bool) *channel {
	cs := a.tenants[t]
	if cs == nil {
		if !create {
			return nil
		}
		cs = &channels{byID: map[string]*list.Element{}}
		a.tenants[t] = cs
	}
	if e, ok := cs.byID[ch]; ok {
		cs.lru.MoveToFront(e)
		return e.Value.(*channel)
	}
	if !create {
		return nil
	}
	if cs.lru.Len() >= maxChannels {
		old := cs.lru.Back()
		cs.lru.Remove(old)
		delete(cs.byID, old.Value.(*channel).id)
	}
	c := &channel{id: ch}
	cs.byID[ch] = cs.lru.PushFront(c)
	return c
}

// issue returns the next ackId of tenant t's channel ch.
func (a *acks) issue(t tenant.ID, ch string) int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.get(t, ch, true)
	id := c.next
	c.next++
	return id
}

// status says, for each id, whether it was issued on tenant t's channel ch
// (and so is durable).
func (a *acks) status(t tenant.ID, ch string, ids []int64) []bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.get(t, ch, false)
	out := make([]bool, len(ids))
	for i, id := range ids {
		out[i] = c != nil && id >= 0 && id < c.next
	}
	return out
}
