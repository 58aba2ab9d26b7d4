package vlogs

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/google/go-cmp/cmp"
)

// engineSorted is a row as the engine sorts it (logRows.sortFieldsInRows).
func engineSorted(fields []logstorage.Field) []logstorage.Field {
	out := slices.Clone(fields)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func TestRowOrder(t *testing.T) {
	o := newRowOrder()
	row := func(names ...string) []logstorage.Field {
		var fs []logstorage.Field
		for i, n := range names {
			fs = append(fs, logstorage.Field{Name: n, Value: fmt.Sprint("v", i)})
		}
		return fs
	}
	for _, tc := range []struct {
		name string
		row  []logstorage.Field
	}{
		{"empty", nil},
		{"one", row("a")},
		{"reversed", row("z", "y", "b", "a")},
		{"same shape again", row("z", "y", "b", "a")},
		{"same names, another order", row("a", "z", "b", "y")},
		{"a name more", row("z", "y", "b", "a", "m")},
		{"sorted", row("_msg", "a", "b.c", "b_c")},
	} {
		got := slices.Clone(tc.row)
		o.sort(got)
		if diff := cmp.Diff(engineSorted(tc.row), got); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tc.name, diff)
		}
	}
	// A name twice: left as it is, for the engine.
	dup := row("b", "a", "b")
	got := slices.Clone(dup)
	o.sort(got)
	if diff := cmp.Diff(dup, got); diff != "" {
		t.Errorf("a name twice: (-want +got)\n%s", diff)
	}
	// Forgetting past maxShapes keeps it right.
	r := rand.New(rand.NewPCG(1, 2))
	for i := range maxShapes + 10 {
		fs := row(fmt.Sprint("f", i), "x", fmt.Sprint("e", r.IntN(100)))
		got := slices.Clone(fs)
		o.sort(got)
		if !slices.IsSortedFunc(got, func(a, b logstorage.Field) int { return strings.Compare(a.Name, b.Name) }) {
			t.Fatalf("row %d not sorted: %v", i, got)
		}
	}
	if len(o.perms) > maxShapes {
		t.Errorf("%d shapes remembered, at most %d", len(o.perms), maxShapes)
	}
}
