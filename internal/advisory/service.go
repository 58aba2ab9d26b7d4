package advisory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Store keeps advisories and acknowledgements (store/sqlstore). A member's
// reads name it (viewer, provider false) and see only what is addressed
// to it: another member's advisory is ErrNotFound.
type Store interface {
	CreateAdvisory(ctx context.Context, a Advisory) (Advisory, error)
	Advisory(ctx context.Context, id int64, viewer tenant.ID, provider bool) (Advisory, error)
	Advisories(ctx context.Context, viewer tenant.ID, provider bool) ([]Advisory, error)
	// AckAdvisory records t's acknowledgement once; a second returns the
	// first.
	AckAdvisory(ctx context.Context, id int64, t tenant.ID, by string, at time.Time) (Ack, error)
	// AdvisoryAcks lists the acknowledgements of advisory id: every
	// member's when provider, else viewer's own only.
	AdvisoryAcks(ctx context.Context, id int64, viewer tenant.ID, provider bool) ([]Ack, error)
}

// Intel reads indicators and their sightings (store/sqlstore).
type Intel interface {
	Indicator(ctx context.Context, id string) (intel.Indicator, error)
	Sightings(ctx context.Context, id string, viewer tenant.ID, provider bool) ([]intel.Sighting, error)
}

// Deps are the service's collaborators.
type Deps struct {
	Store Store
	Intel Intel
	// Members lists every member body.
	Members func(ctx context.Context) ([]tenant.ID, error)
	Now     func() time.Time
}

// Service publishes advisories and records acknowledgements.
type Service struct{ d Deps }

// NewService returns the service.
func NewService(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{d: d}
}

// Publish checks a (every named member exists, every indicator may go to
// every recipient under a's marking) and stores it, published now by
// author.
func (s *Service) Publish(ctx context.Context, a Advisory, author string) (Advisory, error) {
	a.ID, a.Author, a.Published = 0, author, s.d.Now().UTC()
	if a.Indicators == nil {
		a.Indicators = []string{}
	}
	if err := a.Validate(); err != nil {
		return a, err
	}
	members, err := s.d.Members(ctx)
	if err != nil {
		return a, err
	}
	for _, t := range a.Audience {
		if !slices.Contains(members, t) {
			return a, fmt.Errorf("%w: audience: %w: %s", ErrInvalid, tenant.ErrNotFound, t)
		}
	}
	recipients := a.Recipients(members)
	for _, id := range a.Indicators {
		i, err := s.d.Intel.Indicator(ctx, id)
		if errors.Is(err, intel.ErrNotFound) {
			return a, fmt.Errorf("%w: indicator %s: not found", ErrInvalid, id)
		}
		if err != nil {
			return a, err
		}
		if err := a.CheckIndicator(i, recipients); err != nil {
			return a, err
		}
	}
	return s.d.Store.CreateAdvisory(ctx, a)
}

// Entry is an advisory as a list shows it: to a member with its own
// acknowledgement, to the provider with how many of its recipients have
// acknowledged.
type Entry struct {
	Advisory
	// Acknowledged is the member's own acknowledgement (members only).
	Acknowledged *Ack `json:"acknowledged,omitempty"`
	// Recipients and Acks count the members it is addressed to and those
	// that have acknowledged (provider only).
	Recipients *int `json:"recipients,omitempty"`
	Acks       *int `json:"acks,omitempty"`
}

// List lists the advisories viewer may read, newest first: every one when
// provider.
func (s *Service) List(ctx context.Context, viewer tenant.ID, provider bool) ([]Entry, error) {
	as, err := s.d.Store.Advisories(ctx, viewer, provider)
	if err != nil {
		return nil, err
	}
	var members []tenant.ID
	if provider {
		if members, err = s.d.Members(ctx); err != nil {
			return nil, err
		}
	}
	out := make([]Entry, 0, len(as))
	for _, a := range as {
		if !provider && !a.AddressedTo(viewer) {
			continue // the store's filter, checked again
		}
		e := Entry{Advisory: a}
		if !provider {
			e.Advisory = a.ForMember(viewer)
		}
		acks, err := s.d.Store.AdvisoryAcks(ctx, a.ID, viewer, provider)
		if err != nil {
			return nil, err
		}
		if provider {
			recip := a.Recipients(members)
			n := 0
			for _, k := range acks {
				if slices.Contains(recip, k.Tenant) {
					n++
				}
			}
			r := len(recip)
			e.Recipients, e.Acks = &r, &n
		} else if k := ownAck(acks, viewer); k != nil {
			e.Acknowledged = k
		}
		out = append(out, e)
	}
	return out, nil
}

func ownAck(acks []Ack, t tenant.ID) *Ack {
	for _, k := range acks {
		if k.Tenant == t {
			return &k
		}
	}
	return nil
}

// MemberStatus is one recipient's acknowledgement (the provider's view).
type MemberStatus struct {
	Tenant       tenant.ID `json:"tenant"`
	Acknowledged bool      `json:"acknowledged"`
	By           string    `json:"by,omitempty"`
	At           time.Time `json:"at,omitzero"`
}

// Seen is where an advised indicator has been seen since publication.
type Seen struct {
	Indicator string   `json:"indicator"`
	Members   []SeenAt `json:"members"`
}

// SeenAt is one member's sightings of an indicator: the last one, and
// whether the advisory is addressed to that member.
type SeenAt struct {
	Tenant    tenant.ID `json:"tenant"`
	LastSeen  time.Time `json:"last_seen"`
	Addressed bool      `json:"addressed"`
}

// Detail is one advisory with its acknowledgements and the sightings of
// its indicators since it was published: every member's for the
// provider, the member's own otherwise.
type Detail struct {
	Advisory Advisory `json:"advisory"`
	// Acknowledged is the member's own acknowledgement (members only).
	Acknowledged *Ack `json:"acknowledged,omitempty"`
	// Members is each recipient's acknowledgement (provider only).
	Members []MemberStatus `json:"members,omitempty"`
	// Pending are the recipients that have not acknowledged (provider
	// only).
	Pending []tenant.ID `json:"pending,omitempty"`
	// Seen is, per advised indicator, where it has been seen since
	// publication (for a member: only at itself).
	Seen []Seen `json:"seen"`
}

// Show returns advisory id as viewer may see it.
func (s *Service) Show(ctx context.Context, id int64, viewer tenant.ID, provider bool) (Detail, error) {
	a, err := s.d.Store.Advisory(ctx, id, viewer, provider)
	if err != nil {
		return Detail{}, err
	}
	if !provider && !a.AddressedTo(viewer) {
		return Detail{}, ErrNotFound
	}
	d := Detail{Advisory: a, Seen: []Seen{}}
	if !provider {
		d.Advisory = a.ForMember(viewer)
	}
	acks, err := s.d.Store.AdvisoryAcks(ctx, id, viewer, provider)
	if err != nil {
		return d, err
	}
	var recip []tenant.ID
	if provider {
		members, err := s.d.Members(ctx)
		if err != nil {
			return d, err
		}
		recip = a.Recipients(members)
		d.Members, d.Pending = []MemberStatus{}, []tenant.ID{}
		for _, t := range recip {
			st := MemberStatus{Tenant: t}
			if k := ownAck(acks, t); k != nil {
				st.Acknowledged, st.By, st.At = true, k.By, k.At
			} else {
				d.Pending = append(d.Pending, t)
			}
			d.Members = append(d.Members, st)
		}
	} else {
		d.Acknowledged = ownAck(acks, viewer)
	}
	for _, ind := range a.Indicators {
		ss, err := s.d.Intel.Sightings(ctx, ind, viewer, provider)
		if err != nil {
			return d, err
		}
		seen := Seen{Indicator: ind, Members: []SeenAt{}}
		for _, sg := range ss {
			// Members only; a feed's sightings (no tenant) are not where
			// it was seen among members.
			if sg.Tenant == "" || sg.LastSeen.Before(a.Published) || (!provider && sg.Tenant != viewer) {
				continue
			}
			if i := slices.IndexFunc(seen.Members, func(m SeenAt) bool { return m.Tenant == sg.Tenant }); i >= 0 {
				if sg.LastSeen.After(seen.Members[i].LastSeen) {
					seen.Members[i].LastSeen = sg.LastSeen
				}
				continue
			}
			seen.Members = append(seen.Members, SeenAt{Tenant: sg.Tenant, LastSeen: sg.LastSeen, Addressed: a.AddressedTo(sg.Tenant)})
		}
		d.Seen = append(d.Seen, seen)
	}
	return d, nil
}

// Acknowledge records that member t (by whom) has read advisory id; it is
// idempotent and returns the first acknowledgement.
func (s *Service) Acknowledge(ctx context.Context, id int64, t tenant.ID, by string) (Ack, error) {
	if t == "" {
		return Ack{}, fmt.Errorf("%w: only a member acknowledges", ErrInvalid)
	}
	a, err := s.d.Store.Advisory(ctx, id, t, false)
	if err != nil {
		return Ack{}, err
	}
	if !a.AddressedTo(t) {
		return Ack{}, ErrNotFound
	}
	return s.d.Store.AckAdvisory(ctx, id, t, by, s.d.Now().UTC())
}
