package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/incident"
)

// casesPage is the most cases asked for in one request.
const casesPage = 1000

func runCases(ctx context.Context, args []string, env Env) error {
	if len(args) > 0 {
		switch args[0] {
		case "create":
			return casesCreate(ctx, args[1:], env)
		case "templates":
			return casesTemplates(ctx, args[1:], env)
		case "list":
			return casesList(ctx, args[1:], env)
		case "show":
			return casesShow(ctx, args[1:], env)
		case "comment":
			return casesComment(ctx, args[1:], env)
		case "escalate", "acknowledge", "reopen", "assign", "close":
			return casesAct(ctx, args[0], args[1:], env)
		case "export":
			return casesExport(ctx, args[1:], env)
		case "update":
			return casesUpdate(ctx, args[1:], env)
		case "task":
			return casesTask(ctx, args[1:], env)
		case "observable":
			return casesObservable(ctx, args[1:], env)
		case "link":
			return casesLink(ctx, args[1:], env)
		case "event":
			return casesEvent(ctx, args[1:], env)
		case "evidence":
			return casesEvidence(ctx, args[1:], env)
		}
		return usageError(fmt.Sprintf("unknown cases command %q\n%s", args[0], strings.TrimSuffix(commandUsage([]string{"cases"}), "\n")))
	}
	return usageError(strings.TrimSuffix(commandUsage([]string{"cases"}), "\n"))
}

// caseID checks a case ID argument.
func caseID(fs *flag.FlagSet, s string) (string, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err != nil || n < 1 {
		return "", usageError(fmt.Sprintf("%s: %q is not a case ID (a number)", fs.Name(), s))
	}
	return s, nil
}

// casePath is the API path of case id, and of a part of it.
func casePath(id string, parts ...string) string {
	return "/api/v1/cases/" + url.PathEscape(id) + strings.Join(parts, "")
}

func casesCreate(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("cases create", env)
	ten := fs.String("tenant", "", "the member the case is about (provider roles must name it)")
	title := fs.String("title", "", "what the case is about (required)")
	var from stringList
	fs.Var(&from, "from-alert", "an alert ID of the same member to open it from; repeat for several")
	desc := fs.String("description", "", "more about it")
	sev := fs.String("severity", "", "its level ("+alert.Levels+"); medium by default")
	tlp := fs.String("tlp", "", "its TLP label ("+incident.TLPs+"); AMBER by default")
	assignee := fs.String("assignee", "", "who works it (starts it in progress)")
	template := fs.String("template", "", "start it with this template's tasks (tarian cases templates)")
	asJSON := fs.Bool("json", false, "the case as one JSON object")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usageError(fmt.Sprintf("unexpected argument %q\n%s", pos[0], strings.TrimSuffix(flagsHelp(fs), "\n")))
	case strings.TrimSpace(*title) == "":
		return usageError("cases create needs --title TEXT")
	case *sev != "" && !alert.ValidLevel(*sev):
		return usageError(fmt.Sprintf("--severity %q: want one of %s", *sev, alert.Levels))
	}
	if _, err := incident.ParseTLP(*tlp); err != nil {
		return usageError(fmt.Sprintf("--tlp %q: want one of %s", *tlp, incident.TLPs))
	}
	ids := []int64{}
	for _, s := range from {
		for _, part := range strings.Split(s, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
			if err != nil || n < 1 {
				return usageError(fmt.Sprintf("--from-alert %q: want an alert ID (a number)", part))
			}
			ids = append(ids, n)
		}
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	req := map[string]any{"tenant": *ten, "title": *title, "description": *desc, "severity": *sev, "tlp": *tlp, "assignee": *assignee, "from_alerts": ids, "template": *template}
	var raw json.RawMessage
	if err := c.json(ctx, "POST", "/api/v1/cases", req, &raw); err != nil {
		return err
	}
	if *asJSON {
		return writeRaw(env.Stdout, raw)
	}
	var cs incident.Case
	if err := json.Unmarshal(raw, &cs); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "case %d opened for %s: %s (%s, TLP:%s", cs.ID, cs.Tenant, cs.Title, cs.Status, cs.TLP)
	if len(cs.Alerts) > 0 {
		fmt.Fprintf(env.Stdout, ", %s, %s", plural(len(cs.Alerts), "alert"), plural(len(cs.Observables), "observable"))
	}
	if len(cs.Tasks) > 0 {
		fmt.Fprintf(env.Stdout, ", %s", plural(len(cs.Tasks), "task"))
	}
	fmt.Fprintln(env.Stdout, ")")
	return nil
}

// casesTemplates lists the case templates and their tasks.
func casesTemplates(ctx context.Context, args []string, env Env) error {
	templates, printed, err := listCommand[incident.Template](ctx, newFlagSet("cases templates", env), args, env, "/api/v1/cases/templates", "templates")
	if err != nil || printed {
		return err
	}
	for i, tm := range templates {
		if i > 0 {
			fmt.Fprintln(env.Stdout)
		}
		fmt.Fprintf(env.Stdout, "%s (%s)\n", tm.Name, plural(len(tm.Tasks), "task"))
		for j, task := range tm.Tasks {
			fmt.Fprintf(env.Stdout, "  %d. %s\n", j+1, task)
		}
	}
	return nil
}

// writeRaw writes one JSON answer as one line.
func writeRaw(w io.Writer, raw json.RawMessage) error {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	return writeJSONLines(w, []any{v})
}

func casesList(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("cases list", env)
	ten := fs.String("tenant", "", "tenant, or * for every tenant (provider roles)")
	status := fs.String("status", "", "only cases in this state ("+incident.Statuses+")")
	escalated := fs.Bool("escalated", false, "only cases escalated to their member")
	limit := fs.Int("limit", 100, "most cases, newest first; 0 for all")
	cursor := fs.String("cursor", "", "start after the cases already shown (the cursor a truncated listing names)")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usageError(fmt.Sprintf("unexpected argument %q\n%s", pos[0], strings.TrimSuffix(flagsHelp(fs), "\n")))
	case *status != "" && !incident.ValidStatus(incident.Status(*status)):
		return usageError(fmt.Sprintf("--status %q: want one of %s", *status, incident.Statuses))
	case *limit < 0:
		return usageError("--limit: want 0 (all) or more")
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	q := url.Values{}
	if *ten != "" {
		q.Set("tenant", *ten)
	}
	if *status != "" {
		q.Set("status", *status)
	}
	if *escalated {
		q.Set("escalated", "true")
	}
	var cases []json.RawMessage
	next := *cursor
	for {
		page := casesPage
		if *limit > 0 {
			page = min(page, *limit-len(cases))
		}
		q.Set("limit", strconv.Itoa(page))
		if next != "" {
			q.Set("cursor", next)
		}
		var out struct {
			Cases      []json.RawMessage `json:"cases"`
			NextCursor string            `json:"next_cursor"`
		}
		if err := c.json(ctx, "GET", "/api/v1/cases?"+q.Encode(), nil, &out); err != nil {
			return err
		}
		cases = append(cases, out.Cases...)
		next = out.NextCursor
		if next == "" || *limit > 0 && len(cases) >= *limit {
			break
		}
	}
	if *asJSON {
		for _, raw := range cases {
			if err := writeRaw(env.Stdout, raw); err != nil {
				return err
			}
		}
	} else if tw := table(env, len(cases), "no cases match", "ID\tUPDATED\tTENANT\tSEVERITY\tTLP\tSTATUS\tESCALATED\tASSIGNEE\tTITLE"); tw != nil {
		for _, raw := range cases {
			var cs incident.Case
			if err := json.Unmarshal(raw, &cs); err != nil {
				return err
			}
			esc := "-"
			if !cs.Escalated.IsZero() {
				esc = "yes"
				if !cs.AcknowledgedByMember.IsZero() {
					esc = "acknowledged"
				}
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cs.ID, caseWhen(cs.Updated), cs.Tenant, cs.Severity, cs.TLP, cs.Status, esc, orDash(cs.Assignee), cs.Title)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if next != "" {
		fmt.Fprintf(env.Stderr, "listed %s; more match: raise --limit (0 for all), or list the next ones with --cursor %s\n", plural(len(cases), "case"), next)
	}
	return nil
}

// caseWhen shows a time to the second, "-" for none.
func caseWhen(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func casesShow(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("cases show", env)
	asJSON := fs.Bool("json", false, "the case as one JSON object")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("cases show needs one case ID\n" + strings.TrimSuffix(flagsHelp(fs), "\n"))
	}
	id, err := caseID(fs, pos[0])
	if err != nil {
		return err
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if err := c.json(ctx, "GET", casePath(id), nil, &raw); err != nil {
		return err
	}
	if *asJSON {
		return writeRaw(env.Stdout, raw)
	}
	var cs incident.Case
	if err := json.Unmarshal(raw, &cs); err != nil {
		return err
	}
	return printCase(env.Stdout, cs)
}

// printCase writes one case for people to read.
func printCase(w io.Writer, c incident.Case) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	line("case", strconv.FormatInt(c.ID, 10))
	line("tenant", string(c.Tenant))
	line("title", c.Title)
	line("status", string(c.Status))
	line("severity", c.Severity)
	line("tlp", string(c.TLP))
	line("assignee", c.Assignee)
	line("opened", caseWhen(c.Created)+" by "+c.Author)
	line("updated", caseWhen(c.Updated))
	if !c.Escalated.IsZero() {
		line("escalated", caseWhen(c.Escalated))
		ack := "not yet"
		if !c.AcknowledgedByMember.IsZero() {
			ack = caseWhen(c.AcknowledgedByMember) + " by " + c.AcknowledgedBy
		}
		line("acknowledged", ack)
	}
	if !c.Closed.IsZero() {
		line("closed", caseWhen(c.Closed)+" as "+string(c.Classification))
		line("summary", c.Summary)
	}
	line("description", c.Description)
	var alerts []string
	for _, a := range c.Alerts {
		alerts = append(alerts, strconv.FormatInt(a, 10))
	}
	line("alerts", strings.Join(alerts, " "))
	if err := tw.Flush(); err != nil {
		return err
	}
	section := func(title string, n int, rows func(tw *tabwriter.Writer)) error {
		if n == 0 {
			return nil
		}
		fmt.Fprintf(w, "\n%s (%d):\n", title, n)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		rows(tw)
		return tw.Flush()
	}
	err := section("observables", len(c.Observables), func(tw *tabwriter.Writer) {
		for _, o := range c.Observables {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", o.Type, o.Value, o.Source)
		}
	})
	if err != nil {
		return err
	}
	err = section("tasks", len(c.Tasks), func(tw *tabwriter.Writer) {
		for _, t := range c.Tasks {
			box := "[ ]"
			if t.Done {
				box = "[x]"
			}
			fmt.Fprintf(tw, "  %s\t%d\t%s\n", box, t.ID, t.Title)
		}
	})
	if err != nil {
		return err
	}
	err = section("evidence", len(c.Evidence), func(tw *tabwriter.Writer) {
		for _, e := range c.Evidence {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", e.SHA256, plural(int(e.Size), "byte"), e.Name)
		}
	})
	if err != nil {
		return err
	}
	return section("timeline", len(c.Timeline), func(tw *tabwriter.Writer) {
		for _, e := range c.Timeline {
			by := orDash(e.Author)
			if e.Role != "" && e.Author != "" {
				by += " (" + e.Role + ")"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", caseWhen(e.Time), e.Kind, by, strings.ReplaceAll(e.Text, "\n", " "))
		}
	})
}

// caseChanged reports a change of case id on stdout: "case 5: <what>".
func caseChanged(env Env, raw json.RawMessage, what func(c incident.Case) string) error {
	var cs incident.Case
	if err := json.Unmarshal(raw, &cs); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "case %d: %s\n", cs.ID, what(cs))
	return nil
}

// textArg is a comment's text: its words joined, or for "-" stdin (at
// most limit bytes).
func textArg(words []string, stdin io.Reader, limit int64) (string, error) {
	text := strings.Join(words, " ")
	if text != "-" {
		return text, nil
	}
	b, err := io.ReadAll(io.LimitReader(stdin, limit))
	if err != nil {
		return "", fmt.Errorf("read stdin: %w", err)
	}
	return string(b), nil
}

func casesComment(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("cases comment", env)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usageError("cases comment needs a case ID and the text (- reads it from stdin)\n" + strings.TrimSuffix(flagsHelp(fs), "\n"))
	}
	id, err := caseID(fs, pos[0])
	if err != nil {
		return err
	}
	text, err := textArg(pos[1:], env.Stdin, 1<<20)
	if err != nil {
		return err
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if err := c.json(ctx, "POST", casePath(id, "/comments"), map[string]string{"text": text}, &raw); err != nil {
		return err
	}
	return caseChanged(env, raw, func(incident.Case) string { return "comment added" })
}

// casesAct applies escalate, acknowledge, reopen, assign --to or close
// --as --summary to one case.
func casesAct(ctx context.Context, verb string, args []string, env Env) error {
	fs := newFlagSet("cases "+verb, env)
	var to, as, summary *string
	var noShare *bool
	switch verb {
	case incident.VerbAssign:
		to = fs.String("to", "", "who works the case (required)")
	case incident.VerbClose:
		as = fs.String("as", "", "the classification: "+alert.Resolutions+" (required)")
		summary = fs.String("summary", "", "what was found and done (required)")
		noShare = fs.Bool("no-share", false, "a provider's true positive: do not share its alerts' external observables with the other members")
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 1:
		return usageError("cases " + verb + " needs one case ID\n" + strings.TrimSuffix(flagsHelp(fs), "\n"))
	case to != nil && strings.TrimSpace(*to) == "":
		return usageError("cases assign needs --to USER")
	case as != nil && !alert.ValidResolution(alert.Resolution(*as)):
		return usageError(fmt.Sprintf("--as %q: want one of %s", *as, alert.Resolutions))
	case summary != nil && strings.TrimSpace(*summary) == "":
		return usageError("cases close needs --summary TEXT")
	}
	id, err := caseID(fs, pos[0])
	if err != nil {
		return err
	}
	body := map[string]any{}
	if to != nil {
		body["to"] = *to
	}
	if as != nil {
		body["classification"], body["summary"], body["no_share"] = *as, *summary, *noShare
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if err := c.json(ctx, "POST", casePath(id, "/"+verb), body, &raw); err != nil {
		return err
	}
	err = caseChanged(env, raw, func(cs incident.Case) string {
		switch verb {
		case incident.VerbEscalate:
			return "escalated to " + string(cs.Tenant)
		case incident.VerbAcknowledge:
			return "acknowledged"
		case incident.VerbAssign:
			return string(cs.Status) + ", assigned to " + cs.Assignee
		case incident.VerbClose:
			return "closed as " + string(cs.Classification)
		}
		return string(cs.Status)
	})
	var answer map[string]any
	if err == nil && json.Unmarshal(raw, &answer) == nil {
		printShared(env, answer)
	}
	return err
}

func casesExport(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("cases export", env)
	asHTML := fs.Bool("html", false, "a standalone HTML page instead of JSON")
	asJSON := fs.Bool("json", false, "JSON (the default), as the other cases commands take it")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 1:
		return usageError("cases export needs one case ID\n" + strings.TrimSuffix(flagsHelp(fs), "\n"))
	case *asHTML && *asJSON:
		return usageError("cases export: --html or --json, not both")
	}
	id, err := caseID(fs, pos[0])
	if err != nil {
		return err
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	path := casePath(id, "/export")
	if *asHTML {
		path += "?format=html"
	}
	resp, err := c.do(ctx, "GET", path, nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(env.Stdout, resp.Body)
	return err
}

func casesUpdate(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("cases update", env)
	set := map[string]*string{}
	for _, f := range []struct{ name, help string }{
		{"title", "a new title"}, {"description", "a new description"},
		{"severity", "a new level (" + alert.Levels + ")"}, {"tlp", "a new TLP label (" + incident.TLPs + ")"},
	} {
		set[f.name] = fs.String(f.name, "", f.help)
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("cases update needs one case ID\n" + strings.TrimSuffix(flagsHelp(fs), "\n"))
	}
	id, err := caseID(fs, pos[0])
	if err != nil {
		return err
	}
	body := map[string]string{}
	fs.Visit(func(f *flag.Flag) { body[f.Name] = *set[f.Name] })
	if len(body) == 0 {
		return usageError("cases update needs at least one of --title, --description, --severity, --tlp")
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if err := c.json(ctx, "PATCH", casePath(id), body, &raw); err != nil {
		return err
	}
	return caseChanged(env, raw, func(cs incident.Case) string {
		return fmt.Sprintf("%s, %s, TLP:%s: %s", cs.Status, cs.Severity, cs.TLP, cs.Title)
	})
}

func casesTask(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 || (args[0] != "add" && args[0] != "done" && args[0] != "undo") {
		return usageError(strings.TrimSuffix(commandUsage([]string{"cases", "task"}), "\n"))
	}
	verb := args[0]
	fs := newFlagSet("cases task "+verb, env)
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) < 2 || verb != "add" && len(pos) != 2 {
		return usageError(strings.TrimSuffix(commandUsage([]string{"cases", "task", verb}), "\n"))
	}
	id, err := caseID(fs, pos[0])
	if err != nil {
		return err
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if verb == "add" {
		err = c.json(ctx, "POST", casePath(id, "/tasks"), map[string]string{"title": strings.Join(pos[1:], " ")}, &raw)
		if err != nil {
			return err
		}
		return caseChanged(env, raw, func(cs incident.Case) string {
			t := cs.Tasks[len(cs.Tasks)-1]
			return fmt.Sprintf("task %d added: %s", t.ID, t.Title)
		})
	}
	task, err := strconv.ParseInt(pos[1], 10, 64)
	if err != nil || task < 1 {
		return usageError(fmt.Sprintf("cases task %s: %q is not a task number", verb, pos[1]))
	}
	if err := c.json(ctx, "PATCH", casePath(id, "/tasks/", strconv.FormatInt(task, 10)), map[string]bool{"done": verb == "done"}, &raw); err != nil {
		return err
	}
	return caseChanged(env, raw, func(cs incident.Case) string {
		if verb == "done" {
			return fmt.Sprintf("task %d done", task)
		}
		return fmt.Sprintf("task %d open again", task)
	})
}

func casesObservable(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 || args[0] != "add" {
		return usageError(strings.TrimSuffix(commandUsage([]string{"cases", "observable"}), "\n"))
	}
	fs := newFlagSet("cases observable add", env)
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 3 {
		return usageError(strings.TrimSuffix(commandUsage([]string{"cases", "observable", "add"}), "\n"))
	}
	id, err := caseID(fs, pos[0])
	if err != nil {
		return err
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if err := c.json(ctx, "POST", casePath(id, "/observables"), map[string]string{"type": pos[1], "value": pos[2]}, &raw); err != nil {
		return err
	}
	return caseChanged(env, raw, func(cs incident.Case) string { return plural(len(cs.Observables), "observable") })
}

func casesLink(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("cases link", env)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usageError("cases link needs a case ID and at least one alert ID\n" + strings.TrimSuffix(commandUsage([]string{"cases", "link"}), "\n"))
	}
	id, err := caseID(fs, pos[0])
	if err != nil {
		return err
	}
	var ids []int64
	for _, s := range pos[1:] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return usageError(fmt.Sprintf("cases link: %q is not an alert ID", s))
		}
		ids = append(ids, n)
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if err := c.json(ctx, "POST", casePath(id, "/alerts"), map[string][]int64{"ids": ids}, &raw); err != nil {
		return err
	}
	return caseChanged(env, raw, func(cs incident.Case) string {
		return plural(len(cs.Alerts), "alert") + ", " + plural(len(cs.Observables), "observable")
	})
}

func casesEvent(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("cases event", env)
	at := fs.String("time", "", "when it happened: RFC 3339 or relative (-2h); now by default")
	ref := fs.String("ref", "", "the event's position (tarian.seq:tarian.idx), to find it with search")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usageError("cases event needs a case ID and the text\n" + strings.TrimSuffix(flagsHelp(fs), "\n"))
	}
	id, err := caseID(fs, pos[0])
	if err != nil {
		return err
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var raw json.RawMessage
	body := map[string]string{"time": *at, "text": strings.Join(pos[1:], " "), "event_ref": *ref}
	if err := c.json(ctx, "POST", casePath(id, "/events"), body, &raw); err != nil {
		return err
	}
	return caseChanged(env, raw, func(incident.Case) string { return "event added to the timeline" })
}

func casesEvidence(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 || args[0] != "add" && args[0] != "get" {
		return usageError(strings.TrimSuffix(commandUsage([]string{"cases", "evidence"}), "\n"))
	}
	verb := args[0]
	fs := newFlagSet("cases evidence "+verb, env)
	var name, out *string
	if verb == "add" {
		name = fs.String("name", "", "the name to show (the file's by default)")
	} else {
		out = fs.String("out", "", "write to this file (stdout by default)")
	}
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError(strings.TrimSuffix(flagsHelp(fs), "\n"))
	}
	id, err := caseID(fs, pos[0])
	if err != nil {
		return err
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	if verb == "get" {
		resp, err := c.do(ctx, "GET", casePath(id, "/evidence/", url.PathEscape(pos[1])), nil, "")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		w := env.Stdout
		if *out != "" {
			f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return err
			}
			defer f.Close()
			w = f
		}
		if _, err := io.Copy(w, resp.Body); err != nil {
			return err
		}
		return nil
	}
	f, err := os.Open(pos[1])
	if err != nil {
		return err
	}
	defer f.Close()
	if *name == "" {
		*name = filepath.Base(pos[1])
	}
	resp, err := c.do(ctx, "POST", casePath(id, "/evidence")+"?"+url.Values{"name": {*name}}.Encode(), f, "application/octet-stream")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var ev incident.Evidence
	if err := json.NewDecoder(resp.Body).Decode(&ev); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "case %s: evidence %s (%s) sha256 %s\n", id, ev.Name, plural(int(ev.Size), "byte"), ev.SHA256)
	return nil
}
