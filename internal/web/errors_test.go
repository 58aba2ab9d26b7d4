package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/intel"
)

// TestFailHidesInternalDetail: a 500's own error (a store's, naming files
// and queries) goes to the server log at error level under a reference the
// answer gives; the caller sees only the reference. Other errors keep
// their message.
func TestFailHidesInternalDetail(t *testing.T) {
	var logged bytes.Buffer
	a := &API{d: Deps{Log: slog.New(slog.NewJSONHandler(&logged, nil))}}
	r := httptest.NewRequest("GET", "/api/v1/alerts", nil)
	w := httptest.NewRecorder()
	a.fail(w, r, fmt.Errorf("list alerts: %w", errors.New("disk I/O error: /var/lib/tarian/state.db")))
	var got struct{ Error, Message string }
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != http.StatusInternalServerError || got.Error != "internal" {
		t.Fatalf("answer %d %s (%v)", w.Code, w.Body, err)
	}
	ref := regexp.MustCompile(`^internal error \(reference ([0-9a-f]{8})\): the server log has the detail$`).FindStringSubmatch(got.Message)
	if ref == nil {
		t.Fatalf("message %q: want only a reference", got.Message)
	}
	var rec struct{ Level, Msg, Ref, Err, Path string }
	if err := json.Unmarshal(logged.Bytes(), &rec); err != nil || rec.Level != "ERROR" || rec.Ref != ref[1] ||
		!strings.Contains(rec.Err, "/var/lib/tarian/state.db") || rec.Path != "/api/v1/alerts" {
		t.Errorf("log %s (%v): want the error at ERROR with reference %s", logged.String(), err, ref[1])
	}

	w = httptest.NewRecorder()
	a.fail(w, r, fmt.Errorf("indicator x: %w", intel.ErrNotFound))
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "indicator x: ") {
		t.Errorf("a 404: %d %s", w.Code, w.Body)
	}
}
