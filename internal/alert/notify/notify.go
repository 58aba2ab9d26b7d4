package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/mailer"
	"github.com/tarian-soc/tarian/internal/poll"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Kind is a channel's protocol.
type Kind string

// Kinds of channel.
const (
	Webhook Kind = "webhook"
	Email   Kind = "email"
	Teams   Kind = "teams"
	Slack   Kind = "slack"
)

// Kinds lists the kinds, for messages.
const Kinds = "webhook, email, teams, slack"

// Provider is the tenant of the provider's own channels, which see every
// tenant's alerts.
const Provider tenant.ID = "*"

// Channel is a destination as the store keeps it: its secrets sealed.
type Channel struct {
	ID     int64
	Tenant tenant.ID
	Name   string
	Kind   Kind
	// Target is where messages go, without secrets, for people: a URL's
	// scheme and host, or the SMTP server and recipients.
	Target string
	// Mail is an email channel's settings (nil for the other kinds).
	Mail  *Mail
	Route Route
	// Sealed is the channel's secrets sealed by the Box, bound to Tenant.
	Sealed  []byte
	Created time.Time
}

// Mail is how an email channel reaches its SMTP server.
type Mail struct {
	// Server is host:port.
	Server string `json:"server"`
	// TLS is starttls (required: the default), tls (implicit TLS, smtps)
	// or optional (STARTTLS when offered: for a relay on a trusted network).
	TLS      string   `json:"tls"`
	Username string   `json:"username,omitempty"`
	From     string   `json:"from"`
	To       []string `json:"to"`
}

// SMTP TLS modes (mailer's).
const (
	TLSStartTLS = mailer.StartTLS
	TLSImplicit = mailer.ImplicitTLS
	TLSOptional = mailer.OptionalTLS
)

// DeadLetter is a notification that was never delivered.
type DeadLetter struct {
	ID int64 `json:"id"`
	// Tenant is the channel's tenant ("*" for the provider's channels).
	Tenant      tenant.ID `json:"tenant"`
	Channel     int64     `json:"channel"`
	ChannelName string    `json:"channel_name"`
	Kind        Kind      `json:"kind"`
	// AlertTenant and AlertID name the alert; Change is what happened to it.
	AlertTenant tenant.ID `json:"alert_tenant"`
	AlertID     int64     `json:"alert_id"`
	Change      string    `json:"change"`
	// Payload is what was sent: the JSON body, or the mail message.
	Payload   string    `json:"payload"`
	LastError string    `json:"last_error"`
	Attempts  int       `json:"attempts"`
	Time      time.Time `json:"time"`
}

// Store keeps channels and dead letters. Every method takes the tenant
// (Provider for the provider's channels); another tenant's channel is
// ErrNotFound.
type Store interface {
	// AddNotifyChannel stores c and returns it with its ID.
	AddNotifyChannel(ctx context.Context, c Channel) (Channel, error)
	// NotifyChannels lists tenant t's channels by ID.
	NotifyChannels(ctx context.Context, t tenant.ID) ([]Channel, error)
	// AllNotifyChannels lists every tenant's channels (for routing).
	AllNotifyChannels(ctx context.Context) ([]Channel, error)
	// NotifyChannel returns one of tenant t's channels.
	NotifyChannel(ctx context.Context, t tenant.ID, id int64) (Channel, error)
	// NotifyChannelTenant returns the tenant of channel id, for provider
	// roles only (whose scope is every tenant).
	NotifyChannelTenant(ctx context.Context, id int64) (tenant.ID, error)
	// RemoveNotifyChannel deletes one of tenant t's channels and returns it.
	RemoveNotifyChannel(ctx context.Context, t tenant.ID, id int64) (Channel, error)
	// AddNotifyDeadLetter keeps d (for d.Tenant) and returns it with its ID.
	AddNotifyDeadLetter(ctx context.Context, d DeadLetter) (DeadLetter, error)
	// NotifyDeadLetters lists tenant t's dead letters with ID below before
	// (0: from the newest), newest first, at most limit.
	NotifyDeadLetters(ctx context.Context, t tenant.ID, before int64, limit int) ([]DeadLetter, error)
}

// Counter counts: name is a full metric name with its labels.
type Counter interface {
	Inc(name string)
}

// Errors.
var (
	// ErrNotFound is a channel that does not exist in the tenant asked.
	ErrNotFound = errors.New("notification channel not found")
	// ErrInvalid wraps a refused channel definition.
	ErrInvalid = errors.New("invalid notification channel")
	// ErrDelivery wraps a failed send (a test, or a try).
	ErrDelivery = errors.New("notification not delivered")
	// ErrNoSTARTTLS is an SMTP server that does not offer STARTTLS to a
	// channel that requires it.
	ErrNoSTARTTLS = errors.New("SMTP server does not offer STARTTLS, which this channel requires")
	// ErrAddress is a destination on a loopback, private or other
	// non-public address, which tenant channels may not reach.
	ErrAddress = errors.New("destination address not allowed")
)

// Config tunes delivery.
type Config struct {
	// QueueSize bounds the notifications waiting for a worker; more are
	// counted and logged as overflow.
	QueueSize int `yaml:"queue_size"`
	// Workers send in parallel.
	Workers int `yaml:"workers"`
	// Attempts is how many tries a notification gets before it becomes a
	// dead letter.
	Attempts int `yaml:"attempts"`
	// Backoff is the wait after the first failed try, doubled after each
	// further one, up to MaxBackoff.
	Backoff    time.Duration `yaml:"backoff"`
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// Timeout bounds one try (connect, TLS, request and answer).
	Timeout time.Duration `yaml:"timeout"`
	// AllowPrivateNetworks lets tenant channels reach loopback, private
	// and link-local addresses (the provider's own channels always may).
	AllowPrivateNetworks bool `yaml:"allow_private_networks"`
	// ConsoleURL is the console's address as the people notified reach it
	// (https://soc.example.gov.uk, or with a path prefix a proxy adds).
	// When set, every alert notification links to the alert there:
	// ConsoleURL/alerts/ID. Empty: notifications carry no link.
	ConsoleURL string `yaml:"console_url"`
}

// DefaultConfig returns 5 tries over about 15 s (1 s doubled), 4 workers.
func DefaultConfig() Config {
	return Config{QueueSize: 10000, Workers: 4, Attempts: 5, Backoff: time.Second, MaxBackoff: 5 * time.Minute, Timeout: 15 * time.Second}
}

// Validate reports the first bad setting.
func (c Config) Validate() error {
	switch {
	case c.QueueSize < 1:
		return errors.New("queue_size: must be at least 1")
	case c.Workers < 1 || c.Workers > 256:
		return errors.New("workers: must be in 1..256")
	case c.Attempts < 1 || c.Attempts > 100:
		return errors.New("attempts: must be in 1..100")
	case c.Backoff <= 0:
		return errors.New("backoff: must be more than 0")
	case c.MaxBackoff < c.Backoff:
		return errors.New("max_backoff: must be at least backoff")
	case c.Timeout <= 0:
		return errors.New("timeout: must be more than 0")
	}
	return checkConsoleURL(c.ConsoleURL)
}

// checkConsoleURL accepts "" or an absolute http(s) URL without user,
// query or fragment: the base alert links are made from.
func checkConsoleURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("console_url: %v", err)
	case u.Scheme != "https" && u.Scheme != "http", u.Host == "":
		return fmt.Errorf("console_url: %q is not an absolute http(s) URL", s)
	case u.User != nil, u.RawQuery != "", u.Fragment != "", u.ForceQuery:
		return fmt.Errorf("console_url: %q must have no user, query or fragment", s)
	}
	return nil
}

// alertLink is the console's page of alert id, or "" without ConsoleURL.
func (c Config) alertLink(id int64) string {
	if c.ConsoleURL == "" {
		return ""
	}
	return strings.TrimRight(c.ConsoleURL, "/") + "/alerts/" + strconv.FormatInt(id, 10)
}

// Deps are the Service's collaborators.
type Deps struct {
	Store   Store
	Box     *poll.Box
	Metrics Counter
	Log     *slog.Logger
	// Now is the clock of routing (hours) and records (nil: time.Now);
	// tests inject one. Retry waits use real timers.
	Now func() time.Time
	// TLS, when set, is the base TLS configuration of HTTPS and SMTP
	// (tests trust their own CA with it); nil uses the system roots.
	TLS *tls.Config
}

// NewChannel is a channel as an admin defines it. For email, URL is
// smtp://[user@]host[:port] (STARTTLS required; port 587 by default) or
// smtps://[user@]host[:port] (implicit TLS; 465) and Secret the password;
// for a webhook, Secret is the signing secret; Teams and Slack take only
// the incoming-webhook URL.
type NewChannel struct {
	Name   string   `json:"name"`
	Kind   Kind     `json:"kind"`
	URL    string   `json:"url"`
	Secret string   `json:"secret,omitempty"`
	From   string   `json:"from,omitempty"`
	To     []string `json:"to,omitempty"`
	// AllowPlaintext lets an smtp:// channel go on without STARTTLS when
	// the server does not offer it (a password is still never sent in
	// the clear).
	AllowPlaintext bool  `json:"allow_plaintext,omitempty"`
	Route          Route `json:"route"`
}

// String never shows the URL or the secret.
func (n NewChannel) String() string {
	return fmt.Sprintf("{%s %s url:[redacted] secret:[redacted] %v %v}", n.Name, n.Kind, n.To, n.Route)
}

// Info is a channel as the API returns it: no secret, ever.
type Info struct {
	ID     int64     `json:"id"`
	Tenant tenant.ID `json:"tenant"`
	Name   string    `json:"name"`
	Kind   Kind      `json:"kind"`
	Target string    `json:"target"`
	Mail   *Mail     `json:"mail,omitempty"`
	Route  Route     `json:"route"`
	// Sealed names the secrets the channel holds (url, secret, password):
	// write-only, sealed at rest.
	Sealed  []string  `json:"sealed"`
	Created time.Time `json:"created"`
}

func info(c Channel) Info {
	var sealed []string
	switch c.Kind {
	case Webhook:
		sealed = []string{"url", "secret"}
	case Teams, Slack:
		sealed = []string{"url"}
	case Email:
		sealed = []string{}
		if c.Mail != nil && c.Mail.Username != "" {
			sealed = []string{"password"}
		}
	}
	return Info{ID: c.ID, Tenant: c.Tenant, Name: c.Name, Kind: c.Kind, Target: c.Target, Mail: c.Mail, Route: c.Route, Sealed: sealed, Created: c.Created}
}
