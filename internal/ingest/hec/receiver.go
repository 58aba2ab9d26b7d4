package hec

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"github.com/tarian-soc/tarian/internal/tlsfile"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Metric names (counters by tenant; refused requests have no tenant).
const (
	MetricEvents   = "tarian_hec_events_total"   // records written durably
	MetricRejected = "tarian_hec_rejected_total" // requests rejected as invalid and dead-lettered
	MetricRefused  = "tarian_hec_refused_total"  // requests without a valid ingest token
	MetricBusy     = "tarian_hec_busy_total"     // requests answered 503 (back-pressure)
)

// Timeouts of the listener.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 10 * time.Second
	maxHeaderBytes    = 64 << 10
	maxChannelBytes   = 128
	maxAckBody        = 1 << 20
)

// Receiver serves the HEC endpoints.
type Receiver struct {
	cfg     Config
	d       ingest.Deps
	acks    *acks
	now     func() time.Time
	parsers fastjson.ParserPool

	ready chan struct{}
	mu    sync.Mutex
	addr  net.Addr
}

// New checks cfg and returns a receiver; Run listens, Handler serves. d
// needs Auth: an HEC token is a Tarian ingest token.
func New(cfg Config, d ingest.Deps) (*Receiver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("hec: %w", err)
	}
	if err := d.Require("hec", ingest.NeedAuth); err != nil {
		return nil, err
	}
	d.Log = d.Log.With("receiver", "hec")
	return &Receiver{cfg: cfg, d: d, acks: newAcks(), now: time.Now, ready: make(chan struct{})}, nil
}

// Addr returns the listener's bound address once Run has bound it, or nil
// if Run failed to or has nothing to listen on. It waits for Run.
func (r *Receiver) Addr() net.Addr {
	<-r.ready
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addr
}

// Run serves Handler on cfg.Listen until ctx is done, then stops taking
// requests and lets those in flight finish (for up to 10 s). With no
// Listen it returns nil at once. An address in use is returned at once.
func (r *Receiver) Run(ctx context.Context) error {
	var once sync.Once
	defer once.Do(func() { close(r.ready) })
	if r.cfg.Listen == "" {
		return nil
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", r.cfg.address())
	if err != nil {
		return fmt.Errorf("hec: listen: %w", err)
	}
	r.mu.Lock()
	r.addr = ln.Addr()
	r.mu.Unlock()
	once.Do(func() { close(r.ready) })
	srv := &http.Server{
		Handler:           r.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(r.d.Log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	tlsOn := r.cfg.TLSCert != ""
	if tlsOn {
		if srv.TLSConfig, err = tlsfile.ServerConfig(r.cfg.TLSCert, r.cfg.TLSKey, r.d.Log); err != nil {
			ln.Close()
			return fmt.Errorf("hec: tls_cert: %w", err)
		}
	}
	r.d.Log.Info("hec listening", "addr", ln.Addr().String(), "tls", tlsOn)
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
		return fmt.Errorf("hec: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		r.d.Log.Warn("hec shutdown cut requests short", "err", err)
	}
	<-errc
	return nil
}

// Handler serves the HEC endpoints under /services/collector.
func (r *Receiver) Handler() http.Handler { return http.HandlerFunc(r.serveHTTP) }

func (r *Receiver) serveHTTP(w http.ResponseWriter, req *http.Request) {
	path := strings.TrimSuffix(req.URL.Path, "/")
	switch path {
	case "/services/collector/health", "/services/collector/health/1.0":
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			reply(w, stNotAllowed, -1, -1)
			return
		}
		reply(w, stHealthy, -1, -1)
		return
	case "/services/collector", "/services/collector/event", "/services/collector/event/1.0",
		"/services/collector/raw", "/services/collector/raw/1.0", "/services/collector/ack":
	default:
		reply(w, stNotFound, -1, -1)
		return
	}
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(w, stNotAllowed, -1, -1)
		return
	}
	t, st, ok := r.authenticate(req)
	if !ok {
		reply(w, st, -1, -1)
		return
	}
	q := req.URL.Query()
	ch := req.Header.Get("X-Splunk-Request-Channel")
	if ch == "" {
		ch = q.Get("channel")
	}
	if ch != "" && !validChannel(ch) {
		reply(w, stBadChannel, -1, -1)
		return
	}
	if path == "/services/collector/ack" {
		r.serveAck(w, req, t, ch)
		return
	}
	body, st, ok := r.readBody(w, req)
	if !ok {
		reply(w, st, -1, -1)
		return
	}
	received := r.now().UTC()
	var recs []event.Raw
	var bad *invalid
	if strings.HasPrefix(path, "/services/collector/raw") {
		m := rawMeta{channel: ch, host: q.Get("host"), source: q.Get("source"), sourcetype: q.Get("sourcetype"), index: q.Get("index"), time: q.Get("time")}
		if _, err := strconv.ParseFloat(m.time, 64); m.time != "" && err != nil {
			bad = &invalid{stInvalidFormat, -1, "query parameter time is not epoch seconds: " + ingest.Shorten(m.time, 64)}
		} else {
			recs, bad = decodeRaw(body, r.cfg.MaxEventBytes, m, received, nil)
		}
	} else {
		p := r.parsers.Get()
		recs, bad = decodeEvents(p, body, r.cfg.MaxEventBytes, received, make([]event.Raw, 0, 1+len(body)/256))
		r.parsers.Put(p)
	}
	log := r.d.Log.With("tenant", string(t))
	if bad != nil {
		if bad.st == stNoData {
			reply(w, bad.st, -1, -1)
			return
		}
		dl := ingest.DeadLetter{Received: received, Source: Source, Reason: "hec " + path + ": " + bad.reason, Data: body}
		if err := r.d.DeadLetters.AddDeadLetters(req.Context(), t, []ingest.DeadLetter{dl}); err != nil {
			log.Error("hec dead letter not stored", "bytes", len(body), "err", err)
			reply(w, stInternal, -1, -1)
			return
		}
		r.d.Metrics.Count(MetricRejected, t, 1)
		log.Warn("hec request rejected and dead-lettered", "reason", bad.reason, "bytes", len(body))
		reply(w, bad.st, bad.n, -1)
		return
	}
	if err := r.d.Sink.Write(req.Context(), t, recs); err != nil {
		if errors.Is(err, ingest.ErrBackpressure) {
			r.d.Metrics.Count(MetricBusy, t, 1)
			log.Warn("hec sink pushing back", "records", len(recs), "err", err)
			w.Header().Set("Retry-After", strconv.Itoa(ingest.RetryAfterSeconds(err)))
			reply(w, stBusy, -1, -1)
			return
		}
		log.Error("hec records not written", "records", len(recs), "err", err)
		reply(w, stInternal, -1, -1)
		return
	}
	r.d.Metrics.Count(MetricEvents, t, len(recs))
	ack := int64(-1)
	if ch != "" {
		ack = r.acks.issue(t, ch)
	}
	reply(w, stSuccess, -1, ack)
}

// authenticate finds the token (Authorization: Splunk or Bearer, Basic
// with the token as password or else user, or ?token=) and its tenant.
func (r *Receiver) authenticate(req *http.Request) (tenant.ID, status, bool) {
	var secret string
	if h := req.Header.Get("Authorization"); h != "" {
		scheme, rest, _ := strings.Cut(h, " ")
		switch strings.ToLower(scheme) {
		case "splunk", "bearer":
			secret = strings.TrimSpace(rest)
		case "basic":
			user, pass, ok := req.BasicAuth()
			if !ok {
				r.d.Metrics.Count(MetricRefused, "", 1)
				return "", stInvalidAuthz, false
			}
			secret = pass
			if secret == "" {
				secret = user
			}
		default:
			r.d.Metrics.Count(MetricRefused, "", 1)
			return "", stInvalidAuthz, false
		}
	} else {
		secret = req.URL.Query().Get("token")
	}
	if secret == "" {
		r.d.Metrics.Count(MetricRefused, "", 1)
		return "", stTokenRequired, false
	}
	t, err := r.d.Auth.IngestTenant(req.Context(), secret)
	switch {
	case err == nil && t != "":
		return t, stSuccess, true
	case err == nil:
		r.d.Log.Error("BUG: hec authenticator returned no tenant and no error")
		return "", stInternal, false
	case errors.Is(err, auth.ErrUnauthenticated), errors.Is(err, auth.ErrForbidden):
		r.d.Metrics.Count(MetricRefused, "", 1)
		r.d.Log.Debug("hec token refused", "remote", req.RemoteAddr, "err", err)
		return "", stInvalidToken, false
	default:
		// The token store did not answer (auth.ErrUnavailable): the
		// shipper keeps its events and retries, as under back-pressure.
		r.d.Log.Error("hec token look-up", "err", err)
		return "", stBusy, false
	}
}

// readBody reads the whole body, gunzipped, within MaxBodyBytes.
func (r *Receiver) readBody(w http.ResponseWriter, req *http.Request) ([]byte, status, bool) {
	limit := r.cfg.MaxBodyBytes
	if req.ContentLength > limit && req.Header.Get("Content-Encoding") == "" {
		return nil, stTooLarge, false
	}
	var src io.Reader = http.MaxBytesReader(w, req.Body, limit+1)
	switch strings.ToLower(strings.TrimSpace(req.Header.Get("Content-Encoding"))) {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(src)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, stNoData, false
			}
			return nil, stInvalidFormat, false
		}
		defer zr.Close()
		src = zr
	default:
		return nil, stBadEncoding, false
	}
	var buf bytes.Buffer
	if req.ContentLength > 0 && req.ContentLength <= limit {
		buf.Grow(int(req.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(src, limit+1))
	var mbe *http.MaxBytesError
	switch {
	case n > limit || errors.As(err, &mbe):
		return nil, stTooLarge, false
	case err != nil:
		r.d.Log.Debug("hec body read", "err", err)
		return nil, stInvalidFormat, false
	}
	return buf.Bytes(), stSuccess, true
}

// serveAck answers {"acks":[ids]} with {"acks":{"id":true|false}}.
func (r *Receiver) serveAck(w http.ResponseWriter, req *http.Request, t tenant.ID, ch string) {
	if ch == "" {
		reply(w, stNoChannel, -1, -1)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxAckBody))
	if err != nil {
		reply(w, stInvalidFormat, -1, -1)
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		reply(w, stNoData, -1, -1)
		return
	}
	p := r.parsers.Get()
	defer r.parsers.Put(p)
	v, err := p.ParseBytes(body)
	if err != nil {
		reply(w, stInvalidFormat, -1, -1)
		return
	}
	arr, err := v.Get("acks").Array()
	if err != nil {
		reply(w, stInvalidFormat, -1, -1)
		return
	}
	ids := make([]int64, 0, len(arr))
	for _, a := range arr {
		id, err := a.Int64()
		if err != nil {
			reply(w, stInvalidFormat, -1, -1)
			return
		}
		ids = append(ids, id)
	}
	done := r.acks.status(t, ch, ids)
	out := append(make([]byte, 0, 16+16*len(ids)), `{"acks":{`...)
	for i, id := range ids {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = strconv.AppendInt(out, id, 10)
		out = append(out, '"', ':')
		out = strconv.AppendBool(out, done[i])
	}
	out = append(out, '}', '}', '\n')
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// validChannel accepts what clients use as channels (GUIDs, in practice):
// up to 128 letters, digits, '-', '_', '.' and ':'.
func validChannel(s string) bool {
	if len(s) > maxChannelBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}
