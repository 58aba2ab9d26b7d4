package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/backup"
	"github.com/tarian-soc/tarian/internal/defend"
	"github.com/tarian-soc/tarian/internal/detector"
	"github.com/tarian-soc/tarian/internal/incident"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/savedsearch"
	"github.com/tarian-soc/tarian/internal/store"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// apiError is an error with its stable code and HTTP status. The codes are
// part of the API: clients match on them.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func badRequest(msg string) error { return &apiError{http.StatusBadRequest, "bad_request", msg} }

// Stable error codes with their statuses, for errors of the domain packages.
var catalogue = []struct {
	err    error
	status int
	code   string
}{
	{auth.ErrUnauthenticated, http.StatusUnauthorized, "unauthenticated"},
	{auth.ErrForbidden, http.StatusForbidden, "forbidden"},
	{tenant.ErrInvalidID, http.StatusBadRequest, "bad_tenant"},
	{tenant.ErrNotFound, http.StatusNotFound, "tenant_not_found"},
	{tenant.ErrExists, http.StatusConflict, "tenant_exists"},
	{logstore.ErrBadQuery, http.StatusBadRequest, "bad_query"},
	{ingest.ErrEmpty, http.StatusBadRequest, "empty_body"},
	{ingest.ErrRateLimited, http.StatusTooManyRequests, "rate_limited"},
	{ingest.ErrBackpressure, http.StatusServiceUnavailable, "backpressure"},
	{detector.ErrUnknownRule, http.StatusNotFound, "rule_not_found"},
	{alert.ErrNotFound, http.StatusNotFound, "not_found"},
	{alert.ErrTransition, http.StatusConflict, "transition_not_allowed"},
	{alert.ErrInvalid, http.StatusBadRequest, "bad_request"},
	{incident.ErrNotFound, http.StatusNotFound, "not_found"},
	{incident.ErrTransition, http.StatusConflict, "transition_not_allowed"},
	{incident.ErrInvalid, http.StatusBadRequest, "bad_request"},
	{intel.ErrNotFound, http.StatusNotFound, "not_found"},
	{defend.ErrNotFound, http.StatusNotFound, "not_found"},
	{savedsearch.ErrNotFound, http.StatusNotFound, "not_found"},
	{savedsearch.ErrExists, http.StatusConflict, "search_exists"},
	{savedsearch.ErrInvalid, http.StatusBadRequest, "bad_request"},
	{incident.ErrTooLarge, http.StatusRequestEntityTooLarge, "evidence_too_large"},
	{backup.ErrBusy, http.StatusConflict, "backup_running"},
	{backup.ErrBehind, http.StatusServiceUnavailable, "backup_timeout"},
	{backup.ErrUnsupported, http.StatusConflict, "backup_unsupported"},
	{auth.ErrUnavailable, http.StatusServiceUnavailable, "unavailable"},
	{logstore.ErrUnavailable, http.StatusServiceUnavailable, "event_store_unavailable"},
}

// errorStatus is the status and code writeError answers err with.
func errorStatus(err error) (int, string) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.status, ae.code
	}
	for _, c := range catalogue {
		if errors.Is(err, c.err) {
			return c.status, c.code
		}
	}
	if store.Unavailable(err) {
		return http.StatusServiceUnavailable, "unavailable"
	}
	return http.StatusInternalServerError, "internal"
}

// fail answers a request with err. A 500's detail (a bug, or a store's own
// error: file paths, queries) goes to the log under a reference the
// answer gives, not to the caller; other errors are logged at debug level.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch status, _ := errorStatus(err); {
	case errors.Is(err, context.Canceled):
	case status == http.StatusInternalServerError:
		ref := make([]byte, 4)
		_, _ = rand.Read(ref)
		a.d.Log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "ref", hex.EncodeToString(ref), "err", err)
		err = fmt.Errorf("internal error (reference %x): the server log has the detail", ref)
	case errors.Is(err, logstore.ErrUnavailable) || store.Unavailable(err):
		// The caller is told which store; the log keeps its own error.
		a.d.Log.Warn("api request failed: a store is unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
	default:
		a.d.Log.Debug("api request failed", "path", r.URL.Path, "err", err)
	}
	writeError(w, err)
}

// writeError answers with the error body {"error","message"}.
func writeError(w http.ResponseWriter, err error) {
	retry := ingest.RetryAfterSeconds(err)
	status, code := errorStatus(err)
	msg := err.Error()
	var ae *apiError
	if errors.As(err, &ae) {
		msg = ae.msg
	}
	if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", strconv.Itoa(retry))
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tarian"`)
	}
	switch {
	case errors.Is(err, auth.ErrUnavailable):
		// The store's own error (addresses, user names) is for the log.
		msg = auth.ErrUnavailable.Error() + "; try again"
	case errors.Is(err, logstore.ErrUnavailable):
		msg = "the event store is unavailable (ingest and detection go on; search waits for it); try again"
	case status == http.StatusServiceUnavailable && store.Unavailable(err):
		msg = "the state store is unavailable; try again"
	}
	writeJSON(w, status, map[string]string{"error": code, "message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
