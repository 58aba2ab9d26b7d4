package report_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/tarian-soc/tarian/internal/report"
	"github.com/tarian-soc/tarian/internal/store/sqlite"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// received is one message the SMTP server took.
type received struct {
	from string
	to   []string
	data []byte
	tls  bool
	user string
}

// startSMTP runs a real SMTP server (go-smtp) on 127.0.0.1 offering
// STARTTLS and, after it, AUTH PLAIN for reports/hunter2.
func startSMTP(t *testing.T, cert *tls.Certificate) (string, chan received) {
	t.Helper()
	got := make(chan received, 10)
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{got: got, conn: c}, nil
	}))
	s.Domain = "mail.test"
	s.ReadTimeout, s.WriteTimeout = 20*time.Second, 20*time.Second
	s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
	s.MaxMessageBytes = 10 << 20
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return ln.Addr().String(), got
}

type session struct {
	got  chan received
	conn *smtp.Conn
	msg  received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "reports" || pass != "hunter2" {
			return errors.New("bad credentials")
		}
		s.msg.user = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.msg.from = from; return nil }

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
	s.got <- m
	return nil
}

func (s *session) Reset()        { s.msg = received{user: s.msg.user} }
func (s *session) Logout() error { return nil }

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

// TestSchedule: on the scheduled day (an injected clock, no waiting) each
// listed member's report of the month before is mailed over STARTTLS in
// each of its languages, PDF attached; before that day nothing goes, and
// after a restart (a new scheduler on the same state store) nothing goes
// twice.
func TestSchedule(t *testing.T) {
	ds := seed(t)
	cert, pool := selfSigned(t)
	addr, got := startSMTP(t, cert)
	cfg := report.DefaultConfig()
	cfg.Schedule = report.Schedule{Day: 2, Hour: 6}
	cfg.Email = report.Email{Server: addr, TLS: "starttls", Username: "reports", Password: "hunter2", From: "Tarian SOC <soc@tarian.test>", Timeout: 10 * time.Second}
	cfg.Members = map[tenant.ID]report.Recipients{
		"gwynedd": {To: []string{"Alys <alys@gwynedd.test>", "cabinet@gwynedd.test"}, Languages: []string{"cy", "en"}},
		"conwy":   {To: []string{"it@conwy.test"}},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	deps := report.SchedulerDeps{Report: ds.deps, Sent: ds.db, TLS: &tls.Config{RootCAs: pool}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx := context.Background()

	// The day before, and the day itself before the hour: nothing.
	for _, now := range []string{"2026-12-01 23:00:00", "2026-12-02 05:59:59"} {
		ds.clock.Set(at(now))
		if n, err := report.NewScheduler(cfg, deps).Tick(ctx); n != 0 || err != nil {
			t.Fatalf("%s: sent %d, %v; want nothing yet", now, n, err)
		}
	}
	ds.clock.Set(at("2026-12-02 06:00:00"))
	n, err := report.NewScheduler(cfg, deps).Tick(ctx)
	if n != 3 || err != nil {
		t.Fatalf("on the day: sent %d, %v; want 3 (gwynedd cy and en, conwy en)", n, err)
	}
	msgs := map[string]received{}
	for range 3 {
		select {
		case m := <-got:
			if !m.tls || m.user != "reports" || m.from != "soc@tarian.test" {
				t.Errorf("message from %q, TLS %v, user %q", m.from, m.tls, m.user)
			}
			msg, err := mail.ReadMessage(bytes.NewReader(m.data))
			if err != nil {
				t.Fatal(err)
			}
			subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			msgs[strings.Join(m.to, ",")+" "+msg.Header.Get("Content-Language")] = m
			_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
			if err != nil {
				t.Fatal(err)
			}
			mr := multipart.NewReader(msg.Body, params["boundary"])
			var text, pdf []byte
			var name string
			for {
				p, err := mr.NextPart()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(p) // quoted/base64 decoding is ours to do
				if err != nil {
					t.Fatal(err)
				}
				dec, err := decodeBase64(body)
				if err != nil {
					t.Fatal(err)
				}
				if p.FileName() != "" {
					pdf, name = dec, p.FileName()
				} else {
					text = dec
				}
			}
			if !bytes.HasPrefix(pdf, []byte("%PDF-")) || !strings.HasPrefix(name, "report-") || !strings.HasSuffix(name, "-2026-11-"+msg.Header.Get("Content-Language")+".pdf") {
				t.Errorf("attachment %q: %.10q", name, pdf)
			}
			if msg.Header.Get("Content-Language") == "cy" {
				if !strings.Contains(subject, "Adroddiad misol Tarian") || !strings.Contains(subject, "Tachwedd 2026") || !bytes.Contains(text, []byte("ynghlwm")) {
					t.Errorf("Welsh mail: subject %q, text %q", subject, text)
				}
			} else if !strings.Contains(subject, "Tarian monthly report") || !strings.Contains(subject, "November 2026") {
				t.Errorf("English mail: subject %q", subject)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no message")
		}
	}
	for _, k := range []string{"alys@gwynedd.test,cabinet@gwynedd.test cy", "alys@gwynedd.test,cabinet@gwynedd.test en", "it@conwy.test en"} {
		if _, ok := msgs[k]; !ok {
			t.Errorf("no message %q (got %d)", k, len(msgs))
		}
	}

	// Later the same day, and after a restart: nothing twice.
	ds.clock.Set(at("2026-12-02 07:00:00"))
	if n, err := report.NewScheduler(cfg, deps).Tick(ctx); n != 0 || err != nil {
		t.Fatalf("again: sent %d, %v; want nothing", n, err)
	}
	// A restart: the state store opened again from its file.
	path := ds.path
	if err := ds.db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deps.Sent = db
	deps.Report.Tenants, deps.Report.Cases, deps.Report.Campaigns = db, db, db
	if n, err := report.NewScheduler(cfg, deps).Tick(ctx); n != 0 || err != nil {
		t.Fatalf("after a restart: sent %d, %v; want nothing", n, err)
	}
	select {
	case m := <-got:
		t.Fatalf("a second message to %v", m.to)
	default:
	}
}

// TestScheduleFailsSafe: a server without STARTTLS gets no report (and
// no password); the report is not marked sent, so it goes at the next look.
func TestScheduleFailsSafe(t *testing.T) {
	ds := seed(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan received, 1)
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{got: got, conn: c}, nil }))
	s.Domain, s.AllowInsecureAuth = "mail.test", true
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	cfg := report.DefaultConfig()
	cfg.Schedule = report.Schedule{Day: 1, Hour: 0}
	cfg.Email = report.Email{Server: ln.Addr().String(), TLS: "starttls", Username: "reports", Password: "hunter2", From: "soc@tarian.test", Timeout: 5 * time.Second}
	cfg.Members = map[tenant.ID]report.Recipients{"gwynedd": {To: []string{"alys@gwynedd.test"}}}
	deps := report.SchedulerDeps{Report: ds.deps, Sent: ds.db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	n, err := report.NewScheduler(cfg, deps).Tick(context.Background())
	if n != 0 || err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("no STARTTLS: sent %d, %v", n, err)
	}
	if sent, err := ds.db.ReportSent(context.Background(), "gwynedd", "2026-11", "en"); sent || err != nil {
		t.Errorf("marked sent: %v %v", sent, err)
	}
	select {
	case m := <-got:
		t.Fatalf("a message went in the clear to %v", m.to)
	default:
	}
}

func TestConfigValidate(t *testing.T) {
	ok := report.DefaultConfig()
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for want, mut := range map[string]func(*report.Config){
		"schedule.day":  func(c *report.Config) { c.Schedule.Day = 31 },
		"schedule.hour": func(c *report.Config) { c.Schedule = report.Schedule{Day: 1, Hour: 24} },
		"languages":     func(c *report.Config) { c.Languages = []string{"fr"} },
		"email.server":  func(c *report.Config) { c.Schedule.Day = 1; c.Email.From = "a@b.test" },
		"email.from":    func(c *report.Config) { c.Schedule.Day = 1; c.Email.Server = "smtp.test:587" },
		"email.tls": func(c *report.Config) {
			c.Schedule.Day = 1
			c.Email = report.Email{Server: "smtp.test:587", From: "a@b.test", TLS: "none", Timeout: 1}
		},
		"members.gwynedd.to": func(c *report.Config) { c.Members = map[tenant.ID]report.Recipients{"gwynedd": {}} },
		"members.Bad":        func(c *report.Config) { c.Members = map[tenant.ID]report.Recipients{"Bad": {To: []string{"a@b.test"}}} },
		"members.gwynedd.languages": func(c *report.Config) {
			c.Members = map[tenant.ID]report.Recipients{"gwynedd": {To: []string{"a@b.test"}, Languages: []string{"de"}}}
		},
	} {
		c := report.DefaultConfig()
		mut(&c)
		if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
}

// decodeBase64 decodes a base64 body cut into lines.
func decodeBase64(b []byte) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b)), ""))
}

// TestScheduleRun: Run looks at the (injected) clock at once and sends,
// and returns when its context ends; with no schedule it returns at once.
func TestScheduleRun(t *testing.T) {
	ds := seed(t)
	cert, pool := selfSigned(t)
	addr, got := startSMTP(t, cert)
	cfg := report.DefaultConfig()
	if err := report.NewScheduler(cfg, report.SchedulerDeps{Report: ds.deps, Sent: ds.db}).Run(context.Background()); err != nil {
		t.Fatalf("no schedule: %v", err)
	}
	cfg.Schedule = report.Schedule{Day: 1, Hour: 6}
	cfg.Email = report.Email{Server: addr, TLS: "starttls", From: "soc@tarian.test", Timeout: 10 * time.Second}
	cfg.Members = map[tenant.ID]report.Recipients{"gwynedd": {To: []string{"alys@gwynedd.test"}}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- report.NewScheduler(cfg, report.SchedulerDeps{Report: ds.deps, Sent: ds.db, TLS: &tls.Config{RootCAs: pool}, Every: 10 * time.Millisecond,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Run(ctx)
	}()
	select {
	case m := <-got:
		if len(m.to) != 1 || m.to[0] != "alys@gwynedd.test" {
			t.Errorf("sent to %v", m.to)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run sent nothing")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		t.Errorf("a second message to %v", m.to)
	default:
	}
}
