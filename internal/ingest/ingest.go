// Package ingest turns what shippers send into raw records on the bus:
// framing, limits and dead letters. It does nothing slow: parsing happens
// after the bus, so a parser bug never loses data.
//
// It owns the receiver contract: a Receiver runs until its context is done
// and writes to the Sink in its Deps (which every receiver takes: sink,
// dead letters, tenant lookup, token authentication, metrics, logger); a
// Reloader also takes a new configuration while it runs; ErrBackpressure
// is the refusal each answers in its protocol's terms. Each receiver is a
// package below this one, wired by one line in internal/server/receivers.go.
package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/valyala/fastjson"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Sink is where accepted records go; the bus implements it, behind the
// tenants' limits. Write returns only once the records are durable; a
// refusal the shipper should retry wraps ErrBackpressure.
type Sink interface {
	Write(ctx context.Context, t tenant.ID, recs []event.Raw) error
}

// Config holds the ingest limits.
type Config struct {
	// MaxLineBytes is the longest record line accepted; longer ones are dead-lettered.
	MaxLineBytes int `yaml:"max_line_bytes"`
	// MaxBodyBytes is the largest request body accepted (after gunzip).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
}

// DefaultConfig returns the default limits: 1 MiB lines, 64 MiB bodies.
func DefaultConfig() Config {
	return Config{MaxLineBytes: 1 << 20, MaxBodyBytes: 64 << 20}
}

// Validate reports the first bad setting.
func (c Config) Validate() error {
	if c.MaxLineBytes < 1024 || c.MaxLineBytes > 8<<20-1024 {
		return errors.New("max_line_bytes: must be between 1024 and 8387584")
	}
	if c.MaxBodyBytes < int64(c.MaxLineBytes) {
		return errors.New("max_body_bytes: must be at least max_line_bytes")
	}
	return nil
}

// Counter is the metric shape ingest needs: per-tenant counts.
type Counter interface {
	Count(name string, t tenant.ID, n int)
}

// Service accepts NDJSON bodies for a tenant.
type Service struct {
	cfg     Config
	sink    Sink
	dead    DeadLetters
	metrics Counter
	now     func() time.Time
}

// NewService returns a Service writing to sink and dead.
func NewService(cfg Config, sink Sink, dead DeadLetters, metrics Counter) *Service {
	return &Service{cfg: cfg, sink: sink, dead: dead, metrics: metrics, now: time.Now}
}

// LineError says why one line was rejected.
type LineError struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// Summary is the outcome of one request.
type Summary struct {
	Accepted int         `json:"accepted"`
	Rejected int         `json:"rejected"`
	Errors   []LineError `json:"errors"`
}

// ErrEmpty is returned for a body with no record at all.
var ErrEmpty = errors.New("empty body")

// utf8BOM is the UTF-8 encoding of U+FEFF, the byte order mark.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// maxReportedErrors caps Summary.Errors; every rejected line is still
// counted and dead-lettered.
const maxReportedErrors = 1000

// chunkBytes is how much is decoded before it is written to the sink, so a
// large body is streamed rather than held whole.
const chunkBytes = 4 << 20

// AcceptNDJSON takes newline-delimited JSON objects from body for tenant t.
// Valid lines go to the sink; invalid ones (bad JSON, not an object, over
// the line limit) are dead-lettered with their reason. It returns once every
// accepted record is durable. On a sink error, records written before it
// stay written (at-least-once: the client retries). The caller enforces
// MaxBodyBytes before it reads the body whole, so a refused body writes
// nothing.
func (s *Service) AcceptNDJSON(ctx context.Context, t tenant.ID, source string, body []byte) (Summary, error) {
	// A UTF-8 byte order mark before the first line (what Windows
	// PowerShell 5.1's Out-File and Set-Content -Encoding UTF8 write) is
	// not part of the first record (RFC 8259, section 8.1).
	body = bytes.TrimPrefix(body, utf8BOM)
	received := s.now().UTC()
	var sum Summary
	var recs []event.Raw
	var dead []DeadLetter
	pending, chunk, key := 0, 0, WriteKey(ctx)
	flush := func() error {
		if len(recs) > 0 {
			wctx := ctx
			if key != "" {
				// Each chunk a key of its own: the same chunks again
				// when the request is.
				wctx = WithWriteKey(ctx, key+"/"+strconv.Itoa(chunk))
				chunk++
			}
			if err := s.sink.Write(wctx, t, recs); err != nil {
				return err
			}
			sum.Accepted += len(recs)
			s.metrics.Count("tarian_ingest_events_total", t, len(recs))
		}
		recs, pending = recs[:0], 0
		return nil
	}
	var p fastjson.Parser
	for line := 1; len(body) > 0; line++ {
		var data []byte
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			data, body = body[:i], body[i+1:]
		} else {
			data, body = body, nil
		}
		data = bytes.TrimSuffix(data, []byte("\r"))
		trimmed := bytes.TrimSpace(data)
		if len(trimmed) == 0 {
			continue
		}
		reason := ""
		if len(data) > s.cfg.MaxLineBytes {
			reason = fmt.Sprintf("line of %d bytes is over the %d-byte limit", len(data), s.cfg.MaxLineBytes)
		} else if v, err := p.ParseBytes(trimmed); err != nil {
			reason = "invalid JSON: " + err.Error()
		} else if v.Type() != fastjson.TypeObject {
			reason = "not a JSON object: " + v.Type().String()
		}
		if reason != "" {
			sum.Rejected++
			if len(sum.Errors) < maxReportedErrors {
				sum.Errors = append(sum.Errors, LineError{Line: line, Reason: Shorten(reason, 200)})
			}
			dead = append(dead, DeadLetter{Received: received, Source: source, Line: line, Reason: reason, Data: data})
			continue
		}
		recs = append(recs, event.Raw{Received: received, Source: source, Data: trimmed})
		pending += len(trimmed)
		if pending >= chunkBytes {
			if err := flush(); err != nil {
				return sum, err
			}
		}
	}
	if len(recs) == 0 && sum.Accepted == 0 && sum.Rejected == 0 {
		return sum, ErrEmpty
	}
	if err := flush(); err != nil {
		return sum, err
	}
	if len(dead) > 0 {
		if err := s.dead.AddDeadLetters(ctx, t, dead); err != nil {
			return sum, fmt.Errorf("store dead letters: %w", err)
		}
		s.metrics.Count("tarian_ingest_rejected_total", t, len(dead))
	}
	if sum.Errors == nil {
		sum.Errors = []LineError{}
	}
	return sum, nil
}
