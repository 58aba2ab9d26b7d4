package web_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// An event's record comes back byte for byte from the raw archive, to its
// own tenant only: another tenant's reference is not found.
func TestRawRecord(t *testing.T) {
	w := newWorld(t)
	line := `{"message":"raw  spacing kept","n":7}`
	w.ingest(t, "a", line)
	rows := w.searchN(t, w.tokens["a/tenant-analyst"], "n:7", "", 1)
	ref := url.QueryEscape(rows[0]["tarian.seq"] + ":" + rows[0]["tarian.idx"])
	var status int
	var body []byte
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if status, body = w.s.Do(t, http.MethodGet, "/api/v1/raw?ref="+ref, w.tokens["a/tenant-analyst"], nil); status == http.StatusOK || time.Now().After(deadline) {
			break
		}
	}
	if status != http.StatusOK || string(body) != line {
		t.Fatalf("raw record: %d %q, want %q", status, body, line)
	}
	for _, c := range []struct {
		what, path, token string
		want              int
	}{
		{"tenant-b's analyst, own scope", "/api/v1/raw?ref=" + ref, w.tokens["b/tenant-analyst"], http.StatusNotFound},
		{"tenant-b's analyst naming tenant-a", "/api/v1/raw?tenant=tenant-a&ref=" + ref, w.tokens["b/tenant-analyst"], http.StatusForbidden},
		{"provider naming every tenant", "/api/v1/raw?tenant=*&ref=" + ref, servertest.AdminToken, http.StatusBadRequest},
		{"provider naming tenant-a", "/api/v1/raw?tenant=tenant-a&ref=" + ref, servertest.AdminToken, http.StatusOK},
		{"bad reference", "/api/v1/raw?ref=x", w.tokens["a/tenant-analyst"], http.StatusBadRequest},
		{"ingest token", "/api/v1/raw?ref=" + ref, w.tokens["a/ingest"], http.StatusForbidden},
	} {
		if status, body := w.s.Do(t, http.MethodGet, c.path, c.token, nil); status != c.want {
			t.Errorf("%s: %d %s, want %d", c.what, status, body, c.want)
		}
	}
}
