package otlp

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/tarian-soc/tarian/internal/ingest"
)

// LogsPath is the OTLP/HTTP logs endpoint.
const LogsPath = "/v1/logs"

// Media types of OTLP/HTTP.
const (
	typeProto = "application/x-protobuf"
	typeJSON  = "application/json"
)

// serveHTTP serves Handler on ln in the background; the returned function
// shuts the server down gracefully within its context.
func (r *Receiver) serveHTTP(ctx context.Context, ln net.Listener, tlsCfg *tls.Config, errc chan<- error) func(context.Context) {
	srv := &http.Server{
		Handler:           r.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		TLSConfig:         tlsCfg,
		ErrorLog:          slog.NewLogLogger(r.d.Log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	r.d.Log.Info("otlp http listening", "addr", ln.Addr().String(), "tls", tlsCfg != nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var err error
		if tlsCfg != nil {
			err = srv.ServeTLS(ln, "", "")
		} else {
			err = srv.Serve(ln)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("otlp: http: %w", err)
		}
	}()
	return func(sctx context.Context) {
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
			r.d.Log.Warn("otlp http shutdown cut requests short", "err", err)
		}
		<-done
	}
}

// Handler serves OTLP/HTTP: POST /v1/logs.
func (r *Receiver) Handler() http.Handler { return http.HandlerFunc(r.serveLogs) }

// encoding is a request's OTLP encoding, which its reply uses too.
type encoding int

const (
	encProto encoding = iota
	encJSON
)

func (e encoding) contentType() string {
	if e == encJSON {
		return typeJSON
	}
	return typeProto
}

func (r *Receiver) serveLogs(w http.ResponseWriter, req *http.Request) {
	if strings.TrimSuffix(req.URL.Path, "/") != LogsPath {
		writeStatus(w, encJSON, http.StatusNotFound, codes.NotFound, "only "+LogsPath+" is served here (OTLP logs)")
		return
	}
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeStatus(w, encJSON, http.StatusMethodNotAllowed, codes.Unimplemented, "use POST")
		return
	}
	var enc encoding
	mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	switch mt {
	case typeProto:
		enc = encProto
	case typeJSON:
		enc = encJSON
	default:
		writeStatus(w, encJSON, http.StatusUnsupportedMediaType, codes.InvalidArgument,
			fmt.Sprintf("unsupported Content-Type %q: use %s or %s", req.Header.Get("Content-Type"), typeProto, typeJSON))
		return
	}
	t, ae := r.authenticate(req.Context(), req.Header.Get("Authorization"), req.RemoteAddr)
	switch ae {
	case authOK:
	case authForbidden:
		writeStatus(w, enc, http.StatusForbidden, codes.PermissionDenied, ae.String())
		return
	case authFailed:
		// Retryable (OTLP/HTTP retries 429, 502, 503 and 504 only): the
		// token store did not answer, the records are not refused.
		w.Header().Set("Retry-After", strconv.Itoa(seconds(ingest.DefaultRetryAfter)))
		writeStatus(w, enc, http.StatusServiceUnavailable, codes.Unavailable, ae.String())
		return
	default:
		w.Header().Set("WWW-Authenticate", `Bearer realm="tarian"`)
		writeStatus(w, enc, http.StatusUnauthorized, codes.Unauthenticated, ae.String())
		return
	}
	body, st, msg := r.readBody(w, req)
	if st != http.StatusOK {
		code := codes.InvalidArgument
		if st == http.StatusRequestEntityTooLarge {
			code = codes.ResourceExhausted
		}
		writeStatus(w, enc, st, code, msg)
		return
	}
	ereq := plogotlp.NewExportRequest()
	var err error
	switch {
	case len(body) == 0:
		// An empty body is an empty request in either encoding.
	case enc == encJSON:
		err = ereq.UnmarshalJSON(body)
	default:
		err = ereq.UnmarshalProto(body)
	}
	if err != nil {
		reason := fmt.Sprintf("otlp http: body is not an OTLP ExportLogsServiceRequest in %s: %v", enc.contentType(), err)
		if r.deadBody(req.Context(), t, body, reason) != nil {
			w.Header().Set("Retry-After", "1")
			writeStatus(w, enc, http.StatusServiceUnavailable, codes.Unavailable, "the rejected request could not be kept; retry later")
			return
		}
		writeStatus(w, enc, http.StatusBadRequest, codes.InvalidArgument, reason)
		return
	}
	o := r.accept(req.Context(), t, ereq.Logs(), "http")
	if o.err != nil {
		switch o.err {
		case errLimited:
			w.Header().Set("Retry-After", strconv.Itoa(seconds(o.retry)))
			writeStatus(w, enc, http.StatusTooManyRequests, codes.ResourceExhausted, o.err.Error())
		case errBusy, errUnkept:
			w.Header().Set("Retry-After", strconv.Itoa(seconds(o.retry)))
			writeStatus(w, enc, http.StatusServiceUnavailable, codes.Unavailable, o.err.Error())
		default:
			writeStatus(w, enc, http.StatusInternalServerError, codes.Internal, o.err.Error())
		}
		return
	}
	// Full success leaves partial_success unset: an empty message.
	var out []byte
	if enc == encJSON {
		out = []byte("{}")
	}
	if o.rejected > 0 {
		resp := plogotlp.NewExportResponse()
		ps := resp.PartialSuccess()
		ps.SetRejectedLogRecords(int64(o.rejected))
		ps.SetErrorMessage(o.message)
		if enc == encJSON {
			out, err = resp.MarshalJSON()
		} else {
			out, err = resp.MarshalProto()
		}
		if err != nil {
			panic("BUG: marshal ExportLogsServiceResponse: " + err.Error())
		}
	}
	h := w.Header()
	h.Set("Content-Type", enc.contentType())
	h.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// seconds is d in whole seconds, rounded up, at least 1: a Retry-After.
func seconds(d time.Duration) int {
	return max(int((d+time.Second-1)/time.Second), 1)
}

// readBody reads the whole body, gunzipped, within MaxBodyBytes. It
// returns the HTTP status to answer with and why when not 200.
func (r *Receiver) readBody(w http.ResponseWriter, req *http.Request) ([]byte, int, string) {
	limit := r.cfg.MaxBodyBytes
	tooLarge := fmt.Sprintf("request body over the %d-byte max_body_bytes", limit)
	enc := strings.ToLower(strings.TrimSpace(req.Header.Get("Content-Encoding")))
	if req.ContentLength > limit && (enc == "" || enc == "identity") {
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	}
	var src io.Reader = http.MaxBytesReader(w, req.Body, limit+1)
	switch enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, http.StatusBadRequest, "gzip body: " + err.Error()
		}
		defer zr.Close()
		src = zr
	default:
		return nil, http.StatusUnsupportedMediaType, fmt.Sprintf("unsupported Content-Encoding %q: use gzip or none", enc)
	}
	var buf bytes.Buffer
	if req.ContentLength > 0 && req.ContentLength <= limit {
		buf.Grow(int(req.ContentLength) + bytes.MinRead)
	}
	n, err := buf.ReadFrom(io.LimitReader(src, limit+1))
	var mbe *http.MaxBytesError
	switch {
	case n > limit || errors.As(err, &mbe):
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	case err != nil:
		r.d.Log.Debug("otlp body read", "err", err)
		return nil, http.StatusBadRequest, "read body: " + err.Error()
	}
	return buf.Bytes(), http.StatusOK, ""
}

// writeStatus answers with a google.rpc.Status in the request's encoding,
// as OTLP/HTTP asks for failures.
func writeStatus(w http.ResponseWriter, enc encoding, httpStatus int, code codes.Code, msg string) {
	msg = strings.ToValidUTF8(msg, "\uFFFD") // a decoder's error may quote the body
	var out []byte
	if enc == encJSON {
		out, _ = json.Marshal(struct {
			Code    int32  `json:"code"`
			Message string `json:"message"`
		}{int32(code), msg})
	} else {
		var err error
		if out, err = proto.Marshal(&spb.Status{Code: int32(code), Message: msg}); err != nil {
			panic("BUG: marshal google.rpc.Status: " + err.Error())
		}
	}
	h := w.Header()
	h.Set("Content-Type", enc.contentType())
	h.Set("Content-Length", strconv.Itoa(len(out)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(httpStatus)
	_, _ = w.Write(out)
}
