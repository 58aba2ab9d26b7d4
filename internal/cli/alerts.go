package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
)

// alertsPage is the most alerts asked for in one request.
const alertsPage = 1000

func runAlerts(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 {
		return usageError(strings.TrimSuffix(commandUsage([]string{"alerts"}), "\n"))
	}
	switch args[0] {
	case "list":
		return alertsList(ctx, args[1:], env)
	case "show":
		return alertsShow(ctx, args[1:], env)
	case "incidents":
		return alertsIncidents(ctx, args[1:], env)
	case "ack", "assign", "resolve", "escalate", "reopen":
		return alertsAct(ctx, args[0], args[1:], env)
	case "comment":
		return alertsComment(ctx, args[1:], env)
	}
	return usageError(fmt.Sprintf("unknown alerts command %q\n%s", args[0], strings.TrimSuffix(commandUsage([]string{"alerts"}), "\n")))
}

func alertsList(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("alerts list", env)
	ten := fs.String("tenant", "", "tenant, or * for every tenant (provider roles)")
	status := fs.String("status", "", "only alerts in this state ("+alert.Statuses+")")
	severity := fs.String("severity", "", "only alerts of this level ("+alert.Levels+")")
	rule := fs.String("rule", "", "only alerts of this rule ID")
	assignee := fs.String("assignee", "", "only alerts assigned to this analyst")
	producer := fs.String("producer", "", "only alerts raised by ("+alert.Producers+")")
	incident := fs.String("incident", "", "only alerts of this incident")
	limit := fs.Int("limit", 100, "most alerts; 0 for all")
	sort := fs.String("sort", "newest", "order: newest, risk (riskiest first, then newest) or sla (the service-level deadline soonest first: to acknowledge while new, else to resolve)")
	cursor := fs.String("cursor", "", "start after the alerts already shown (the cursor a truncated listing names, with the same --sort)")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usageError(fmt.Sprintf("unexpected argument %q\n%s", pos[0], strings.TrimSuffix(flagsHelp(fs), "\n")))
	case *severity != "" && !alert.ValidLevel(*severity):
		return usageError(fmt.Sprintf("--severity %q: want one of %s", *severity, alert.Levels))
	case *status != "" && !alert.ValidStatus(alert.Status(*status)):
		return usageError(fmt.Sprintf("--status %q: want one of %s", *status, alert.Statuses))
	case *producer != "" && !alert.ValidProducer(alert.Producer(*producer)):
		return usageError(fmt.Sprintf("--producer %q: want one of %s", *producer, alert.Producers))
	case *limit < 0:
		return usageError("--limit: want 0 (all) or more")
	case *sort != "newest" && *sort != "risk" && *sort != "sla":
		return usageError(fmt.Sprintf("--sort %q: want newest, risk or sla", *sort))
	case *incident != "" && !isPositiveInt(*incident):
		return usageError(fmt.Sprintf("--incident %q: want an incident number", *incident))
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	q := url.Values{}
	for k, v := range map[string]string{"tenant": *ten, "status": *status, "severity": *severity, "rule": *rule, "assignee": *assignee, "producer": *producer, "incident": *incident, "sort": *sort} {
		if v != "" {
			q.Set(k, v)
		}
	}
	// Follow the pages until --limit alerts or the last page.
	var alerts []map[string]any
	next := *cursor
	for {
		page := alertsPage
		if *limit > 0 {
			page = min(page, *limit-len(alerts))
		}
		q.Set("limit", strconv.Itoa(page))
		if next != "" {
			q.Set("cursor", next)
		}
		var out struct {
			Alerts     []map[string]any `json:"alerts"`
			NextCursor string           `json:"next_cursor"`
		}
		if err := c.json(ctx, "GET", "/api/v1/alerts?"+q.Encode(), nil, &out); err != nil {
			return err
		}
		alerts = append(alerts, out.Alerts...)
		next = out.NextCursor
		if next == "" || *limit > 0 && len(alerts) >= *limit {
			break
		}
	}
	if *asJSON {
		err = writeJSONLines(env.Stdout, alerts)
	} else if tw := table(env, len(alerts), "no alerts match", "ID\tLAST SEEN\tTENANT\tLEVEL\tRISK\tSTATUS\tCOUNT\tHOST\tUSER\tRULE\tASSIGNEE\tSLA\tINCIDENT\tAUTHOR"); tw != nil {
		for _, a := range alerts {
			fmt.Fprintf(tw, "%v\t%s\t%v\t%v\t%v\t%v\t%v\t%s\t%s\t%v\t%s\t%s\t%v\t%v\n", a["id"], shortTime(a["last_seen"]), a["tenant"], a["level"],
				a["risk"], a["status"], a["count"], orDash(a["host"]), orDash(a["user"]), a["title"], orDash(a["assignee"]), slaText(a["sla"], a["status"]), a["incident"], a["author"])
		}
		err = tw.Flush()
	}
	if err != nil {
		return err
	}
	if next != "" {
		again := ""
		if *sort != "newest" {
			again = " --sort " + *sort
		}
		fmt.Fprintf(env.Stderr, "listed %s; more match: raise --limit (0 for all), or list the next ones with%s --cursor %s\n", plural(len(alerts), "alert"), again, next)
	}
	return nil
}

// alertsIncidents lists the queue one line per incident, riskiest first.
func alertsIncidents(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("alerts incidents", env)
	ten := fs.String("tenant", "", "tenant, or * for every tenant (provider roles)")
	status := fs.String("status", "", "only alerts in this state ("+alert.Statuses+")")
	severity := fs.String("severity", "", "only alerts of this level ("+alert.Levels+")")
	limit := fs.Int("limit", 100, "most incidents, riskiest first")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usageError(fmt.Sprintf("unexpected argument %q\n%s", pos[0], strings.TrimSuffix(flagsHelp(fs), "\n")))
	case *severity != "" && !alert.ValidLevel(*severity):
		return usageError(fmt.Sprintf("--severity %q: want one of %s", *severity, alert.Levels))
	case *status != "" && !alert.ValidStatus(alert.Status(*status)):
		return usageError(fmt.Sprintf("--status %q: want one of %s", *status, alert.Statuses))
	case *limit < 1:
		return usageError("--limit: want 1 or more")
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	q := url.Values{"limit": {strconv.Itoa(*limit)}}
	for k, v := range map[string]string{"tenant": *ten, "status": *status, "severity": *severity} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var out struct {
		Incidents []map[string]any `json:"incidents"`
	}
	if err := c.json(ctx, "GET", "/api/v1/incidents?"+q.Encode(), nil, &out); err != nil {
		return err
	}
	if *asJSON {
		return writeJSONLines(env.Stdout, out.Incidents)
	}
	tw := table(env, len(out.Incidents), "no incidents match", "INCIDENT\tTENANT\tRISK\tLEVEL\tALERTS\tOPEN\tEVENTS\tLAST SEEN\tENTITIES\tRULES")
	if tw == nil {
		return nil
	}
	for _, in := range out.Incidents {
		es, _ := in["entities"].([]any)
		ents := incidentEntities(es)
		titles, _ := in["titles"].([]any)
		rules := "-"
		if len(titles) > 0 {
			rules = fmt.Sprint(titles[0])
			if len(titles) > 1 {
				rules += fmt.Sprintf(" (+%d more)", len(titles)-1)
			}
		}
		fmt.Fprintf(tw, "%v\t%v\t%v\t%v\t%v\t%v\t%v\t%s\t%s\t%s\n", in["id"], in["tenant"], in["risk"], in["level"], in["alerts"], in["open"], in["events"],
			shortTime(in["last_seen"]), orDash(strings.Join(ents, ",")), rules)
	}
	return tw.Flush()
}

// incidentEntities are the values an incident's line names: its hosts and
// users, or, when it has neither (password spraying from one address, a
// phishing sender), its other entities.
func incidentEntities(es []any) []string {
	var hostsUsers, others []string
	for _, e := range es {
		m, _ := e.(map[string]any)
		v := fmt.Sprint(m["value"])
		if m["type"] == alert.EntityHost || m["type"] == alert.EntityUser {
			hostsUsers = append(hostsUsers, v)
		} else {
			others = append(others, v)
		}
	}
	if len(hostsUsers) > 0 {
		return hostsUsers
	}
	return others
}

// slaText sums up an alert's service-level standing: "breached" when a
// deadline passed, else the time left to acknowledge or resolve.
func slaText(v, status any) string {
	m, _ := v.(map[string]any)
	if m == nil {
		return "-"
	}
	if m["acknowledge_breached"] == true || m["resolve_breached"] == true {
		return "breached"
	}
	key := "resolve_by"
	switch status {
	case string(alert.StatusResolved), string(alert.StatusEscalated):
		return "met"
	case string(alert.StatusNew):
		key = "acknowledge_by"
	}
	s, _ := m[key].(string)
	by, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return "-"
	}
	verb := "resolve"
	if key == "acknowledge_by" {
		verb = "ack"
	}
	return verb + " in " + time.Until(by).Round(time.Minute).String()
}

func alertsShow(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("alerts show", env)
	asJSON := fs.Bool("json", false, "the alert as one JSON object")
	withEvents := fs.Bool("events", false, fmt.Sprintf("also the events that fired it, whole (the first %d of its evidence; with --json, in \"events\")", shownEvents))
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("alerts show needs one alert ID\n" + strings.TrimSuffix(flagsHelp(fs), "\n"))
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var a map[string]any
	if err := c.json(ctx, "GET", "/api/v1/alerts/"+url.PathEscape(pos[0]), nil, &a); err != nil {
		return alertErr(pos[0], err)
	}
	var events []map[string]string
	if *withEvents {
		if events, err = alertEvents(ctx, c, a); err != nil {
			return fmt.Errorf("alert %s's events: %w", pos[0], err)
		}
	}
	if *asJSON {
		if *withEvents {
			a["events"] = events
		}
		return writeJSONLines(env.Stdout, []map[string]any{a})
	}
	if err := printAlert(env.Stdout, a); err != nil {
		return err
	}
	if err := printHistory(ctx, c, env.Stdout, a); err != nil {
		return fmt.Errorf("alert %s's history: %w", pos[0], err)
	}
	if !*withEvents {
		if len(evidenceRefs(a)) > 0 {
			fmt.Fprintf(env.Stdout, "(its events, whole: tarian alerts show %v --events)\n", a["id"])
		}
		return nil
	}
	of := len(evidenceRefs(a))
	if n, ok := a["count"].(float64); ok && int(n) > of {
		of = int(n)
	}
	return printEvents(env.Stdout, events, of)
}

// shownEvents is how many of an alert's events alerts show --events reads.
const shownEvents = 10

// evidenceRefs are the references (SEQ:IDX) of an alert's events.
func evidenceRefs(a map[string]any) []string {
	var refs []string
	if ev, _ := a["evidence"].([]any); len(ev) > 0 {
		for _, r := range ev {
			if s, ok := r.(string); ok {
				refs = append(refs, s)
			}
		}
	} else if r, _ := a["event_ref"].(string); r != "" {
		refs = []string{r}
	}
	return refs
}

// alertEvents searches the alert's tenant for the first shownEvents of its
// events by their references, in the days around the alert's times.
func alertEvents(ctx context.Context, c *client, a map[string]any) ([]map[string]string, error) {
	refs := evidenceRefs(a)
	if len(refs) > shownEvents {
		refs = refs[:shownEvents]
	}
	if len(refs) == 0 {
		return nil, nil
	}
	var terms []string
	for _, r := range refs {
		seq, idx, ok := strings.Cut(r, ":")
		if !ok {
			return nil, fmt.Errorf("event reference %q: want SEQ:IDX", r)
		}
		terms = append(terms, fmt.Sprintf("(tarian.seq:=%s tarian.idx:=%s)", strconv.Quote(seq), strconv.Quote(idx)))
	}
	from, to := time.Now(), time.Now()
	for _, k := range []string{"event_time", "first_seen", "last_seen", "created"} {
		s, _ := a[k].(string)
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil && t.Year() > 1 {
			from, to = minTime(from, t), maxTime(to, t)
		}
	}
	q := url.Values{"q": {strings.Join(terms, " or ")}, "tenant": {fmt.Sprint(a["tenant"])},
		"from": {from.Add(-24 * time.Hour).UTC().Format(time.RFC3339)}, "to": {to.Add(time.Hour).UTC().Format(time.RFC3339)},
		"limit": {strconv.Itoa(shownEvents)}}
	resp, err := c.do(ctx, "GET", "/api/v1/search?"+q.Encode(), nil, "")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out []map[string]string
	dec := json.NewDecoder(resp.Body)
	for dec.More() {
		var row map[string]string
		if err := dec.Decode(&row); err != nil {
			return nil, fmt.Errorf("bad result line: %w", err)
		}
		if _, ok := row["tenant"]; !ok && row["error"] != "" {
			return nil, fmt.Errorf("%s: %s", row["error"], row["message"])
		}
		out = append(out, row)
	}
	return out, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// printEvents writes each event whole, its fields sorted, after the alert;
// of says how many events the alert has.
func printEvents(w io.Writer, events []map[string]string, of int) error {
	for _, ev := range events {
		fmt.Fprintf(w, "\nevent %s:%s\n", ev["tarian.seq"], ev["tarian.idx"])
		keys := make([]string, 0, len(ev))
		for k := range ev {
			if k != "tenant" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, k := range keys {
			fmt.Fprintf(tw, "  %s:\t%s\n", k, ev[k])
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	switch {
	case len(events) == 0 && of > 0:
		fmt.Fprintln(w, "\nits events were not found: past the tenant's retention, or not yet searchable")
	case of > len(events):
		fmt.Fprintf(w, "\n%d of its %d events shown\n", len(events), of)
	}
	return nil
}

// printAlert writes one alert for people to read.
func printAlert(w io.Writer, a map[string]any) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	line := func(k string, v any) {
		if s := fmt.Sprint(v); v != nil && s != "" && s != "[]" && s != "map[]" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, s)
		}
	}
	line("alert", a["id"])
	line("tenant", a["tenant"])
	line("title", a["title"])
	line("rule", a["rule_id"])
	line("producer", a["producer"])
	line("author", a["author"])
	line("level", a["level"])
	line("risk", a["risk"])
	line("status", a["status"])
	line("resolution", a["resolution"])
	line("note", a["note"])
	line("assignee", a["assignee"])
	if n, ok := a["count"].(float64); ok && len(evidenceRefs(a)) > int(n) {
		// A correlation's matches stand for more events than they count.
		line("count", fmt.Sprintf("%v (a correlation of %d events)", a["count"], len(evidenceRefs(a))))
	} else {
		line("count", a["count"])
	}
	line("incident", a["incident"])
	if n, _ := a["also_seen"].(float64); n > 0 {
		line("also seen", fmt.Sprintf("at %v other members (one of its external observables)", n))
	}
	line("event time", shortTime(a["event_time"]))
	line("first seen", shortTime(a["first_seen"]))
	line("last seen", shortTime(a["last_seen"]))
	line("created", shortTime(a["created"]))
	line("sla", slaText(a["sla"], a["status"]))
	if es, _ := a["entities"].([]any); len(es) > 0 {
		var parts []string
		for _, e := range es {
			m, _ := e.(map[string]any)
			parts = append(parts, fmt.Sprintf("%v=%v", m["type"], m["value"]))
		}
		line("entities", strings.Join(parts, " "))
	}
	line("tags", join(a["tags"]))
	line("references", join(a["references"]))
	if fs, _ := a["fields"].(map[string]any); len(fs) > 0 {
		keys := make([]string, 0, len(fs))
		for k := range fs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			line("  "+k, fs[k])
		}
	}
	line("evidence", join(a["evidence"]))
	return tw.Flush()
}

// printHistory prints who changed alert a and how, oldest first, each
// actor by its token's name where the server names it (GET
// /api/v1/actors), else by its ID.
func printHistory(ctx context.Context, c *client, w io.Writer, a map[string]any) error {
	raw, err := json.Marshal(a["history"])
	if err != nil {
		return err
	}
	var steps []alert.Step
	if err := json.Unmarshal(raw, &steps); err != nil || len(steps) == 0 {
		return err
	}
	actors := make([]string, len(steps))
	for i, st := range steps {
		actors[i] = st.Actor
	}
	names, err := actorNames(ctx, c, actors)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "history:")
	for _, st := range steps {
		what := st.Verb
		switch st.Verb {
		case alert.VerbAck:
			what = "acknowledged"
		case alert.VerbAssign:
			what = "assigned to " + st.Assignee
		case alert.VerbResolve:
			what = "resolved as " + string(st.Resolution)
			if st.Note != "" {
				what += ": " + strings.ReplaceAll(st.Note, "\n", " ")
			}
		case alert.VerbEscalate:
			what = "escalated"
		case alert.VerbReopen:
			what = "reopened"
		case alert.VerbComment:
			what = "comment: " + strings.ReplaceAll(st.Note, "\n", " ")
		}
		fmt.Fprintf(tw, "  %s\t%s\tby %s\n", caseWhen(st.Time), what, names[st.Actor])
	}
	return tw.Flush()
}

// actorNames maps each actor (as the API stores it) to what to call it:
// a person (user:NAME) by name, a token by its name and ID, or by its ID
// when it has no name or the caller may not know it.
func actorNames(ctx context.Context, c *client, actors []string) (map[string]string, error) {
	names := map[string]string{}
	q := url.Values{}
	for _, actor := range actors {
		if _, seen := names[actor]; seen {
			continue
		}
		names[actor] = orDash(actor)
		if name, ok := strings.CutPrefix(actor, "user:"); ok {
			names[actor] = name
		} else if actor != "" && len(q["id"]) < 100 {
			q.Add("id", actor)
		}
	}
	if len(q) == 0 {
		return names, nil
	}
	var out struct {
		Actors []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"actors"`
	}
	if err := c.json(ctx, "GET", "/api/v1/actors?"+q.Encode(), nil, &out); err != nil {
		return nil, err
	}
	for _, a := range out.Actors {
		if a.Name != "" {
			names[a.ID] = a.Name + " (" + a.ID + ")"
		}
	}
	return names, nil
}

func join(v any) string {
	xs, _ := v.([]any)
	var parts []string
	for _, x := range xs {
		parts = append(parts, fmt.Sprint(x))
	}
	return strings.Join(parts, " ")
}

// alertsAct applies one action to each alert named; it goes on past an
// alert it may not change and fails at the end naming each refusal.
func alertsAct(ctx context.Context, verb string, args []string, env Env) error {
	fs := newFlagSet("alerts "+verb, env)
	body := map[string]any{}
	var to, as, note *string
	var noShare *bool
	switch verb {
	case "assign":
		to = fs.String("to", "", "the analyst to assign (required)")
	case "resolve":
		as = fs.String("as", "", "the classification: "+alert.Resolutions+" (required)")
		note = fs.String("note", "", "why, for the record")
		noShare = fs.Bool("no-share", false, "a provider's true positive: do not share its external observables with the other members")
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
		return usageError("alerts " + verb + " needs at least one alert ID\n" + strings.TrimSuffix(flagsHelp(fs), "\n"))
	case to != nil && strings.TrimSpace(*to) == "":
		return usageError("alerts assign needs --to USER")
	case as != nil && *as == "":
		return usageError("alerts resolve needs --as " + strings.ReplaceAll(alert.Resolutions, ", ", "|"))
	case as != nil && !alert.ValidResolution(alert.Resolution(*as)):
		return usageError(fmt.Sprintf("--as %q: want one of %s", *as, alert.Resolutions))
	}
	if to != nil {
		body["to"] = *to
	}
	if as != nil {
		body["as"], body["note"], body["no_share"] = *as, *note, *noShare
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range pos {
		var a map[string]any
		if err := c.json(ctx, "POST", "/api/v1/alerts/"+url.PathEscape(id)+"/"+verb, body, &a); err != nil {
			errs = append(errs, alertErr(id, err))
			continue
		}
		fmt.Fprintf(env.Stdout, "alert %v: %v", a["id"], a["status"])
		if s, _ := a["assignee"].(string); s != "" {
			fmt.Fprintf(env.Stdout, ", assigned to %s", s)
		}
		if s, _ := a["resolution"].(string); s != "" {
			fmt.Fprintf(env.Stdout, " as %s", s)
		}
		fmt.Fprintln(env.Stdout)
		printShared(env, a)
		if ids := join(a["withdrawn"]); ids != "" {
			fmt.Fprintf(env.Stdout, "  withdrawn from every member (revoked): %s\n", ids)
		}
	}
	return errors.Join(errs...)
}

// alertsComment adds a comment to an alert's history: TEXT, or stdin
// for "-".
func alertsComment(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("alerts comment", env)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usageError("alerts comment needs an alert ID and the text (- reads it from stdin)\n" + strings.TrimSuffix(flagsHelp(fs), "\n"))
	}
	text, err := textArg(pos[1:], env.Stdin, alert.MaxComment+1)
	if err != nil {
		return err
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var a map[string]any
	if err := c.json(ctx, "POST", "/api/v1/alerts/"+url.PathEscape(pos[0])+"/comment", map[string]string{"note": text}, &a); err != nil {
		return alertErr(pos[0], err)
	}
	fmt.Fprintf(env.Stdout, "alert %v: comment added (%v)\n", a["id"], a["status"])
	return nil
}

// printShared says what a provider's true positive (an alert's, or a
// case's alerts') shared with every member, from the answer's "shared".
func printShared(env Env, answer map[string]any) {
	sh, ok := answer["shared"].(map[string]any)
	if !ok {
		return
	}
	is := asMaps(sh["indicators"])
	for _, i := range is {
		fmt.Fprintf(env.Stdout, "  shared with every member: %s (%v)\n", observables(i), i["id"])
	}
	n, _ := sh["withheld"].(float64)
	if n > 0 {
		fmt.Fprintf(env.Stdout, "  kept back by the sharing policy: %v internal entities (hosts, users, internal names and addresses)\n", n)
	}
	if len(is) == 0 && n == 0 {
		fmt.Fprintln(env.Stdout, "  nothing to share: no external observable")
	}
}

// isPositiveInt reports whether s is a number from 1 up.
func isPositiveInt(s string) bool {
	n, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n > 0
}

// alertErr names the alert an API error is about.
func alertErr(id string, err error) error {
	var ae *apiError
	if errors.As(err, &ae) {
		// The server's message may name the alert already ("alert 9: not found").
		return fmt.Errorf("alert %s: %s", id, strings.TrimPrefix(ae.Message, "alert "+id+": "))
	}
	return fmt.Errorf("alert %s: %w", id, err)
}

// shortTime shows an API time to the second.
func shortTime(v any) string {
	s, _ := v.(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.Format(time.RFC3339)
}

func orDash(v any) string {
	if s, _ := v.(string); s != "" {
		return s
	}
	return "-"
}

// plural is "1 alert", "2 alerts", "2 matches".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	for _, end := range []string{"ch", "sh", "s", "x"} {
		if strings.HasSuffix(noun, end) {
			return strconv.Itoa(n) + " " + noun + "es"
		}
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
