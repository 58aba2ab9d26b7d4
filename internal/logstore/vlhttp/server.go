package vlhttp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/flagutil"
)

// serverLimits are a victoria-logs server's settings that decide whether it
// keeps what Add sends. VictoriaLogs answers 200 to a JSON-lines request and
// drops, with only a log line, each line longer than
// -insert.maxLineSizeBytes, with more fields than -insert.maxFieldsPerLine,
// or stamped outside -retentionPeriod / -futureRetention; and it fills a
// missing _msg with -defaultMsgValue. Open reads them from /flags (which
// lists only the flags set) and Add refuses what they would drop.
type serverLimits struct {
	maxLineBytes    int
	maxFields       int
	defaultMsg      string
	retention       time.Duration // zero: not a storage node
	futureRetention time.Duration
	flushInterval   time.Duration
}

// VictoriaLogs v1.52.1 defaults (app/vlinsert/insertutil/flags.go,
// app/vlstorage/main.go).
const (
	defaultMaxLineBytes = 256 << 10
	defaultMaxFields    = 1000
	defaultMsgValue     = "missing _msg field; see https://docs.victoriametrics.com/victorialogs/keyconcepts/#message-field"
)

// serverFlags returns the flags set on the server at base (GET /flags:
// lines of -name="value").
func (s *Store) serverFlags(ctx context.Context, base string) (map[string]string, error) {
	resp, err := s.get(ctx, base+"/flags")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, statusError(resp)
	}
	flags := map[string]string{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, val, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "-"), "=")
		if !ok {
			continue
		}
		if v, err := strconv.Unquote(val); err == nil {
			val = v
		}
		flags[name] = val
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s/flags: %w", base, err)
	}
	return flags, nil
}

// limits reads the settings of the server at base; storage says whether it
// stores data (a single node or a storage node) rather than forwarding it.
func (s *Store) limits(ctx context.Context, base string, storage bool) (serverLimits, error) {
	flags, err := s.serverFlags(ctx, base)
	if err != nil {
		return serverLimits{}, err
	}
	l := serverLimits{maxLineBytes: defaultMaxLineBytes, maxFields: defaultMaxFields, defaultMsg: defaultMsgValue, flushInterval: 5 * time.Second}
	var errs []error
	if v, ok := flags["insert.maxLineSizeBytes"]; ok {
		n, err := flagutil.ParseBytes(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("-insert.maxLineSizeBytes=%q: %w", v, err))
		}
		l.maxLineBytes = int(n)
	}
	if v, ok := flags["insert.maxFieldsPerLine"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("-insert.maxFieldsPerLine=%q: %w", v, err))
		}
		l.maxFields = n
	}
	if v, ok := flags["defaultMsgValue"]; ok {
		l.defaultMsg = v
	}
	if v, ok := flags["inmemoryDataFlushInterval"]; ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("-inmemoryDataFlushInterval=%q: %w", v, err))
		}
		l.flushInterval = max(d, time.Second)
	}
	if storage {
		l.retention = retentionFlag(flags, "retentionPeriod", "7d", &errs)
		l.futureRetention = retentionFlag(flags, "futureRetention", "2d", &errs)
	}
	if err := errors.Join(errs...); err != nil {
		return l, fmt.Errorf("flags of %s: %w", base, err)
	}
	return l, nil
}

func retentionFlag(flags map[string]string, name, def string, errs *[]error) time.Duration {
	v, ok := flags[name]
	if !ok {
		v = def
	}
	var d flagutil.RetentionDuration
	if err := d.Set(v); err != nil {
		*errs = append(*errs, fmt.Errorf("-%s=%q: %w", name, v, err))
	}
	return d.Duration()
}

// check reports what in l would make the server at base drop or change
// events this store sends.
func (l serverLimits) check(base string, cfg Config) error {
	var errs []error
	if l.defaultMsg != "" {
		errs = append(errs, errors.New("it fills a missing message with -defaultMsgValue: run it with -defaultMsgValue= (empty)"))
	}
	if l.retention != 0 && l.retention < cfg.Retention {
		errs = append(errs, fmt.Errorf("its -retentionPeriod (%s) is shorter than the event store's retention (%s)", l.retention, cfg.Retention))
	}
	if l.retention != 0 && l.futureRetention < cfg.FutureRetention {
		errs = append(errs, fmt.Errorf("its -futureRetention (%s) is shorter than the event store's future retention (%s)", l.futureRetention, cfg.FutureRetention))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("victoria-logs at %s: %w", base, err)
	}
	return nil
}

// isStorage reports whether the server at base stores data itself: only a
// storage node answers the partition API; a cluster front does not.
func (s *Store) isStorage(ctx context.Context, base string) (bool, error) {
	resp, err := s.get(ctx, base+"/internal/partition/snapshot/list")
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK, nil
}

// get sends a GET bounded by the store's request timeout.
func (s *Store) get(ctx context.Context, u string) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	resp.Body = cancelBody{resp.Body, cancel}
	return resp, nil
}

// call sends a GET to u and reads the reply, which must be 2xx.
func (s *Store) call(ctx context.Context, u string) ([]byte, error) {
	resp, err := s.get(ctx, u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, statusError(resp)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrUnavailable, u, err)
	}
	return b, nil
}

// cancelBody releases a request's context when its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// StatusError is a reply from victoria-logs other than success.
type StatusError struct {
	URL    string
	Status int
	// Body is the start of the server's message.
	Body string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("victoria-logs %s: status %d: %s", e.URL, e.Status, e.Body)
}

// statusError reads a failed reply; a 5xx (a cluster front that cannot
// reach a storage node answers 502) is also an ErrUnavailable.
func statusError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	u := resp.Request.URL
	err := &StatusError{URL: u.Scheme + "://" + u.Host + u.Path, Status: resp.StatusCode, Body: strings.TrimSpace(string(b))}
	if resp.StatusCode >= 500 {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

func readAll(resp *http.Response) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return b, nil
}
