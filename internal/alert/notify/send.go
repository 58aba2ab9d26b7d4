package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tarian-soc/tarian/internal/mailer"
)

// sendError is a failed try: permanent ones are not retried; retryAfter
// is the server's Retry-After.
type sendError struct {
	err        error
	permanent  bool
	retryAfter time.Duration
}

func (e *sendError) Error() string { return e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

func permanent(err error) error { return &sendError{err: err, permanent: true} }

func isPermanent(err error) bool {
	var se *sendError
	return errors.As(err, &se) && se.permanent
}

func retryAfter(err error) time.Duration {
	var se *sendError
	if errors.As(err, &se) {
		return se.retryAfter
	}
	return 0
}

// transport sends over HTTP and SMTP; strict refuses non-public addresses.
type transport struct {
	timeout time.Duration
	tls     *tls.Config
	strict  *http.Client
	open    *http.Client
	helo    string
}

func newTransport(cfg Config, base *tls.Config, helo string) *transport {
	if base == nil {
		base = &tls.Config{}
	}
	base = base.Clone()
	base.MinVersion = max(base.MinVersion, tls.VersionTLS12)
	t := &transport{timeout: cfg.Timeout, tls: base, helo: helo}
	client := func(strict bool) *http.Client {
		return &http.Client{
			Timeout: cfg.Timeout,
			Transport: &http.Transport{
				// No proxy: a proxy would hide the destination from the
				// address check.
				Proxy:               nil,
				DialContext:         t.dialer(strict).DialContext,
				TLSClientConfig:     base.Clone(),
				TLSHandshakeTimeout: cfg.Timeout,
				MaxIdleConnsPerHost: 2,
				IdleConnTimeout:     time.Minute,
				ForceAttemptHTTP2:   true,
			},
			// A redirect is an answer, not a new destination: it is a
			// failure like any other non-2xx.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	t.strict, t.open = client(true), client(false)
	return t
}

// dialer connects; a strict one refuses every non-public address after
// DNS resolution, so a name that resolves (or rebinds) to one is refused.
func (t *transport) dialer(strict bool) *net.Dialer {
	d := &net.Dialer{Timeout: t.timeout}
	if strict {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip, err := netip.ParseAddr(host)
			if err != nil {
				return err
			}
			if !public(ip) {
				return fmt.Errorf("%w: %s is not a public address (notify.allow_private_networks allows it)", ErrAddress, ip)
			}
			return nil
		}
	}
	return d
}

var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2001::/32"), // Teredo: the IPv4 address it reaches is hidden
}

// IPv6 prefixes whose addresses carry the IPv4 address they reach: NAT64's
// well-known prefix (RFC 6052, in the last 32 bits) and 6to4 (RFC 3056,
// in bits 16 to 47).
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// public reports whether ip is a global unicast address on the Internet;
// a NAT64 or 6to4 address only when the IPv4 address it reaches is.
func public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	b := ip.As16()
	switch {
	case nat64.Contains(ip):
		return public(netip.AddrFrom4([4]byte(b[12:16])))
	case sixToFour.Contains(ip):
		return public(netip.AddrFrom4([4]byte(b[2:6])))
	}
	return true
}

// post sends body to rawURL; target names the destination in errors
// (never the URL, which may hold a secret).
func (t *transport) post(ctx context.Context, strict bool, rawURL, target string, body []byte, header http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return permanent(fmt.Errorf("post to %s: bad URL", target))
	}
	req.Header = header
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Tarian-Notify/1")
	hc := t.open
	if strict {
		hc = t.strict
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message holds the URL
		}
		if errors.Is(err, ErrAddress) {
			return permanent(fmt.Errorf("post to %s: %w", target, err))
		}
		return fmt.Errorf("post to %s: %w", target, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	// The receiver's answer says why; without one, the status's name does.
	why := oneLine(strings.TrimSpace(string(answer)), 200)
	if why == "" {
		why = strings.ToLower(http.StatusText(resp.StatusCode))
	}
	if why == "" {
		why = "no answer"
	}
	se := &sendError{err: fmt.Errorf("post to %s: HTTP %d: %s", target, resp.StatusCode, why)}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			se.retryAfter = time.Duration(s) * time.Second
		}
	case code == http.StatusRequestTimeout:
	case code >= 400 && code < 500:
		se.permanent = true
	}
	return se
}

// mail sends msg through m's SMTP server: STARTTLS unless m allows
// plaintext (or uses implicit TLS), then AUTH PLAIN when m has a user.
func (t *transport) mail(ctx context.Context, strict bool, m *Mail, password string, msg []byte) error {
	err := mailer.Send(ctx, mailer.Server{
		Addr: m.Server, TLS: m.TLS, Username: m.Username, Password: password,
		TLSConfig: t.tls, Timeout: t.timeout, Hello: t.helo, Dialer: t.dialer(strict),
	}, m.From, m.To, msg)
	if err == nil {
		return nil
	}
	if errors.Is(err, mailer.ErrNoSTARTTLS) || errors.Is(err, mailer.ErrPlaintextAuth) {
		err = ErrNoSTARTTLS // a password never goes in the clear either
	}
	err = fmt.Errorf("smtp %s: %w", m.Server, err)
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 || errors.Is(err, ErrNoSTARTTLS) || errors.Is(err, ErrAddress) {
		return permanent(err)
	}
	return err
}
