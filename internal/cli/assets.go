package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/tarian-soc/tarian/internal/alert"
)

func runAssets(ctx context.Context, args []string, env Env) error {
	if len(args) > 0 {
		switch args[0] {
		case "set":
			return assetsSet(ctx, args[1:], env)
		case "list":
			return assetsList(ctx, args[1:], env)
		}
	}
	return usageError(strings.TrimSuffix(commandUsage([]string{"assets"}), "\n"))
}

func assetsSet(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("assets set", env)
	ten := fs.String("tenant", "", "the member (provider roles; a tenant admin's own by default)")
	host := fs.String("host", "", "the host name")
	user := fs.String("user", "", "the user name")
	crit := fs.String("criticality", "", "low, normal, high or critical (required): weighs the risk of alerts about it")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	typ, name := alert.EntityHost, *host
	if *user != "" {
		typ, name = alert.EntityUser, *user
	}
	switch {
	case len(pos) > 0:
		return usageError(fmt.Sprintf("unexpected argument %q\n%s", pos[0], strings.TrimSuffix(flagsHelp(fs), "\n")))
	case (*host == "") == (*user == ""):
		return usageError("assets set needs one of --host NAME or --user NAME")
	}
	if _, err := alert.ParseCriticality(*crit); err != nil {
		return usageError("--criticality " + strings.TrimPrefix(err.Error(), alert.ErrInvalid.Error()+": criticality "))
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	var a map[string]any
	if err := c.json(ctx, "PUT", "/api/v1/assets", map[string]string{"tenant": *ten, "type": typ, "name": name, "criticality": *crit}, &a); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%v %v of %v: criticality %v\n", a["type"], a["name"], a["tenant"], a["criticality"])
	return nil
}

func assetsList(ctx context.Context, args []string, env Env) error {
	assets, asJSON, err := tenantList(ctx, "assets list", "/api/v1/assets", "assets", args, env)
	if err != nil || asJSON {
		return err
	}
	tw := table(env, len(assets), "no assets with a criticality (tarian assets set gives one)", "TENANT\tTYPE\tNAME\tCRITICALITY")
	if tw == nil {
		return nil
	}
	for _, a := range assets {
		fmt.Fprintf(tw, "%v\t%v\t%v\t%v\n", a["tenant"], a["type"], a["name"], a["criticality"])
	}
	return tw.Flush()
}
