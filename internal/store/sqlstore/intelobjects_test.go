package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/taxii"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// obj is a version of a STIX indicator; modified is minutes after 2024-01-01.
func obj(id string, minute int, tlp intel.TLP, owner tenant.ID, audience ...tenant.ID) intel.Object {
	mod := time.Date(2024, 1, 1, 0, minute, 0, 0, time.UTC)
	raw, _ := json.Marshal(map[string]any{"type": "indicator", "spec_version": "2.1", "id": id, "created": "2024-01-01T00:00:00.000Z",
		"modified": intel.FormatTimestamp(mod), "pattern": "[ipv4-addr:value = '192.0.2.1']", "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"})
	return intel.Object{ID: id, Type: "indicator", Modified: mod, SpecVersion: "2.1", TLP: tlp, Owner: owner, Audience: audience, JSON: raw}
}

func ids(objs []intel.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, fmt.Sprintf("%s@%d", o.ID, o.Modified.Minute()))
	}
	return out
}

func TestObjectsPutIsIdempotentAndStampsAdded(t *testing.T) {
	backends(t, testObjectsPutIsIdempotentAndStampsAdded)
}

func testObjectsPutIsIdempotentAndStampsAdded(t *testing.T, open func(testing.TB) *DB) {
	ctx := context.Background()
	db := open(t)
	batch := []intel.Object{obj("indicator--1", 1, intel.TLPGreen, ""), obj("indicator--1", 2, intel.TLPGreen, ""), obj("indicator--2", 1, intel.TLPGreen, "")}
	n, err := db.PutObjects(ctx, batch)
	if err != nil || n != 3 {
		t.Fatalf("PutObjects: %d, %v; want 3", n, err)
	}
	for i := 1; i < len(batch); i++ {
		if !batch[i].Added.After(batch[i-1].Added) {
			t.Errorf("Added not strictly increasing: %v then %v", batch[i-1].Added, batch[i].Added)
		}
		if batch[i].Added.Nanosecond()%1000 != 0 {
			t.Errorf("Added %v has sub-microsecond digits", batch[i].Added)
		}
	}
	again := []intel.Object{obj("indicator--1", 2, intel.TLPGreen, "")}
	if n, err := db.PutObjects(ctx, again); err != nil || n != 0 {
		t.Fatalf("second PutObjects: %d, %v; want 0", n, err)
	}
	if !again[0].Added.Equal(batch[1].Added) {
		t.Errorf("re-put version got Added %v, want the stored %v", again[0].Added, batch[1].Added)
	}
	all, more, err := db.Objects(ctx, intel.ObjectQuery{Provider: true, Versions: []string{"all"}})
	if err != nil || more || len(all) != 3 {
		t.Fatalf("Objects: %v %v %v", ids(all), more, err)
	}
	if _, err := db.PutObjects(ctx, []intel.Object{{ID: "x--1", Type: "x"}}); err == nil {
		t.Error("an object without a version was stored")
	}
}

func TestObjectsVersionsAndPages(t *testing.T) { backends(t, testObjectsVersionsAndPages) }

func testObjectsVersionsAndPages(t *testing.T, open func(testing.TB) *DB) {
	ctx := context.Background()
	db := open(t)
	var objs []intel.Object
	for i := range 5 {
		for v := 1; v <= 3; v++ {
			objs = append(objs, obj(fmt.Sprintf("indicator--%d", i), v, intel.TLPClear, ""))
		}
	}
	if _, err := db.PutObjects(ctx, objs); err != nil {
		t.Fatal(err)
	}
	q := intel.ObjectQuery{Viewer: "tenant-a"}
	get := func(q intel.ObjectQuery) []string {
		t.Helper()
		out, _, err := db.Objects(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return ids(out)
	}
	q.IDs = []string{"indicator--1"}
	for _, c := range []struct {
		versions []string
		want     []string
	}{
		{nil, []string{"indicator--1@3"}},
		{[]string{"first"}, []string{"indicator--1@1"}},
		{[]string{"first", "last"}, []string{"indicator--1@1", "indicator--1@3"}},
		{[]string{"all"}, []string{"indicator--1@1", "indicator--1@2", "indicator--1@3"}},
		{[]string{"2024-01-01T00:02:00Z"}, []string{"indicator--1@2"}},
	} {
		q.Versions = c.versions
		if diff := cmp.Diff(c.want, get(q)); diff != "" {
			t.Errorf("versions %v (-want +got):\n%s", c.versions, diff)
		}
	}
	// Pages of 2 of every version, in the order added, end to end.
	q = intel.ObjectQuery{Viewer: "tenant-a", Versions: []string{"all"}, Limit: 2}
	var got []string
	for pages := 0; ; pages++ {
		out, more, err := db.Objects(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ids(out)...)
		if !more {
			if pages != 7 {
				t.Errorf("%d pages, want 8", pages+1)
			}
			break
		}
		q.Next = intel.ObjectCursor(out[len(out)-1])
	}
	if diff := cmp.Diff(ids(objs), got); diff != "" {
		t.Errorf("paged (-want +got):\n%s", diff)
	}
	// added_after is exclusive.
	q = intel.ObjectQuery{Viewer: "tenant-a", Versions: []string{"all"}, AddedAfter: objs[12].Added}
	if diff := cmp.Diff(ids(objs[13:]), get(q)); diff != "" {
		t.Errorf("added_after (-want +got):\n%s", diff)
	}
	if _, _, err := db.Objects(ctx, intel.ObjectQuery{Viewer: "tenant-a", Next: "garbage"}); err == nil {
		t.Error("a bad cursor was accepted")
	}
}

func TestObjectsLatestSpecVersion(t *testing.T) { backends(t, testObjectsLatestSpecVersion) }

func testObjectsLatestSpecVersion(t *testing.T, open func(testing.TB) *DB) {
	ctx := context.Background()
	db := open(t)
	old := obj("malware--1", 9, intel.TLPClear, "")
	old.SpecVersion = "2.0"
	cur := obj("malware--1", 1, intel.TLPClear, "")
	if _, err := db.PutObjects(ctx, []intel.Object{old, cur}); err != nil {
		t.Fatal(err)
	}
	q := intel.ObjectQuery{Viewer: "tenant-a"}
	out, _, _ := db.Objects(ctx, q)
	if diff := cmp.Diff([]string{"malware--1@1"}, ids(out)); diff != "" {
		t.Errorf("no spec_version filter: the latest spec version's latest version (-want +got):\n%s", diff)
	}
	q.SpecVersions = []string{"2.0"}
	out, _, _ = db.Objects(ctx, q)
	if diff := cmp.Diff([]string{"malware--1@9"}, ids(out)); diff != "" {
		t.Errorf("spec_version 2.0 (-want +got):\n%s", diff)
	}
}

// TestObjectsCrossTenant pins the sharing rule: a member reads its own
// objects and the provider's shared with all (but never AMBER+STRICT or
// RED ones) or with it by name; never another member's.
func TestObjectsCrossTenant(t *testing.T) { backends(t, testObjectsCrossTenant) }

func testObjectsCrossTenant(t *testing.T, open func(testing.TB) *DB) {
	ctx := context.Background()
	db := open(t)
	put := []intel.Object{
		obj("indicator--a-own", 0, intel.TLPRed, "tenant-a"),
		obj("indicator--b-own", 0, intel.TLPClear, "tenant-b"),
		obj("indicator--all-green", 0, intel.TLPGreen, ""),
		obj("indicator--all-red", 0, intel.TLPRed, ""),
		obj("indicator--all-strict", 0, intel.TLPAmberStrict, ""),
		obj("indicator--to-a-red", 0, intel.TLPRed, "", "tenant-a"),
		obj("indicator--to-b", 0, intel.TLPAmber, "", "tenant-b"),
		obj("indicator--to-nobody", 0, intel.TLPClear, "", []tenant.ID{}...),
	}
	put[7].Audience = []tenant.ID{}
	if _, err := db.PutObjects(ctx, put); err != nil {
		t.Fatal(err)
	}
	// A member's second copy of the provider's object stays its own.
	if _, err := db.PutObjects(ctx, []intel.Object{obj("indicator--to-b", 0, intel.TLPAmber, "tenant-b")}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		q    intel.ObjectQuery
		want []string
	}{
		{"a, everything", intel.ObjectQuery{Viewer: "tenant-a"}, []string{"indicator--a-own@0", "indicator--all-green@0", "indicator--to-a-red@0"}},
		{"b, everything", intel.ObjectQuery{Viewer: "tenant-b"}, []string{"indicator--b-own@0", "indicator--all-green@0", "indicator--to-b@0"}},
		{"c, everything", intel.ObjectQuery{Viewer: "tenant-c"}, []string{"indicator--all-green@0"}},
		{"a, shared", intel.ObjectQuery{Viewer: "tenant-a", Shared: true}, []string{"indicator--all-green@0"}},
		{"a, its collection", intel.ObjectQuery{Viewer: "tenant-a", Member: "tenant-a"}, []string{"indicator--a-own@0", "indicator--to-a-red@0"}},
		{"a, b's collection", intel.ObjectQuery{Viewer: "tenant-a", Member: "tenant-b"}, nil},
		{"a asks for b's by id", intel.ObjectQuery{Viewer: "tenant-a", IDs: []string{"indicator--b-own", "indicator--to-b", "indicator--all-red"}}, nil},
		{"provider, shared", intel.ObjectQuery{Provider: true, Shared: true}, []string{"indicator--all-green@0", "indicator--all-red@0", "indicator--all-strict@0"}},
		{"provider, b's collection", intel.ObjectQuery{Provider: true, Member: "tenant-b"}, []string{"indicator--b-own@0", "indicator--to-b@0"}},
		{"no viewer", intel.ObjectQuery{}, nil},
	} {
		got, _, err := db.Objects(ctx, c.q)
		if c.name == "no viewer" {
			if err == nil {
				t.Errorf("%s: no error", c.name)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if diff := cmp.Diff(c.want, ids(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
		for _, o := range got {
			if !intel.ObjectVisibleTo(o, c.q.Viewer, c.q.Provider) {
				t.Errorf("%s: %s returned but not visible by intel.ObjectVisibleTo", c.name, o.ID)
			}
		}
	}
	// The provider sharing the same version with a again widens the
	// audience and gives it a new date_added, so a's poll sees it.
	again := []intel.Object{obj("indicator--to-b", 0, intel.TLPAmber, "", "tenant-a")}
	if n, err := db.PutObjects(ctx, again); err != nil || n != 1 {
		t.Fatalf("widen: %d %v", n, err)
	}
	got, _, _ := db.Objects(ctx, intel.ObjectQuery{Viewer: "tenant-a", Member: "tenant-a", IDs: []string{"indicator--to-b"}})
	if len(got) != 1 || !got[0].Added.Equal(again[0].Added) || !cmp.Equal(got[0].Audience, []tenant.ID{"tenant-b", "tenant-a"}) {
		t.Errorf("widened object as a sees it: %+v", got)
	}

	// Deleting: a member its own versions only, the provider any.
	del := func(q intel.ObjectQuery) int {
		t.Helper()
		q.Versions = []string{"all"}
		n, err := db.DeleteObjects(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := del(intel.ObjectQuery{Viewer: "tenant-a", IDs: []string{"indicator--b-own", "indicator--to-a-red", "indicator--all-green"}}); n != 0 {
		t.Errorf("a deleted %d objects it does not own", n)
	}
	if n := del(intel.ObjectQuery{Viewer: "tenant-a", IDs: []string{"indicator--a-own"}}); n != 1 {
		t.Errorf("a deleted %d of its own, want 1", n)
	}
	if n := del(intel.ObjectQuery{Provider: true, Member: "tenant-b", IDs: []string{"indicator--to-b"}}); n != 2 {
		t.Errorf("provider deleted %d versions in b's collection, want 2 (b's copy and its own)", n)
	}
}

func TestObjectsTAXIIStatusAndFeeds(t *testing.T) { backends(t, testObjectsTAXIIStatusAndFeeds) }

func testObjectsTAXIIStatusAndFeeds(t *testing.T, open func(testing.TB) *DB) {
	ctx := context.Background()
	db := open(t)
	st := taxii.Status{ID: "s-1", Status: "complete", TotalCount: 1, SuccessCount: 1, Successes: []taxii.StatusDetail{{ID: "indicator--1", Version: "2024-01-01T00:00:00.000Z"}}, Owner: "tenant-a"}
	if err := db.SaveTAXIIStatus(ctx, st); err != nil {
		t.Fatal(err)
	}
	got, err := db.TAXIIStatus(ctx, "s-1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(st, got); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	if _, err := db.TAXIIStatus(ctx, "s-2"); !errors.Is(err, taxii.ErrNotFound) {
		t.Errorf("unknown status: %v", err)
	}
	if c, err := db.TAXIIFeedCheckpoint(ctx, "feed"); c != "" || err != nil {
		t.Errorf("new feed: %q %v", c, err)
	}
	for _, want := range []string{"2024-01-01T00:00:00.000001Z", "2024-01-02T00:00:00.000001Z"} {
		if err := db.SetTAXIIFeedCheckpoint(ctx, "feed", want); err != nil {
			t.Fatal(err)
		}
		if c, err := db.TAXIIFeedCheckpoint(ctx, "feed"); c != want || err != nil {
			t.Errorf("checkpoint: %q %v, want %q", c, err, want)
		}
	}
}
