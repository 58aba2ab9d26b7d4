package report_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/mailer/mailertest"
	"github.com/tarian-soc/tarian/internal/report"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// TestSchedule: on the scheduled day (an injected clock, no waiting) each
// listed member's report of the month before is mailed over STARTTLS in
// each of its languages, PDF attached; before that day nothing goes, and
// after a restart (a new scheduler on the same state store) nothing goes
// twice.
func TestSchedule(t *testing.T) {
	ds := seed(t)
	srv := mailertest.Start(t)
	cfg := report.DefaultConfig()
	cfg.Schedule = report.Schedule{Day: 2, Hour: 6}
	cfg.Email = report.Email{Server: srv.Addr, TLS: "starttls", Username: "reports", Password: mailertest.Password, From: "Tarian SOC <soc@tarian.test>", Timeout: 10 * time.Second}
	cfg.Members = map[tenant.ID]report.Recipients{
		"gwynedd": {To: []string{"Alys <alys@gwynedd.test>", "cabinet@gwynedd.test"}, Languages: []string{"cy", "en"}},
		"conwy":   {To: []string{"it@conwy.test"}},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	deps := report.SchedulerDeps{Report: ds.deps, Sent: ds.db, TLS: &tls.Config{RootCAs: srv.Pool}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
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
	msgs := map[string]mailertest.Message{}
	for range 3 {
		select {
		case m := <-srv.Got:
			if !m.TLS || m.User != "reports" || m.From != "soc@tarian.test" {
				t.Errorf("message from %q, TLS %v, user %q", m.From, m.TLS, m.User)
			}
			msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
			if err != nil {
				t.Fatal(err)
			}
			subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			msgs[strings.Join(m.To, ",")+" "+msg.Header.Get("Content-Language")] = m
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
	db, err := sqlstore.Open(ctx, path)
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
	case m := <-srv.Got:
		t.Fatalf("a second message to %v", m.To)
	default:
	}
}

// TestScheduleFailsSafe: a server without STARTTLS gets no report (and
// no password); the report is not marked sent, so it goes at the next look.
func TestScheduleFailsSafe(t *testing.T) {
	ds := seed(t)
	srv := mailertest.StartPlain(t) // it would take AUTH in plain text
	cfg := report.DefaultConfig()
	cfg.Schedule = report.Schedule{Day: 1, Hour: 0}
	cfg.Email = report.Email{Server: srv.Addr, TLS: "starttls", Username: "reports", Password: mailertest.Password, From: "soc@tarian.test", Timeout: 5 * time.Second}
	cfg.Members = map[tenant.ID]report.Recipients{"gwynedd": {To: []string{"alys@gwynedd.test"}}}
	deps := report.SchedulerDeps{Report: ds.deps, Sent: ds.db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	n, err := report.NewScheduler(cfg, deps).Tick(context.Background())
	if n != 0 || err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("no STARTTLS: sent %d, %v", n, err)
	}
	if sent, err := ds.db.ReportSent(context.Background(), "gwynedd", "2026-11", "en"); sent || err != nil {
		t.Errorf("marked sent: %v %v", sent, err)
	}
	srv.Untouched(t)
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
	srv := mailertest.Start(t)
	cfg := report.DefaultConfig()
	if err := report.NewScheduler(cfg, report.SchedulerDeps{Report: ds.deps, Sent: ds.db}).Run(context.Background()); err != nil {
		t.Fatalf("no schedule: %v", err)
	}
	cfg.Schedule = report.Schedule{Day: 1, Hour: 6}
	cfg.Email = report.Email{Server: srv.Addr, TLS: "starttls", From: "soc@tarian.test", Timeout: 10 * time.Second}
	cfg.Members = map[tenant.ID]report.Recipients{"gwynedd": {To: []string{"alys@gwynedd.test"}}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- report.NewScheduler(cfg, report.SchedulerDeps{Report: ds.deps, Sent: ds.db, TLS: &tls.Config{RootCAs: srv.Pool}, Every: 10 * time.Millisecond,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Run(ctx)
	}()
	select {
	case m := <-srv.Got:
		if len(m.To) != 1 || m.To[0] != "alys@gwynedd.test" {
			t.Errorf("sent to %v", m.To)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run sent nothing")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-srv.Got:
		t.Errorf("a second message to %v", m.To)
	default:
	}
}
