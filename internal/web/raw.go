package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/rawarchive"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// RawRecords reads the raw record archive (rawarchive.Archive).
type RawRecords interface {
	Record(ctx context.Context, t tenant.ID, seq uint64, idx int) ([]byte, error)
}

// getRaw answers GET /api/v1/raw?tenant=&ref=SEQ:IDX with the record an
// event came from, byte for byte as it was received: text/plain when it
// is UTF-8, else application/octet-stream. The reference is an alert's
// event_ref or a search row's tarian.seq and tarian.idx.
func (a *API) getRaw(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if a.d.Raw == nil {
		return &apiError{http.StatusNotFound, "not_found", "this server keeps no raw record archive"}
	}
	s := r.URL.Query().Get("ref")
	ref, err := event.ParseRef(s)
	if err != nil {
		return badRequest("ref: " + err.Error() + " (an alert's event_ref, or a search row's tarian.seq:tarian.idx)")
	}
	ids, err := a.scope(r, p, "raw.read")
	if err != nil {
		return err
	}
	if len(ids) != 1 || r.URL.Query().Get("tenant") == auth.AllTenants {
		return badRequest("tenant: name the one member the event belongs to")
	}
	data, err := a.d.Raw.Record(r.Context(), ids[0], ref.Seq, ref.Idx)
	if errors.Is(err, rawarchive.ErrNotFound) {
		return &apiError{http.StatusNotFound, "not_found", fmt.Sprintf("no archived record %s in %s (not archived, past retention, or not written yet)", s, ids[0])}
	}
	if err != nil {
		return err
	}
	ct := "application/octet-stream"
	if utf8.Valid(data) {
		ct = "text/plain; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, err = w.Write(data)
	return err
}
