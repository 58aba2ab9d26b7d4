package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

func runTenant(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 {
		return usageError("usage: tarian tenant add ID --name NAME | tarian tenant list [--json]")
	}
	switch args[0] {
	case "add":
		fs := newFlagSet("tenant add", env)
		name := fs.String("name", "", "the member body's name")
		asJSON := fs.Bool("json", false, "print the tenant as JSON")
		pos, err := parse(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageError("usage: tarian tenant add ID --name NAME")
		}
		c, err := newClient(env)
		if err != nil {
			return err
		}
		var t tenantJSON
		if err := c.json(ctx, "POST", "/api/v1/tenants", map[string]string{"id": pos[0], "name": *name}, &t); err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(env.Stdout).Encode(t)
		}
		fmt.Fprintf(env.Stdout, "added tenant %s (%s)\n", t.ID, t.Name)
		return nil
	case "list":
		fs := newFlagSet("tenant list", env)
		asJSON := fs.Bool("json", false, "one JSON object per line")
		if _, err := parse(fs, args[1:]); err != nil {
			return err
		}
		c, err := newClient(env)
		if err != nil {
			return err
		}
		var out struct {
			Tenants []tenantJSON `json:"tenants"`
		}
		if err := c.json(ctx, "GET", "/api/v1/tenants", nil, &out); err != nil {
			return err
		}
		if *asJSON {
			return writeJSONLines(env.Stdout, out.Tenants)
		}
		tw := table(env, len(out.Tenants), "no tenants (tarian tenant add creates one)", "ID\tNAME\tCREATED")
		if tw == nil {
			return nil
		}
		for _, t := range out.Tenants {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", t.ID, t.Name, t.Created.Format(time.RFC3339))
		}
		return tw.Flush()
	}
	return usageError(fmt.Sprintf("unknown tenant command %q", args[0]))
}

type tenantJSON struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

func runToken(ctx context.Context, args []string, env Env) error {
	if len(args) > 0 && args[0] == "revoke" {
		return runTokenRevoke(ctx, args[1:], env)
	}
	if len(args) > 0 && args[0] == "list" {
		return runTokenList(ctx, args[1:], env)
	}
	if len(args) == 0 || args[0] != "create" {
		return usageError("usage: tarian token create [--tenant ID] --role ROLE [--name NAME] [--expires T] [--json] | tarian token list [--tenant ID|*] [--json] | tarian token revoke ID")
	}
	fs := newFlagSet("token create", env)
	ten := fs.String("tenant", "", "tenant the token is scoped to (not for provider roles)")
	role := fs.String("role", "", "provider-admin, provider-analyst, tenant-admin, tenant-analyst, tenant-viewer or ingest")
	name := fs.String("name", "", "a label, e.g. the log source")
	asJSON := fs.Bool("json", false, "print the token as JSON")
	expires := fs.String("expires", "", "when the token ends: RFC 3339, or a duration from now (90d, 12h); never by default")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 0 || *role == "" {
		return usageError("usage: tarian token create [--tenant ID] --role ROLE [--name NAME] [--expires T] [--json]")
	}
	req := map[string]any{"tenant": *ten, "role": *role, "name": *name}
	if *expires != "" {
		t, err := futureTime(*expires, time.Now())
		if err != nil {
			return usageError("--expires: " + err.Error())
		}
		req["expires"] = t
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var out map[string]string
	if err := c.json(ctx, "POST", "/api/v1/tokens", req, &out); err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(env.Stdout).Encode(out)
	}
	fmt.Fprintln(env.Stdout, out["token"])
	scope := out["tenant"]
	if scope == "" {
		scope = "every tenant"
	}
	fmt.Fprintf(env.Stderr, "created %s token %s for %s; it is shown only once\n", out["role"], out["id"], scope)
	return nil
}

// runTokenList lists the tokens the caller could revoke (GET
// /api/v1/tokens): a tenant-admin its tenant's ingest, analyst and viewer
// tokens, a provider-admin every token, one tenant's (--tenant ID) or the
// provider's own (--tenant '*'), each with the user it acts for (USER: it
// stops when that user is disabled or reset). Never a secret.
func runTokenList(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("token list", env)
	ten := fs.String("tenant", "", "one tenant's tokens (provider-admin; '*' the provider's own); a tenant-admin's own by default")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError("usage: tarian token list [--tenant ID|*] [--json]")
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	path := "/api/v1/tokens"
	if *ten != "" {
		path += "?" + url.Values{"tenant": {*ten}}.Encode()
	}
	var out struct {
		Tokens []tokenListJSON `json:"tokens"`
	}
	if err := c.json(ctx, "GET", path, nil, &out); err != nil {
		return err
	}
	if *asJSON {
		return writeJSONLines(env.Stdout, out.Tokens)
	}
	now := time.Now()
	tw := table(env, len(out.Tokens), "no tokens", "ID\tTENANT\tROLE\tNAME\tCREATED\tEXPIRES\tUSER")
	if tw == nil {
		return nil
	}
	for _, t := range out.Tokens {
		scope := t.Tenant
		if scope == "" {
			scope = "*"
		}
		name := t.Name
		if name == "" {
			name = "-"
		}
		expires := "never"
		if t.Expires != nil {
			expires = t.Expires.UTC().Format(time.RFC3339)
			if !t.Expires.After(now) {
				expires += " (expired)"
			}
		}
		user := t.User
		if user == "" {
			user = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, scope, t.Role, name, t.Created.UTC().Format(time.RFC3339), expires, user)
	}
	return tw.Flush()
}

// tokenListJSON is a token as GET /api/v1/tokens lists it.
type tokenListJSON struct {
	ID      string     `json:"id"`
	Tenant  string     `json:"tenant,omitempty"`
	Role    string     `json:"role"`
	Name    string     `json:"name"`
	Created time.Time  `json:"created"`
	Expires *time.Time `json:"expires,omitempty"`
	// User is the user the token acts for: it is revoked when the user
	// is disabled or reset.
	User string `json:"user,omitempty"`
}

func runDeadLetters(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("deadletters", env)
	ten := fs.String("tenant", "", "tenant (provider-admin must name one)")
	limit := fs.Int("limit", 100, "most records to show, newest first")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	q := url.Values{"limit": {strconv.Itoa(*limit)}}
	if *ten != "" {
		q.Set("tenant", *ten)
	}
	var out struct {
		DeadLetters []map[string]any `json:"dead_letters"`
	}
	if err := c.json(ctx, "GET", "/api/v1/deadletters?"+q.Encode(), nil, &out); err != nil {
		var ae *apiError
		if *ten == "" && errors.As(err, &ae) && ae.Code == "bad_request" && strings.HasPrefix(ae.Message, "tenant is required") {
			return usageError("name a tenant with --tenant: dead letters are per tenant, and a provider token may read any tenant's")
		}
		return err
	}
	if *asJSON {
		return writeJSONLines(env.Stdout, out.DeadLetters)
	}
	if len(out.DeadLetters) == 0 {
		fmt.Fprintln(env.Stderr, "no dead letters: every line received was stored")
	}
	for _, d := range out.DeadLetters {
		fmt.Fprintf(env.Stdout, "%v %v line %v: %v\n", d["received"], d["source"], d["line"], d["reason"])
	}
	return nil
}
