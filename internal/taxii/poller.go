package taxii

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/intel/stix"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// FeedConfig is one remote collection to poll.
type FeedConfig struct {
	// Name identifies the feed (its checkpoint is kept under it) and is
	// the imported intel's source ("taxii:<name>").
	Name string `yaml:"name"`
	// URL is the API root; with Collection empty, the collection's URL.
	URL        string `yaml:"url"`
	Collection string `yaml:"collection"`
	// Username and Password (or PasswordFile) authenticate with HTTP
	// Basic; Token (or TokenFile) as a bearer token instead.
	Username     string `yaml:"username"`
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
	Token        string `yaml:"token"`
	TokenFile    string `yaml:"token_file"`
	// Interval between polls (default 1h).
	Interval time.Duration `yaml:"interval"`
	// Limit is the page size asked (0: the server's default).
	Limit int `yaml:"limit"`
	// TLP marks objects that carry no marking (default intel.default_tlp).
	TLP string `yaml:"tlp"`
	// Audience is the members the provider shares the feed with (empty:
	// all); ignored for a member's feed.
	Audience []string `yaml:"audience"`
	// Tenant is the member the feed belongs to ("": the provider).
	Tenant string `yaml:"tenant"`
}

// DefaultFeedInterval is a feed's Interval when it names none.
const DefaultFeedInterval = time.Hour

// CollectionURL is the feed's collection URL.
func (f FeedConfig) CollectionURL() string {
	if f.Collection == "" {
		return f.URL
	}
	return CollectionURL(f.URL, f.Collection)
}

// Validate reports the first problem with f.
func (f FeedConfig) Validate() error {
	if f.Name == "" {
		return errors.New("name: empty")
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("taxii feed %s: "+format, append([]any{f.Name}, a...)...)
	}
	u, err := url.Parse(f.URL)
	switch {
	case f.URL == "":
		return bad("url: empty (the API root, with collection, or the collection's URL)")
	case err != nil:
		return bad("url %q: %v", f.URL, err)
	case u.Scheme != "https" && u.Scheme != "http" || u.Host == "":
		return bad("url %q: want an http(s) URL", f.URL)
	case f.Password != "" && f.PasswordFile != "":
		return bad("password and password_file: give one")
	case f.Token != "" && f.TokenFile != "":
		return bad("token and token_file: give one")
	case (f.Token != "" || f.TokenFile != "") && (f.Username != "" || f.Password != "" || f.PasswordFile != ""):
		return bad("token and username/password: give one kind of credentials")
	case f.Interval < 0:
		return bad("interval %s: must not be negative", f.Interval)
	case f.Interval > 0 && f.Interval < time.Minute:
		return bad("interval %s: at least 1m, not to hammer the server", f.Interval)
	case f.Limit < 0:
		return bad("limit %d: must not be negative", f.Limit)
	}
	if f.TLP != "" {
		if _, err := intel.ParseTLP(f.TLP); err != nil {
			return bad("%v", err)
		}
	}
	if f.Tenant != "" {
		if _, err := tenant.Parse(f.Tenant); err != nil {
			return bad("tenant: %v", err)
		}
		if len(f.Audience) > 0 {
			return bad("audience: a member's feed is its own; audience is for the provider's")
		}
	}
	for _, a := range f.Audience {
		if _, err := tenant.Parse(a); err != nil {
			return bad("audience: %v", err)
		}
	}
	return nil
}

// validateFeeds reports the first bad feed, or two with one name.
func validateFeeds(feeds []FeedConfig) error {
	seen := map[string]bool{}
	for i, f := range feeds {
		if err := f.Validate(); err != nil {
			return fmt.Errorf("feeds[%d]: %w", i, err)
		}
		if seen[f.Name] {
			return fmt.Errorf("feeds[%d]: name %s: used twice", i, f.Name)
		}
		seen[f.Name] = true
	}
	return nil
}

// FeedState keeps where each feed's polling stopped, across restarts.
type FeedState interface {
	// TAXIIFeedCheckpoint returns "" for a feed never polled.
	TAXIIFeedCheckpoint(ctx context.Context, name string) (string, error)
	SetTAXIIFeedCheckpoint(ctx context.Context, name, checkpoint string) error
}

// PollerDeps are the poller's collaborators.
type PollerDeps struct {
	State    FeedState
	Importer Importer
	// Parse reads fetched objects (nil: stix.ParseObjects).
	Parse ParseFunc
	// HTTP is the client of every feed (nil: one with a 2-minute timeout).
	HTTP *http.Client
	// Now is the clock of imports (nil: time.Now).
	Now func() time.Time
	// DefaultTLP marks the objects of a feed that sets no tlp and that
	// carry no marking (intel.default_tlp; "": amber).
	DefaultTLP intel.TLP
	Log        *slog.Logger
}

// Poller polls the configured feeds, each on its own schedule, and hands
// what they bring to the Importer.
type Poller struct {
	feeds []FeedConfig
	d     PollerDeps
	mu    sync.Mutex // serialises polls of one feed (PollOnce beside Run)
}

// NewPoller checks the feeds (Config.Feeds) and returns their poller.
func NewPoller(feeds []FeedConfig, d PollerDeps) (*Poller, error) {
	if err := validateFeeds(feeds); err != nil {
		return nil, fmt.Errorf("taxii: %w", err)
	}
	if d.State == nil || d.Importer == nil {
		return nil, errors.New("taxii: poller needs State and Importer")
	}
	if d.Parse == nil {
		d.Parse = stix.ParseObjects
	}
	if d.HTTP == nil {
		d.HTTP = &http.Client{Timeout: 2 * time.Minute}
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Poller{feeds: feeds, d: d}, nil
}

// Run polls every feed at once, then each every Interval, until ctx is
// done, and returns nil then. A failed poll is logged (Warn) and tried
// again at the next interval.
func (p *Poller) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, f := range p.feeds {
		wg.Go(func() {
			every := f.Interval
			if every == 0 {
				every = DefaultFeedInterval
			}
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				if _, err := p.PollOnce(ctx, f.Name); err != nil && ctx.Err() == nil {
					p.d.Log.Warn("taxii feed poll failed", "feed", f.Name, "err", err)
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		})
	}
	wg.Wait()
	return nil
}

func readSecret(value, file string) (string, error) {
	if file == "" {
		return value, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// PollOnce polls feed name now: fetches what was added since its
// checkpoint, imports it, and moves the checkpoint past what was
// imported.
func (p *Poller) PollOnce(ctx context.Context, name string) (intel.Summary, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var f *FeedConfig
	for i := range p.feeds {
		if p.feeds[i].Name == name {
			f = &p.feeds[i]
		}
	}
	if f == nil {
		return intel.Summary{}, fmt.Errorf("no taxii feed %q", name)
	}
	pass, err := readSecret(f.Password, f.PasswordFile)
	if err != nil {
		return intel.Summary{}, fmt.Errorf("feed %s password: %w", name, err)
	}
	token, err := readSecret(f.Token, f.TokenFile)
	if err != nil {
		return intel.Summary{}, fmt.Errorf("feed %s token: %w", name, err)
	}
	cp, err := p.d.State.TAXIIFeedCheckpoint(ctx, name)
	if err != nil {
		return intel.Summary{}, fmt.Errorf("feed %s checkpoint: %w", name, err)
	}
	c := &Client{Collection: f.CollectionURL(), Username: f.Username, Password: pass, Token: token, Limit: f.Limit, Checkpoint: cp, HTTP: p.d.HTTP}
	objs, next, pollErr := c.Poll(ctx)
	var sum intel.Summary
	if len(objs) > 0 {
		opts := intel.ImportOptions{Owner: tenant.ID(f.Tenant), TLP: cmp.Or(p.d.DefaultTLP, intel.TLPAmber), Source: "taxii:" + name, Now: p.d.Now().UTC()}
		if f.TLP != "" {
			opts.TLP, _ = intel.ParseTLP(f.TLP) // Validate checked it
		}
		if f.Tenant == "" && len(f.Audience) > 0 {
			for _, a := range f.Audience {
				opts.Audience = append(opts.Audience, tenant.ID(a))
			}
		}
		b := p.d.Parse(objs, opts)
		for i := range b.Objects {
			b.Objects[i].Owner, b.Objects[i].Audience = opts.Owner, opts.Audience
		}
		for i := range b.Indicators {
			b.Indicators[i].Owner, b.Indicators[i].Audience = opts.Owner, opts.Audience
		}
		if sum, err = p.d.Importer.Import(ctx, b); err != nil {
			return sum, fmt.Errorf("feed %s import: %w", name, err)
		}
	}
	if next != cp {
		if err := p.d.State.SetTAXIIFeedCheckpoint(ctx, name, next); err != nil {
			return sum, fmt.Errorf("feed %s checkpoint: %w", name, err)
		}
	}
	if pollErr != nil {
		return sum, fmt.Errorf("feed %s: %w", name, pollErr)
	}
	p.d.Log.Info("taxii feed polled", "feed", name, "objects", len(objs), "imported", sum.Imported, "updated", sum.Updated, "skipped", len(sum.Skipped))
	return sum, nil
}
