// Package mailer sends one message through an SMTP server, safely by
// default: STARTTLS is required unless the server's TLS mode is implicit
// TLS or Optional (a relay on a trusted network), and a password never
// goes in the clear. Notifications (internal/alert/notify) and the monthly
// reports (internal/report) both send with it.
package mailer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"time"
)

// TLS modes of a Server.
const (
	// StartTLS requires STARTTLS (the default: any mode but the other two).
	StartTLS = "starttls"
	// ImplicitTLS speaks TLS from the start (smtps).
	ImplicitTLS = "tls"
	// OptionalTLS uses STARTTLS when offered and goes on in plain text
	// when not, for a relay on a trusted network.
	OptionalTLS = "optional"
)

// Errors.
var (
	// ErrNoSTARTTLS is a server that does not offer STARTTLS when the
	// mode requires it.
	ErrNoSTARTTLS = errors.New("the server offers no STARTTLS")
	// ErrPlaintextAuth is a username on a connection that is not TLS.
	ErrPlaintextAuth = errors.New("no TLS: a password never goes in the clear")
)

// Server is an SMTP server and how to reach it.
type Server struct {
	// Addr is host:port.
	Addr string
	// TLS is StartTLS, ImplicitTLS or OptionalTLS.
	TLS string
	// Username, when set, is sent with Password in AUTH PLAIN, over TLS only.
	Username, Password string
	// TLSConfig is the base TLS configuration (nil: the system's roots);
	// it is cloned, raised to TLS 1.2 at least, and given the host's name.
	TLSConfig *tls.Config
	// Timeout bounds the whole delivery (default 30s).
	Timeout time.Duration
	// Hello is the name given in EHLO (default localhost).
	Hello string
	// Dialer connects (default: a net.Dialer with Timeout).
	Dialer *net.Dialer
}

// Send delivers msg from from to each of to through s, then QUITs; a
// failed QUIT is not an error, since the server has the message by then.
// Errors name the SMTP step and keep the server's answer (a
// *textproto.Error) and the dialer's error in their chain; they name
// neither the server nor the password.
func Send(ctx context.Context, s Server, from string, to []string, msg []byte) error {
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return err
	}
	fa, err := mail.ParseAddress(from)
	if err != nil {
		return err
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	d := s.Dialer
	if d == nil {
		d = &net.Dialer{Timeout: timeout}
	}
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	tc := &tls.Config{}
	if s.TLSConfig != nil {
		tc = s.TLSConfig.Clone()
	}
	tc.MinVersion = max(tc.MinVersion, tls.VersionTLS12)
	tc.ServerName = host
	secure := s.TLS == ImplicitTLS
	if secure {
		conn = tls.Client(conn, tc)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if s.Hello != "" {
		if err := c.Hello(s.Hello); err != nil {
			return err
		}
	}
	if !secure {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tc); err != nil {
				return fmt.Errorf("STARTTLS: %w", err)
			}
			secure = true
		} else if s.TLS != OptionalTLS {
			return ErrNoSTARTTLS
		}
	}
	if s.Username != "" {
		if !secure {
			return ErrPlaintextAuth
		}
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	if err := c.Mail(fa.Address); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, a := range to {
		ta, err := mail.ParseAddress(a)
		if err != nil {
			return err
		}
		if err := c.Rcpt(ta.Address); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", ta.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	_ = c.Quit()
	return nil
}
