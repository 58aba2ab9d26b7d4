package notify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/tarian-soc/tarian/internal/alert/notify"
)

// received is one message an SMTP server took.
type received struct {
	from string
	to   []string
	data []byte
	// tls is whether the connection was TLS when the message came.
	tls  bool
	user string
}

// smtpServer is a real SMTP server (go-smtp) on 127.0.0.1: with a cert,
// it offers STARTTLS and AUTH PLAIN (after TLS only) for soc/hunter2.
type smtpServer struct {
	addr string
	got  chan received

	mu       sync.Mutex
	commands []string
}

func startSMTP(t *testing.T, cert *tls.Certificate) *smtpServer {
	t.Helper()
	ss := &smtpServer{got: make(chan received, 10)}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: ss, conn: c}, nil
	}))
	s.Domain = "mail.test"
	s.ReadTimeout, s.WriteTimeout = 20*time.Second, 20*time.Second
	if cert != nil {
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ss.addr = ln.Addr().String()
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return ss
}

func (ss *smtpServer) saw(cmd string) {
	ss.mu.Lock()
	ss.commands = append(ss.commands, cmd)
	ss.mu.Unlock()
}

type session struct {
	srv  *smtpServer
	conn *smtp.Conn
	msg  received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		s.srv.saw("AUTH")
		if user != "soc" || pass != "hunter2" {
			return errors.New("bad credentials")
		}
		s.msg.user = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.srv.saw("MAIL")
	s.msg.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.to = append(s.msg.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	m := s.msg
	m.data, m.tls = data, isTLS
	s.srv.got <- m
	return nil
}

func (s *session) Reset()        { s.msg = received{user: s.msg.user} }
func (s *session) Logout() error { return nil }

// selfSigned returns a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mail.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestEmailOverSTARTTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	srv := startSMTP(t, cert)
	e := start(t, fast(), &tls.Config{RootCAs: pool})
	ch := e.add(t, "council-a", notify.NewChannel{
		Name: "on-call", Kind: notify.Email, URL: "smtp://soc@" + srv.addr, Secret: "hunter2",
		From: "Tarian SOC <soc@tarian.test>", To: []string{"oncall@council-a.test", "Duty Manager <duty@council-a.test>"},
		Route: notify.Route{MinSeverity: "high"},
	})
	if ch.Mail == nil || ch.Mail.TLS != notify.TLSStartTLS || ch.Mail.Username != "soc" || len(ch.Sealed) != 1 || ch.Sealed[0] != "password" {
		t.Errorf("channel %+v", ch)
	}

	e.svc.Notify(context.Background(), "council-a", created(newAlert(11, "council-a", "medium"))) // below the route
	e.svc.Notify(context.Background(), "council-a", created(newAlert(12, "council-a", "high")))
	m := wait(t, srv.got, "the mail")

	if !m.tls {
		t.Error("the message came over a connection that was not TLS")
	}
	if m.user != "soc" || m.from != "soc@tarian.test" || strings.Join(m.to, ",") != "oncall@council-a.test,duty@council-a.test" {
		t.Errorf("envelope: user %q from %q to %v", m.user, m.from, m.to)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(m.data)))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != "[Tarian] New alert: [HIGH] Mimikatz <!channel> & co" {
		t.Errorf("subject %q (%v)", subject, err)
	}
	if msg.Header.Get("From") != `"Tarian SOC" <soc@tarian.test>` || msg.Header.Get("To") != "oncall@council-a.test, duty@council-a.test" || msg.Header.Get("Message-Id") == "" {
		t.Errorf("headers %v", msg.Header)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var parts []string
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(p)
		ct := p.Header.Get("Content-Type")
		parts = append(parts, ct)
		switch {
		case strings.HasPrefix(ct, "text/plain"):
			if !strings.Contains(string(body), "Severity: high") || !strings.Contains(string(body), "host: ws-17") {
				t.Errorf("text part %q", body)
			}
		case strings.HasPrefix(ct, "text/html"):
			if !strings.Contains(string(body), "Mimikatz &lt;!channel&gt; &amp; co") || strings.Contains(string(body), "<!channel>") {
				t.Errorf("html part not escaped: %q", body)
			}
		}
	}
	if len(parts) != 2 {
		t.Errorf("parts %v, want text and HTML", parts)
	}
	select {
	case extra := <-srv.got:
		t.Errorf("a second mail (the medium alert?): %s", extra.data)
	default:
	}
	eventually(t, "the sent counter", func() bool { return e.metric(`tarian_notify_sent_total{tenant="council-a",kind="email"}`) == "1" })
}

func TestEmailRefusesServerWithoutSTARTTLS(t *testing.T) {
	srv := startSMTP(t, nil) // plain text only
	e := start(t, fast(), nil)
	ch := e.add(t, "council-a", notify.NewChannel{Kind: notify.Email, URL: "smtp://soc@" + srv.addr, Secret: "hunter2", From: "soc@tarian.test", To: []string{"oncall@council-a.test"}})

	err := e.svc.Test(context.Background(), "council-a", ch.ID)
	if !errors.Is(err, notify.ErrDelivery) || !strings.Contains(err.Error(), "does not offer STARTTLS") {
		t.Errorf("Test = %v", err)
	}
	// Through the queue it is a permanent failure: one try, dead-lettered.
	e.svc.Notify(context.Background(), "council-a", created(newAlert(1, "council-a", "high")))
	var dls []notify.DeadLetter
	eventually(t, "the dead letter", func() bool {
		dls, _ = e.svc.DeadLetters(context.Background(), "council-a", 0, 10)
		return len(dls) == 1
	})
	if dls[0].Attempts != 1 || dls[0].Kind != notify.Email || !strings.Contains(dls[0].Payload, "Subject:") {
		t.Errorf("dead letter %+v", dls[0])
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.commands) != 0 {
		t.Errorf("the client went on over plain text: %v", srv.commands)
	}
	select {
	case m := <-srv.got:
		t.Errorf("a message arrived in the clear: %s", m.data)
	default:
	}
}

func TestEmailPlaintextOnlyWhenAllowed(t *testing.T) {
	srv := startSMTP(t, nil)
	e := start(t, fast(), nil)
	// A password is never sent without TLS, even when plaintext is allowed.
	withPassword := e.add(t, "council-a", notify.NewChannel{Kind: notify.Email, URL: "smtp://soc@" + srv.addr, Secret: "hunter2", AllowPlaintext: true, From: "soc@tarian.test", To: []string{"a@council-a.test"}})
	if err := e.svc.Test(context.Background(), "council-a", withPassword.ID); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("Test with a password over plain text = %v", err)
	}
	relay := e.add(t, "council-a", notify.NewChannel{Kind: notify.Email, URL: "smtp://" + srv.addr, AllowPlaintext: true, From: "soc@tarian.test", To: []string{"a@council-a.test"}})
	if relay.Mail.TLS != notify.TLSOptional {
		t.Errorf("tls mode %q", relay.Mail.TLS)
	}
	if err := e.svc.Test(context.Background(), "council-a", relay.ID); err != nil {
		t.Fatalf("Test: %v", err)
	}
	if m := wait(t, srv.got, "the test mail"); m.tls || !strings.Contains(string(m.data), "Subject: [Tarian] Test notification from Tarian") {
		t.Errorf("test mail tls=%v %s", m.tls, m.data)
	}
}
