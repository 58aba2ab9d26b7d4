package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	crashBatch   = 500
	crashWorkers = 2
)

// TestCrash ingests in a loop over HTTP and kills the server with SIGKILL
// mid-stream, several times, restarting it on the same data directory each
// time. Every event whose request was answered 200 must then be searchable
// exactly once; events of requests that failed may or may not be there, but
// never twice.
func TestCrash(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	s := startServer(t, data)
	s.addTenant("crash")
	ingest := s.createToken("crash", "ingest")
	analyst := s.createToken("crash", "tenant-analyst")

	acked := map[string]bool{}
	attempted := 0
	// Kill after this many batches were acknowledged in each round: early
	// (indexer and bus both busy), later, at once, and after a longer run.
	for round, killAfter := range []int{6, 20, 1, 50} {
		r := ingestUntilKilled(t, s, ingest.Token, round, killAfter)
		if r.acked < killAfter {
			t.Fatalf("round %d: only %d batches acknowledged before the server died, want %d", round, r.acked, killAfter)
		}
		for _, id := range r.ackedIDs {
			acked[id] = true
		}
		attempted += r.attempted
		t.Logf("round %d: %d batches acknowledged, %d events attempted, killed after %d acks", round, r.acked, r.attempted, killAfter)
		s = startServer(t, data)
	}
	s.waitIndexed()

	rows := s.searchRows(analyst.Token, "", "crashevent | fields eid", 2*attempted+10)
	seen := map[string]int{}
	for _, r := range rows {
		seen[r["eid"]]++
	}
	missing, dup := 0, 0
	for id := range acked {
		if seen[id] == 0 {
			if missing++; missing <= 5 {
				t.Errorf("acknowledged event %s is not searchable", id)
			}
		}
	}
	for id, n := range seen {
		if n > 1 {
			if dup++; dup <= 5 {
				t.Errorf("event %s is stored %d times", id, n)
			}
		}
	}
	if missing > 0 || dup > 0 {
		t.Errorf("%d acknowledged events missing, %d events duplicated (of %d acknowledged, %d rows)", missing, dup, len(acked), len(rows))
	}
	if len(rows) > attempted {
		t.Errorf("%d rows, but only %d events were ever sent", len(rows), attempted)
	}
	t.Logf("%d events acknowledged, %d stored, %d attempted", len(acked), len(rows), attempted)
}

type crashRound struct {
	acked     int // batches answered 200
	ackedIDs  []string
	attempted int // events sent, answered or not
}

// ingestUntilKilled sends batches from crashWorkers concurrent clients
// until the server dies; another goroutine kills it (SIGKILL) once
// killAfter batches have been acknowledged.
func ingestUntilKilled(t *testing.T, s *server, token string, round, killAfter int) crashRound {
	t.Helper()
	var (
		mu     sync.Mutex
		res    crashRound
		nacked atomic.Int64
		wg     sync.WaitGroup
	)
	killNow := make(chan struct{})
	var once sync.Once
	killed := make(chan struct{})
	go func() {
		select {
		case <-killNow:
		case <-time.After(indexTimeout):
			// Workers stalled; kill anyway so the test ends and reports.
		}
		s.kill9()
		close(killed)
	}()
	hc := &http.Client{Timeout: 30 * time.Second}
	for w := range crashWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; ; b++ {
				ids := make([]string, crashBatch)
				var body bytes.Buffer
				for i := range ids {
					ids[i] = fmt.Sprintf("r%d-w%d-b%d-%d", round, w, b, i)
					fmt.Fprintf(&body, `{"message":"crashevent %d","eid":%q,"round":%d}`+"\n", i, ids[i], round)
				}
				mu.Lock()
				res.attempted += crashBatch
				mu.Unlock()
				ok, err := postBatch(hc, s.url, token, body.Bytes(), crashBatch)
				if err != nil {
					return // the server is gone
				}
				if !ok {
					continue // refused (e.g. back-pressure): not acknowledged
				}
				mu.Lock()
				res.acked++
				res.ackedIDs = append(res.ackedIDs, ids...)
				mu.Unlock()
				if nacked.Add(1) >= int64(killAfter) {
					once.Do(func() { close(killNow) })
				}
			}
		}()
	}
	wg.Wait()
	<-killed
	return res
}

// postBatch posts body, n events, and reports whether every event was
// acknowledged (200 with accepted = n); err is a transport error.
func postBatch(hc *http.Client, base, token string, body []byte, n int) (bool, error) {
	req, err := http.NewRequest("POST", base+"/api/v1/ingest", bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := hc.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return false, err
	}
	if resp.StatusCode != http.StatusOK {
		return false, nil
	}
	var sum ingestSummary
	if err := json.Unmarshal(b, &sum); err != nil {
		return false, err
	}
	return sum.Accepted == n && sum.Rejected == 0, nil
}
