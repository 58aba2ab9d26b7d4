package esbulk

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"
	"github.com/google/go-cmp/cmp"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// goClient is the official Go client against srv, with the retry policy
// the client's documentation recommends for bulk indexing.
func goClient(t testing.TB, url string, cfg elasticsearch.Config) *elasticsearch.Client {
	t.Helper()
	cfg.Addresses = []string{url}
	cfg.RetryOnStatus = []int{502, 503, 504, http.StatusTooManyRequests}
	cfg.RetryBackoff = func(int) time.Duration { return 10 * time.Millisecond }
	cfg.MaxRetries = 5
	es, err := elasticsearch.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// runIndexer sends docs through esutil.BulkIndexer and returns the
// per-item statuses by document and the indexer's stats.
func runIndexer(t testing.TB, es *elasticsearch.Client, index string, docs []string) (map[string]int, esutil.BulkIndexerStats) {
	t.Helper()
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{Client: es, Index: index, NumWorkers: 2, FlushBytes: 2048,
		OnError: func(_ context.Context, err error) { t.Errorf("indexer: %v", err) }})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	statuses := map[string]int{}
	for _, d := range docs {
		err := bi.Add(t.Context(), esutil.BulkIndexerItem{Action: "create", Body: strings.NewReader(d),
			OnSuccess: func(_ context.Context, _ esutil.BulkIndexerItem, res esutil.BulkIndexerResponseItem) {
				mu.Lock()
				statuses[d] = res.Status
				mu.Unlock()
			},
			OnFailure: func(_ context.Context, _ esutil.BulkIndexerItem, res esutil.BulkIndexerResponseItem, err error) {
				mu.Lock()
				statuses[d] = res.Status
				mu.Unlock()
			}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := bi.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	return statuses, bi.Stats()
}

func TestGoClient(t *testing.T) {
	_, sink, srv := newTest(t, DefaultConfig())
	es := goClient(t, srv.URL, elasticsearch.Config{Username: "winlogbeat", Password: tokenA})
	// The product check runs on the first request and needs the header
	// and a supported version.
	info, err := es.Info()
	if err != nil {
		t.Fatal(err)
	}
	info.Body.Close()
	if info.StatusCode != 200 {
		t.Fatalf("info: %s", info)
	}
	var docs []string
	want := map[string]int{}
	for i := range 200 {
		d := fmt.Sprintf(`{"@timestamp":"2024-05-01T10:22:%02dZ","event":{"code":"4625"},"n":%d}`, i%60, i)
		docs = append(docs, d)
		want[d] = 201
	}
	docs = append(docs, `"not an object"`)
	want[`"not an object"`] = 400
	got, st := runIndexer(t, es, "winlogbeat-8.17.0", docs)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if st.NumAdded != 201 || st.NumCreated != 200 || st.NumFailed != 1 {
		t.Errorf("stats %+v", st)
	}
	stored := sink.docs("cardiff")
	slices.Sort(stored)
	wantDocs := docs[:200]
	slices.Sort(wantDocs)
	if diff := cmp.Diff(wantDocs, stored); diff != "" {
		t.Errorf("stored documents (-want +got):\n%s", diff)
	}
	if n := len(sink.DeadLetters("cardiff")); n != 1 {
		t.Errorf("%d dead letters, want 1", n)
	}
}

// TestGoClientBackpressure: under back-pressure the bulk requests get 429,
// which the client retries; every document lands once.
func TestGoClientBackpressure(t *testing.T) {
	_, sink, srv := newTest(t, DefaultConfig())
	sink.RefuseNext(3)
	es := goClient(t, srv.URL, elasticsearch.Config{APIKey: apiKeyValue("beat", tokenB)})
	var docs []string
	for i := range 50 {
		docs = append(docs, fmt.Sprintf(`{"message":"m%d"}`, i))
	}
	got, st := runIndexer(t, es, "logs-x-default", docs)
	for d, s := range got {
		if s != 201 {
			t.Errorf("%s: status %d", d, s)
		}
	}
	if st.NumCreated != 50 || st.NumFailed != 0 {
		t.Errorf("stats %+v", st)
	}
	if n := len(sink.docs("swansea")); n != 50 {
		t.Errorf("%d documents stored, want 50 (each once)", n)
	}
	if sink.Counted(MetricBackpressure, "swansea") == 0 {
		t.Error("no back-pressure was counted")
	}
}

func apiKeyValue(id, key string) string { return strings.TrimPrefix(apiKey(id, key), "ApiKey ") }

// TestGoClientCrossTenant: two tokens send concurrently; each tenant gets
// its own documents only; an unknown token writes nothing.
func TestGoClientCrossTenant(t *testing.T) {
	_, sink, srv := newTest(t, DefaultConfig())
	var wg sync.WaitGroup
	for _, c := range []struct {
		token string
		t     tenant.ID
	}{{tokenA, "cardiff"}, {tokenB, "swansea"}} {
		wg.Go(func() {
			es := goClient(t, srv.URL, elasticsearch.Config{APIKey: apiKeyValue("host", c.token)})
			var docs []string
			for i := range 100 {
				docs = append(docs, fmt.Sprintf(`{"from":%q,"n":%d}`, c.t, i))
			}
			runIndexer(t, es, "logs", docs)
		})
	}
	wg.Wait()
	for _, tn := range []tenant.ID{"cardiff", "swansea"} {
		docs := sink.docs(tn)
		if len(docs) != 100 {
			t.Errorf("%s: %d documents", tn, len(docs))
		}
		for _, d := range docs {
			if !strings.Contains(d, `"from":"`+string(tn)+`"`) {
				t.Errorf("%s holds %s", tn, d)
			}
		}
	}
	before := sink.Total()
	es := goClient(t, srv.URL, elasticsearch.Config{APIKey: apiKeyValue("host", "trn_unknown")})
	res, err := es.Bulk(bytes.NewReader([]byte(`{"create":{"_index":"x"}}`+"\n{}\n")), es.Bulk.WithContext(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Errorf("unknown token: %s", res)
	}
	if sink.Total() != before {
		t.Error("an unknown token wrote records")
	}
}
