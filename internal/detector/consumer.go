package detector

import (
	"context"
	"fmt"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/detect"
	"github.com/tarian-soc/tarian/internal/stage"
	"github.com/tarian-soc/tarian/internal/store"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Consumer is one reader of the parsed stream for the detector, with its
// own checkpoint and the correlation state of the tenants it reads: the
// whole stream (the Service's own, named Name) or one bus partition, which
// moves between nodes with its checkpoint and state. It is a
// stage.Consumer; one goroutine drives it.
type Consumer struct {
	s      *Service
	name   string
	cp     store.Checkpoint
	states map[tenant.ID]*detect.State
}

// Consumer returns a consumer with checkpoint name (e.g. "detector.p3").
func (s *Service) Consumer(name string) *Consumer {
	return &Consumer{s: s, name: name, states: map[tenant.ID]*detect.State{}}
}

// Start (re)loads the checkpoint and the correlation state saved with it:
// a batch that failed half-way is evaluated again on the state that had
// not seen it. The detector is a stage.Consumer.
func (s *Service) Start(ctx context.Context) (uint64, error) { return s.def.Start(ctx) }

// Process evaluates a batch (stage.Consumer).
func (s *Service) Process(ctx context.Context, b *stage.Batch) error { return s.def.Process(ctx, b) }

// Idle does nothing: every batch is checkpointed as it is processed.
func (s *Service) Idle(context.Context) error { return nil }

// Idle does nothing: every batch is checkpointed as it is processed.
func (c *Consumer) Idle(context.Context) error { return nil }

// Start (re)loads the consumer's checkpoint and the correlation state
// saved with it.
func (c *Consumer) Start(ctx context.Context) (uint64, error) {
	cp, err := c.s.d.Store.Checkpoint(ctx, c.name)
	if err != nil {
		return 0, fmt.Errorf("detector: read checkpoint: %w", err)
	}
	if err := c.restoreStates(ctx); err != nil {
		return 0, err
	}
	c.cp = cp
	return cp.Done, nil
}

// restoreStates loads each tenant's correlation state as of the checkpoint.
func (c *Consumer) restoreStates(ctx context.Context) error {
	saved, err := c.s.d.Store.CorrelationStates(ctx, c.name)
	if err != nil {
		return fmt.Errorf("detector: read correlation state: %w", err)
	}
	states := map[tenant.ID]*detect.State{}
	for t, b := range saved {
		st := detect.NewState()
		if err := st.UnmarshalBinary(b); err != nil {
			c.s.d.Log.Warn("correlation state unreadable; starting empty", "tenant", t, "err", err)
			continue
		}
		states[t] = st
	}
	c.s.statesMu.Lock()
	for t := range c.states {
		delete(c.s.states, t)
	}
	for t, st := range states {
		c.s.states[t] = st
	}
	c.s.statesMu.Unlock()
	c.states = states
	return nil
}

// Process evaluates the batch's events past the checkpoint, stores the
// alerts and moves the checkpoint with the correlation state.
func (c *Consumer) Process(ctx context.Context, b *stage.Batch) error {
	s := c.s
	rs := s.rs.Load()
	byTenant := map[tenant.ID][]alert.Detection{}
	touched := map[tenant.ID]bool{}
	last := c.cp.Done
	for i := range b.Msgs {
		m := &b.Msgs[i]
		if m.Seq <= c.cp.Done {
			continue
		}
		last = m.Seq
		t := m.Tenant
		st := c.states[t]
		if st == nil {
			st = detect.NewState()
			c.states[t] = st
			s.statesMu.Lock()
			s.states[t] = st
			s.statesMu.Unlock()
		}
		// The tenant's rule switches: a rule switched off raises nothing,
		// but still feeds the correlations that use it and are on.
		st.SetDisabled(rs.disabled[t])
		eng := rs.engineFor(t)
		for j := range m.Events {
			ref := m.Refs[j]
			eng.EvaluateEvent(st, ref, m.Events[j].Fields, func(mt detect.Match) {
				byTenant[t] = append(byTenant[t], detection(ref, m.Records[ref.Idx], m.Events[j].Fields, mt))
			})
			if s.d.Intel != nil {
				fields, rec := m.Events[j].Fields, m.Records[ref.Idx]
				ds := s.d.Intel.Match(ctx, t, fields, func() alert.Detection { return eventDetection(ref, rec, fields) })
				byTenant[t] = append(byTenant[t], ds...)
			}
		}
		if len(m.Events) > 0 {
			touched[t] = true
		}
	}
	if last == c.cp.Done {
		return nil
	}
	for t, ds := range byTenant {
		cs, err := s.d.Alerts.Raise(ctx, t, ds)
		if err != nil {
			return fmt.Errorf("detector: raise alerts of %s: %w", t, err)
		}
		s.d.Metrics.Count("tarian_detections_total", t, len(ds))
		n := 0
		for _, c := range cs {
			if c.What == alert.ChangeCreated {
				n++
			}
		}
		s.d.Metrics.Count("tarian_alerts_total", t, n)
		if s.d.Intel != nil {
			if err := s.d.Intel.Sighted(ctx, t, cs); err != nil {
				return fmt.Errorf("detector: sightings of %s: %w", t, err)
			}
		}
	}
	states := map[tenant.ID][]byte{}
	for t := range touched {
		b, err := c.states[t].MarshalBinary()
		if err != nil {
			return fmt.Errorf("detector: save correlation state of %s: %w", t, err)
		}
		states[t] = b
	}
	cp := store.Checkpoint{Done: last, Pending: last}
	if err := s.d.Store.SaveProgress(ctx, c.name, cp, states); err != nil {
		return fmt.Errorf("detector: checkpoint: %w", err)
	}
	c.cp = cp
	return nil
}
