package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// TestIngestIdempotencyKey: a batch sent again with its Idempotency-Key
// (a shipper's retry of a request whose answer it lost) gets the first
// answer, marked replayed, and stores nothing more — no event, no dead
// letter; the key with another body is refused; another member's same key
// and body are a write of its own; a batch without a key is written each
// time it is sent.
func TestIngestIdempotencyKey(t *testing.T) {
	s := servertest.Start(t, servertest.Config(t.TempDir()))
	s.AddTenant(t, "council-a")
	s.AddTenant(t, "council-b")
	ingA, ingB := s.Token(t, "council-a", "ingest"), s.Token(t, "council-b", "ingest")
	post := func(token, key string, body string) (int, http.Header, []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, s.URL+"/api/v1/ingest", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, b
	}
	batch := `{"message":"keyed one"}` + "\n" + `not json` + "\n" + `{"message":"keyed two"}` + "\n"

	status, hdr, first := post(ingA, "b-0001", batch)
	if status != http.StatusOK || hdr.Get("Idempotent-Replayed") != "" || !bytes.Contains(first, []byte(`"accepted":2`)) {
		t.Fatalf("first send: %d %q %s", status, hdr.Get("Idempotent-Replayed"), first)
	}
	status, hdr, again := post(ingA, "b-0001", batch)
	if status != http.StatusOK || hdr.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again, first) {
		t.Errorf("the retry: %d replayed %q %s, want 200 replayed with the first answer %s", status, hdr.Get("Idempotent-Replayed"), again, first)
	}
	status, _, body := post(ingA, "b-0001", `{"message":"another batch"}`+"\n")
	if status != http.StatusUnprocessableEntity || !bytes.Contains(body, []byte("idempotency_key_reused")) {
		t.Errorf("the key with another body: %d %s, want 422 idempotency_key_reused", status, body)
	}
	if status, hdr, body := post(ingB, "b-0001", batch); status != http.StatusOK || hdr.Get("Idempotent-Replayed") != "" || !bytes.Contains(body, []byte(`"accepted":2`)) {
		t.Errorf("council-b with council-a's key: %d replayed %q %s, want a write of its own", status, hdr.Get("Idempotent-Replayed"), body)
	}
	for _, key := range []string{strings.Repeat("k", 256), "a b", "caf\u00e9"} {
		if status, _, body := post(ingA, key, batch); status != http.StatusBadRequest || !bytes.Contains(body, []byte("bad_idempotency_key")) {
			t.Errorf("key %q: %d %s, want 400 bad_idempotency_key", key, status, body)
		}
	}
	for range 2 {
		if status, _, body := post(ingA, "", `{"message":"unkeyed"}`+"\n"); status != http.StatusOK {
			t.Fatalf("unkeyed: %d %s", status, body)
		}
	}

	count := func(tenant, q string) int {
		t.Helper()
		status, b := s.Do(t, http.MethodGet, "/api/v1/search?q="+url.QueryEscape(q+" | stats count() n"), s.Token(t, tenant, "tenant-analyst"), nil)
		var row struct{ N string }
		if status != http.StatusOK || json.Unmarshal(b, &row) != nil {
			t.Fatalf("count %s: status %d: %s", q, status, b)
		}
		n, _ := strconv.Atoi(row.N)
		return n
	}
	// The unkeyed batches went last: once they are searchable, so is
	// anything a retry had written before them.
	for deadline := time.Now().Add(20 * time.Second); count("council-a", "unkeyed") < 2 || count("council-b", "*") < 2; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("council-a holds %d unkeyed events, council-b %d events; want 2 and 2", count("council-a", "unkeyed"), count("council-b", "*"))
		}
	}
	if a, k, u, b := count("council-a", "*"), count("council-a", "keyed"), count("council-a", "unkeyed"), count("council-b", "*"); a != 4 || k != 2 || u != 2 || b != 2 {
		t.Errorf("events: council-a %d (keyed %d, unkeyed %d), council-b %d; want 4 (2, 2) and 2", a, k, u, b)
	}
	var dl struct {
		DeadLetters []struct{ Reason string } `json:"dead_letters"`
	}
	s.JSON(t, http.MethodGet, "/api/v1/deadletters", s.Token(t, "council-a", "tenant-admin"), nil, &dl)
	if len(dl.DeadLetters) != 1 {
		t.Errorf("council-a's dead letters: %+v, want the one bad line once", dl.DeadLetters)
	}
}
