package web

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/logstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

func (a *API) postIngest(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	select {
	case a.ingest <- struct{}{}:
		defer func() { <-a.ingest }()
	case <-time.After(2 * time.Second):
		return &apiError{http.StatusTooManyRequests, "too_many_requests", "too many ingest requests in progress; retry"}
	case <-r.Context().Done():
		return r.Context().Err()
	}
	max := a.d.IngestLimit.MaxBodyBytes
	if r.ContentLength > max && r.Header.Get("Content-Encoding") == "" {
		return bodyTooLarge(max)
	}
	var body io.Reader = r.Body
	switch enc := strings.ToLower(r.Header.Get("Content-Encoding")); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return badRequest("gzip body: " + err.Error())
		}
		defer zr.Close()
		body = zr
	default:
		return &apiError{http.StatusUnsupportedMediaType, "unsupported_encoding", "Content-Encoding " + enc + " is not supported; send identity or gzip"}
	}
	// Sized once from Content-Length when it is known: io.ReadAll grows
	// its buffer by doubling, copying a large batch several times.
	buf := bytes.NewBuffer(nil)
	if body == r.Body && r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(body, max+1)); err != nil {
		return badRequest("read body: " + err.Error())
	}
	data := buf.Bytes()
	if int64(len(data)) > max {
		return bodyTooLarge(max)
	}
	key, err := idempotencyKey(r)
	if err != nil {
		return err
	}
	if key != "" && a.d.IngestKeys != nil {
		return a.ingestOnce(w, r, p, key, data)
	}
	sum, err := a.d.Ingest.AcceptNDJSON(r.Context(), p.Tenant, string(event.KindHTTP), data)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sum)
	return nil
}

// ingestKeyTTL is how long the answer to a request with an
// Idempotency-Key is kept: a retry within it gets that answer.
const ingestKeyTTL = 24 * time.Hour

// idempotencyKey returns the request's Idempotency-Key ("" if none), or
// a 400 for one that is not 1..255 visible ASCII characters.
func idempotencyKey(r *http.Request) (string, error) {
	vs := r.Header.Values("Idempotency-Key")
	if len(vs) == 0 {
		return "", nil
	}
	// A structured-field string (RFC 8941) is quoted; a bare token is
	// taken as it is.
	k := vs[0]
	if len(k) >= 2 && k[0] == '"' && k[len(k)-1] == '"' {
		k = k[1 : len(k)-1]
	}
	ok := len(vs) == 1 && k != "" && len(k) <= 255
	for i := 0; ok && i < len(k); i++ {
		ok = k[i] > ' ' && k[i] < 0x7f
	}
	if !ok {
		return "", &apiError{http.StatusBadRequest, "bad_idempotency_key", "Idempotency-Key: want one key of 1 to 255 visible ASCII characters"}
	}
	return k, nil
}

// ingestOnce ingests a request named by an Idempotency-Key: the first
// one is written (its records' bus messages named by the key, so that a
// retry racing it or following a crash is stored once) and its answer
// kept; a retry gets that answer again, with Idempotent-Replayed: true,
// and writes nothing. The key again with another body is a 422.
func (a *API) ingestOnce(w http.ResponseWriter, r *http.Request, p auth.Principal, key string, data []byte) error {
	ctx := r.Context()
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	now := time.Now()
	kept, answer, found, err := a.d.IngestKeys.IngestKey(ctx, p.Tenant, key, now.Add(-ingestKeyTTL))
	if err != nil {
		// The state store cannot say: write it all the same, the bus
		// still storing a retry within its dedupe window once.
		a.d.Log.Warn("ingest: look up an Idempotency-Key", "tenant", p.Tenant, "err", err)
	}
	if found {
		if kept != hash {
			return &apiError{http.StatusUnprocessableEntity, "idempotency_key_reused", "Idempotency-Key " + strconv.Quote(key) + " was used for another body: a new batch needs a new key"}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(http.StatusOK)
		_, err := io.WriteString(w, answer)
		return err
	}
	res, err := a.d.Ingest.AcceptNDJSON(ingest.WithWriteKey(ctx, key), p.Tenant, string(event.KindHTTP), data)
	if err != nil {
		return err
	}
	out, err := json.Marshal(res)
	if err != nil {
		return err
	}
	if err := a.d.IngestKeys.PutIngestKey(ctx, p.Tenant, key, hash, string(out)+"\n", now, now.Add(-ingestKeyTTL)); err != nil {
		// The batch is durable: answer it; a retry is written again
		// (its records stored once within the bus's dedupe window).
		a.d.Log.Warn("ingest: keep the answer of an Idempotency-Key", "tenant", p.Tenant, "err", err)
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func bodyTooLarge(max int64) error {
	return &apiError{http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("body is over the %d-byte limit; send smaller batches", max)}
}

// scope resolves the tenants p reads for the request's tenant parameter,
// auditing every provider read (the cross-tenant view is explicit and
// audited).
func (a *API) scope(r *http.Request, p auth.Principal, action string) ([]tenant.ID, error) {
	requested := r.URL.Query().Get("tenant")
	id, all, err := p.ReadScope(requested)
	if err != nil {
		return nil, err
	}
	var ids []tenant.ID
	if all {
		ts, err := a.d.Tenants.Tenants(r.Context())
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			ids = append(ids, t.ID)
		}
	} else {
		if _, err := a.d.Tenants.Tenant(r.Context(), id); err != nil {
			return nil, err
		}
		ids = []tenant.ID{id}
	}
	if p.Role.Provider() {
		scope := requested
		if err := a.audit(r.Context(), p, action, scope, r.URL.RawQuery); err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
	}
	return ids, nil
}

func (a *API) getSearch(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	q := r.URL.Query()
	lq := q.Get("q")
	if strings.TrimSpace(lq) == "" {
		return badRequest("q is required (LogsQL; '*' matches every event)")
	}
	now := time.Now()
	from, err := parseTime(q.Get("from"), now)
	if err != nil {
		return badRequest("from: " + err.Error())
	}
	to, err := parseTime(q.Get("to"), now)
	if err != nil {
		return badRequest("to: " + err.Error())
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return badRequest(fmt.Sprintf("from must be before to (from %s, to %s)", from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339)))
	}
	limit := a.cfg.DefaultLimit
	if s := q.Get("limit"); s != "" {
		limit, err = strconv.Atoi(s)
		if err != nil || limit < 1 || limit > a.cfg.MaxLimit {
			return badRequest(fmt.Sprintf("limit: want 1..%d", a.cfg.MaxLimit))
		}
	}
	ids, err := a.scope(r, p, "search")
	if err != nil {
		return err
	}
	// The limit applied, so that a client can tell an answer the limit cut.
	w.Header().Set("X-Tarian-Limit", strconv.Itoa(limit))
	if len(ids) == 0 { // "*" with no tenants yet
		w.Header().Set("Content-Type", "application/x-ndjson")
		return nil
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	started := false
	var line []byte
	err = a.d.Search.Search(r.Context(), logstore.Query{Tenants: ids, LogsQL: lq, From: from, To: to, Limit: limit}, func(row logstore.Row) error {
		if !started {
			w.Header().Set("Content-Type", "application/x-ndjson")
			started = true
		}
		line = appendRow(line[:0], row)
		_, err := bw.Write(line)
		return err
	})
	if err != nil && !started {
		return err
	}
	if err != nil {
		// Headers are gone: say so in a last line rather than cut silently.
		b, _ := json.Marshal(map[string]string{"error": "search_failed", "message": err.Error()})
		bw.Write(append(b, '\n'))
	}
	if !started {
		w.Header().Set("Content-Type", "application/x-ndjson")
	}
	return bw.Flush()
}

// appendRow renders one result as a JSON line: tenant, @timestamp, then the
// event's fields. An event field named "tenant" is renamed so that the
// Tarian tenant stays unambiguous.
func appendRow(b []byte, row logstore.Row) []byte {
	b = append(b, `{"tenant":`...)
	b = strconv.AppendQuote(b, string(row.Tenant))
	hasTime := false
	for _, f := range row.Fields {
		if f.Name == "@timestamp" {
			hasTime = true
		}
	}
	if !row.Time.IsZero() && !hasTime {
		b = append(b, `,"@timestamp":"`...)
		b = row.Time.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	for _, f := range row.Fields {
		name := f.Name
		if name == "tenant" {
			name = "_tenant_field"
		}
		b = append(b, ',')
		b = appendJSONString(b, name)
		b = append(b, ':')
		b = appendJSONString(b, f.Value)
	}
	return append(b, '}', '\n')
}

func appendJSONString(b []byte, s string) []byte {
	enc, _ := json.Marshal(s)
	return append(b, enc...)
}

// parseTime reads RFC 3339, "now", or a time relative to now such as
// "-1h", "-30m", "-7d". Empty means unbounded (zero).
func parseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return time.Time{}, nil
	case s == "now":
		return now, nil
	case strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+"):
		d, err := parseDuration(s)
		if err != nil {
			return time.Time{}, err
		}
		return now.Add(d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not RFC 3339, 'now' or relative like -1h", s)
	}
	return t, nil
}

// parseDuration is time.ParseDuration plus a "d" (24h) and "w" unit.
func parseDuration(s string) (time.Duration, error) {
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(n, 64)
			if err != nil {
				return 0, fmt.Errorf("bad duration %q", s)
			}
			return time.Duration(f * float64(u.unit)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	return d, nil
}

type tenantJSON struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

func (a *API) getTenants(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var ts []tenant.Tenant
	switch {
	case p.Role.Provider():
		var err error
		if ts, err = a.d.Tenants.Tenants(r.Context()); err != nil {
			return err
		}
	case p.Tenant != "":
		t, err := a.d.Tenants.Tenant(r.Context(), p.Tenant)
		if err != nil {
			return err
		}
		ts = []tenant.Tenant{t}
	}
	out := make([]tenantJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, tenantJSON{ID: string(t.ID), Name: t.Name, Created: t.Created})
	}
	writeJSON(w, http.StatusOK, map[string]any{"tenants": out})
	return nil
}

func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("JSON body: " + err.Error())
	}
	return nil
}

func (a *API) postTenant(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	var req struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	id, err := tenant.Parse(req.ID)
	if err != nil {
		return err
	}
	if strings.TrimSpace(req.Name) == "" {
		req.Name = req.ID
	}
	t, err := a.d.Tenants.CreateTenant(r.Context(), tenant.Tenant{ID: id, Name: req.Name, Created: time.Now().UTC()})
	if err != nil {
		return err
	}
	if err := a.audit(r.Context(), p, "tenant.create", string(id), req.Name); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, tenantJSON{ID: string(t.ID), Name: t.Name, Created: t.Created})
	return nil
}

func (a *API) getDeadLetters(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	q := r.URL.Query()
	requested := q.Get("tenant")
	if requested == "" {
		requested = string(p.Tenant)
	}
	if requested == "" {
		return badRequest("tenant is required: dead letters are per tenant; provider roles name one (tenant=ID)")
	}
	id, err := tenant.Parse(requested)
	if err != nil {
		return err
	}
	if !p.CanAdminister(id) {
		return fmt.Errorf("%w: dead letters are for provider-admin or this tenant's admin", auth.ErrForbidden)
	}
	if _, err := a.d.Tenants.Tenant(r.Context(), id); err != nil {
		return err
	}
	limit := 100
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > 10000 {
			return badRequest("limit: want 1..10000")
		}
	}
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	if p.Role.Provider() {
		if err := a.audit(r.Context(), p, "deadletters.read", string(id), r.URL.RawQuery); err != nil {
			return err
		}
	}
	dls, err := a.d.DeadLetters.DeadLetters(r.Context(), id, before, limit)
	if err != nil {
		return err
	}
	type dlJSON struct {
		ID       int64     `json:"id"`
		Received time.Time `json:"received"`
		Source   string    `json:"source"`
		Line     int       `json:"line"`
		Reason   string    `json:"reason"`
		Data     string    `json:"data"`
	}
	out := make([]dlJSON, 0, len(dls))
	for _, d := range dls {
		out = append(out, dlJSON{d.ID, d.Received, d.Source, d.Line, d.Reason, string(d.Data)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"tenant": id, "dead_letters": out})
	return nil
}
