package cli

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/tenant"
)

func runSuppress(ctx context.Context, args []string, env Env) error {
	if len(args) > 0 {
		switch args[0] {
		case "add":
			return suppressAdd(ctx, args[1:], env)
		case "list":
			return suppressList(ctx, args[1:], env)
		case "remove":
			return suppressRemove(ctx, args[1:], env)
		}
	}
	return usageError(strings.TrimSuffix(commandUsage([]string{"suppress"}), "\n"))
}

func suppressAdd(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("suppress add", env)
	ten := fs.String("tenant", "", "the member (provider roles; a tenant role's own by default)")
	rule := fs.String("rule", "", "the rule ID whose alerts to stop (required)")
	var where stringList
	fs.Var(&where, "where", "FIELD=VALUE the detection must hold (an entity type such as host, user, source.ip, a field naming one such as host.name or user.name, or a field the rule tests); repeat for all of several")
	reason := fs.String("reason", "", "why (required; shown with the suppression)")
	expires := fs.String("expires", "", "when it stops applying: RFC 3339, or a duration from now (8h, 7d); never by default")
	fromAlert := fs.String("from-alert", "", "take the member, the rule and (--on) values from this alert: its false positive")
	on := fs.String("on", "", "with --from-alert: the alert's entity types whose values the detection must hold too, comma-separated (host by default when it has one; none: every alert of the rule)")
	asJSON := fs.Bool("json", false, "the suppression as JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	switch {
	case *rule == "" && *fromAlert == "":
		return usageError("suppress add needs --rule RULE_ID or --from-alert ID")
	case *on != "" && *fromAlert == "":
		return usageError("--on takes the values of an alert: it needs --from-alert ID")
	case *fromAlert != "" && !isPositiveInt(*fromAlert):
		return usageError(fmt.Sprintf("--from-alert %q: want an alert ID", *fromAlert))
	case strings.TrimSpace(*reason) == "":
		return usageError("suppress add needs --reason TEXT")
	}
	var conds []alert.Condition
	for _, w := range where {
		c, err := alert.ParseCondition(w)
		if err != nil {
			return usageError("--where " + strings.TrimPrefix(err.Error(), alert.ErrInvalid.Error()+": "))
		}
		conds = append(conds, c)
	}
	var expiry time.Time
	if *expires != "" {
		t, err := futureTime(*expires, time.Now())
		if err != nil {
			return usageError("--expires: " + err.Error())
		}
		expiry = t
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	if *fromAlert != "" {
		var a struct {
			ID       int64          `json:"id"`
			Tenant   tenant.ID      `json:"tenant"`
			RuleID   string         `json:"rule_id"`
			Entities []alert.Entity `json:"entities"`
		}
		if err := c.json(ctx, "GET", "/api/v1/alerts/"+*fromAlert, nil, &a); err != nil {
			return err
		}
		more, err := alertConditions(a.ID, a.Entities, *on)
		if err != nil {
			return err
		}
		switch {
		case *rule != "" && *rule != a.RuleID:
			return usageError(fmt.Sprintf("--rule %s: alert %s is of rule %s", *rule, *fromAlert, a.RuleID))
		case *ten != "" && tenant.ID(*ten) != a.Tenant:
			return usageError(fmt.Sprintf("--tenant %s: alert %s is %s's", *ten, *fromAlert, a.Tenant))
		}
		*rule, *ten, conds = a.RuleID, string(a.Tenant), append(conds, more...)
	}
	req := map[string]any{"tenant": *ten, "rule_id": *rule, "reason": *reason, "where": conds}
	if !expiry.IsZero() {
		req["expires"] = expiry
	}
	var s map[string]any
	if err := c.json(ctx, "POST", "/api/v1/suppressions", req, &s); err != nil {
		return err
	}
	if *asJSON {
		return writeJSONLines(env.Stdout, []map[string]any{s})
	}
	fmt.Fprintf(env.Stdout, "suppression %v added for %v: rule %v%s%s\n", s["id"], s["tenant"], s["rule_id"], conditions(s["where"]), until(s["expires"]))
	return nil
}

// alertConditions are the values of alert id's entities of the types on
// names (comma-separated; "" its host if it has one; "none" no value).
func alertConditions(id int64, entities []alert.Entity, on string) ([]alert.Condition, error) {
	switch on {
	case "none":
		return nil, nil
	case "":
		for _, e := range entities {
			if e.Type == alert.EntityHost {
				return []alert.Condition{{Field: e.Type, Value: e.Value}}, nil
			}
		}
		return nil, nil
	}
	var out []alert.Condition
	for _, typ := range strings.Split(on, ",") {
		typ = strings.TrimSpace(typ)
		i := slices.IndexFunc(entities, func(e alert.Entity) bool { return e.Type == typ })
		if i < 0 {
			have := make([]string, len(entities))
			for j, e := range entities {
				have[j] = e.Type
			}
			return nil, usageError(fmt.Sprintf("--on %s: alert %d has no %s (it has: %s)", on, id, typ, orDash(strings.Join(have, ", "))))
		}
		out = append(out, alert.Condition{Field: typ, Value: entities[i].Value})
	}
	return out, nil
}

// tenantList runs a list command whose only flags are --tenant and
// --json: it gets the items under key of GET path, and with --json
// writes them, one per line, and reports so (the caller then prints
// nothing more).
func tenantList(ctx context.Context, name, path, key string, args []string, env Env) ([]map[string]any, bool, error) {
	fs := newFlagSet(name, env)
	ten := fs.String("tenant", "", "tenant, or * for every tenant (provider roles)")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	if err := parseNoArgs(fs, args); err != nil {
		return nil, false, err
	}
	c, err := newClient(env)
	if err != nil {
		return nil, false, err
	}
	q := url.Values{}
	if *ten != "" {
		q.Set("tenant", *ten)
	}
	var out map[string][]map[string]any
	if err := c.json(ctx, "GET", path+"?"+q.Encode(), nil, &out); err != nil {
		return nil, false, err
	}
	if *asJSON {
		return nil, true, writeJSONLines(env.Stdout, out[key])
	}
	return out[key], false, nil
}

// futureTime reads an expiry: RFC 3339, or a duration from now ("8h",
// "+8h", "7d").
func futureTime(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d := strings.TrimPrefix(s, "+")
	if days, ok := strings.CutSuffix(d, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(days, "%d", &n); err != nil || n <= 0 || fmt.Sprint(n) != days {
			return time.Time{}, fmt.Errorf("%q: want RFC 3339 or a duration such as 8h or 7d", s)
		}
		return now.Add(time.Duration(n) * 24 * time.Hour), nil
	}
	dur, err := time.ParseDuration(d)
	if err != nil || dur <= 0 {
		return time.Time{}, fmt.Errorf("%q: want RFC 3339 or a duration such as 8h or 7d", s)
	}
	return now.Add(dur), nil
}

func conditions(v any) string {
	xs, _ := v.([]any)
	var b strings.Builder
	for _, x := range xs {
		m, _ := x.(map[string]any)
		fmt.Fprintf(&b, " where %v=%v", m["field"], m["value"])
	}
	return b.String()
}

func until(v any) string {
	if s, _ := v.(string); s != "" {
		return ", until " + shortTime(s)
	}
	return ", until removed"
}

func suppressList(ctx context.Context, args []string, env Env) error {
	sups, asJSON, err := tenantList(ctx, "suppress list", "/api/v1/suppressions", "suppressions", args, env)
	if err != nil || asJSON {
		return err
	}
	tw := table(env, len(sups), "no suppressions (tarian suppress add makes one)", "ID\tTENANT\tRULE\tWHERE\tACTIVE\tHITS\tEXPIRES\tREASON\tAUTHOR")
	if tw == nil {
		return nil
	}
	for _, s := range sups {
		where := strings.TrimPrefix(strings.ReplaceAll(conditions(s["where"]), " where ", ", "), ", ")
		exp := "never"
		if e, _ := s["expires"].(string); e != "" {
			exp = shortTime(e)
		}
		fmt.Fprintf(tw, "%v\t%v\t%v\t%s\t%v\t%v\t%s\t%v\t%v\n", s["id"], s["tenant"], s["rule_id"], orDash(where), s["active"], s["hits"], exp, s["reason"], s["author"])
	}
	return tw.Flush()
}

func suppressRemove(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("suppress remove", env)
	ten := fs.String("tenant", "", "the member (found by ID when not given)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("suppress remove needs one suppression ID")
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	q := url.Values{}
	if *ten != "" {
		q.Set("tenant", *ten)
	}
	var s map[string]any
	if err := c.json(ctx, "DELETE", "/api/v1/suppressions/"+url.PathEscape(pos[0])+"?"+q.Encode(), nil, &s); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "suppression %v removed from %v (it had stopped %v)\n", s["id"], s["tenant"], plural(int(num(s["hits"])), "detection"))
	return nil
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}
