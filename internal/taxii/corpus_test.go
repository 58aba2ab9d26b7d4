package taxii_test

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/taxii"
)

// medallion is the part of the OASIS reference server's test data the
// test reads: one collection's objects and manifest.
type medallion struct {
	Objects  []json.RawMessage
	Manifest []struct {
		ID        string `json:"id"`
		DateAdded string `json:"date_added"`
		Version   string `json:"version"`
		MediaType string `json:"media_type"`
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestTAXIICorpusMedallion loads the reference server's "High Value
// Indicator Collection" into the shared collection, in its date_added
// order, and reads it back as the specification says: the latest
// version of the latest spec version by default, every version on
// request, and a manifest listing the same versions in the same order.
func TestTAXIICorpusMedallion(t *testing.T) {
	dir := corpus(t)
	var data map[string]json.RawMessage
	readJSON(t, filepath.Join(dir, "medallion", "default_data.json"), &data)
	var tg struct {
		Collections []struct {
			ID string `json:"id"`
			medallion
		}
	}
	if err := json.Unmarshal(data["trustgroup1"], &tg); err != nil {
		t.Fatal(err)
	}
	var m medallion
	for _, c := range tg.Collections {
		if c.ID == "91a7b528-80eb-42ed-a74d-c6fbd5a26116" {
			m = c.medallion
		}
	}
	if len(m.Objects) != 8 || len(m.Manifest) != 8 {
		t.Fatalf("corpus collection: %d objects, %d manifest entries; want 8 and 8", len(m.Objects), len(m.Manifest))
	}
	e := newEnv(t, taxii.DefaultConfig())
	prov := spec{t: t, base: e.url, token: e.tokens["provider-admin"]}
	member := spec{t: t, base: e.url, token: e.tokens["b/tenant-viewer"]}
	coll := root + "collections/" + taxii.CollectionID("") + "/"

	// The object of each manifest entry, posted in date_added order. The
	// STIX 2.0 version (no spec_version) is not importable STIX 2.1; it is
	// stored directly, as a server that keeps 2.0 objects would.
	versionOf := func(raw json.RawMessage) (id, version string) {
		var h struct{ ID, Modified, Created string }
		_ = json.Unmarshal(raw, &h)
		v := h.Modified
		if v == "" {
			v = h.Created
		}
		t, _ := intel.ParseTimestamp(v)
		return h.ID, intel.FormatTimestamp(t)
	}
	entries := slices.Clone(m.Manifest)
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].DateAdded < entries[j].DateAdded })
	var order []string
	for _, en := range entries {
		i := slices.IndexFunc(m.Objects, func(o json.RawMessage) bool {
			id, v := versionOf(o)
			return id == en.ID && v == en.Version
		})
		if i < 0 {
			t.Fatalf("manifest entry %s %s has no object", en.ID, en.Version)
		}
		order = append(order, en.ID+" "+en.Version+" "+en.MediaType)
		if strings.HasSuffix(en.MediaType, "version=2.0") {
			ts, _ := intel.ParseTimestamp(en.Version)
			if _, err := e.db.PutObjects(context.Background(), []intel.Object{{ID: en.ID, Type: "malware", Modified: ts, SpecVersion: "2.0", TLP: intel.TLPClear, JSON: m.Objects[i]}}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var st taxii.Status
		prov.do("POST", coll+"objects/", envelopeOf(m.Objects[i])).must(t, 202).decode(t, &st)
		if st.SuccessCount != 1 {
			t.Fatalf("posting %s: %+v", en.ID, st)
		}
	}

	// The manifest of every version lists the corpus's, in its order.
	var man struct {
		More    bool `json:"more"`
		Objects []struct {
			ID        string `json:"id"`
			DateAdded string `json:"date_added"`
			Version   string `json:"version"`
			MediaType string `json:"media_type"`
		} `json:"objects"`
	}
	member.get(coll+"manifest/?match[version]=all&match[spec_version]=2.0,2.1").must(t, 200).decode(t, &man)
	var got []string
	for _, en := range man.Objects {
		got = append(got, en.ID+" "+en.Version+" "+en.MediaType)
	}
	if diff := cmp.Diff(order, got); diff != "" || man.More {
		t.Errorf("manifest of every version (-corpus +served):\n%s", diff)
	}

	// Objects by default: per object, its latest spec version's latest
	// version (the 2.1 malware, though the 2.0 one is newer).
	var env envelope
	member.get(coll+"objects/").must(t, 200).decode(t, &env)
	got = nil
	for _, o := range env.Objects {
		id, v := versionOf(o)
		got = append(got, id+" "+v)
	}
	want := []string{
		"relationship--2f9a9aa9-108a-4333-83e2-4fb25add0463 2014-05-08T09:00:00.000Z",
		"indicator--cd981c25-8042-4166-8945-51178443bdac 2014-05-08T09:00:00.000Z",
		"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da 2017-01-20T00:00:00.000Z",
		"malware--c0931cc6-c75e-47e5-9036-78fabc95d4ec 2017-01-27T13:49:53.997Z",
		"indicator--6770298f-0fd8-471a-ab8c-1c658a46574e 2017-01-27T13:49:53.935Z",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("objects (-want +served):\n%s", diff)
	}
	// The objects come back as they were sent.
	for _, o := range env.Objects {
		id, v := versionOf(o)
		i := slices.IndexFunc(m.Objects, func(c json.RawMessage) bool { a, b := versionOf(c); return a == id && b == v })
		var sent, served any
		_ = json.Unmarshal(m.Objects[i], &sent)
		_ = json.Unmarshal(o, &served)
		if diff := cmp.Diff(sent, served); diff != "" {
			t.Errorf("%s served changed (-sent +served):\n%s", id, diff)
		}
	}
	var vs struct{ Versions []string }
	member.get(coll+"objects/indicator--6770298f-0fd8-471a-ab8c-1c658a46574e/versions/").must(t, 200).decode(t, &vs)
	if diff := cmp.Diff([]string{"2016-11-03T12:30:59.000Z", "2016-12-25T12:30:59.444Z", "2017-01-27T13:49:53.935Z"}, vs.Versions); diff != "" {
		t.Errorf("versions (-want +served):\n%s", diff)
	}
	member.get(coll+"objects/malware--c0931cc6-c75e-47e5-9036-78fabc95d4ec/?match[spec_version]=2.0").must(t, 200).decode(t, env.reset())
	if len(env.Objects) != 1 || !strings.Contains(string(env.Objects[0]), "2018-02-23T18:30:00.000Z") {
		t.Errorf("the STIX 2.0 version: %s", env.Objects)
	}
	member.get(coll+"objects/?match[type]=indicator&match[version]=first").must(t, 200).decode(t, env.reset())
	got = nil
	for _, o := range env.Objects {
		id, v := versionOf(o)
		got = append(got, id+" "+v)
	}
	if diff := cmp.Diff([]string{"indicator--cd981c25-8042-4166-8945-51178443bdac 2014-05-08T09:00:00.000Z",
		"indicator--6770298f-0fd8-471a-ab8c-1c658a46574e 2016-11-03T12:30:59.000Z"}, got); diff != "" {
		t.Errorf("first versions of indicators (-want +served):\n%s", diff)
	}
}

// keys returns the top-level keys of a JSON object.
func keys(t *testing.T, b []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return slices.Sorted(maps.Keys(m))
}

// TestTAXIICorpusSpecExamples checks the server's answers have the shapes
// of the specification's examples (every property the example has), and
// that the example object posted comes back as the example answers show.
func TestTAXIICorpusSpecExamples(t *testing.T) {
	dir := filepath.Join(corpus(t), "spec-examples")
	e := newEnv(t, taxii.DefaultConfig())
	c := spec{t: t, base: e.url, token: e.tokens["a/tenant-analyst"]}
	example := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	has := func(name string, served []byte, except ...string) {
		t.Helper()
		got := keys(t, served)
		for _, k := range keys(t, example(name)) {
			if !slices.Contains(got, k) && !slices.Contains(except, k) {
				t.Errorf("%s has %q; the server's answer has only %v", name, k, got)
			}
		}
	}
	coll := root + "collections/tenant-a/"
	has("discovery_response.json", c.get("/taxii2/").must(t, 200).body)
	has("api_root_response.json", c.get(root).must(t, 200).body)
	var cs struct{ Collections []json.RawMessage }
	c.get(root+"collections/").must(t, 200).decode(t, &cs)
	has("collection_response.json", cs.Collections[0])
	has("collection_response.json", c.get(coll).must(t, 200).body)
	has("writable_collection.json", c.get(coll).must(t, 200).body)

	// The spec's example object, posted as its example envelope.
	r := c.do("POST", coll+"objects/", example("stix_envelope.json")).must(t, 202)
	has("add_objects_response.json", r.body)
	var st taxii.Status
	r.decode(t, &st)
	var want taxii.Status
	_ = json.Unmarshal(example("add_objects_response.json"), &want)
	if st.Status != want.Status || st.SuccessCount != want.SuccessCount || st.TotalCount != want.TotalCount || st.Successes[0].ID != want.Successes[0].ID {
		t.Errorf("add objects: %+v, the example %+v", st, want)
	}
	has("status_response.json", c.get(root+"status/"+st.ID+"/").must(t, 200).body, "failures", "pendings")

	id := "indicator--252c7c11-daf2-42bd-843b-be65edca9f61"
	for _, x := range []struct{ example, path string }{
		{"get_object_response.json", coll + "objects/" + id + "/"},
		{"get_objects_response.json", coll + "objects/"},
	} {
		var ex, served struct {
			Objects []any `json:"objects"`
		}
		_ = json.Unmarshal(example(x.example), &ex)
		body := c.get(x.path).must(t, 200).body
		_ = json.Unmarshal(body, &served)
		if diff := cmp.Diff(ex.Objects, served.Objects); diff != "" {
			t.Errorf("%s (-example +served):\n%s", x.path, diff)
		}
		has(x.example, body)
	}
	var man struct {
		Objects []json.RawMessage `json:"objects"`
	}
	c.get(coll+"manifest/").must(t, 200).decode(t, &man)
	var exMan struct{ Objects []json.RawMessage }
	_ = json.Unmarshal(example("get_manifest_response.json"), &exMan)
	if len(man.Objects) != 1 {
		t.Fatalf("manifest: %d entries", len(man.Objects))
	}
	if diff := cmp.Diff(keys(t, exMan.Objects[0]), keys(t, man.Objects[0])); diff != "" {
		t.Errorf("manifest entry properties (-example +served):\n%s", diff)
	}
}
