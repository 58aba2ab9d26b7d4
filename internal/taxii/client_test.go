package taxii_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/taxii"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// TestTAXIIClientPollsServer polls Tarian's own server: page by page, then
// incrementally from the checkpoint, with the token as a Basic password,
// and never receives what the member may not see.
func TestTAXIIClientPollsServer(t *testing.T) {
	e := newEnv(t, taxii.DefaultConfig())
	prov := spec{t: t, base: e.url, token: e.tokens["provider-admin"]}
	post := func(objs ...json.RawMessage) {
		t.Helper()
		prov.do("POST", root+"collections/Shared/objects/", envelopeOf(objs...)).must(t, 202)
	}
	var first []json.RawMessage
	for i := range 5 {
		first = append(first, indicator(fmt.Sprintf("poll-%d", i), 1, intel.TLPGreen))
	}
	post(append(first, indicator("poll-red", 1, intel.TLPRed))...)
	c := &taxii.Client{Collection: taxii.CollectionURL(e.url+root, taxii.CollectionID("")), Username: "taxii-client", Password: e.tokens["b/tenant-viewer"], Limit: 2}
	ctx := context.Background()
	objs, cp, err := c.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"poll-0", "poll-1", "poll-2", "poll-3", "poll-4"}, names(objs)); diff != "" {
		t.Errorf("first poll (-want +got):\n%s", diff)
	}
	if _, err := intel.ParseTimestamp(cp); err != nil || c.Checkpoint != cp {
		t.Fatalf("checkpoint %q (client keeps %q): %v", cp, c.Checkpoint, err)
	}
	objs, cp2, err := c.Poll(ctx)
	if err != nil || len(objs) != 0 || cp2 != cp {
		t.Fatalf("second poll: %d objects, checkpoint %q → %q, %v", len(objs), cp, cp2, err)
	}
	post(indicator("poll-0", 7, intel.TLPGreen), indicator("poll-5", 1, intel.TLPGreen))
	objs, cp3, err := c.Poll(ctx)
	if err != nil || cp3 <= cp {
		t.Fatalf("third poll: checkpoint %q → %q, %v", cp, cp3, err)
	}
	if diff := cmp.Diff([]string{"poll-0", "poll-5"}, names(objs)); diff != "" {
		t.Errorf("third poll (-want +got):\n%s", diff)
	}
	// A bearer token works too; a wrong one is refused, not retried.
	c2 := &taxii.Client{Collection: c.Collection, Token: e.tokens["a/tenant-viewer"]}
	if objs, _, err := c2.Poll(ctx); err != nil || len(objs) != 6 {
		t.Errorf("bearer poll: %d objects, %v", len(objs), err)
	}
	c3 := &taxii.Client{Collection: c.Collection, Token: "trn_wrong", Backoff: time.Hour}
	_, _, err = c3.Poll(ctx)
	var re *taxii.RemoteError
	if !errors.As(err, &re) || re.Status != 401 || re.Body.HTTPStatus != "401" {
		t.Errorf("wrong token: %v", err)
	}
}

// fakeRemote serves the specification's example answers: two pages of
// objects (the first marked more, with next), after failing as told.
type fakeRemote struct {
	t        *testing.T
	mu       sync.Mutex
	fail     []int // statuses to answer first, one a request
	ctype    string
	requests []*http.Request
	pages    [][]byte
}

func (f *fakeRemote) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r)
	if len(f.fail) > 0 {
		status := f.fail[0]
		f.fail = f.fail[1:]
		w.Header().Set("Retry-After", "0")
		taxii.WriteError(w, status, "busy", "try again")
		return
	}
	if r.Header.Get("Accept") != taxii.MediaType {
		taxii.WriteError(w, 406, "not_acceptable", "Accept "+r.Header.Get("Accept"))
		return
	}
	if user, pass, ok := r.BasicAuth(); !ok || user != "user1" || pass != "Password1" {
		taxii.WriteError(w, 401, "unauthenticated", "who are you")
		return
	}
	page := 0
	if r.URL.Query().Get("next") == "page-2" {
		page = 1
	}
	ct := f.ctype
	if ct == "" {
		ct = taxii.MediaType
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-TAXII-Date-Added-First", fmt.Sprintf("2016-11-0%dT03:04:05.000Z", page+1))
	w.Header().Set("X-TAXII-Date-Added-Last", fmt.Sprintf("2016-11-0%dT03:04:05.000Z", page+1))
	_, _ = w.Write(f.pages[page])
}

// TestTAXIIClientSpecExamples runs the client against the
// specification's example answers (corpus spec-examples): pages followed
// by next, the checkpoint from X-TAXII-Date-Added-Last, retries of 429 and
// 503, and a refused media type.
func TestTAXIIClientSpecExamples(t *testing.T) {
	dir := filepath.Join(corpus(t), "spec-examples")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// Page 1 is the example answer, marked as having more.
	var p1 map[string]any
	if err := json.Unmarshal(read("get_objects_response.json"), &p1); err != nil {
		t.Fatal(err)
	}
	p1["more"], p1["next"] = true, "page-2"
	page1, _ := json.Marshal(p1)
	// Page 2: the example envelope with another object.
	var p2 map[string]any
	_ = json.Unmarshal(read("stix_envelope.json"), &p2)
	var obj map[string]any
	_ = json.Unmarshal(read("stix_object.json"), &obj)
	obj["id"] = "indicator--00000000-0000-4000-8000-000000000002"
	p2["objects"] = []any{obj}
	page2, _ := json.Marshal(p2)

	f := &fakeRemote{t: t, pages: [][]byte{page1, page2}, fail: []int{503, 429}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := &taxii.Client{Collection: taxii.CollectionURL(srv.URL+"/api1/", "91a7b528-80eb-42ed-a74d-c6fbd5a26116"),
		Username: "user1", Password: "Password1", Limit: 1, Checkpoint: "2016-01-01T00:00:00.000Z", Backoff: time.Millisecond}
	objs, cp, err := c.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range objs {
		var v struct{ ID string }
		_ = json.Unmarshal(o, &v)
		ids = append(ids, v.ID)
	}
	if diff := cmp.Diff([]string{"indicator--252c7c11-daf2-42bd-843b-be65edca9f61", "indicator--00000000-0000-4000-8000-000000000002"}, ids); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	if cp != "2016-11-02T03:04:05.000Z" {
		t.Errorf("checkpoint %q", cp)
	}
	if len(f.requests) != 4 {
		t.Fatalf("%d requests, want 4 (503, 429, page 1, page 2)", len(f.requests))
	}
	q := f.requests[3].URL
	if !strings.HasSuffix(q.Path, "/api1/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/objects/") || q.Query().Get("next") != "page-2" ||
		q.Query().Get("added_after") != "2016-01-01T00:00:00.000Z" || q.Query().Get("limit") != "1" {
		t.Errorf("second page asked as %s", q)
	}

	// A server answering another media type is refused; so is a 4xx,
	// without retrying.
	f.ctype = "application/json"
	if _, _, err := (&taxii.Client{Collection: c.Collection, Username: "user1", Password: "Password1"}).Poll(context.Background()); err == nil || !strings.Contains(err.Error(), "application/json") {
		t.Errorf("wrong media type: %v", err)
	}
	f.requests = nil
	if _, _, err := (&taxii.Client{Collection: c.Collection, Username: "user1", Password: "wrong"}).Poll(context.Background()); err == nil || len(f.requests) != 1 {
		t.Errorf("401: %v after %d requests", err, len(f.requests))
	}
	// Retries end.
	f.fail, f.requests = []int{503, 503, 503}, nil
	if _, _, err := (&taxii.Client{Collection: c.Collection, Username: "user1", Password: "Password1", Retries: 2, Backoff: time.Millisecond}).Poll(context.Background()); err == nil || len(f.requests) != 3 {
		t.Errorf("retries: %v after %d requests, want an error after 3", err, len(f.requests))
	}
}

// TestTAXIIPoller polls Tarian's own server into a second store, keeps the
// checkpoint across a restart, and imports only what is new.
func TestTAXIIPoller(t *testing.T) {
	e := newEnv(t, taxii.DefaultConfig())
	prov := spec{t: t, base: e.url, token: e.tokens["provider-admin"]}
	prov.do("POST", root+"collections/tenant-b/objects/", envelopeOf(indicator("feed-1", 1, ""), indicator("feed-2", 1, intel.TLPRed))).must(t, 202)

	ctx := context.Background()
	local, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "local.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	secret := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(secret, []byte(e.tokens["b/tenant-viewer"]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	feeds := []taxii.FeedConfig{{Name: "upstream", URL: e.url + root, Collection: "tenant-b", Username: "tarian",
		PasswordFile: secret, TLP: "green", Audience: []string{"tenant-x"}, Limit: 1}}
	newPoller := func() *taxii.Poller {
		p, err := taxii.NewPoller(feeds, taxii.PollerDeps{State: local, Importer: storeImporter{local}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	sum, err := newPoller().PollOnce(ctx, "upstream")
	if err != nil || sum.Objects != 2 {
		t.Fatalf("first poll: %+v %v", sum, err)
	}
	held, _, err := local.Objects(ctx, intel.ObjectQuery{Provider: true})
	if err != nil || len(held) != 2 {
		t.Fatalf("local objects: %d %v", len(held), err)
	}
	for _, o := range held {
		if o.Owner != "" || !slices.Equal(o.Audience, []tenant.ID{"tenant-x"}) {
			t.Errorf("%s: owner %q audience %v", o.ID, o.Owner, o.Audience)
		}
	}
	if cp, _ := local.TAXIIFeedCheckpoint(ctx, "upstream"); cp == "" {
		t.Fatal("no checkpoint kept")
	}
	// A restart polls on from the checkpoint.
	p := newPoller()
	if sum, err := p.PollOnce(ctx, "upstream"); err != nil || sum.Objects != 0 {
		t.Fatalf("poll after restart: %+v %v", sum, err)
	}
	prov.do("POST", root+"collections/tenant-b/objects/", envelopeOf(indicator("feed-3", 1, ""))).must(t, 202)
	if sum, err := p.PollOnce(ctx, "upstream"); err != nil || sum.Objects != 1 {
		t.Fatalf("poll of a new object: %+v %v", sum, err)
	}
	// Run polls at once and stops with its context.
	ctx2, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx2) }()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
}

func TestTAXIIFeedConfigValidate(t *testing.T) {
	good := taxii.FeedConfig{Name: "n", URL: "https://taxii.example/api1/", Collection: "c", Username: "u", Password: "p"}
	cfg := taxii.DefaultConfig()
	cfg.Feeds = []taxii.FeedConfig{good}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		edit func(*taxii.FeedConfig)
		want string
	}{
		{func(f *taxii.FeedConfig) { f.Name = "" }, "name: empty"},
		{func(f *taxii.FeedConfig) { f.URL = "" }, "url: empty"},
		{func(f *taxii.FeedConfig) { f.URL = "ftp://x/" }, "http(s)"},
		{func(f *taxii.FeedConfig) { f.PasswordFile = "/x" }, "password and password_file"},
		{func(f *taxii.FeedConfig) { f.Token = "t" }, "one kind of credentials"},
		{func(f *taxii.FeedConfig) { f.Interval = time.Second }, "at least 1m"},
		{func(f *taxii.FeedConfig) { f.TLP = "purple" }, "tlp"},
		{func(f *taxii.FeedConfig) { f.Tenant = "Not Valid" }, "tenant"},
		{func(f *taxii.FeedConfig) { f.Tenant = "tenant-a"; f.Audience = []string{"tenant-b"} }, "audience"},
		{func(f *taxii.FeedConfig) { f.Audience = []string{"BAD"} }, "audience"},
	} {
		f := good
		c.edit(&f)
		cfg.Feeds = []taxii.FeedConfig{f}
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", f, err, c.want)
		}
	}
	cfg.Feeds = []taxii.FeedConfig{good, good}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "used twice") {
		t.Errorf("two feeds of one name: %v", err)
	}
}

// TestTAXIIClientSameNext: a server that answers "more" with the next it
// was just asked for would be polled forever; the poll stops with an
// error, keeping what it fetched.
func TestTAXIIClientSameNext(t *testing.T) {
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests++
		if requests > 10 {
			t.Errorf("request %d: the client keeps asking", requests)
			http.Error(w, "enough", http.StatusTeapot)
			return
		}
		w.Header().Set("Content-Type", "application/taxii+json;version=2.1")
		fmt.Fprintf(w, `{"more":true,"next":"stuck","objects":[{"type":"indicator","id":"indicator--00000000-0000-4000-8000-00000000000%d"}]}`, requests%10)
	}))
	defer srv.Close()
	c := &taxii.Client{Collection: taxii.CollectionURL(srv.URL+"/api1/", "c1"), Backoff: time.Millisecond}
	objs, _, err := c.Poll(context.Background())
	if err == nil || !strings.Contains(err.Error(), `the same next ("stuck") again`) || len(objs) != 2 || requests != 2 {
		t.Errorf("poll: %d objects after %d requests, err %v; want 2 objects, 2 requests and the repeated next named", len(objs), requests, err)
	}
}
