// Package match holds every active indicator in a compact in-memory index
// and checks each event's observables against it: exact values by hash,
// domains with their parent domains, addresses against CIDR ranges. One
// million indicators take about a hundred bytes each; an event with ten
// observable fields takes about a microsecond.
package match

import (
	"encoding/hex"
	"hash/maphash"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Hit is one indicator an event matched.
type Hit struct {
	// Indicator is the indicator's ID.
	Indicator string
	// Observable is the indicator's value that matched.
	Observable intel.Observable
	// Field and Value are the event's field and value that matched it.
	Field string
	Value string
}

// slot is one indicator: what deciding whether a hit counts needs.
type slot struct {
	id       [16]byte // the UUID of "indicator--<uuid>"; see names
	name     uint32   // 1+index into names for an ID that is no UUID
	from     uint32   // valid_from, Unix seconds
	until    uint32   // valid_until, Unix seconds; 0 none
	owner    uint16   // 1+index into tenants; 0 the provider
	audience uint16   // 1+index into audiences; 0 all members
	tlp      uint8
	dead     bool
}

// posting links a key to one indicator's observable; several indicators
// may share a value.
type posting struct {
	slot uint32
	next uint32 // 1+index of the next posting of the same key; 0 none
	typ  intel.Type
}

// Index is the matcher's index. It is safe for concurrent use: matching
// takes a read lock, changes a write lock.
type Index struct {
	mu        sync.RWMutex
	seed      maphash.Seed
	keys      map[uint64]uint32 // key hash → 1+index of its first posting
	postings  []posting
	slots     []slot
	ids       map[[16]byte]uint32 // live indicator → its slot
	names     []string
	byName    map[string]uint32
	tenants   []tenant.ID
	tenantIdx map[tenant.ID]uint16
	audiences [][]uint16
	audIdx    map[string]uint16
	// prefixBits[v] has bit b set when a CIDR of b bits is indexed (v 0
	// for IPv4, 1 for IPv6).
	prefixBits [2][3]uint64
	// filter is a one-hash Bloom filter of the keys: most lookups of an
	// event's values end on it, without touching the map.
	filter []uint64
	live   int
}

// The filter holds 2^24 bits (2 MiB): about 6% false positives at one
// million keys.
const (
	filterBits  = 24
	filterShift = 64 - filterBits + 6
)

// New returns an empty index.
func New() *Index {
	return &Index{
		seed: maphash.MakeSeed(), keys: map[uint64]uint32{}, ids: map[[16]byte]uint32{},
		byName: map[string]uint32{}, tenantIdx: map[tenant.ID]uint16{}, audIdx: map[string]uint16{},
		filter: make([]uint64, 1<<(filterBits-6)),
	}
}

// Len is the number of indicators held.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.live
}

func typeSalt(t intel.Type) uint64 {
	var h uint64 = 0xcbf29ce484222325
	for i := 0; i < len(t); i++ {
		h = (h ^ uint64(t[i])) * 0x100000001b3
	}
	return h
}

// The salts of the types looked up on every event, computed once.
var salts = func() map[intel.Type]uint64 {
	m := map[intel.Type]uint64{}
	for _, t := range intel.Types() {
		m[t] = typeSalt(t)
	}
	return m
}()

func (x *Index) key(t intel.Type, v string) uint64 {
	return maphash.String(x.seed, v) ^ salts[t]
}

// addrKey is the key of an address: of its 16 bytes, so no string is
// made on the event path.
func (x *Index) addrKey(a netip.Addr) uint64 {
	b := a.As16()
	if a.Is4() {
		return maphash.Bytes(x.seed, b[:]) ^ salts[intel.TypeIPv4]
	}
	return maphash.Bytes(x.seed, b[:]) ^ salts[intel.TypeIPv6]
}

func (x *Index) prefixKey(p netip.Prefix) uint64 {
	a := p.Addr().As16()
	var h maphash.Hash
	h.SetSeed(x.seed)
	_, _ = h.Write(a[:])
	_ = h.WriteByte(byte(p.Bits()))
	return h.Sum64() ^ salts[intel.TypeCIDR]
}

// uuidOf reads the UUID of a STIX id ("type--uuid").
func uuidOf(id string) ([16]byte, bool) {
	var u [16]byte
	_, s, ok := strings.Cut(id, "--")
	if !ok || len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return u, false
	}
	return u, true
}

func formatUUID(u [16]byte) string {
	h := hex.EncodeToString(u[:])
	return "indicator--" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func unix32(t time.Time) uint32 {
	if t.IsZero() || t.Unix() <= 0 {
		return 0
	}
	if t.Unix() >= 1<<32-1 {
		return 1<<32 - 1
	}
	return uint32(t.Unix())
}

func (x *Index) tenantRef(t tenant.ID) uint16 {
	if t == "" {
		return 0
	}
	if i, ok := x.tenantIdx[t]; ok {
		return i
	}
	x.tenants = append(x.tenants, t)
	i := uint16(len(x.tenants))
	x.tenantIdx[t] = i
	return i
}

func (x *Index) audienceRef(ts []tenant.ID) uint16 {
	if ts == nil {
		return 0
	}
	refs := make([]uint16, 0, len(ts))
	var k strings.Builder
	for _, t := range ts {
		refs = append(refs, x.tenantRef(t))
		k.WriteString(string(t) + ",")
	}
	if i, ok := x.audIdx[k.String()]; ok {
		return i
	}
	x.audiences = append(x.audiences, refs)
	i := uint16(len(x.audiences))
	x.audIdx[k.String()] = i
	return i
}

// Put adds indicator i, replacing an earlier version of it; a revoked
// indicator is removed. Observables must be normalised (intel.Normalize).
func (x *Index) Put(i intel.Indicator) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.remove(i.ID)
	if i.Revoked || len(i.Observables) == 0 {
		return
	}
	s := slot{from: unix32(i.ValidFrom), until: unix32(i.ValidUntil), owner: x.tenantRef(i.Owner), audience: x.audienceRef(i.Audience), tlp: uint8(i.TLP.Rank())}
	u, isUUID := uuidOf(i.ID)
	if isUUID {
		s.id = u
	} else {
		x.names = append(x.names, i.ID)
		s.name = uint32(len(x.names))
	}
	x.slots = append(x.slots, s)
	n := uint32(len(x.slots) - 1)
	if isUUID {
		x.ids[u] = n
	} else {
		x.byName[i.ID] = n
	}
	x.live++
	for _, o := range i.Observables {
		if o.Warninglist != "" {
			continue
		}
		var k uint64
		if o.Type == intel.TypeCIDR {
			p, err := netip.ParsePrefix(o.Value)
			if err != nil {
				continue
			}
			v := 0
			bits := p.Bits()
			if p.Addr().Is6() {
				v = 1
			} else {
				p = netip.PrefixFrom(netip.AddrFrom16(p.Addr().As16()), bits)
			}
			x.prefixBits[v][bits/64] |= 1 << (bits % 64)
			k = x.prefixKey(p)
		} else if o.Type == intel.TypeIPv4 || o.Type == intel.TypeIPv6 {
			a, err := netip.ParseAddr(o.Value)
			if err != nil {
				continue
			}
			k = x.addrKey(a.Unmap())
		} else {
			k = x.key(o.Type, o.Value)
		}
		x.filter[k>>filterShift] |= 1 << (k & 63)
		x.postings = append(x.postings, posting{slot: n, next: x.keys[k], typ: o.Type})
		x.keys[k] = uint32(len(x.postings))
	}
}

// Remove removes indicator id.
func (x *Index) Remove(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.remove(id)
}

func (x *Index) remove(id string) {
	var (
		n  uint32
		ok bool
	)
	if u, isUUID := uuidOf(id); isUUID {
		if n, ok = x.ids[u]; ok {
			delete(x.ids, u)
		}
	} else if n, ok = x.byName[id]; ok {
		delete(x.byName, id)
	}
	if ok {
		x.slots[n].dead = true
		x.live--
	}
}

func (x *Index) idOf(s *slot) string {
	if s.name > 0 {
		return x.names[s.name-1]
	}
	return formatUUID(s.id)
}

// viewer is the tenant a match is for, resolved once per event.
type viewer struct {
	ref   uint16
	known bool
	now   uint32
}

// applies mirrors intel.Indicator.AppliesTo on the compact slot.
func (x *Index) applies(s *slot, v viewer) bool {
	if s.dead || uint32(s.from) > v.now || s.until != 0 && s.until <= v.now {
		return false
	}
	if s.owner != 0 {
		return v.known && s.owner == v.ref
	}
	if s.audience == 0 {
		return s.tlp < uint8(intel.TLPAmberStrict.Rank())
	}
	if !v.known {
		return false
	}
	for _, r := range x.audiences[s.audience-1] {
		if r == v.ref {
			return true
		}
	}
	return false
}
