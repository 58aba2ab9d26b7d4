package sqlstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/tarian-soc/tarian/internal/intel"
)

// BenchmarkObjectsPage reads one TAXII page (100 objects, as a member, the
// shared collection) from the middle of a store of 100,000 object versions.
func BenchmarkObjectsPage(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const n = 100_000
	var mid intel.Object
	for i := 0; i < n; i += 10_000 {
		objs := make([]intel.Object, 0, 10_000)
		for j := range 10_000 {
			objs = append(objs, obj(fmt.Sprintf("indicator--%d", (i+j)/2), (i+j)%2, intel.TLPGreen, ""))
		}
		if _, err := db.PutObjects(ctx, objs); err != nil {
			b.Fatal(err)
		}
		if i == n/2 {
			mid = objs[0]
		}
	}
	q := intel.ObjectQuery{Viewer: "tenant-a", Shared: true, Limit: 100, Next: intel.ObjectCursor(mid)}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		objs, more, err := db.Objects(ctx, q)
		if err != nil || len(objs) != 100 || !more {
			b.Fatalf("%d objects, more %v, %v", len(objs), more, err)
		}
	}
}
