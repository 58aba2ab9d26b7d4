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

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/logstore"
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

// TestFailStoreUnavailable: an event store or state store that does not
// answer is 503 with Retry-After and a plain message (not a 500 with a
// reference), logged as a warning.
func TestFailStoreUnavailable(t *testing.T) {
	var logged bytes.Buffer
	a := &API{d: Deps{Log: slog.New(slog.NewJSONHandler(&logged, nil))}}
	r := httptest.NewRequest("GET", "/api/v1/search", nil)
	for _, tc := range []struct {
		err        error
		code, text string
	}{
		{fmt.Errorf("search: %w: dial tcp 127.0.0.1:9428: connection refused", logstore.ErrUnavailable), "event_store_unavailable", "the event store is unavailable"},
		{fmt.Errorf("list tenants: %w", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}), "unavailable", "the state store is unavailable"},
	} {
		logged.Reset()
		w := httptest.NewRecorder()
		a.fail(w, r, tc.err)
		var got struct{ Error, Message string }
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != http.StatusServiceUnavailable || got.Error != tc.code ||
			!strings.HasPrefix(got.Message, tc.text) || w.Header().Get("Retry-After") == "" {
			t.Errorf("%v: answer %d %s, Retry-After %q; want 503 %s", tc.err, w.Code, w.Body, w.Header().Get("Retry-After"), tc.code)
		}
		if !strings.Contains(logged.String(), `"level":"WARN"`) {
			t.Errorf("%v: logged %s, want a warning", tc.err, logged.String())
		}
	}
}
