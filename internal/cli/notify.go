package cli

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

func runNotify(ctx context.Context, args []string, env Env) error {
	if len(args) > 0 {
		switch args[0] {
		case "add":
			return notifyAdd(ctx, args[1:], env)
		case "list":
			return notifyList(ctx, args[1:], env)
		case "remove":
			return notifyByID(ctx, "remove", args[1:], env)
		case "test":
			return notifyByID(ctx, "test", args[1:], env)
		case "deadletters":
			return notifyDeadLetters(ctx, args[1:], env)
		}
	}
	return usageError(strings.TrimSuffix(commandUsage([]string{"notify"}), "\n"))
}

// notifyChannel is a channel as the API returns it (never a secret).
type notifyChannel struct {
	ID     int64  `json:"id"`
	Tenant string `json:"tenant"`
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Target string `json:"target"`
	Route  struct {
		MinSeverity    string   `json:"min_severity"`
		Tags           []string `json:"tags"`
		Hours          []string `json:"hours"`
		Changes        []string `json:"changes"`
		UpdateInterval string   `json:"update_interval"`
	} `json:"route"`
	Sealed  []string  `json:"sealed"`
	Created time.Time `json:"created"`
}

// route says in a few words what a channel is sent.
func (c notifyChannel) route() string {
	r := c.Route
	var parts []string
	changes := "created"
	if len(r.Changes) > 0 {
		changes = strings.Join(r.Changes, ",")
	}
	parts = append(parts, changes)
	if r.MinSeverity != "" {
		parts = append(parts, r.MinSeverity+"+")
	}
	if len(r.Tags) > 0 {
		parts = append(parts, "tags "+strings.Join(r.Tags, ","))
	}
	if len(r.Hours) > 0 {
		parts = append(parts, "hours "+strings.Join(r.Hours, "; "))
	}
	return strings.Join(parts, " ")
}

func notifyAdd(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("notify add", env)
	ten := fs.String("tenant", "", "the member, or * for the provider's own channel (provider-admin; a tenant-admin's own by default)")
	kind := fs.String("kind", "", "webhook, email, teams or slack (required)")
	name := fs.String("name", "", "a label (the kind by default)")
	rawURL := fs.String("url", "", "webhook: the endpoint; teams, slack: the incoming-webhook URL; email: smtp://[user@]host[:port] (STARTTLS) or smtps://...; - reads it from stdin")
	secret := fs.String("secret", "", "webhook: the signing secret (16+ characters); email: the SMTP password; - reads it from stdin")
	from := fs.String("from", "", "email: the sender address")
	var to, tags, hours, on stringList
	fs.Var(&to, "to", "email: a recipient; repeat for several")
	allowPlain := fs.Bool("allow-plaintext", false, "email: go on without STARTTLS when the server does not offer it (a relay on a trusted network; never with a password)")
	minSev := fs.String("min-severity", "", "notify alerts of this level and above: informational, low, medium, high, critical")
	fs.Var(&tags, "tag", "notify only alerts with this tag (a trailing * matches a prefix); repeat for any of several")
	fs.Var(&hours, "hours", `notify only within "DAYS HH:MM-HH:MM ZONE", e.g. "mon-fri 18:00-08:00 Europe/London"; repeat for several windows`)
	fs.Var(&on, "on", "the alert changes to notify: created (default), updated, ack, assign, resolve, escalate, reopen; repeat or comma-separate")
	every := fs.String("update-every", "", "with --on updated: at most one update notice per alert per this duration (default 1h)")
	asJSON := fs.Bool("json", false, "the channel as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usageError(fmt.Sprintf("unexpected argument %q\n%s", pos[0], strings.TrimSuffix(flagsHelp(fs), "\n")))
	case *kind == "":
		return usageError("notify add needs --kind webhook|email|teams|slack")
	case *rawURL == "":
		return usageError("notify add needs --url")
	case *rawURL == "-" && *secret == "-":
		return usageError("only one of --url and --secret can be read from stdin")
	}
	for _, v := range []*string{rawURL, secret} {
		if *v == "-" {
			line, _ := bufio.NewReader(env.Stdin).ReadString('\n')
			if line = strings.TrimSpace(line); line == "" {
				return usageError("--url - or --secret - reads one line from stdin, and it was empty")
			}
			*v = line
		}
	}
	var changes []string
	for _, o := range on {
		for c := range strings.SplitSeq(o, ",") {
			if c = strings.TrimSpace(c); c != "" {
				changes = append(changes, c)
			}
		}
	}
	req := map[string]any{
		"name": *name, "kind": *kind, "url": *rawURL, "secret": *secret, "from": *from, "to": []string(to), "allow_plaintext": *allowPlain,
		"route": map[string]any{"min_severity": *minSev, "tags": []string(tags), "hours": []string(hours), "changes": changes, "update_interval": *every},
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var ch notifyChannel
	if err := c.json(ctx, "POST", "/api/v1/notifications/channels?"+tenantQuery(*ten).Encode(), req, &ch); err != nil {
		return err
	}
	if *asJSON {
		return writeJSONLines(env.Stdout, []notifyChannel{ch})
	}
	fmt.Fprintf(env.Stdout, "channel %d added for %s: %s %s (%s)\n", ch.ID, ch.Tenant, ch.Kind, ch.Target, ch.route())
	return nil
}

func tenantQuery(t string) url.Values {
	q := url.Values{}
	if t != "" {
		q.Set("tenant", t)
	}
	return q
}

func notifyList(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("notify list", env)
	ten := fs.String("tenant", "", "the member, or * for the provider's own channels (provider roles must name one)")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var out struct {
		Channels []notifyChannel `json:"channels"`
	}
	if err := c.json(ctx, "GET", "/api/v1/notifications/channels?"+tenantQuery(*ten).Encode(), nil, &out); err != nil {
		return err
	}
	if *asJSON {
		return writeJSONLines(env.Stdout, out.Channels)
	}
	tw := table(env, len(out.Channels), "no notification channels (tarian notify add makes one)", "ID\tTENANT\tNAME\tKIND\tTARGET\tROUTE\tCREATED")
	if tw == nil {
		return nil
	}
	for _, ch := range out.Channels {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", ch.ID, ch.Tenant, ch.Name, ch.Kind, ch.Target, ch.route(), ch.Created.Format(time.RFC3339))
	}
	return tw.Flush()
}

// notifyByID is remove and test, which name one channel.
func notifyByID(ctx context.Context, verb string, args []string, env Env) error {
	fs := newFlagSet("notify "+verb, env)
	ten := fs.String("tenant", "", "the channel's tenant (found from the ID when not given)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("notify " + verb + " needs one channel ID")
	}
	if id, err := strconv.ParseInt(pos[0], 10, 64); err != nil || id < 1 {
		return usageError(fmt.Sprintf("channel ID %q: want a number", pos[0]))
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	path := "/api/v1/notifications/channels/" + pos[0]
	q := tenantQuery(*ten).Encode()
	if verb == "remove" {
		resp, err := c.do(ctx, "DELETE", path+"?"+q, nil, "")
		if err != nil {
			return err
		}
		resp.Body.Close()
		fmt.Fprintf(env.Stdout, "channel %s removed\n", pos[0])
		return nil
	}
	var out struct {
		Tenant string `json:"tenant"`
	}
	if err := c.json(ctx, "POST", path+"/test?"+q, nil, &out); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "test message delivered to channel %s of %s\n", pos[0], out.Tenant)
	return nil
}

func notifyDeadLetters(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("notify deadletters", env)
	ten := fs.String("tenant", "", "the member, or * for the provider's own channels (provider roles must name one)")
	limit := fs.Int("limit", 100, "most to show, newest first (up to 1000)")
	asJSON := fs.Bool("json", false, "one JSON object per line, with the payload")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	q := tenantQuery(*ten)
	q.Set("limit", strconv.Itoa(*limit))
	var out struct {
		DeadLetters []struct {
			ID          int64     `json:"id"`
			Tenant      string    `json:"tenant"`
			Channel     int64     `json:"channel"`
			ChannelName string    `json:"channel_name"`
			Kind        string    `json:"kind"`
			AlertTenant string    `json:"alert_tenant"`
			AlertID     int64     `json:"alert_id"`
			Change      string    `json:"change"`
			Payload     string    `json:"payload"`
			LastError   string    `json:"last_error"`
			Attempts    int       `json:"attempts"`
			Time        time.Time `json:"time"`
		} `json:"dead_letters"`
	}
	if err := c.json(ctx, "GET", "/api/v1/notifications/deadletters?"+q.Encode(), nil, &out); err != nil {
		return err
	}
	if *asJSON {
		return writeJSONLines(env.Stdout, out.DeadLetters)
	}
	tw := table(env, len(out.DeadLetters), "no notifications given up on", "TIME\tCHANNEL\tKIND\tALERT\tCHANGE\tTRIES\tLAST ERROR")
	if tw == nil {
		return nil
	}
	for _, d := range out.DeadLetters {
		fmt.Fprintf(tw, "%s\t%d %s\t%s\t%s/%d\t%s\t%d\t%s\n", d.Time.Format(time.RFC3339), d.Channel, d.ChannelName, d.Kind, d.AlertTenant, d.AlertID, d.Change, d.Attempts, d.LastError)
	}
	return tw.Flush()
}
