package stix

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/intel"
)

// corpus returns the shared test corpus folder, skipping the test when
// TARIAN_CORPUS is not set.
func corpus(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("TARIAN_CORPUS")
	if dir == "" {
		t.Skip("TARIAN_CORPUS is not set: skipping the corpus test (set it to the shared corpus folder)")
	}
	return dir
}

func corpusBundles(t *testing.T) []string {
	dir := filepath.Join(corpus(t), "intel", "stix")
	var files []string
	for _, g := range []string{"examples/*.json", "examples/*/*.json", "tlp/*.json"} {
		m, err := filepath.Glob(filepath.Join(dir, g))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatalf("no STIX files under %s", dir)
	}
	return files
}

// inputObjects lists the ids of the objects in a bundle, object or array.
func inputObjects(t *testing.T, data []byte) []string {
	var top struct {
		Type    string            `json:"type"`
		ID      string            `json:"id"`
		Objects []json.RawMessage `json:"objects"`
	}
	var objs []json.RawMessage
	if err := json.Unmarshal(data, &objs); err != nil {
		if err := json.Unmarshal(data, &top); err != nil {
			t.Fatal(err)
		}
		objs = top.Objects
		if top.Type != "bundle" {
			objs = []json.RawMessage{data}
		}
	}
	var ids []string
	for _, o := range objs {
		var c struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(o, &c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	return ids
}

// TestCorpusEveryObjectAccounted: every corpus STIX object is kept, or
// reported with a reason; every indicator is imported or reported.
func TestCorpusEveryObjectAccounted(t *testing.T) {
	total, kept, indicators, skipped := 0, 0, 0, 0
	for _, f := range corpusBundles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			b, err := ParseBundle(data, intel.ImportOptions{Source: "corpus"})
			if err != nil {
				t.Fatal(err)
			}
			ids := inputObjects(t, data)
			total += len(ids)
			kept += len(b.Objects)
			indicators += len(b.Indicators)
			reasons := map[string]string{}
			for _, s := range b.Skipped {
				if s.Reason == "" {
					t.Errorf("skip %s without a reason", s.Ref)
				}
				reasons[s.Ref] += s.Reason + "; "
			}
			objs := map[string]intel.Object{}
			for _, o := range b.Objects {
				objs[o.ID] = o
			}
			inds := map[string]bool{}
			for _, i := range b.Indicators {
				inds[i.ID] = true
				if err := i.Validate(); err != nil {
					t.Errorf("indicator %s does not validate: %v", i.ID, err)
				}
			}
			for _, id := range ids {
				_, ok := objs[id]
				switch {
				case !ok && reasons[id] == "":
					t.Errorf("object %s neither kept nor reported", id)
				case !ok:
					skipped++
				case strings.HasPrefix(id, "indicator--") && !inds[id] && reasons[id] == "":
					t.Errorf("indicator %s kept but neither imported nor reported", id)
				}
			}
		})
	}
	t.Logf("corpus: %d objects, %d kept, %d indicators, %d rejected", total, kept, indicators, skipped)
}

func TestCorpusSpecifics(t *testing.T) {
	dir := filepath.Join(corpus(t), "intel", "stix", "examples")
	parse := func(name string) intel.Batch {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := ParseBundle(data, intel.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// The negative interop test: a campaign with an unknown marking.
	b := parse("interop-objectmarking-test.json")
	if len(b.Objects) != 0 || len(b.Skipped) != 1 || !strings.Contains(b.Skipped[0].Reason, "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ec") {
		t.Errorf("interop-objectmarking-test: objects %d, skipped %+v", len(b.Objects), b.Skipped)
	}
	b = parse("threat-reports/apt1.json")
	var patternOnly []string
	for _, i := range b.Indicators {
		if len(i.Observables) == 0 {
			patternOnly = append(patternOnly, i.Pattern)
		}
	}
	if len(b.Indicators) != 12 || len(patternOnly) != 2 || !strings.Contains(patternOnly[0], "x509-certificate") {
		t.Errorf("apt1: %d indicators, pattern-only %q", len(b.Indicators), patternOnly)
	}
	if got := b.Indicators[0].Observables; !slices.Equal(got, []intel.Observable{{Type: intel.TypeCIDR, Value: "223.166.0.0/15"}}) {
		t.Errorf("apt1 first indicator: %v", got)
	}
	b = parse("indicators-for-C2-with-COA.json")
	if len(b.Indicators) != 2 || b.Indicators[0].Source != "The MITRE Corporation - DHS Support Team" {
		t.Errorf("C2 with COA: %+v", b.Indicators)
	}
	b = parse("threat-reports/poisonivy.json")
	if len(b.Indicators) != 25 || len(b.Skipped) != 0 || len(b.Notes) != 1 || !strings.Contains(b.Notes[0].Reason, "domain autuo.xicp.net") {
		t.Errorf("poisonivy: %d indicators, skipped %+v, notes %+v", len(b.Indicators), b.Skipped, b.Notes)
	}
}

// TestCorpusRoundTrip: ParseBundle(Bundle(objects)) gives the same
// objects and indicators.
func TestCorpusRoundTrip(t *testing.T) {
	for _, f := range corpusBundles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			opts := intel.ImportOptions{Source: "rt", Owner: "council-a"}
			b1, err := ParseBundle(data, opts)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Bundle(b1.Objects)
			if err != nil {
				t.Fatal(err)
			}
			b2, err := ParseBundle(out, opts)
			if err != nil {
				t.Fatal(err)
			}
			// Bundle adds the TLP markings the objects reference.
			var objs2 []intel.Object
			for _, o := range b2.Objects {
				if !slices.ContainsFunc(b1.Objects, func(p intel.Object) bool { return p.ID == o.ID }) {
					if o.Type != "marking-definition" {
						t.Errorf("round trip added %s", o.ID)
					}
					continue
				}
				objs2 = append(objs2, o)
			}
			if d := cmp.Diff(b1.Objects, objs2); d != "" {
				t.Errorf("objects differ (-first +second):\n%s", d)
			}
			if d := cmp.Diff(b1.Indicators, b2.Indicators); d != "" {
				t.Errorf("indicators differ (-first +second):\n%s", d)
			}
			out2, err := Bundle(b2.Objects[len(b2.Objects)-len(objs2):])
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != string(out2) {
				t.Errorf("Bundle is not deterministic")
			}
		})
	}
}
