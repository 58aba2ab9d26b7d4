package vlogs

import (
	"hash/maphash"
	"slices"
	"strings"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
)

// rowOrder puts a row's fields in name order before the engine sorts
// them: it sorts every row's fields by name (sort.Sort) when it turns its
// row buffer into a part, and on a row already in order that sort only
// checks it, at about a tenth of the cost. Rows of one kind of event have
// the same names in the same order, so the order is found once for each
// such shape, remembered by the hash of its names, and then applied as a
// permutation.
//
// The engine sorts every row anyway, so what is stored does not depend on
// the order given here: a hash shared by two shapes of the same length
// (a chance in 2^64) only costs the engine a full sort of the row. A row
// with a name twice is left as it is, as before.
//
// A rowOrder is used by one Add at a time (Store.orders).
type rowOrder struct {
	// perms are the orders of the shapes seen, by their names' hash:
	// perm[i] is the field that goes i-th; an empty perm keeps the row
	// as it is.
	perms map[uint64][]int32
	tmp   []logstorage.Field
	idx   []int32
}

// maxShapes bounds the shapes a rowOrder remembers (a few hundred bytes
// each); past it, it forgets them all and starts again.
const maxShapes = 4096

var shapeSeed = maphash.MakeSeed()

func newRowOrder() *rowOrder {
	return &rowOrder{perms: make(map[uint64][]int32)}
}

// sort puts fields in name order, as the engine will.
func (o *rowOrder) sort(fields []logstorage.Field) {
	if len(fields) < 2 {
		return
	}
	h := uint64(len(fields))
	for i := range fields {
		h = h*0x100000001b3 ^ maphash.String(shapeSeed, fields[i].Name)
	}
	perm, ok := o.perms[h]
	if !ok || len(perm) != 0 && len(perm) != len(fields) {
		perm = o.permOf(fields)
		if len(o.perms) >= maxShapes {
			clear(o.perms)
		}
		o.perms[h] = perm
	}
	if len(perm) == 0 {
		return
	}
	o.tmp = append(o.tmp[:0], fields...)
	for i, j := range perm {
		fields[i] = o.tmp[j]
	}
	clear(o.tmp) // hold no values
}

// permOf returns the order of fields' names (empty if a name is there
// twice).
func (o *rowOrder) permOf(fields []logstorage.Field) []int32 {
	idx := o.idx[:0]
	for i := range fields {
		idx = append(idx, int32(i))
	}
	o.idx = idx
	slices.SortFunc(idx, func(a, b int32) int { return strings.Compare(fields[a].Name, fields[b].Name) })
	for i := 1; i < len(idx); i++ {
		if fields[idx[i]].Name == fields[idx[i-1]].Name {
			return []int32{}
		}
	}
	return slices.Clone(idx)
}
