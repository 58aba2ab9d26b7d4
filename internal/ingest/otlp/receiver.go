package otlp

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/tenant"
	"github.com/tarian-soc/tarian/internal/tlsfile"
)

// Metric names (counters by tenant; refused requests have no tenant).
const (
	MetricRecords      = "tarian_otlp_records_total"         // log records written durably
	MetricRejected     = "tarian_otlp_rejected_total"        // records (or undecodable requests) dead-lettered
	MetricRefused      = "tarian_otlp_refused_total"         // requests without a valid ingest token
	MetricBackpressure = "tarian_otlp_backpressure_total"    // requests refused as retryable (back-pressure)
	MetricMismatch     = "tarian_otlp_tenant_mismatch_total" // resources whose tenant.id names another tenant
)

// Timeouts of the listeners.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 10 * time.Second
	maxHeaderBytes    = 64 << 10
)

// Receiver serves OTLP logs over HTTP and gRPC.
type Receiver struct {
	cfg     Config
	d       ingest.Deps
	now     func() time.Time
	batches sync.Pool // *batch

	ready    chan struct{}
	mu       sync.Mutex
	httpAddr net.Addr
	grpcAddr net.Addr
}

// New checks cfg and returns a receiver; Run listens, Handler serves
// OTLP/HTTP without listening. d needs Auth: shippers send an ingest token.
func New(cfg Config, d ingest.Deps) (*Receiver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("otlp: %w", err)
	}
	if err := d.Require("otlp", ingest.NeedAuth); err != nil {
		return nil, err
	}
	d.Log = d.Log.With("receiver", "otlp")
	r := &Receiver{cfg: cfg, d: d, now: time.Now, ready: make(chan struct{})}
	r.batches.New = func() any { return &batch{} }
	return r, nil
}

// HTTPAddr returns the OTLP/HTTP listener's address once Run has bound
// it, or nil when it is off or Run failed to bind. It waits for Run.
func (r *Receiver) HTTPAddr() net.Addr {
	if r.cfg.HTTPListen == "" {
		return nil
	}
	<-r.ready
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.httpAddr
}

// GRPCAddr returns the OTLP/gRPC listener's address once Run has bound
// it, or nil when it is off or Run failed to bind. It waits for Run.
func (r *Receiver) GRPCAddr() net.Addr {
	if r.cfg.GRPCListen == "" {
		return nil
	}
	<-r.ready
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.grpcAddr
}

// Run serves OTLP/HTTP on cfg.HTTPListen and OTLP/gRPC on cfg.GRPCListen
// until ctx is done, then stops taking requests and lets those in flight
// finish (for up to 10 s). With neither listener it returns nil at once.
// An address in use or an unreadable certificate is returned at once.
func (r *Receiver) Run(ctx context.Context) error {
	var once sync.Once
	markReady := func() { once.Do(func() { close(r.ready) }) }
	defer markReady()
	if r.cfg.HTTPListen == "" && r.cfg.GRPCListen == "" {
		return nil
	}
	var tlsCfg *tls.Config
	if r.cfg.TLSCert != "" {
		var err error
		if tlsCfg, err = tlsfile.ServerConfig(r.cfg.TLSCert, r.cfg.TLSKey, r.d.Log); err != nil {
			return fmt.Errorf("otlp: tls_cert: %w", err)
		}
	}
	var lc net.ListenConfig
	var httpLn, grpcLn net.Listener
	var err error
	if r.cfg.HTTPListen != "" {
		if httpLn, err = lc.Listen(ctx, "tcp", address(r.cfg.HTTPListen)); err != nil {
			return fmt.Errorf("otlp: http_listen: %w", err)
		}
	}
	if r.cfg.GRPCListen != "" {
		if grpcLn, err = lc.Listen(ctx, "tcp", address(r.cfg.GRPCListen)); err != nil {
			if httpLn != nil {
				httpLn.Close()
			}
			return fmt.Errorf("otlp: grpc_listen: %w", err)
		}
	}
	r.mu.Lock()
	if httpLn != nil {
		r.httpAddr = httpLn.Addr()
	}
	if grpcLn != nil {
		r.grpcAddr = grpcLn.Addr()
	}
	r.mu.Unlock()
	markReady()

	errc := make(chan error, 2)
	var stops []func(context.Context)
	// Each server gets its own TLS config: net/http sets NextProtos on
	// the one it is given.
	if httpLn != nil {
		stops = append(stops, r.serveHTTP(ctx, httpLn, tlsCfg.Clone(), errc))
	}
	if grpcLn != nil {
		stops = append(stops, r.serveGRPC(grpcLn, tlsCfg.Clone(), errc))
	}
	var runErr error
	select {
	case runErr = <-errc:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, stop := range stops {
		wg.Go(func() { stop(sctx) })
	}
	wg.Wait()
	return runErr
}

// outcome is what accepting one request came to, in protocol-neutral
// terms; the HTTP and gRPC layers put it in their own.
type outcome struct {
	// rejected is how many records were dead-lettered; message says why
	// (the first reason).
	rejected int
	message  string
	// retry, when err is set, is how long the shipper should wait; zero
	// means the error is not retryable.
	err   error
	retry time.Duration
}

// The errors accept reports to the protocol layers.
var (
	errBusy     = errors.New("the durable queue is full or slow; retry later")
	errLimited  = errors.New("tenant over its ingest rate limit or daily quota; retry later")
	errInternal = errors.New("the records could not be stored; retry later")
	errUnkept   = errors.New("the rejected records could not be kept; retry later")
)

// accept writes ld's records for tenant t durably and dead-letters those
// that cannot be events. It returns once the records are durable.
func (r *Receiver) accept(ctx context.Context, t tenant.ID, ld plog.Logs, proto string) outcome {
	b := r.batches.Get().(*batch)
	defer r.putBatch(b)
	received := r.now().UTC()
	b.convert(ld, string(t), received, r.cfg.MaxRecordBytes)
	log := r.d.Log.With("tenant", string(t), "protocol", proto)
	if b.mismatched > 0 {
		r.d.Metrics.Count(MetricMismatch, t, b.mismatched)
		log.Debug("otlp resource names another tenant in tenant.id; the token decides", "resources", b.mismatched)
	}
	if len(b.recs) > 0 {
		if err := r.d.Sink.Write(ctx, t, b.recs); err != nil {
			if errors.Is(err, ingest.ErrBackpressure) {
				r.d.Metrics.Count(MetricBackpressure, t, 1)
				log.Warn("otlp sink pushing back", "records", len(b.recs), "err", err)
				o := outcome{err: errBusy, retry: ingest.RetryAfter(err)}
				if errors.Is(err, ingest.ErrRateLimited) {
					o.err = errLimited
				}
				return o
			}
			level := slog.LevelError
			if ctx.Err() != nil {
				level = slog.LevelWarn // the shipper went away
			}
			log.Log(ctx, level, "otlp records not written", "records", len(b.recs), "err", err)
			return outcome{err: errInternal}
		}
		r.d.Metrics.Count(MetricRecords, t, len(b.recs))
	}
	if len(b.dead) == 0 {
		return outcome{}
	}
	if err := r.d.DeadLetters.AddDeadLetters(ctx, t, b.dead); err != nil {
		// The records are written; a retry may write them again
		// (at-least-once), but the rejected ones are not lost.
		log.Error("otlp dead letters not stored", "records", len(b.dead), "err", err)
		return outcome{err: errUnkept, retry: ingest.DefaultRetryAfter}
	}
	r.d.Metrics.Count(MetricRejected, t, len(b.dead))
	log.Warn("otlp records dead-lettered", "records", len(b.dead), "reason", b.dead[0].Reason)
	msg := b.dead[0].Reason
	if len(b.dead) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(b.dead)-1)
	}
	return outcome{rejected: len(b.dead), message: msg}
}

// maxKeptBuffer is the largest record buffer kept for the next request.
const maxKeptBuffer = 8 << 20

func (r *Receiver) putBatch(b *batch) {
	if cap(b.buf) > maxKeptBuffer {
		return
	}
	b.reset()
	r.batches.Put(b)
}

// deadBody dead-letters a request body that is not an OTLP request.
func (r *Receiver) deadBody(ctx context.Context, t tenant.ID, body []byte, reason string) error {
	dl := ingest.DeadLetter{Received: r.now().UTC(), Source: Source, Reason: reason, Data: body}
	if err := r.d.DeadLetters.AddDeadLetters(ctx, t, []ingest.DeadLetter{dl}); err != nil {
		r.d.Log.Error("otlp dead letter not stored", "tenant", string(t), "bytes", len(body), "err", err)
		return err
	}
	r.d.Metrics.Count(MetricRejected, t, 1)
	r.d.Log.Warn("otlp request rejected and dead-lettered", "tenant", string(t), "reason", reason, "bytes", len(body))
	return nil
}

// authError is why a request has no tenant.
type authError int

const (
	authOK        authError = iota
	authMissing             // no credential
	authMalformed           // a scheme other than Bearer or Basic, or bad Basic
	authUnknown             // unknown token
	authForbidden           // a token that may not ingest
	authFailed              // the token store failed
)

// authenticate resolves an Authorization value ("Bearer TOKEN", or Basic
// with the token as password, or as user when the password is empty).
func (r *Receiver) authenticate(ctx context.Context, authz, remote string) (tenant.ID, authError) {
	secret, ae := bearer(authz)
	if ae != authOK {
		r.d.Metrics.Count(MetricRefused, "", 1)
		return "", ae
	}
	t, err := r.d.Auth.IngestTenant(ctx, secret)
	switch {
	case err == nil && t != "":
		return t, authOK
	case err == nil:
		r.d.Log.Error("BUG: otlp authenticator returned no tenant and no error")
		return "", authFailed
	case errors.Is(err, auth.ErrForbidden):
		r.d.Metrics.Count(MetricRefused, "", 1)
		r.d.Log.Debug("otlp token may not ingest", "remote", remote, "err", err)
		return "", authForbidden
	case errors.Is(err, auth.ErrUnauthenticated):
		r.d.Metrics.Count(MetricRefused, "", 1)
		r.d.Log.Debug("otlp token refused", "remote", remote, "err", err)
		return "", authUnknown
	default:
		r.d.Log.Error("otlp token look-up", "err", err)
		return "", authFailed
	}
}

// bearer takes the secret from an Authorization value.
func bearer(authz string) (string, authError) {
	authz = strings.TrimSpace(authz)
	if authz == "" {
		return "", authMissing
	}
	scheme, rest, _ := strings.Cut(authz, " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(scheme) {
	case "bearer":
		if rest == "" {
			return "", authMissing
		}
		return rest, authOK
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return "", authMalformed
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return "", authMalformed
		}
		if pass == "" {
			pass = user
		}
		if pass == "" {
			return "", authMissing
		}
		return pass, authOK
	}
	return "", authMalformed
}

func (ae authError) String() string {
	switch ae {
	case authMissing:
		return "an ingest token is required: Authorization: Bearer <token>"
	case authMalformed:
		return "unsupported Authorization: use Bearer <ingest token>"
	case authUnknown:
		return "unknown or revoked token"
	case authForbidden:
		return "this token may not ingest; use an ingest token"
	case authFailed:
		return "the token could not be checked; retry later"
	}
	return "ok"
}
