package notify_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/alert/notify"
	"github.com/tarian-soc/tarian/internal/mailer/mailertest"
)

func TestEmailOverSTARTTLS(t *testing.T) {
	srv := mailertest.Start(t)
	cfg := fast()
	cfg.ConsoleURL = "https://soc.example.test/tarian/" // behind a proxy's path prefix
	e := start(t, cfg, &tls.Config{RootCAs: srv.Pool})
	ch := e.add(t, "council-a", notify.NewChannel{
		Name: "on-call", Kind: notify.Email, URL: "smtp://soc@" + srv.Addr, Secret: mailertest.Password,
		From: "Tarian SOC <soc@tarian.test>", To: []string{"oncall@council-a.test", "Duty Manager <duty@council-a.test>"},
		Route: notify.Route{MinSeverity: "high"},
	})
	if ch.Mail == nil || ch.Mail.TLS != notify.TLSStartTLS || ch.Mail.Username != "soc" || len(ch.Sealed) != 1 || ch.Sealed[0] != "password" {
		t.Errorf("channel %+v", ch)
	}

	e.svc.Notify(context.Background(), "council-a", created(newAlert(11, "council-a", "medium"))) // below the route
	e.svc.Notify(context.Background(), "council-a", created(newAlert(12, "council-a", "high")))
	m := wait(t, srv.Got, "the mail")

	if !m.TLS {
		t.Error("the message came over a connection that was not TLS")
	}
	if m.User != "soc" || m.From != "soc@tarian.test" || strings.Join(m.To, ",") != "oncall@council-a.test,duty@council-a.test" {
		t.Errorf("envelope: user %q from %q to %v", m.User, m.From, m.To)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
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
			if !strings.Contains(string(body), "Severity: high") || !strings.Contains(string(body), "host: ws-17") ||
				!strings.Contains(string(body), "Open the alert in Tarian: https://soc.example.test/tarian/alerts/12\r\n") {
				t.Errorf("text part %q", body)
			}
		case strings.HasPrefix(ct, "text/html"):
			if !strings.Contains(string(body), "Mimikatz &lt;!channel&gt; &amp; co") || strings.Contains(string(body), "<!channel>") ||
				!strings.Contains(string(body), `<a href="https://soc.example.test/tarian/alerts/12">`) {
				t.Errorf("html part not escaped: %q", body)
			}
		}
	}
	if len(parts) != 2 {
		t.Errorf("parts %v, want text and HTML", parts)
	}
	select {
	case extra := <-srv.Got:
		t.Errorf("a second mail (the medium alert?): %s", extra.Data)
	default:
	}
	eventually(t, "the sent counter", func() bool { return e.metric(`tarian_notify_sent_total{tenant="council-a",kind="email"}`) == "1" })
}

func TestEmailRefusesServerWithoutSTARTTLS(t *testing.T) {
	srv := mailertest.StartPlain(t)
	e := start(t, fast(), nil)
	ch := e.add(t, "council-a", notify.NewChannel{Kind: notify.Email, URL: "smtp://soc@" + srv.Addr, Secret: mailertest.Password, From: "soc@tarian.test", To: []string{"oncall@council-a.test"}})

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
	srv.Untouched(t)
}

func TestEmailPlaintextOnlyWhenAllowed(t *testing.T) {
	srv := mailertest.StartPlain(t)
	e := start(t, fast(), nil)
	// A password is never sent without TLS, even when plaintext is allowed.
	withPassword := e.add(t, "council-a", notify.NewChannel{Kind: notify.Email, URL: "smtp://soc@" + srv.Addr, Secret: mailertest.Password, AllowPlaintext: true, From: "soc@tarian.test", To: []string{"a@council-a.test"}})
	if err := e.svc.Test(context.Background(), "council-a", withPassword.ID); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("Test with a password over plain text = %v", err)
	}
	srv.Untouched(t) // the server would take AUTH in plain text
	relay := e.add(t, "council-a", notify.NewChannel{Kind: notify.Email, URL: "smtp://" + srv.Addr, AllowPlaintext: true, From: "soc@tarian.test", To: []string{"a@council-a.test"}})
	if relay.Mail.TLS != notify.TLSOptional {
		t.Errorf("tls mode %q", relay.Mail.TLS)
	}
	if err := e.svc.Test(context.Background(), "council-a", relay.ID); err != nil {
		t.Fatalf("Test: %v", err)
	}
	if m := wait(t, srv.Got, "the test mail"); m.TLS || !strings.Contains(string(m.Data), "Subject: [Tarian] Test notification from Tarian") {
		t.Errorf("test mail tls=%v %s", m.TLS, m.Data)
	}
}
