package web

import (
	"context"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// alertLister lists one tenant's alerts in the filter's order, newest
// (or riskiest) first (Alerts does).
type alertLister interface {
	Alerts(ctx context.Context, t tenant.ID, f alert.Filter) ([]alert.Alert, error)
}

// newestAcross returns the first n alerts matching f in its order (newest
// first, or with f.ByRisk riskiest first, or with f.BySLA soonest
// deadline first, then newest; f's Before fields the cursor, f.Limit
// ignored) across the tenants ids (alert
// ids are unique across tenants, so one order pages them all).
//
// Each tenant's alerts come from its own index, newest first, in chunks:
// a k-way merge takes the newest head and asks a tenant for its next chunk
// only when its buffer runs dry. With 25 members and a page of 250, that
// reads about 350 alerts instead of 25 × 250 (which asking each
// tenant for a whole page would).
func newestAcross(ctx context.Context, store alertLister, ids []tenant.ID, f alert.Filter, n int) ([]alert.Alert, error) {
	if len(ids) == 1 {
		f.Limit = n
		return store.Alerts(ctx, ids[0], f)
	}
	// A quarter more than an even share: few refills, little read twice.
	chunk := max(8, (n+len(ids)-1)/len(ids)*5/4+1)
	type source struct {
		buf  []alert.Alert
		next alert.Filter // the query of its next chunk
		done bool         // no more alerts
	}
	srcs := make([]source, len(ids))
	for i := range srcs {
		srcs[i].next = f
		srcs[i].next.Limit = chunk
	}
	fill := func(i int) error {
		s := &srcs[i]
		as, err := store.Alerts(ctx, ids[i], s.next)
		if err != nil {
			return err
		}
		s.buf = as
		if len(as) < chunk {
			s.done = true
		} else {
			s.next = s.next.From(as[len(as)-1])
		}
		return nil
	}
	var out []alert.Alert
	for len(out) < n {
		best := -1
		for i := range srcs {
			if len(srcs[i].buf) == 0 && !srcs[i].done {
				if err := fill(i); err != nil {
					return nil, err
				}
			}
			if len(srcs[i].buf) > 0 && (best < 0 || f.After(srcs[best].buf[0], srcs[i].buf[0])) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		out = append(out, srcs[best].buf[0])
		srcs[best].buf = srcs[best].buf[1:]
	}
	return out, nil
}
