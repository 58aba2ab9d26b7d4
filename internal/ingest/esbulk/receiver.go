package esbulk

import (
	"bytes"
	"compress/gzip"
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/tenant"
	"github.com/tarian-soc/tarian/internal/tlsfile"
)

// Source is the event.Raw source of every document this receiver accepts;
// the indexer parses it as JSON.
const Source = string(event.KindElasticsearch)

// Metric names (counters by tenant; refused requests have no tenant).
const (
	MetricEvents       = "tarian_esbulk_events_total"
	MetricRejected     = "tarian_esbulk_rejected_total"
	MetricBackpressure = "tarian_esbulk_backpressure_total"
	MetricRefused      = "tarian_esbulk_refused_total"
)

// Timeouts of the HTTP server.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 120 * time.Second
	shutdownTimeout   = 10 * time.Second
)

// Receiver serves the Elasticsearch API subset that shippers use.
type Receiver struct {
	cfg  Config
	d    ingest.Deps
	now  func() time.Time
	info []byte // the GET / reply
	h    http.Handler
	// requests reuses the buffers of bulk requests.
	requests sync.Pool

	ready chan struct{}
	mu    sync.Mutex
	addr  net.Addr
}

// New checks cfg and deps; Run listens, Handler serves without listening.
// d needs Auth: shippers send an ingest token.
func New(cfg Config, d ingest.Deps) (*Receiver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("esbulk: %w", err)
	}
	if err := d.Require("esbulk", ingest.NeedAuth); err != nil {
		return nil, err
	}
	r := &Receiver{cfg: cfg, d: d, now: time.Now, ready: make(chan struct{})}
	r.info = infoBody(cfg.Version)
	r.requests.New = func() any { return &request{dec: decoder{maxLine: cfg.MaxLineBytes}} }
	r.h = http.HandlerFunc(r.serve)
	return r, nil
}

// Handler returns the API as an http.Handler, for tests and for mounting
// on another server.
func (r *Receiver) Handler() http.Handler { return r.h }

// Addr returns the bound address once Run has bound it; nil when the
// receiver is disabled or Run failed to bind. It waits for Run.
func (r *Receiver) Addr() net.Addr {
	if r.cfg.Listen == "" {
		return nil
	}
	<-r.ready
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addr
}

// Run listens on cfg.Listen and serves until ctx is done, then stops
// accepting, lets requests in flight finish (for up to 10 s) and returns.
// With Listen empty it just waits for ctx. An address in use is returned
// at once.
func (r *Receiver) Run(ctx context.Context) error {
	if r.cfg.Listen == "" {
		<-ctx.Done()
		return nil
	}
	var once sync.Once
	markReady := func() { once.Do(func() { close(r.ready) }) }
	defer markReady()
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", r.cfg.address())
	if err != nil {
		return fmt.Errorf("esbulk: listen: %w", err)
	}
	r.mu.Lock()
	r.addr = ln.Addr()
	r.mu.Unlock()
	markReady()
	srv := &http.Server{
		Handler:           r.h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(r.d.Log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	tlsOn := r.cfg.TLSCert != ""
	if tlsOn {
		var err error
		if srv.TLSConfig, err = tlsfile.ServerConfig(r.cfg.TLSCert, r.cfg.TLSKey, r.d.Log); err != nil {
			return fmt.Errorf("esbulk: tls_cert: %w", err)
		}
	}
	r.d.Log.Info("elasticsearch bulk receiver listening", "addr", ln.Addr().String(), "tls", tlsOn, "version", r.cfg.Version)
	errc := make(chan error, 1)
	go func() {
		if tlsOn {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("esbulk: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("esbulk: serve: %w", err)
	}
	return nil
}

// serve routes one request.
func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	h := w.Header()
	h.Set("X-Elastic-Product", "Elasticsearch")
	h.Set("Content-Type", contentType(req))
	t, ok := r.authenticate(w, req)
	if !ok {
		return
	}
	segs := pathSegments(req.URL)
	// /_bulk, /<index>/_bulk
	if n := len(segs); n > 0 && n <= 2 && segs[n-1] == "_bulk" && (n == 1 || !strings.HasPrefix(segs[0], "_")) {
		if req.Method != http.MethodPost && req.Method != http.MethodPut {
			r.methodNotAllowed(w, req, "POST, PUT")
			return
		}
		index := ""
		if n == 2 {
			index = segs[0]
		}
		r.bulk(w, req, t, index)
		return
	}
	r.admin(w, req, t, segs)
}

// pathSegments splits the path on its unescaped slashes, so an index
// name holding an escaped one (Logstash's "<logstash-{now/d}-000001>")
// stays one segment.
func pathSegments(u *url.URL) []string {
	p := strings.Trim(u.EscapedPath(), "/")
	if p == "" {
		return nil
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if us, err := url.PathUnescape(s); err == nil {
			segs[i] = us
		}
	}
	return segs
}

// contentType is the reply's type: the versioned type when the client asks
// for it (the official clients do), JSON otherwise.
func contentType(req *http.Request) string {
	if strings.Contains(req.Header.Get("Accept"), "compatible-with=8") {
		return "application/vnd.elasticsearch+json;compatible-with=8"
	}
	return "application/json"
}

// authenticate resolves the request's credential to a tenant, or answers
// 401/403 as Elasticsearch does.
func (r *Receiver) authenticate(w http.ResponseWriter, req *http.Request) (tenant.ID, bool) {
	secrets := credentials(req.Header.Get("Authorization"))
	err := fmt.Errorf("%w: no credentials", auth.ErrUnauthenticated)
	for _, s := range secrets {
		var t tenant.ID
		t, err = r.d.Auth.IngestTenant(req.Context(), s)
		if err == nil {
			return t, true
		}
		if !errors.Is(err, auth.ErrUnauthenticated) {
			break
		}
	}
	r.d.Metrics.Count(MetricRefused, "", 1)
	switch {
	case errors.Is(err, auth.ErrUnauthenticated):
		r.d.Log.Debug("refused", "remote", req.RemoteAddr, "err", err)
		h := w.Header()
		h.Add("WWW-Authenticate", `Basic realm="security", charset="UTF-8"`)
		h.Add("WWW-Authenticate", `Bearer realm="security"`)
		h.Add("WWW-Authenticate", `ApiKey`)
		reason := "missing authentication credentials for REST request [" + req.URL.Path + "]"
		if len(secrets) > 0 {
			reason = "unable to authenticate with provided credentials and anonymous access is not allowed for this request"
		}
		writeError(w, http.StatusUnauthorized, "security_exception", reason)
	case errors.Is(err, auth.ErrForbidden):
		r.d.Log.Debug("forbidden", "remote", req.RemoteAddr, "err", err)
		writeError(w, http.StatusForbidden, "security_exception", "action is unauthorized: "+err.Error())
	default:
		r.d.Log.Warn("authenticate", "err", err)
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "status_exception", "cannot check credentials now")
	}
	return "", false
}

// credentials lists the secrets an Authorization header may carry, most
// likely first: an API key's key part, then the whole key; basic auth's
// password; a bearer token.
func credentials(h string) []string {
	scheme, val, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok {
		return nil
	}
	val = strings.TrimSpace(val)
	if val == "" {
		return nil
	}
	switch strings.ToLower(scheme) {
	case "apikey":
		dec, err := base64.StdEncoding.DecodeString(val)
		if err != nil {
			return []string{val}
		}
		s := string(dec)
		if _, key, ok := strings.Cut(s, ":"); ok && key != "" {
			return []string{key, s}
		}
		return []string{s}
	case "basic":
		dec, err := base64.StdEncoding.DecodeString(val)
		if err != nil {
			return nil
		}
		if _, pass, ok := strings.Cut(string(dec), ":"); ok && pass != "" {
			return []string{pass}
		}
	case "bearer":
		return []string{val}
	}
	return nil
}

// writeError answers an Elasticsearch error object.
func writeError(w http.ResponseWriter, status int, typ, reason string) {
	b := make([]byte, 0, 128+2*len(reason))
	b = append(b, `{"error":{"root_cause":[{"type":`...)
	b = appendString(b, typ)
	b = append(b, `,"reason":`...)
	b = appendString(b, reason)
	b = append(b, `}],"type":`...)
	b = appendString(b, typ)
	b = append(b, `,"reason":`...)
	b = appendString(b, reason)
	b = append(b, `},"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, "}\n"...)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func writeBody(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func (r *Receiver) methodNotAllowed(w http.ResponseWriter, req *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, "illegal_argument_exception",
		"Incorrect HTTP method for uri ["+req.URL.Path+"] and method ["+req.Method+"], allowed: ["+allow+"]")
}

// readBody reads the body into buf, gunzipped, refusing one over
// MaxBodyBytes with 413 (as Elasticsearch does; Beats then split the
// batch).
func (r *Receiver) readBody(w http.ResponseWriter, req *http.Request, buf *bytes.Buffer) bool {
	limit := r.cfg.MaxBodyBytes
	tooLarge := func() bool {
		writeError(w, http.StatusRequestEntityTooLarge, "content_too_long_exception",
			fmt.Sprintf("request body is larger than the %d-byte limit", limit))
		return false
	}
	if req.ContentLength > limit {
		return tooLarge()
	}
	req.Body = http.MaxBytesReader(w, req.Body, limit+1)
	var src io.Reader = req.Body
	switch strings.ToLower(strings.TrimSpace(req.Header.Get("Content-Encoding"))) {
	case "", "identity":
		if n := req.ContentLength; n > 0 {
			buf.Grow(int(n) + bytes.MinRead)
		}
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(src)
		if err != nil {
			writeError(w, http.StatusBadRequest, "parse_exception", "gzip body: "+err.Error())
			return false
		}
		defer zr.Close()
		src = zr
	default:
		writeError(w, http.StatusUnsupportedMediaType, "illegal_argument_exception",
			"unsupported Content-Encoding "+req.Header.Get("Content-Encoding"))
		return false
	}
	_, err := buf.ReadFrom(io.LimitReader(src, limit+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) || int64(buf.Len()) > limit:
		return tooLarge()
	case err != nil:
		writeError(w, http.StatusBadRequest, "parse_exception", "read body: "+err.Error())
		return false
	}
	return true
}

// request holds the buffers of one bulk request, reused across requests.
type request struct {
	dec   decoder
	body  bytes.Buffer
	items []item
	recs  []event.Raw
	dead  []ingest.DeadLetter
	out   []byte
}

// maxKeptBuffer is the largest body buffer kept for the next request.
const maxKeptBuffer = 8 << 20

func (r *Receiver) putRequest(rq *request) {
	if rq.body.Cap() > maxKeptBuffer || cap(rq.out) > maxKeptBuffer {
		return
	}
	rq.body.Reset()
	clear(rq.items)
	clear(rq.recs)
	clear(rq.dead)
	rq.items, rq.recs, rq.dead, rq.out = rq.items[:0], rq.recs[:0], rq.dead[:0], rq.out[:0]
	r.requests.Put(rq)
}

// bulk serves /_bulk and /<index>/_bulk.
func (r *Receiver) bulk(w http.ResponseWriter, req *http.Request, t tenant.ID, index string) {
	start := r.now()
	rq := r.requests.Get().(*request)
	// The sink and the dead-letter store are done with the records when
	// they return, so the buffers are reused after the reply.
	defer r.putRequest(rq)
	if !r.readBody(w, req, &rq.body) {
		return
	}
	body := rq.body.Bytes()
	received := start.UTC()
	items, err := rq.dec.decode(rq.items, body, index)
	rq.items = items
	if err != nil {
		var re *requestError
		if !errors.As(err, &re) {
			panic("BUG: decode returned " + err.Error())
		}
		if len(bytes.TrimSpace(body)) > 0 {
			// Nothing of this request is written; keep its start so it is
			// not lost, whatever the shipper does with the 400.
			data := body[:min(len(body), r.cfg.MaxLineBytes)]
			dl := ingest.DeadLetter{Received: received, Source: Source, Line: re.line,
				Reason: fmt.Sprintf("bulk request refused (%s): %s; first %d of %d bytes kept", re.errType, re.reason, len(data), len(body)), Data: data}
			if err := r.d.DeadLetters.AddDeadLetters(req.Context(), t, []ingest.DeadLetter{dl}); err != nil {
				r.d.Log.Warn("store dead letters", "tenant", t, "err", err)
				w.Header().Set("Retry-After", "1")
				writeError(w, http.StatusServiceUnavailable, "status_exception", "cannot store the refused request now")
				return
			}
			r.d.Metrics.Count(MetricRejected, t, 1)
		}
		writeError(w, http.StatusBadRequest, re.errType, re.reason)
		return
	}

	recs, dead := rq.recs, rq.dead
	for i := range items {
		it := &items[i]
		if it.doc != nil {
			recs = append(recs, event.Raw{Received: received, Source: Source, Data: it.doc})
		} else if it.dead != nil {
			dead = append(dead, ingest.DeadLetter{Received: received, Source: Source, Line: it.deadLine,
				Reason: it.action + " action: " + it.errType + ": " + it.reason, Data: it.dead})
		}
	}
	rq.recs, rq.dead = recs, dead
	if len(recs) > 0 {
		if err := r.d.Sink.Write(req.Context(), t, recs); err != nil {
			if errors.Is(err, ingest.ErrBackpressure) {
				r.d.Log.Warn("back-pressure: bulk request refused with 429", "tenant", t, "items", len(items), "err", err)
				r.d.Metrics.Count(MetricBackpressure, t, len(items))
				for i := range items {
					items[i].fail(http.StatusTooManyRequests, "es_rejected_execution_exception", pushBackReason(err))
				}
				w.Header().Set("Retry-After", strconv.Itoa(ingest.RetryAfterSeconds(err)))
				r.reply(w, rq, http.StatusTooManyRequests, start)
				return
			}
			level := slog.LevelError
			if req.Context().Err() != nil {
				level = slog.LevelWarn // the shipper went away
			}
			r.d.Log.Log(req.Context(), level, "write bulk documents", "tenant", t, "records", len(recs), "err", err)
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, "status_exception", "cannot store the documents now; retry later")
			return
		}
		r.d.Metrics.Count(MetricEvents, t, len(recs))
		for i := range items {
			if items[i].doc != nil {
				items[i].status = http.StatusCreated
			}
		}
	}
	if len(dead) > 0 {
		if err := r.d.DeadLetters.AddDeadLetters(req.Context(), t, dead); err != nil {
			r.d.Log.Warn("store dead letters", "tenant", t, "err", err)
			for i := range items {
				if items[i].dead != nil {
					items[i].fail(http.StatusServiceUnavailable, "unavailable_shards_exception", "cannot keep the rejected document now; retry later")
				}
			}
		} else {
			r.d.Metrics.Count(MetricRejected, t, len(dead))
		}
	}
	r.reply(w, rq, http.StatusOK, start)
}

// reply writes the bulk response: one item per action, in order.
func (r *Receiver) reply(w http.ResponseWriter, rq *request, status int, start time.Time) {
	items := rq.items
	// IDs for actions that name none: Elasticsearch-like, 20 URL-safe
	// characters, a random prefix per request and the item's position.
	var raw [15]byte
	crand.Read(raw[:12])
	errs := false
	for i := range items {
		if items[i].status >= 300 {
			errs = true
			break
		}
	}
	b := rq.out[:0]
	b = append(b, `{"took":`...)
	b = strconv.AppendInt(b, r.now().Sub(start).Milliseconds(), 10)
	b = append(b, `,"errors":`...)
	b = strconv.AppendBool(b, errs)
	b = append(b, `,"items":[`...)
	for i := range items {
		it := &items[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"`...)
		b = append(b, it.action...)
		b = append(b, `":{"_index":`...)
		b = appendString(b, it.index)
		b = append(b, `,"_id":`...)
		if it.id != "" {
			b = appendString(b, it.id)
		} else {
			raw[12], raw[13], raw[14] = byte(i>>16), byte(i>>8), byte(i)
			b = append(b, '"')
			b = base64.RawURLEncoding.AppendEncode(b, raw[:])
			b = append(b, '"')
		}
		if it.status < 300 {
			b = append(b, `,"_version":1,"result":"created","status":`...)
			b = strconv.AppendInt(b, int64(it.status), 10)
		} else {
			b = append(b, `,"status":`...)
			b = strconv.AppendInt(b, int64(it.status), 10)
			b = append(b, `,"error":{"type":`...)
			b = appendString(b, it.errType)
			b = append(b, `,"reason":`...)
			b = appendString(b, it.reason)
			b = append(b, '}')
		}
		b = append(b, "}}"...)
	}
	b = append(b, "]}\n"...)
	rq.out = b
	writeBody(w, status, b)
}

// pushBackReason says why a write was refused, in the item's reason.
func pushBackReason(err error) string {
	if errors.Is(err, ingest.ErrRateLimited) {
		return "tenant over its ingest rate limit or daily quota; retry later"
	}
	return "Tarian's durable queue is full or slow; retry later"
}
