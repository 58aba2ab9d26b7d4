package poll

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Stream names: what a source polls. They are also the declared record types
// after "poller/" in event.Raw.Source.
const (
	StreamSignIns = "entra-signin"
	StreamAudits  = "entra-audit"
	StreamM365    = "m365-audit"
)

// Streams lists every stream a source may poll, in polling order.
var Streams = []string{StreamSignIns, StreamAudits, StreamM365}

// ContentTypes are the Management Activity API content types.
var ContentTypes = []string{"Audit.AzureActiveDirectory", "Audit.Exchange", "Audit.SharePoint", "Audit.General", "DLP.All"}

// Sink is where polled records go (ingest.Sink fits).
type Sink interface {
	Write(ctx context.Context, t tenant.ID, recs []event.Raw) error
}

// Checkpoint is a stream's durable position.
type Checkpoint struct {
	// Time is, for Graph streams, the newest record time written; for the
	// Management API, the start of the current availability window.
	Time time.Time `json:"time"`
	// Seen are the record ids written at exactly Time (Graph), or the
	// content ids written in the current window (Management API).
	Seen []string `json:"seen,omitempty"`
}

// State keeps checkpoints and health per stream. stream is e.g.
// "entra-signin" or "m365-audit/Audit.Exchange".
type State interface {
	PollCheckpoint(ctx context.Context, t tenant.ID, source int64, stream string) (Checkpoint, error)
	SetPollCheckpoint(ctx context.Context, t tenant.ID, source int64, stream string, c Checkpoint) error
	// PollHealth returns the stored health of source's streams (none for
	// a stream whose health was never stored).
	PollHealth(ctx context.Context, t tenant.ID, source int64) ([]Health, error)
	// SetPollHealth stores the health of source's stream h.Stream,
	// leaving its checkpoint as it is; ErrNotFound if the source is gone.
	SetPollHealth(ctx context.Context, t tenant.ID, source int64, h Health) error
}

// StoredSource is a cloud source as the state store keeps it: the secret
// is sealed.
type StoredSource struct {
	ID     int64
	Tenant tenant.ID
	Name   string
	// DirectoryTenant is the Entra tenant (GUID or domain) the app lives in.
	DirectoryTenant string
	ClientID        string
	// SealedSecret is the client secret sealed by Box, bound to Tenant.
	SealedSecret []byte
	// Streams are the streams polled (empty: all).
	Streams []string
	Created time.Time
}

// Sources keeps cloud sources. Every method but AllCloudSources is tenant
// scoped; DeleteCloudSource returns ErrNotFound for another tenant's source.
type Sources interface {
	AddCloudSource(ctx context.Context, s StoredSource) (StoredSource, error)
	CloudSources(ctx context.Context, t tenant.ID) ([]StoredSource, error)
	AllCloudSources(ctx context.Context) ([]StoredSource, error)
	DeleteCloudSource(ctx context.Context, t tenant.ID, id int64) error
}

// Store is what the Service needs from the state store.
type Store interface {
	State
	Sources
}

// ErrNotFound is returned for a cloud source that does not exist (in that tenant).
var ErrNotFound = errors.New("cloud source not found")

// ErrInvalid wraps a refused cloud source definition.
var ErrInvalid = errors.New("invalid cloud source")

// Config tunes the pollers.
type Config struct {
	// LoginURL, GraphURL and ManageURL are the API bases (tests point them
	// at a local server; national clouds use their own hosts).
	LoginURL  string `yaml:"login_url"`
	GraphURL  string `yaml:"graph_url"`
	ManageURL string `yaml:"manage_url"`
	// Interval is the pause between two polls of a source.
	Interval time.Duration `yaml:"interval"`
	// Lookback is how far back a new stream starts (at most 7 days for the
	// Management API).
	Lookback time.Duration `yaml:"lookback"`
	// Delay keeps the newest Delay out of each poll, so records that reach
	// the API late are still read.
	Delay time.Duration `yaml:"delay"`
	// ContentTypes are the Management API content types polled.
	ContentTypes []string `yaml:"content_types"`
	// MaxAttempts bounds the tries of one request (429, 503, 5xx, network).
	MaxAttempts int `yaml:"max_attempts"`
	// MaxBackoff caps one wait between tries (and a Retry-After).
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// PageSize is Graph's $top.
	PageSize int `yaml:"page_size"`
}

// DefaultConfig returns Microsoft's public cloud and a 5-minute interval.
func DefaultConfig() Config {
	return Config{
		LoginURL:     "https://login.microsoftonline.com",
		GraphURL:     "https://graph.microsoft.com",
		ManageURL:    "https://manage.office.com",
		Interval:     5 * time.Minute,
		Lookback:     24 * time.Hour,
		Delay:        2 * time.Minute,
		ContentTypes: slices.Clone(ContentTypes),
		MaxAttempts:  6,
		MaxBackoff:   5 * time.Minute,
		PageSize:     500,
	}
}

// Validate reports the first bad setting.
func (c Config) Validate() error {
	for _, u := range []struct{ key, v string }{{"login_url", c.LoginURL}, {"graph_url", c.GraphURL}, {"manage_url", c.ManageURL}} {
		p, err := url.Parse(u.v)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return fmt.Errorf("%s: want an http(s) URL, got %q", u.key, u.v)
		}
	}
	switch {
	case c.Interval < time.Second:
		return errors.New("interval: must be at least 1s")
	case c.Lookback <= 0 || c.Lookback > 7*24*time.Hour:
		return errors.New("lookback: must be in (0, 168h]")
	case c.Delay < 0:
		return errors.New("delay: must not be negative")
	case c.MaxAttempts < 1:
		return errors.New("max_attempts: must be at least 1")
	case c.MaxBackoff < time.Second:
		return errors.New("max_backoff: must be at least 1s")
	case c.PageSize < 1 || c.PageSize > 1000:
		return errors.New("page_size: must be in 1..1000")
	}
	for _, ct := range c.ContentTypes {
		if !slices.Contains(ContentTypes, ct) {
			return fmt.Errorf("content_types: unknown %q (want one of %v)", ct, ContentTypes)
		}
	}
	return nil
}

// Clock is time as the pollers see it; tests use a fake one.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done (then it returns ctx.Err()).
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
