package taxii_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/intel/stix"
	"github.com/tarian-soc/tarian/internal/taxii"
)

// indicator is a STIX 2.1 indicator named name (its id derives from it),
// version minute past 2024-01-01, marked tlp ("" unmarked).
func indicator(name string, minute int, tlp intel.TLP) json.RawMessage {
	o := map[string]any{
		"type": "indicator", "spec_version": "2.1", "id": stix.DeterministicID("indicator", name),
		"created":  "2024-01-01T00:00:00.000Z",
		"modified": intel.FormatTimestamp(time.Date(2024, 1, 1, 0, minute, 0, 0, time.UTC)),
		"name":     name, "pattern": "[domain-name:value = '" + name + ".example']", "pattern_type": "stix",
		"valid_from": "2024-01-01T00:00:00Z",
	}
	if tlp != "" {
		o["object_marking_refs"] = []string{tlp.MarkingID()}
	}
	b, _ := json.Marshal(o)
	return b
}

// reset empties e for the next answer to decode into.
func (e *envelope) reset() *envelope { *e = envelope{}; return e }

func envelopeOf(objs ...json.RawMessage) []byte {
	b, _ := json.Marshal(map[string]any{"objects": objs})
	return b
}

type envelope struct {
	More    *bool             `json:"more"`
	Next    string            `json:"next"`
	Objects []json.RawMessage `json:"objects"`
}

func names(objs []json.RawMessage) []string {
	var out []string
	for _, o := range objs {
		var v struct{ Name string }
		_ = json.Unmarshal(o, &v)
		out = append(out, v.Name)
	}
	slices.Sort(out)
	return out
}

const root = "/taxii2/tarian/"

// TestTAXIIEndToEnd drives the server as a TAXII 2.1 client would:
// discovery, API root, collections, adding objects and reading their
// status, objects page by page, versions, manifest, deletion; and checks
// who sees what.
func TestTAXIIEndToEnd(t *testing.T) {
	e := newEnv(t, taxii.DefaultConfig())
	as := func(who string) spec { return spec{t: t, base: e.url, token: e.tokens[who]} }
	prov := as("provider-admin")

	// Discovery and the API root.
	var disc struct {
		Title    string   `json:"title"`
		Default  string   `json:"default"`
		APIRoots []string `json:"api_roots"`
	}
	prov.get("/taxii2/").must(t, 200).decode(t, &disc)
	if disc.Default != e.url+root || !slices.Equal(disc.APIRoots, []string{e.url + root}) || disc.Title == "" {
		t.Fatalf("discovery: %+v", disc)
	}
	var apiRoot struct {
		Versions         []string `json:"versions"`
		MaxContentLength int64    `json:"max_content_length"`
	}
	as("b/tenant-viewer").get(strings.TrimPrefix(disc.APIRoots[0], e.url)).must(t, 200).decode(t, &apiRoot)
	if !slices.Equal(apiRoot.Versions, []string{taxii.MediaType}) || apiRoot.MaxContentLength != taxii.DefaultConfig().MaxContentLength {
		t.Fatalf("api root: %+v", apiRoot)
	}

	// Collections: one shared, one per member; can_write per caller.
	type coll struct {
		ID, Title, Alias string
		R                bool     `json:"can_read"`
		W                bool     `json:"can_write"`
		MediaTypes       []string `json:"media_types"`
	}
	colls := func(who string) map[string]coll {
		var out struct{ Collections []coll }
		as(who).get(root+"collections/").must(t, 200).decode(t, &out)
		m := map[string]coll{}
		for _, c := range out.Collections {
			if !slices.Equal(c.MediaTypes, []string{taxii.STIXMediaType}) {
				t.Errorf("collection %s media_types %v", c.Alias, c.MediaTypes)
			}
			m[c.Alias] = c
		}
		return m
	}
	rw := func(c coll) string { return fmt.Sprintf("%v/%v", c.R, c.W) }
	for _, c := range []struct {
		who  string
		want map[string]string
	}{
		{"provider-admin", map[string]string{"Shared": "true/true", "tenant-a": "true/true", "tenant-b": "true/true"}},
		{"provider-analyst", map[string]string{"Shared": "true/true", "tenant-a": "true/true", "tenant-b": "true/true"}},
		{"a/tenant-admin", map[string]string{"Shared": "true/false", "tenant-a": "true/true"}},
		{"a/tenant-analyst", map[string]string{"Shared": "true/false", "tenant-a": "true/true"}},
		{"b/tenant-viewer", map[string]string{"Shared": "true/false", "tenant-b": "true/false"}},
	} {
		got := map[string]string{}
		for alias, co := range colls(c.who) {
			got[alias] = rw(co)
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("collections of %s (-want +got):\n%s", c.who, diff)
		}
	}
	shared := colls("provider-admin")["Shared"].ID
	collA := colls("provider-admin")["tenant-a"].ID
	if shared != taxii.CollectionID("") || collA != taxii.CollectionID("tenant-a") {
		t.Fatalf("collection ids %s %s", shared, collA)
	}
	var one coll
	as("a/tenant-viewer").get(root+"collections/"+collA+"/").must(t, 200).decode(t, &one)
	if one.ID != collA || one.Alias != "tenant-a" {
		t.Errorf("collection by id: %+v", one)
	}

	// Adding objects: the provider shares five GREEN indicators and a RED
	// one with all, and a RED one with member a alone; a adds its own.
	var greens []json.RawMessage
	for i := range 5 {
		greens = append(greens, indicator(fmt.Sprintf("green-%d", i), 1, intel.TLPGreen))
	}
	post := func(who, coll string, body []byte) taxii.Status {
		t.Helper()
		var st taxii.Status
		as(who).do("POST", root+"collections/"+coll+"/objects/", body).must(t, 202).decode(t, &st)
		return st
	}
	st := post("provider-admin", shared, envelopeOf(append(greens, indicator("red-all", 1, intel.TLPRed), json.RawMessage(`{"id":"x"}`))...))
	if st.Status != "complete" || st.TotalCount != 7 || st.SuccessCount != 6 || st.FailureCount != 1 || st.PendingCount != 0 || st.RequestTimestamp == "" {
		t.Fatalf("status: %+v", st)
	}
	if st.Failures[0].Message == "" || st.Successes[0].Version != "2024-01-01T00:01:00.000Z" {
		t.Errorf("status details: %+v", st)
	}
	var again taxii.Status
	prov.get(root+"status/"+st.ID+"/").must(t, 200).decode(t, &again)
	if diff := cmp.Diff(st, again); diff != "" {
		t.Errorf("status resource (-posted +read):\n%s", diff)
	}
	as("b/tenant-admin").get(root+"status/"+st.ID+"/").must(t, 404)
	post("provider-analyst", "tenant-a", envelopeOf(indicator("red-for-a", 1, intel.TLPRed)))
	stA := post("a/tenant-analyst", "tenant-a", envelopeOf(indicator("a-own", 1, "")))
	as("a/tenant-viewer").get(root+"status/"+stA.ID+"/").must(t, 200)
	as("b/tenant-viewer").get(root+"status/"+stA.ID+"/").must(t, 404)
	prov.get(root+"status/"+stA.ID+"/").must(t, 200)

	// Writing where one may not.
	as("a/tenant-analyst").do("POST", root+"collections/"+shared+"/objects/", envelopeOf(indicator("x", 1, ""))).must(t, 403)
	as("a/tenant-viewer").do("POST", root+"collections/tenant-a/objects/", envelopeOf(indicator("x", 1, ""))).must(t, 403)
	as("b/tenant-analyst").do("POST", root+"collections/tenant-a/objects/", envelopeOf(indicator("x", 1, ""))).must(t, 404)

	// Objects page by page, as member b reads the shared collection: the
	// GREEN ones, never the RED one.
	var got []json.RawMessage
	q := url.Values{"limit": {"2"}}
	firstAdded, lastAdded := "", ""
	for pages := 1; ; pages++ {
		r := as("b/tenant-viewer").get(root+"collections/"+shared+"/objects/?"+q.Encode()).must(t, 200)
		var env envelope
		r.decode(t, &env)
		if env.More == nil {
			t.Fatalf("envelope without more: %s", r.body)
		}
		if len(env.Objects) > 2 {
			t.Fatalf("page of %d objects, limit 2", len(env.Objects))
		}
		if firstAdded == "" {
			firstAdded = r.header.Get("X-TAXII-Date-Added-First")
		}
		if l := r.header.Get("X-TAXII-Date-Added-Last"); l != "" {
			lastAdded = l
		}
		got = append(got, env.Objects...)
		if !*env.More {
			if pages != 3 || env.Next != "" {
				t.Errorf("%d pages (want 3), last next %q", pages, env.Next)
			}
			break
		}
		if env.Next == "" {
			t.Fatal("more without next")
		}
		q.Set("next", env.Next)
	}
	if diff := cmp.Diff([]string{"green-0", "green-1", "green-2", "green-3", "green-4"}, names(got)); diff != "" {
		t.Errorf("b reads the shared collection (-want +got):\n%s", diff)
	}
	if _, err := intel.ParseTimestamp(firstAdded); err != nil || lastAdded <= firstAdded {
		t.Errorf("X-TAXII-Date-Added-First %q, -Last %q", firstAdded, lastAdded)
	}
	// Nothing was added after the last one.
	var env envelope
	r := as("b/tenant-viewer").get(root+"collections/"+shared+"/objects/?added_after="+url.QueryEscape(lastAdded)).must(t, 200)
	r.decode(t, env.reset())
	if len(env.Objects) != 0 || r.header.Get("X-TAXII-Date-Added-First") != "" {
		t.Errorf("added_after the last: %s", r.body)
	}
	// The provider reads the RED one in the shared collection; filters.
	as("provider-analyst").get(root+"collections/"+shared+"/objects/?match[type]=indicator").must(t, 200).decode(t, env.reset())
	if len(env.Objects) != 6 {
		t.Errorf("provider reads %d shared objects, want 6", len(env.Objects))
	}
	id1 := stix.DeterministicID("indicator", "green-1")
	id3 := stix.DeterministicID("indicator", "green-3")
	as("a/tenant-viewer").get(root+"collections/"+shared+"/objects/?match[id]="+id1+","+id3).must(t, 200).decode(t, env.reset())
	if diff := cmp.Diff([]string{"green-1", "green-3"}, names(env.Objects)); diff != "" {
		t.Errorf("match[id] (-want +got):\n%s", diff)
	}
	as("a/tenant-viewer").get(root+"collections/"+shared+"/objects/?match[type]=malware").must(t, 200).decode(t, env.reset())
	if len(env.Objects) != 0 {
		t.Errorf("match[type]=malware: %d objects", len(env.Objects))
	}

	// Member collections: a reads its own and what is shared with it
	// alone; b never reaches a's collection or the RED objects.
	as("a/tenant-viewer").get(root+"collections/tenant-a/objects/").must(t, 200).decode(t, env.reset())
	if diff := cmp.Diff([]string{"a-own", "red-for-a"}, names(env.Objects)); diff != "" {
		t.Errorf("a's collection as a (-want +got):\n%s", diff)
	}
	prov.get(root+"collections/tenant-a/objects/").must(t, 200).decode(t, env.reset())
	if diff := cmp.Diff([]string{"a-own", "red-for-a"}, names(env.Objects)); diff != "" {
		t.Errorf("a's collection as the provider (-want +got):\n%s", diff)
	}
	// The provider's read of a member's collection, and every addition,
	// are in the audit trail.
	recs, err := e.db.AuditRecords(context.Background(), "tenant-a", 100)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, rec := range recs {
		actions[rec.Action]++
	}
	if actions["taxii.read"] != 1 || actions["taxii.add"] != 2 {
		t.Errorf("audit of tenant-a: %v", actions)
	}
	redAll := stix.DeterministicID("indicator", "red-all")
	aOwn := stix.DeterministicID("indicator", "a-own")
	for _, path := range []string{
		"collections/tenant-a/", "collections/" + collA + "/", "collections/tenant-a/objects/", "collections/tenant-a/manifest/",
		"collections/tenant-a/objects/" + aOwn + "/", "collections/tenant-b/objects/" + aOwn + "/",
		"collections/" + shared + "/objects/" + redAll + "/", "collections/" + shared + "/objects/" + redAll + "/versions/",
		"collections/no-such/", "collections/tenant-c/",
	} {
		as("b/tenant-admin").get(root+path).must(t, 404)
	}
	as("b/tenant-admin").get(root+"collections/tenant-b/objects/").must(t, 200).decode(t, env.reset())
	if len(env.Objects) != 0 {
		t.Errorf("b's own collection holds %s", names(env.Objects))
	}

	// Versions: the provider updates green-0; objects give the latest
	// unless asked, versions list both, the manifest follows the filters.
	id0 := stix.DeterministicID("indicator", "green-0")
	post("provider-admin", "Shared", envelopeOf(indicator("green-0", 5, intel.TLPGreen)))
	var vs struct {
		More     bool
		Versions []string
	}
	as("a/tenant-viewer").get(root+"collections/"+shared+"/objects/"+id0+"/versions/").must(t, 200).decode(t, &vs)
	if diff := cmp.Diff([]string{"2024-01-01T00:01:00.000Z", "2024-01-01T00:05:00.000Z"}, vs.Versions); diff != "" || vs.More {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
	modified := func(objs []json.RawMessage) []string {
		var out []string
		for _, o := range objs {
			var v struct{ Modified string }
			_ = json.Unmarshal(o, &v)
			out = append(out, v.Modified)
		}
		return out
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", []string{"2024-01-01T00:05:00.000Z"}},
		{"?match[version]=first", []string{"2024-01-01T00:01:00.000Z"}},
		{"?match[version]=all", []string{"2024-01-01T00:01:00.000Z", "2024-01-01T00:05:00.000Z"}},
		{"?match[version]=2024-01-01T00:01:00Z", []string{"2024-01-01T00:01:00.000Z"}},
		{"?match[spec_version]=2.1&match[version]=last", []string{"2024-01-01T00:05:00.000Z"}},
	} {
		as("a/tenant-viewer").get(root+"collections/"+shared+"/objects/"+id0+"/"+c.query).must(t, 200).decode(t, env.reset())
		if diff := cmp.Diff(c.want, modified(env.Objects)); diff != "" {
			t.Errorf("object %s (-want +got):\n%s", c.query, diff)
		}
	}
	var man struct {
		More    bool
		Objects []struct {
			ID        string `json:"id"`
			DateAdded string `json:"date_added"`
			Version   string `json:"version"`
			MediaType string `json:"media_type"`
		}
	}
	as("a/tenant-viewer").get(root+"collections/"+shared+"/manifest/?match[id]="+id0+"&match[version]=all").must(t, 200).decode(t, &man)
	if len(man.Objects) != 2 || man.Objects[1].Version != "2024-01-01T00:05:00.000Z" || man.Objects[0].MediaType != taxii.STIXMediaType || man.Objects[0].DateAdded >= man.Objects[1].DateAdded {
		t.Errorf("manifest: %+v", man)
	}

	// Deleting: a member deletes what it added, not what the provider
	// shared with it; the provider deletes in any collection.
	redForA := stix.DeterministicID("indicator", "red-for-a")
	as("a/tenant-admin").do("DELETE", root+"collections/tenant-a/objects/"+redForA+"/", nil).must(t, 403)
	as("a/tenant-viewer").do("DELETE", root+"collections/tenant-a/objects/"+aOwn+"/", nil).must(t, 403)
	as("b/tenant-admin").do("DELETE", root+"collections/tenant-a/objects/"+aOwn+"/", nil).must(t, 404)
	as("a/tenant-admin").do("DELETE", root+"collections/tenant-a/objects/"+aOwn+"/", nil).must(t, 200)
	as("a/tenant-admin").get(root+"collections/tenant-a/objects/"+aOwn+"/").must(t, 404)
	prov.do("DELETE", root+"collections/"+shared+"/objects/"+id0+"/?match[version]=first", nil).must(t, 200)
	as("a/tenant-viewer").get(root+"collections/"+shared+"/objects/"+id0+"/versions/").must(t, 200).decode(t, &vs)
	if !slices.Equal(vs.Versions, []string{"2024-01-01T00:05:00.000Z"}) {
		t.Errorf("after deleting the first version: %v", vs.Versions)
	}
}

// TestTAXIIRefusals checks authentication, media types and the spec's
// error messages.
func TestTAXIIRefusals(t *testing.T) {
	cfg := taxii.DefaultConfig()
	cfg.MaxContentLength = 4096
	e := newEnv(t, cfg)
	c := spec{t: t, base: e.url, token: e.tokens["a/tenant-analyst"]}
	objects := root + "collections/tenant-a/objects/"

	// Tokens as HTTP Basic passwords, any user name.
	basic := spec{t: t, base: e.url, token: e.tokens["a/tenant-viewer"], basic: true}
	basic.get("/taxii2/").must(t, 200)
	basic.get(objects).must(t, 200)
	bad := spec{t: t, base: e.url, token: "trn_not-a-token", basic: true}
	r := bad.get("/taxii2/").must(t, 401)
	if !slices.Contains(r.header.Values("WWW-Authenticate"), `Basic realm="tarian"`) {
		t.Errorf("401 without a Basic challenge: %v", r.header)
	}
	spec{t: t, base: e.url}.get("/taxii2/").must(t, 401)
	spec{t: t, base: e.url, token: e.tokens["a/ingest"]}.get("/taxii2/").must(t, 403)

	for _, accept := range []string{"application/json", "application/taxii+json;version=2.0", "application/stix+json;version=2.1", "text/html"} {
		c.hdr = map[string]string{"Accept": accept}
		c.get(objects).must(t, 406)
		c.get("/taxii2/").must(t, 406)
	}
	for _, accept := range []string{"", "application/taxii+json", "application/taxii+json;version=2.1", "application/json, application/taxii+json;version=2.1;q=0.5", "*/*"} {
		c.hdr = map[string]string{"Accept": accept}
		c.get(objects).must(t, 200)
	}
	c.hdr = map[string]string{"Content-Type": "application/json"}
	c.do("POST", objects, envelopeOf(indicator("x", 1, ""))).must(t, 415)
	c.hdr = map[string]string{"Content-Type": "application/stix+json;version=2.1"}
	c.do("POST", objects, envelopeOf(indicator("x", 1, ""))).must(t, 415)
	c.hdr = nil
	c.do("POST", objects, []byte(`{"objects":[`+strings.Repeat(" ", 5000)+`]}`)).must(t, 413)
	c.do("POST", objects, []byte(`{"objects":[]}`)).must(t, 422)
	c.do("POST", objects, []byte(`not json`)).must(t, 400)
	for _, q := range []string{"limit=0", "limit=x", "added_after=yesterday", "next=abc", "match[version]=newest"} {
		c.get(objects+"?"+q).must(t, 400)
	}
	for _, q := range []string{"added_after=0001-01-01T00:00:00Z", "added_after=9999-12-31T23:59:59.999999Z", "limit=100000"} {
		c.get(objects+"?"+q).must(t, 200)
	}
	c.get("/taxii2/other-root/").must(t, 404)
	c.get("/taxii2/tarian/nothing/here/").must(t, 404)
	c.get(root+"status/no-such-status/").must(t, 404)
	c.do("PUT", objects, nil).must(t, 404)
	var eb taxii.ErrorBody
	c.get(root+"collections/tenant-b/").must(t, 404).decode(t, &eb)
	if eb.HTTPStatus != "404" || eb.Title != "Not Found" || eb.Description == "" {
		t.Errorf("error message: %+v", eb)
	}
}
