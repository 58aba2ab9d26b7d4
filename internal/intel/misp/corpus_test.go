package misp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/intel"
)

func corpus(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("TARIAN_CORPUS")
	if dir == "" {
		t.Skip("TARIAN_CORPUS is not set: skipping the corpus test (set it to the shared corpus folder)")
	}
	return dir
}

// TestCorpusFeed imports the corpus feed and proves that every attribute
// of every event is accounted for (an indicator or a skip per attribute,
// per type) and that the events' values match hashes.csv.
func TestCorpusFeed(t *testing.T) {
	dir := filepath.Join(corpus(t), "intel", "misp", "feed-circl-osint")
	b, err := ParseFeed(dir, intel.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	uuids, err := Manifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	// Counts per event and type from the event files.
	want := map[string]int{} // "event|type" → attributes
	computed := map[string][]string{}
	total := 0
	for _, u := range uuids {
		data, err := os.ReadFile(filepath.Join(dir, u+".json"))
		if err != nil {
			t.Fatal(err)
		}
		counts, err := TypeCounts(data)
		if err != nil {
			t.Fatal(err)
		}
		for typ, n := range counts {
			want[u+"|"+typ] += n
			total += n
		}
		ev, hs, err := ValueHashes(data)
		if err != nil || ev != u {
			t.Fatalf("%s: %v (event %s)", u, err, ev)
		}
		computed[u] = hs
	}
	// What the import says: an indicator or a skip per attribute.
	got := map[string]int{}
	for _, i := range b.Indicators {
		ev, typ := eventAndType(i.Tags)
		got[ev+"|"+typ]++
		if err := i.Validate(); err != nil {
			t.Errorf("%s: %v", i.ID, err)
		}
	}
	attrRef := map[string]bool{}
	for _, s := range b.Skipped {
		switch {
		case strings.HasPrefix(s.Ref, "event ") && strings.Contains(s.Ref, " attribute "):
			attrRef[s.Ref] = true
		case s.Ref == "manifest.original-act-workers.json":
			// A file that is not part of the feed: reported.
		default:
			t.Errorf("unexpected report %+v", s)
		}
	}
	if n := len(b.Indicators) + len(attrRef); n != total {
		t.Errorf("indicators %d + skipped attributes %d = %d, want the %d attributes of the events", len(b.Indicators), len(attrRef), n, total)
	}
	// Per type: indicators of each type never exceed the attributes of
	// that type, and with the skips they add up (checked per event).
	skippedByEventType := map[string]int{}
	for _, u := range uuids {
		data, _ := os.ReadFile(filepath.Join(dir, u+".json"))
		evs, _ := decodeEvents(data)
		for _, e := range evs {
			eachAttribute(&e, func(a *attribute) {
				if attrRef["event "+e.UUID+" attribute "+a.UUID] {
					skippedByEventType[e.UUID+"|"+a.Type]++
				}
			})
		}
	}
	for k, n := range want {
		if got[k]+skippedByEventType[k] != n {
			t.Errorf("%s: %d indicators + %d skipped, want %d attributes", k, got[k], skippedByEventType[k], n)
		}
	}
	// hashes.csv agrees with the events.
	f, err := os.Open(filepath.Join(dir, "hashes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	listed, err := ReadHashes(f)
	if err != nil {
		t.Fatal(err)
	}
	if diffs := CompareHashes(computed, listed); len(diffs) != 0 {
		t.Errorf("hashes.csv differs from the events: %v", diffs)
	}
	lines := 0
	for _, hs := range listed {
		lines += len(hs)
	}
	t.Logf("feed: %d events, %d attributes, %d indicators, %d skipped attributes, %d hashes.csv lines", len(uuids), total, len(b.Indicators), len(attrRef), lines)
}

// eventAndType reads the misp-event and misp-type tags.
func eventAndType(tags []string) (ev, typ string) {
	for _, t := range tags {
		if v, ok := strings.CutPrefix(t, "misp-event:"); ok {
			ev = v
		}
		if v, ok := strings.CutPrefix(t, "misp-type:"); ok {
			typ = v
		}
	}
	return ev, typ
}

func TestCorpusFixtures(t *testing.T) {
	dir := filepath.Join(corpus(t), "intel", "misp", "fixtures")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	notEvents := map[string]bool{"galaxy.json": true, "search_index_result.json": true, "sharing_groups.json": true, "sighting.json": true}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ParseEvent(data, intel.ImportOptions{})
		name := filepath.Base(f)
		if notEvents[name] {
			if err == nil {
				t.Errorf("%s: parsed as an event", name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		counts, _ := TypeCounts(data)
		n := 0
		for _, c := range counts {
			n += c
		}
		if len(b.Indicators)+len(b.Skipped) != n {
			t.Errorf("%s: %d indicators + %d skipped, want %d attributes", name, len(b.Indicators), len(b.Skipped), n)
		}
		t.Logf("%s: %d attributes, %d indicators, %d sightings", name, n, len(b.Indicators), len(b.Sightings))
	}
}
