package mailer_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/mailer"
	"github.com/tarian-soc/tarian/internal/mailer/mailertest"
)

const msg = "Subject: test\r\n\r\nhello\r\n"

func send(t *testing.T, s mailer.Server) error {
	t.Helper()
	s.Timeout = 10 * time.Second
	return mailer.Send(context.Background(), s, "Tarian SOC <soc@tarian.test>", []string{"a@council.test", "Duty <duty@council.test>"}, []byte(msg))
}

func TestSendOverSTARTTLS(t *testing.T) {
	srv := mailertest.Start(t)
	err := send(t, mailer.Server{Addr: srv.Addr, TLS: mailer.StartTLS, Username: "soc", Password: mailertest.Password, TLSConfig: &tls.Config{RootCAs: srv.Pool}, Hello: "tarian.test"})
	if err != nil {
		t.Fatal(err)
	}
	m := <-srv.Got
	if !m.TLS || m.User != "soc" || m.From != "soc@tarian.test" || strings.Join(m.To, ",") != "a@council.test,duty@council.test" || string(m.Data) != msg {
		t.Errorf("got %+v", m)
	}
}

func TestSendRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    mailer.Server
		want error
	}{
		{"no STARTTLS", mailer.Server{TLS: mailer.StartTLS}, mailer.ErrNoSTARTTLS},
		{"no STARTTLS, mode unset", mailer.Server{}, mailer.ErrNoSTARTTLS},
		{"a password in plain text", mailer.Server{TLS: mailer.OptionalTLS, Username: "soc", Password: mailertest.Password}, mailer.ErrPlaintextAuth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := mailertest.StartPlain(t)
			tc.s.Addr = srv.Addr
			if err := send(t, tc.s); !errors.Is(err, tc.want) {
				t.Errorf("Send = %v, want %v", err, tc.want)
			}
			srv.Untouched(t)
		})
	}
}

func TestSendPlaintextWhenOptional(t *testing.T) {
	srv := mailertest.StartPlain(t)
	if err := send(t, mailer.Server{Addr: srv.Addr, TLS: mailer.OptionalTLS}); err != nil {
		t.Fatal(err)
	}
	if m := <-srv.Got; m.TLS || m.User != "" || string(m.Data) != msg {
		t.Errorf("got %+v", m)
	}
}

// TestSendKeepsAnswer: the server's refusal (mailertest's is 454) stays
// in the chain, where callers tell permanent failures by its code, and
// the password is not in it.
func TestSendKeepsAnswer(t *testing.T) {
	srv := mailertest.Start(t)
	err := send(t, mailer.Server{Addr: srv.Addr, Username: "soc", Password: "wrong-secret", TLSConfig: &tls.Config{RootCAs: srv.Pool}})
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code != 454 || !strings.HasPrefix(err.Error(), "AUTH: ") || strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("Send = %v", err)
	}
}

func TestSendUntrustedCertificate(t *testing.T) {
	srv := mailertest.Start(t)
	err := send(t, mailer.Server{Addr: srv.Addr, Username: "soc", Password: mailertest.Password})
	if err == nil || !strings.HasPrefix(err.Error(), "STARTTLS: ") {
		t.Errorf("Send = %v", err)
	}
	srv.Untouched(t)
}
