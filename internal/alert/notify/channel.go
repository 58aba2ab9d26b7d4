package notify

import (
	"encoding/json"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strings"

	"github.com/tarian-soc/tarian/internal/tenant"
)

// secrets are what a channel seals.
type secrets struct {
	URL      string `json:"url,omitempty"`
	Secret   string `json:"secret,omitempty"`
	Password string `json:"password,omitempty"`
}

// sealAD binds a sealed secret to notifications of tenant t: it opens
// neither in another tenant's row nor in a cloud source's.
func sealAD(t tenant.ID) []byte { return []byte("notify/" + string(t)) }

// build checks n and returns the channel (unsealed) and its secrets.
func (n NewChannel) build(t tenant.ID) (Channel, secrets, error) {
	c := Channel{Tenant: t, Name: strings.TrimSpace(n.Name), Kind: n.Kind, Route: n.Route}
	var sec secrets
	if len(c.Name) > 100 || strings.ContainsFunc(c.Name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return c, sec, fmt.Errorf("%w: name: at most 100 printable characters", ErrInvalid)
	}
	if c.Name == "" {
		c.Name = string(n.Kind)
	}
	if _, err := n.Route.compile(); err != nil {
		return c, sec, err
	}
	if n.Kind != Email && (n.From != "" || len(n.To) > 0 || n.AllowPlaintext) {
		return c, sec, fmt.Errorf("%w: from, to and allow_plaintext are for email channels", ErrInvalid)
	}
	switch n.Kind {
	case Webhook, Teams, Slack:
		u, err := url.Parse(n.URL)
		if err != nil || u.Host == "" || (u.Scheme != "https" && (u.Scheme != "http" || n.Kind != Webhook)) || len(n.URL) > 2048 {
			want := "an https URL"
			if n.Kind == Webhook {
				want = "an http(s) URL"
			}
			return c, sec, fmt.Errorf("%w: url: want %s (the %s's incoming-webhook address)", ErrInvalid, want, n.Kind)
		}
		c.Target = u.Scheme + "://" + u.Host + "/…"
		sec.URL = n.URL
		switch {
		case n.Kind != Webhook && n.Secret != "":
			return c, sec, fmt.Errorf("%w: secret: %s channels take only the URL (which embeds their secret)", ErrInvalid, n.Kind)
		case n.Kind == Webhook && (len(n.Secret) < 16 || len(n.Secret) > 1024):
			return c, sec, fmt.Errorf("%w: secret: a webhook needs a signing secret of 16 to 1024 characters, shared with the receiver", ErrInvalid)
		}
		sec.Secret = n.Secret
	case Email:
		m, err := n.mail()
		if err != nil {
			return c, sec, err
		}
		c.Mail = m
		c.Target = "smtp://" + m.Server + " to " + strings.Join(m.To, ", ")
		if m.TLS == TLSImplicit {
			c.Target = "smtps://" + m.Server + " to " + strings.Join(m.To, ", ")
		}
		sec.Password = n.Secret
	default:
		return c, sec, fmt.Errorf("%w: kind %q: want one of %s", ErrInvalid, n.Kind, Kinds)
	}
	return c, sec, nil
}

// mail checks an email channel's URL, addresses and password.
func (n NewChannel) mail() (*Mail, error) {
	u, err := url.Parse(n.URL)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, fmt.Errorf("%w: url: want smtp://[user@]host[:port] (STARTTLS) or smtps://[user@]host[:port] (TLS)", ErrInvalid)
	}
	m := &Mail{TLS: TLSStartTLS}
	port := "587"
	if u.Scheme == "smtps" {
		m.TLS, port = TLSImplicit, "465"
		if n.AllowPlaintext {
			return nil, fmt.Errorf("%w: allow_plaintext: not with smtps://", ErrInvalid)
		}
	} else if n.AllowPlaintext {
		m.TLS = TLSOptional
	}
	if u.Port() != "" {
		port = u.Port()
	}
	m.Server = net.JoinHostPort(u.Hostname(), port)
	if u.User != nil {
		if _, has := u.User.Password(); has {
			return nil, fmt.Errorf("%w: url: put the SMTP password in secret, not in the URL", ErrInvalid)
		}
		m.Username = u.User.Username()
	}
	switch {
	case m.Username != "" && n.Secret == "":
		return nil, fmt.Errorf("%w: secret: the SMTP password of %s", ErrInvalid, m.Username)
	case m.Username == "" && n.Secret != "":
		return nil, fmt.Errorf("%w: secret: an SMTP password needs a user (smtp://user@host)", ErrInvalid)
	case len(n.Secret) > 1024:
		return nil, fmt.Errorf("%w: secret: at most 1024 characters", ErrInvalid)
	}
	from, err := mail.ParseAddress(n.From)
	if err != nil {
		return nil, fmt.Errorf("%w: from: want an email address", ErrInvalid)
	}
	m.From = from.String()
	if len(n.To) == 0 || len(n.To) > 50 {
		return nil, fmt.Errorf("%w: to: 1 to 50 email addresses", ErrInvalid)
	}
	for _, to := range n.To {
		a, err := mail.ParseAddress(to)
		if err != nil {
			return nil, fmt.Errorf("%w: to: %q is not an email address", ErrInvalid, to)
		}
		m.To = append(m.To, a.Address)
	}
	return m, nil
}

func (s secrets) marshal() ([]byte, error) { return json.Marshal(s) }

func unmarshalSecrets(b []byte) (secrets, error) {
	var s secrets
	err := json.Unmarshal(b, &s)
	return s, err
}
