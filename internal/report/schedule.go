package report

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/mailer"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Config is the monthly schedule and where reports are mailed (the
// reports: section). Recipients are listed per member here, not taken
// from the member's alert notification channels: a report goes to its
// managers and councillors, an alert to the people on call, and the
// channels' routes (severity, hours) mean nothing to a monthly report.
type Config struct {
	Schedule Schedule `yaml:"schedule"`
	// Languages are the languages each member's report is mailed in when
	// its entry names none (default: en).
	Languages []string `yaml:"languages"`
	// Email is the SMTP server reports are sent through.
	Email Email `yaml:"email"`
	// Members lists, per member, who gets its report; a member not listed
	// gets none by mail (it is still there on demand).
	Members map[tenant.ID]Recipients `yaml:"members"`
}

// Schedule is when the month before is reported: on Day (1-28) of each
// month at Hour (0-23) UTC, or later that month if the server was down
// then. Day 0 turns the schedule off.
type Schedule struct {
	Day  int `yaml:"day"`
	Hour int `yaml:"hour"`
}

// Email is how reports reach the SMTP server.
type Email struct {
	// Server is host:port.
	Server string `yaml:"server"`
	// TLS is starttls (required: the default), tls (implicit TLS, smtps)
	// or optional (STARTTLS when offered; a relay on a trusted network).
	TLS      string `yaml:"tls"`
	Username string `yaml:"username"`
	// Password is best given as TARIAN_REPORTS_EMAIL_PASSWORD.
	Password string `yaml:"password"`
	From     string `yaml:"from"`
	// Timeout bounds one message's delivery.
	Timeout time.Duration `yaml:"timeout"`
}

// Recipients are who gets one member's report, and in which languages.
type Recipients struct {
	To        []string `yaml:"to"`
	Languages []string `yaml:"languages"`
}

// DefaultConfig is the schedule off, English, STARTTLS required.
func DefaultConfig() Config {
	return Config{Languages: []string{string(English)}, Email: Email{TLS: mailer.StartTLS, Timeout: 30 * time.Second}}
}

// Validate reports the first bad setting, naming its key.
func (c Config) Validate() error {
	s := c.Schedule
	switch {
	case s.Day < 0 || s.Day > 28:
		return errors.New("schedule.day: want 1-28 (every month has it), or 0 for no schedule")
	case s.Hour < 0 || s.Hour > 23:
		return errors.New("schedule.hour: want 0-23 (UTC)")
	}
	if err := validLangs("languages", c.Languages); err != nil {
		return err
	}
	for t, r := range c.Members {
		key := "members." + string(t)
		if _, err := tenant.Parse(string(t)); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		if len(r.To) == 0 {
			return fmt.Errorf("%s.to: name at least one address", key)
		}
		for _, a := range r.To {
			if _, err := mail.ParseAddress(a); err != nil {
				return fmt.Errorf("%s.to: %q: %w", key, a, err)
			}
		}
		if err := validLangs(key+".languages", r.Languages); err != nil {
			return err
		}
	}
	if s.Day == 0 {
		return nil
	}
	e := c.Email
	if _, _, err := net.SplitHostPort(e.Server); err != nil {
		return fmt.Errorf("email.server: %q: want host:port", e.Server)
	}
	switch e.TLS {
	case mailer.StartTLS, mailer.ImplicitTLS, mailer.OptionalTLS:
	default:
		return fmt.Errorf("email.tls: %q: want starttls, tls or optional", e.TLS)
	}
	if _, err := mail.ParseAddress(e.From); err != nil {
		return fmt.Errorf("email.from: %q: %w", e.From, err)
	}
	if e.Password != "" && e.Username == "" {
		return errors.New("email.password: a password needs email.username")
	}
	if e.Timeout <= 0 {
		return errors.New("email.timeout: must be more than 0")
	}
	return nil
}

func validLangs(key string, ls []string) error {
	for _, l := range ls {
		if _, err := ParseLang(l); err != nil || l == "" {
			return fmt.Errorf("%s: %q: want one of %s", key, l, Langs)
		}
	}
	return nil
}

// languages are member t's languages.
func (c Config) languages(t tenant.ID) []Lang {
	ls := c.Members[t].Languages
	if len(ls) == 0 {
		ls = c.Languages
	}
	if len(ls) == 0 {
		ls = []string{string(English)}
	}
	var out []Lang
	for _, s := range ls {
		if l, err := ParseLang(s); err == nil && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// Sent remembers the reports mailed, so that each goes once (store/sqlstore).
type Sent interface {
	// ReportSent reports whether member t's report of month ("YYYY-MM")
	// in lang was sent.
	ReportSent(ctx context.Context, t tenant.ID, month, lang string) (bool, error)
	// MarkReportSent records that it was, at at, to recipients.
	MarkReportSent(ctx context.Context, t tenant.ID, month, lang string, at time.Time, to []string) error
}

// SchedulerDeps are the scheduler's collaborators.
type SchedulerDeps struct {
	Report Deps
	Sent   Sent
	// TLS is the base TLS configuration (tests trust their own CA).
	TLS *tls.Config
	// Every is how often the clock is looked at (default: a minute).
	Every time.Duration
	Log   *slog.Logger
}

// Scheduler mails every listed member's report of the month before, on
// the scheduled day.
type Scheduler struct {
	cfg Config
	d   SchedulerDeps
}

// NewScheduler returns the scheduler of cfg (which is valid).
func NewScheduler(cfg Config, d SchedulerDeps) *Scheduler {
	if d.Report.Now == nil {
		d.Report.Now = time.Now
	}
	if d.Every <= 0 {
		d.Every = time.Minute
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Scheduler{cfg: cfg, d: d}
}

// Run looks at the clock every d.Every until ctx is done and sends what is
// due (Tick). A failed send is logged (once until it changes) and tried
// again at the next look.
func (s *Scheduler) Run(ctx context.Context) error {
	if s.cfg.Schedule.Day == 0 || len(s.cfg.Members) == 0 {
		return nil
	}
	tk := time.NewTicker(s.d.Every)
	defer tk.Stop()
	last := "" // the failure last logged: the same one is not logged every minute
	for {
		n, err := s.Tick(ctx)
		switch {
		case err != nil && err.Error() != last:
			last = err.Error()
			s.d.Log.Warn("monthly reports not all sent; trying again every minute", "sent", n, "err", err)
		case err == nil && last != "":
			last = ""
			s.d.Log.Info("monthly reports: sending works again", "sent", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tk.C:
		}
	}
}

// Due reports whether now is at or after this month's scheduled time.
func (c Config) Due(now time.Time) bool {
	if c.Schedule.Day == 0 {
		return false
	}
	now = now.UTC()
	at := time.Date(now.Year(), now.Month(), c.Schedule.Day, c.Schedule.Hour, 0, 0, 0, time.UTC)
	return !now.Before(at)
}

// Tick sends each listed member's report of the month before, in each of
// its languages, unless it was sent already; it returns how many it sent.
// Before this month's scheduled time it sends nothing.
func (s *Scheduler) Tick(ctx context.Context) (int, error) {
	now := s.d.Report.Now().UTC()
	if !s.cfg.Due(now) {
		return 0, nil
	}
	month := PreviousMonth(now)
	key := month.Format("2006-01")
	members := make([]tenant.ID, 0, len(s.cfg.Members))
	for t := range s.cfg.Members {
		members = append(members, t)
	}
	slices.Sort(members)
	sent := 0
	var errs []error
	for _, t := range members {
		to := s.cfg.Members[t].To
		for _, l := range s.cfg.languages(t) {
			done, err := s.d.Sent.ReportSent(ctx, t, key, string(l))
			if err != nil {
				return sent, err
			}
			if done {
				continue
			}
			if err := s.send(ctx, t, month, l, to); err != nil {
				errs = append(errs, fmt.Errorf("report %s %s %s: %w", t, key, l, err))
				continue
			}
			if err := s.d.Sent.MarkReportSent(ctx, t, key, string(l), now, to); err != nil {
				return sent, err
			}
			sent++
			s.d.Log.Info("monthly report sent", "tenant", t, "month", key, "lang", l, "recipients", len(to))
		}
	}
	return sent, errors.Join(errs...)
}

func (s *Scheduler) send(ctx context.Context, t tenant.ID, month time.Time, l Lang, to []string) error {
	r, err := Gather(ctx, s.d.Report, t, month)
	if err != nil {
		return err
	}
	var pdf bytes.Buffer
	if err := r.PDF(&pdf, l); err != nil {
		return err
	}
	msg, err := Message(r, l, s.cfg.Email.From, to, pdf.Bytes())
	if err != nil {
		return err
	}
	return sendMail(ctx, s.cfg.Email, s.d.TLS, to, msg)
}

// Message is the mail carrying r in l: a short text in l and the PDF
// attached.
func Message(r *Report, l Lang, from string, to []string, pdf []byte) ([]byte, error) {
	fa, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	var rcpt []string
	for _, a := range to {
		ta, err := mail.ParseAddress(a)
		if err != nil {
			return nil, fmt.Errorf("to: %w", err)
		}
		rcpt = append(rcpt, ta.String())
	}
	var raw [12]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	boundary := "tarian-" + base64.RawURLEncoding.EncodeToString(raw[:])
	host := "tarian.invalid"
	if _, h, ok := strings.Cut(fa.Address, "@"); ok {
		host = h
	}
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", fa.String())
	h("To", strings.Join(rcpt, ", "))
	h("Subject", mime.QEncoding.Encode("utf-8", fmt.Sprintf(l.T("mail_subject"), r.TenantName, l.Month(r.Month))))
	h("Date", r.Generated.Format(time.RFC1123Z))
	h("Message-ID", "<"+boundary+"@"+host+">")
	h("Content-Language", string(l))
	h("MIME-Version", "1.0")
	h("Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
	b.WriteString("\r\n--" + boundary + "\r\n")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "base64")
	b.WriteString("\r\n")
	body := fmt.Sprintf(l.T("mail_body"), r.TenantName, l.Month(r.Month))
	writeBase64(&b, []byte(strings.ReplaceAll(body, "\n", "\r\n")))
	b.WriteString("--" + boundary + "\r\n")
	name := Filename(r.Tenant, r.Month, l, "pdf")
	h("Content-Type", mime.FormatMediaType("application/pdf", map[string]string{"name": name}))
	h("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h("Content-Transfer-Encoding", "base64")
	b.WriteString("\r\n")
	writeBase64(&b, pdf)
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes(), nil
}

// writeBase64 writes p in base64 lines of 76 characters.
func writeBase64(b *bytes.Buffer, p []byte) {
	s := base64.StdEncoding.EncodeToString(p)
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	b.WriteString(s + "\r\n")
}

// sendMail delivers msg through e's server (mailer.Send: STARTTLS unless
// e allows plaintext or uses implicit TLS, AUTH PLAIN when e has a user; a
// password never goes in the clear).
func sendMail(ctx context.Context, e Email, base *tls.Config, to []string, msg []byte) error {
	err := mailer.Send(ctx, mailer.Server{
		Addr: e.Server, TLS: e.TLS, Username: e.Username, Password: e.Password, TLSConfig: base, Timeout: e.Timeout,
	}, e.From, to, msg)
	if errors.Is(err, mailer.ErrNoSTARTTLS) {
		err = fmt.Errorf("%w (email.tls: optional allows plaintext to a trusted relay)", err)
	}
	if err != nil {
		return fmt.Errorf("smtp %s: %w", e.Server, err)
	}
	return nil
}
