package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"
)

const (
	ingestBatchLines = 1000
	ingestBatchBytes = 4 << 20
	ingestRetries    = 30
)

type ingestSummary struct {
	Accepted int `json:"accepted"`
	Rejected int `json:"rejected"`
	Errors   []struct {
		Line   int    `json:"line"`
		Reason string `json:"reason"`
	} `json:"errors"`
}

// ingester streams NDJSON to the API in batches.
type ingester struct {
	c        *client
	env      Env
	accepted int
	rejected int
	bytes    int64
	start    time.Time
	lastDraw time.Time
	// reached is set once the server answered a batch: a server
	// unreachable after that is waited for (a restart).
	reached bool
}

func runIngest(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("ingest", env)
	files, err := parse(fs, args)
	if err != nil {
		return err
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	in := &ingester{c: c, env: env, start: time.Now()}
	if len(files) == 0 {
		err = in.stream(ctx, "stdin", env.Stdin)
	}
	for _, name := range files {
		f, ferr := os.Open(name)
		if ferr != nil {
			err = ferr
			break
		}
		err = in.stream(ctx, name, f)
		f.Close()
		if err != nil {
			break
		}
	}
	in.progress(true)
	if err != nil {
		if in.accepted > 0 {
			return fmt.Errorf("%w (%s went in before it)", err, plural(in.accepted, "event"))
		}
		return err
	}
	secs := time.Since(in.start).Seconds()
	fmt.Fprintf(env.Stderr, "ingested %s, rejected %d, in %.1fs (%.0f events/s)\n", plural(in.accepted, "event"), in.rejected, secs, float64(in.accepted)/max(secs, 1e-9))
	if in.rejected > 0 {
		return errors.New("some lines were rejected (kept as dead letters; see 'tarian deadletters')")
	}
	return nil
}

func (in *ingester) stream(ctx context.Context, name string, r io.Reader) error {
	br := bufio.NewReaderSize(r, 1<<20)
	var batch bytes.Buffer
	lines, first, lineNo := 0, 1, 0
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			lineNo++
			if line[len(line)-1] != '\n' {
				line = append(line, '\n')
			}
			batch.Write(line)
			lines++
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("%s: %w", name, err)
		}
		if lines > 0 && (lines >= ingestBatchLines || batch.Len() >= ingestBatchBytes || err == io.EOF) {
			if serr := in.send(ctx, name, first, batch.Bytes()); serr != nil {
				return serr
			}
			batch.Reset()
			lines, first = 0, lineNo+1
		}
		if err == io.EOF {
			return nil
		}
	}
}

// send posts one batch, retrying while the server asks for it, and when
// the connection broke (reset, closed or timed out before the answer;
// unreachable only once a server had answered: a restart): each batch carries an
// Idempotency-Key of its own, the same in every retry, so a batch whose
// answer was lost is stored once.
func (in *ingester) send(ctx context.Context, name string, firstLine int, body []byte) error {
	var key [16]byte
	if _, err := rand.Read(key[:]); err != nil {
		return err
	}
	hdr := http.Header{}
	hdr.Set("Content-Type", "application/x-ndjson")
	hdr.Set("Idempotency-Key", base64.RawURLEncoding.EncodeToString(key[:]))
	delay := 200 * time.Millisecond
	for attempt := 0; ; attempt++ {
		resp, err := in.c.doHeader(ctx, "POST", "/api/v1/ingest", bytes.NewReader(body), hdr)
		var ae *apiError
		var down *unreachableError
		var retry bool
		switch {
		case err == nil || ctx.Err() != nil:
		case errors.As(err, &ae):
			retry = ae.retryable()
		case errors.As(err, &down):
			retry = in.reached || attempt > 0
		default:
			retry = connectionLost(err)
		}
		if retry && attempt < ingestRetries {
			wait := delay
			if ae != nil {
				wait = max(ae.RetryAfter, delay)
			}
			delay = min(delay*2, 5*time.Second)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("%s (lines from %d): %w", name, firstLine, err)
		}
		in.reached = true
		var sum ingestSummary
		err = json.NewDecoder(resp.Body).Decode(&sum)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("%s: reading answer: %w", name, err)
		}
		in.accepted += sum.Accepted
		in.rejected += sum.Rejected
		in.bytes += int64(len(body))
		for _, e := range sum.Errors {
			in.clearProgress()
			fmt.Fprintf(in.env.Stderr, "%s:%d: rejected: %s\n", name, firstLine+e.Line-1, e.Reason)
		}
		in.progress(false)
		return nil
	}
}

// connectionLost reports whether err is a connection that broke before
// the answer came (closed, reset, timed out), not a refusal such as a
// certificate the client does not trust, which no retry mends.
func connectionLost(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.As(err, &ne) && ne.Timeout()
}

func (in *ingester) clearProgress() {
	if in.env.IsTerminal {
		fmt.Fprint(in.env.Stderr, "\r\033[K")
	}
}

// progress redraws the progress line on a terminal, at most 10 times a
// second; final ends it.
func (in *ingester) progress(final bool) {
	if !in.env.IsTerminal {
		return
	}
	if !final && time.Since(in.lastDraw) < 100*time.Millisecond {
		return
	}
	in.lastDraw = time.Now()
	secs := max(time.Since(in.start).Seconds(), 1e-9)
	fmt.Fprintf(in.env.Stderr, "\r\033[K%10d events  %8.1f MB  %8.0f events/s", in.accepted, float64(in.bytes)/1e6, float64(in.accepted)/secs)
	if final {
		fmt.Fprint(in.env.Stderr, "\n")
	}
}
