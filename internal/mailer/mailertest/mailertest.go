// Package mailertest runs a real SMTP server (go-smtp) on 127.0.0.1 for
// tests of what sends mail.
package mailertest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/tarian-soc/tarian/internal/tlsfile/tlsfiletest"
)

// Password is the one password the server's AUTH PLAIN accepts (for any
// user).
const Password = "hunter2"

// Message is one message the server took.
type Message struct {
	From string
	To   []string
	Data []byte
	// TLS is whether the connection was TLS when the message came.
	TLS bool
	// User is who authenticated ("" for nobody).
	User string
}

// Server is a running SMTP server.
type Server struct {
	// Addr is its host:port.
	Addr string
	// Got receives each message it takes (buffered: 10).
	Got chan Message
	// Pool trusts its certificate (nil for a plain-text server).
	Pool *x509.CertPool

	mu       sync.Mutex
	commands []string
}

// Start runs a server with a self-signed certificate for 127.0.0.1: it
// offers STARTTLS and, after it, AUTH PLAIN. It stops when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	p := tlsfiletest.Write(t, t.TempDir(), "mail.test")
	cert, err := tls.LoadX509KeyPair(p.CertFile, p.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	return start(t, &tls.Config{Certificates: []tls.Certificate{cert}}, p.Pool)
}

// StartPlain runs a server without TLS that offers AUTH PLAIN in plain
// text, so that a test sees whether a client sends its password in the
// clear (Untouched). It stops when t ends.
func StartPlain(t testing.TB) *Server {
	t.Helper()
	return start(t, nil, nil)
}

func start(t testing.TB, tc *tls.Config, pool *x509.CertPool) *Server {
	t.Helper()
	srv := &Server{Got: make(chan Message, 10), Pool: pool}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: srv, conn: c}, nil
	}))
	s.Domain = "mail.test"
	s.ReadTimeout, s.WriteTimeout = 20*time.Second, 20*time.Second
	s.MaxMessageBytes = 10 << 20
	s.TLSConfig = tc
	s.AllowInsecureAuth = tc == nil
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Addr = ln.Addr().String()
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return srv
}

// Untouched fails t when the server saw AUTH or MAIL or took a message:
// what a client that refuses to go on (no STARTTLS, no trusted
// certificate) never lets happen.
func (srv *Server) Untouched(t testing.TB) {
	t.Helper()
	srv.mu.Lock()
	if len(srv.commands) != 0 {
		t.Errorf("the client went on: %v", srv.commands)
	}
	srv.mu.Unlock()
	select {
	case m := <-srv.Got:
		t.Errorf("a message arrived, to %v: %s", m.To, m.Data)
	default:
	}
}

func (srv *Server) saw(cmd string) {
	srv.mu.Lock()
	srv.commands = append(srv.commands, cmd)
	srv.mu.Unlock()
}

type session struct {
	srv  *Server
	conn *smtp.Conn
	msg  Message
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		s.srv.saw("AUTH")
		if pass != Password {
			return errors.New("bad credentials")
		}
		s.msg.User = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.srv.saw("MAIL")
	s.msg.From = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	m := s.msg
	m.Data, m.TLS = data, isTLS
	s.srv.Got <- m
	return nil
}

func (s *session) Reset()        { s.msg = Message{User: s.msg.User} }
func (s *session) Logout() error { return nil }
