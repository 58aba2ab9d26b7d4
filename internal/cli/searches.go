package cli

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"strings"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/savedsearch"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// Saved searches (GET/POST/PUT/DELETE /api/v1/searches): the team's hunts
// kept to run again with tarian search --saved NAME.

func runSearches(ctx context.Context, args []string, env Env) error {
	if len(args) > 0 {
		switch args[0] {
		case "list":
			return searchesList(ctx, args[1:], env)
		case "save":
			return searchesSave(ctx, args[1:], env)
		case "update":
			return searchesUpdate(ctx, args[1:], env)
		case "delete":
			return searchesDelete(ctx, args[1:], env)
		}
	}
	return usageError(strings.TrimSuffix(commandUsage([]string{"searches"}), "\n"))
}

const spaceHelp = "the member whose searches (a member's people: their own; provider roles: their own space by default)"

// scheduleFlags are the flags that schedule a search.
type scheduleFlags struct {
	every, delay, level, tags *string
	threshold                 *int
}

func addScheduleFlags(fs *flag.FlagSet, update bool) scheduleFlags {
	everyHelp := "run it on its own this often (1m to 168h), raising an alert where it finds events"
	if update {
		everyHelp += "; 0 stops it"
	}
	return scheduleFlags{
		every:     fs.String("every", "", everyHelp),
		delay:     fs.String("delay", "", fmt.Sprintf("with --every: search up to this long before each run, for late events (default %s)", savedsearch.Duration(savedsearch.DefaultDelay))),
		threshold: fs.Int("threshold", 0, fmt.Sprintf("with --every: alert when at least this many events (result rows) match in a run (default %d)", savedsearch.DefaultThreshold)),
		level:     fs.String("level", "", "with --every: the alerts' level ("+alert.Levels+"; default "+savedsearch.DefaultLevel+")"),
		tags:      fs.String("tags", "", "with --every: the alerts' tags, comma-separated, as a Sigma rule's (attack.t1110.003,attack.credential-access)"),
	}
}

// apply sets the flags given on sc (nil: not scheduled) and returns the
// schedule to send (nil: none).
func (f scheduleFlags) apply(sc *savedsearch.Schedule, set map[string]bool) (*savedsearch.Schedule, error) {
	if set["every"] {
		every, err := savedsearch.ParseDuration(*f.every)
		if err != nil {
			return nil, usageError("--every: " + err.Error())
		}
		if every == 0 {
			if set["delay"] || set["threshold"] || set["level"] || set["tags"] {
				return nil, usageError("--every 0 stops the schedule: --delay, --threshold, --level and --tags go with a schedule")
			}
			return nil, nil
		}
		if sc == nil {
			sc = &savedsearch.Schedule{Delay: savedsearch.Duration(savedsearch.DefaultDelay)}
		}
		sc.Every = every
	}
	if sc == nil {
		if set["delay"] || set["threshold"] || set["level"] || set["tags"] {
			return nil, usageError("--delay, --threshold, --level and --tags go with --every (the search is not scheduled)")
		}
		return nil, nil
	}
	if set["delay"] {
		d, err := savedsearch.ParseDuration(*f.delay)
		if err != nil {
			return nil, usageError("--delay: " + err.Error())
		}
		sc.Delay = d
	}
	if set["threshold"] {
		sc.Threshold = *f.threshold
	}
	if set["level"] {
		sc.Level = *f.level
	}
	if set["tags"] {
		sc.Tags = nil
		for tag := range strings.SplitSeq(*f.tags, ",") {
			if tag = strings.TrimSpace(tag); tag != "" {
				sc.Tags = append(sc.Tags, tag)
			}
		}
	}
	return sc, nil
}

// flagsSet names the flags fs was given.
func flagsSet(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// scheduleText describes a search's schedule for a table: "every 15m,
// ≥1, high" or "-".
func scheduleText(sc *savedsearch.Schedule) string {
	if sc == nil {
		return "-"
	}
	return fmt.Sprintf("every %s, >=%d, %s", sc.Every, sc.Threshold, sc.Level)
}

// runText describes a scheduled search's last run for a table.
func runText(r *savedsearch.Run) string {
	switch {
	case r == nil:
		return "-"
	case r.Error != "":
		return r.At.UTC().Format("2006-01-02T15:04:05Z") + " failed: " + oneLine(r.Error)
	}
	return fmt.Sprintf("%s: %d found, %d alerted", r.At.UTC().Format("2006-01-02T15:04:05Z"), r.Found, r.Members)
}

// savedSearches lists the searches of the space ten names ("" the
// caller's own).
func savedSearches(ctx context.Context, c *client, ten string) ([]savedsearch.Search, error) {
	q := url.Values{}
	if ten != "" {
		q.Set("tenant", ten)
	}
	var out struct {
		Searches []savedsearch.Search `json:"searches"`
	}
	err := c.json(ctx, "GET", "/api/v1/searches?"+q.Encode(), nil, &out)
	return out.Searches, err
}

func searchesList(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("searches list", env)
	ten := fs.String("tenant", "", spaceHelp)
	asJSON := fs.Bool("json", false, "one JSON object per line")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	ss, err := savedSearches(ctx, c, *ten)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSONLines(env.Stdout, ss)
	}
	authors := make([]string, len(ss))
	for i, s := range ss {
		authors[i] = s.Author
	}
	names, err := actorNames(ctx, c, authors)
	if err != nil {
		return err
	}
	tw := table(env, len(ss), "no saved searches", "ID\tNAME\tQUERY\tSCHEDULE\tLAST RUN\tAUTHOR\tUPDATED")
	if tw == nil {
		return nil
	}
	for _, s := range ss {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, oneLine(s.Name), oneLine(s.Query), scheduleText(s.Schedule), runText(s.LastRun), names[s.Author], s.Updated.UTC().Format("2006-01-02T15:04:05Z"))
	}
	return tw.Flush()
}

// oneLine keeps a table row on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func searchesSave(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("searches save", env)
	ten := fs.String("tenant", "", spaceHelp)
	desc := fs.String("description", "", "what it looks for, for whoever runs it next")
	sf := addScheduleFlags(fs, false)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	schedule, err := sf.apply(nil, flagsSet(fs))
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usageError("searches save needs a name and the query (- reads it from stdin; a query starting with '-' goes after --)\n" + strings.TrimSuffix(flagsHelp(fs), "\n"))
	}
	query, err := textArg(pos[1:], env.Stdin, savedsearch.MaxQuery+1)
	if err != nil {
		return err
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var s savedsearch.Search
	body := savedsearch.Request{Tenant: *ten, Name: pos[0], Query: strings.TrimSpace(query), Description: *desc, Schedule: schedule}
	if err := c.json(ctx, "POST", "/api/v1/searches", body, &s); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "saved search %d %q in %s; run it with: tarian search --saved %q\n", s.ID, s.Name, spaceName(s.Space), s.Name)
	if s.Schedule != nil {
		all := ""
		if s.Space == savedsearch.Provider {
			all = "--tenant '*' "
		}
		fmt.Fprintf(env.Stdout, "it runs %s; its alerts: tarian alerts list %s--rule %s\n", scheduleRuns(s), all, savedsearch.RuleID(s.ID))
	}
	return nil
}

// scheduleRuns says in words when and how a scheduled search alerts.
func scheduleRuns(s savedsearch.Search) string {
	sc := s.Schedule
	where := "for its member"
	if s.Space == savedsearch.Provider {
		where = "for every member"
	}
	return fmt.Sprintf("every %s %s (events up to %s old), raising a %s alert at %d or more", sc.Every, where, sc.Delay, sc.Level, sc.Threshold)
}

// spaceName names a space for people.
func spaceName(t tenant.ID) string {
	if t == savedsearch.Provider {
		return "the provider's searches"
	}
	return string(t) + "'s searches"
}

func searchesUpdate(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("searches update", env)
	ten := fs.String("tenant", "", spaceHelp)
	name := fs.String("name", "", "a new name")
	query := fs.String("query", "", "a new query (- reads it from stdin)")
	desc := fs.String("description", "", "a new description")
	sf := addScheduleFlags(fs, true)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("searches update needs one search ID\n" + strings.TrimSuffix(flagsHelp(fs), "\n"))
	}
	set := flagsSet(fs)
	if len(set) == 0 || len(set) == 1 && set["tenant"] {
		return usageError("searches update: nothing to change (--name, --query, --description, --every, --delay, --threshold, --level, --tags)")
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	ss, err := savedSearches(ctx, c, *ten)
	if err != nil {
		return err
	}
	var cur *savedsearch.Search
	for i := range ss {
		if fmt.Sprint(ss[i].ID) == pos[0] {
			cur = &ss[i]
		}
	}
	if cur == nil {
		return fmt.Errorf("no saved search %s among these (tarian searches list shows them)", pos[0])
	}
	if set["name"] {
		cur.Name = *name
	}
	if set["query"] {
		q, err := textArg([]string{*query}, env.Stdin, savedsearch.MaxQuery+1)
		if err != nil {
			return err
		}
		cur.Query = strings.TrimSpace(q)
	}
	if set["description"] {
		cur.Description = *desc
	}
	schedule, err := sf.apply(cur.Schedule, set)
	if err != nil {
		return err
	}
	var s savedsearch.Search
	body := savedsearch.Request{Tenant: *ten, Name: cur.Name, Query: cur.Query, Description: cur.Description, Schedule: schedule}
	if err := c.json(ctx, "PUT", "/api/v1/searches/"+url.PathEscape(pos[0]), body, &s); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "saved search %d %q updated\n", s.ID, s.Name)
	switch {
	case s.Schedule != nil:
		fmt.Fprintf(env.Stdout, "it runs %s\n", scheduleRuns(s))
	case cur.Schedule != nil && schedule == nil:
		fmt.Fprintln(env.Stdout, "it no longer runs on its own")
	}
	return nil
}

func searchesDelete(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("searches delete", env)
	ten := fs.String("tenant", "", spaceHelp)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("searches delete needs one search ID\n" + strings.TrimSuffix(flagsHelp(fs), "\n"))
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	q := url.Values{}
	if *ten != "" {
		q.Set("tenant", *ten)
	}
	var s savedsearch.Search
	if err := c.json(ctx, "DELETE", "/api/v1/searches/"+url.PathEscape(pos[0])+"?"+q.Encode(), nil, &s); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "saved search %d %q deleted\n", s.ID, s.Name)
	return nil
}

// savedQuery finds the query of the saved search named name (any case):
// in the caller's own space, then, for a provider naming one member with
// ten, in that member's.
func savedQuery(ctx context.Context, c *client, name, ten string) (string, error) {
	spaces := []string{""}
	if ten != "" && ten != "*" {
		spaces = append(spaces, ten)
	}
	for _, sp := range spaces {
		ss, err := savedSearches(ctx, c, sp)
		if err != nil {
			return "", err
		}
		for _, s := range ss {
			if savedsearch.NameKey(s.Name) == savedsearch.NameKey(name) {
				return s.Query, nil
			}
		}
	}
	return "", fmt.Errorf("no saved search named %q (tarian searches list shows them)", name)
}
