// Package cli is the body of the tarian command: the server commands
// (serve, demo) and the client commands that talk to a running server's
// API (TARIAN_URL, TARIAN_TOKEN). cmd/tarian only hands it the process's
// arguments, standard streams and environment.
package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/tarian-soc/tarian/internal/buildinfo"
)

// Env is what a command may touch of its process.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// IsTerminal reports whether Stderr is a terminal (for progress bars).
	IsTerminal bool
	// Hangup starts delivering SIGHUP (nil: never); serve reads its
	// configuration again on each.
	Hangup func() <-chan os.Signal
}

const usage = `tarian: a shared Security Operations Centre for many member bodies

Server:
  tarian serve [--config FILE] [--data DIR] [--listen ADDR]
  tarian demo  [--config FILE] [--data DIR] [--listen ADDR] [--replay DIR]   serve with demo tenants and data
  tarian version                           version, commit and build date
  tarian completion bash|zsh|fish         the shell's completion script (e.g. > /etc/bash_completion.d/tarian)
  tarian restore --data DIR [--force] FILE   a backup into a stopped server's data directory (checked whole first)

Client (TARIAN_URL, default http://127.0.0.1:8080; TARIAN_TOKEN):
  tarian backup FILE                      provider-admin: a consistent backup of the running server (docs/operations.md)
  tarian tenant add ID --name NAME [--json]
  tarian tenant list [--json]
  tarian tenant remove ID [--export FILE]   provider-admin: offboarding; deletes every data of the tenant (after exporting it to FILE), prints the signed receipt
  tarian tenant verify-receipt FILE [--public-key HEX] [--export FILE]   checks a removal receipt's signature (and the export it names)
  tarian token create [--tenant ID] --role ROLE [--name NAME] [--expires T] [--json]
  tarian token list [--tenant ID|*] [--json]
  tarian token revoke ID
  tarian user add NAME [--tenant ID] --role ROLE [--email E] [--password-stdin] [--require-mfa]
  tarian user list [--tenant ID] [--json]
  tarian user disable|enable|reset|delete NAME   reset: new one-time password, sessions ended, TOTP enrolled again;
                                          delete: a leaver, its sessions and tokens ended, its name free again
  tarian user mfa enrol                   TOTP for the logged-in user: otpauth:// URI, then recovery codes
  tarian login [--user NAME]              password (and TOTP code) from the terminal or stdin; the session
                                          is kept for client commands when TARIAN_TOKEN is unset
  tarian logout
  tarian ingest [FILE...]                 NDJSON; stdin when no file; TARIAN_TOKEN = an ingest token
  tarian search [--tenant ID|*] [--from T] [--to T] [--limit N] [--json|--raw|--csv] QUERY|--saved NAME
  tarian searches list [--tenant ID] [--json]   the team's saved searches (provider roles: their own; --tenant: a member's)
  tarian searches save [--tenant ID] [--description TEXT] [--every D [--delay D] [--threshold N] [--level L] [--tags T,...]] NAME QUERY
                                          QUERY - reads stdin; --every: it runs on its own and raises alerts (producer search)
  tarian searches update ID [--tenant ID] [--name N] [--query Q] [--description TEXT] [--every D|0] [--delay D] [--threshold N] [--level L] [--tags T,...]
  tarian searches delete ID [--tenant ID]
  tarian deadletters [--tenant ID] [--limit N] [--json]
  tarian alerts list [--tenant ID|*] [--status S] [--severity L] [--rule ID] [--assignee U] [--producer P] [--incident N] [--sort newest|risk|sla] [--limit N] [--cursor C] [--json]
  tarian alerts show ID [--events] [--json]   with its history (who changed it, when); --events: the events that fired it, whole
  tarian alerts incidents [--tenant ID|*] [--status S] [--severity L] [--limit N] [--json]   one line per incident
  tarian alerts ack ID...                 acknowledge
  tarian alerts assign ID... --to USER
  tarian alerts resolve ID... --as true-positive|benign-positive|false-positive|duplicate [--note TEXT] [--no-share]
                                          a provider's true positive shares its external observables with every member
  tarian alerts escalate ID...            hand over to the member
  tarian alerts reopen ID...
  tarian alerts comment ID TEXT           a note in the alert's history, its state unchanged; TEXT - reads stdin
  tarian cases create [--tenant ID] --title TEXT [--from-alert ID]... [--severity L] [--tlp TLP] [--assignee U] [--description TEXT] [--template NAME] [--json]
  tarian cases templates [--json]         the kinds of case and their tasks (cases.templates); --template starts a case with them
  tarian cases list [--tenant ID|*] [--status S] [--escalated] [--limit N] [--cursor C] [--json]
  tarian cases show ID [--json]
  tarian cases comment ID TEXT            TEXT - reads stdin
  tarian cases escalate|acknowledge|reopen ID   share with the member; the member acknowledges
  tarian cases assign ID --to USER
  tarian cases close ID --as CLASSIFICATION --summary TEXT [--no-share]   a provider's true positive shares its alerts' external observables
  tarian cases export ID [--html|--json]  the whole case as JSON (the default), or a standalone HTML page
  tarian cases update ID [--title T] [--severity L] [--tlp TLP] [--description TEXT]
  tarian cases task add ID TITLE
  tarian cases task done|undo ID TASK
  tarian cases observable add ID TYPE VALUE
  tarian cases link ID ALERT_ID...
  tarian cases event ID TEXT [--time T] [--ref SEQ:IDX]
  tarian cases evidence add ID FILE [--name NAME]
  tarian cases evidence get ID SHA256 [--out FILE]
  tarian suppress add [--tenant ID] --rule RULE_ID [--where FIELD=VALUE]... --reason TEXT [--expires T]
  tarian suppress add --from-alert ID [--on TYPE,...|none] [--where FIELD=VALUE]... --reason TEXT [--expires T]
                                          the alert's member and rule, and its host's value (or --on's entity types)
  tarian suppress list [--tenant ID|*] [--json]
  tarian suppress remove ID
  tarian assets set [--tenant ID] --host NAME|--user NAME --criticality low|normal|high|critical
  tarian assets list [--tenant ID|*] [--json]
  tarian metrics soc [--tenant ID|*] [--from T] [--to T] [--json]   MTTD, MTTA, MTTR, volumes, noisy rules
  tarian sources list [--tenant ID|*] [--json]       log-source health: last seen, rate, baseline, errors, state
  tarian scorecard [--tenant ID|*] [--json]          onboarding: sources declared vs seen, ATT&CK coverage, what to connect next
  tarian notify add [--tenant ID|*] --kind webhook|email|teams|slack --url URL|- [--secret S|-] [--from ADDR --to ADDR...] [--min-severity L] [--tag T]... [--hours "DAYS HH:MM-HH:MM ZONE"]... [--on CHANGE]...
  tarian notify list [--tenant ID|*] [--json]
  tarian notify remove|test ID           remove a channel, or send it a test message
  tarian notify deadletters [--tenant ID|*] [--limit N] [--json]
  tarian rules import [--tenant ID] PATH...  Sigma rules (provider-admin), or one tenant's filter documents
  tarian rules placeholders [--tenant ID] [NAME=V1,V2...]   show or set a tenant's |expand values
  tarian rules list [--tenant ID] [--summary] [--json]
  tarian rules disable|enable RULE_ID [--tenant ID]
  tarian rules delete RULE_ID [--tenant ID] [--json]   a shared rule (provider-admin), or a tenant's own filter document
  tarian audit list [--tenant ID|*] [--limit N] [--json]   provider-admin: every record or one chain (* the provider's); tenant-admin: its own
  tarian audit verify [--tenant ID|*] [--json]   through the API; exit 0 intact, 1 naming the first broken record
  tarian audit verify --data DIR [--tenant ID|*] [--clean-stop]  offline, read-only, on a stopped server's data directory
  tarian audit verify --file EXPORT [--public-key HEX]   an export, offline
  tarian audit export [--tenant ID|*] [--out FILE]   one chain as JSON lines with its hashes and checkpoints
  tarian campaigns list [--status open|closed|all] [--limit N] [--json]   provider roles: one external observable at several members
  tarian campaigns show ID [--json]       each member's alerts in it (audited)
  tarian campaigns close ID [--note TEXT]   closed: it takes no more alerts (audited); reopen ID opens it again
  tarian intel add TYPE VALUE [--tenant ID] [--tlp LEVEL] [--confidence N] [--expires T] [--name N] [--audience all|ID,ID]
  tarian intel import [--tenant ID] [--tlp LEVEL] [--audience all|ID,ID] FILE|DIR...   STIX bundle, MISP feed dir, MISP event, CSV
  tarian intel list [--tenant ID] [--type T] [--limit N] [--revoked] [--json]
  tarian intel show ID [--json]           the indicator and its sightings
  tarian intel revoke ID
  tarian intel export [--tenant ID] > bundle.json   STIX 2.1: indicators, objects and sightings
  tarian intel hunts [--tenant ID] [--indicator ID] [--json]   retro-hunts and their progress
  tarian advisories publish FILE          provider roles: YAML or JSON (title_en/_cy, summary_en/_cy, actions_en/_cy, tlp, indicators, audience); prints the id
  tarian advisories list [--json]         members: those addressed to them; provider: every one with its acknowledgements
  tarian advisories show ID [--json]      provider: who has acknowledged, where its indicators were seen since
  tarian advisories ack ID                a member acknowledges (idempotent)
  tarian reports create --tenant ID [--month YYYY-MM] [--lang en|cy] [--pdf] -o FILE   a member's monthly report, HTML or PDF (- is stdout)

Parsing (offline, no server):
  tarian parse [--type TYPE] [--json] [FILE...]   the three layers of each record (stdin when no file)
  tarian parse --list                             the types a log source may declare

Rules (offline, no server):
  tarian rules validate PATH...
  tarian rules test --rules PATH... [--json] EVENTS.jsonl...

Intel (offline, no server):
  tarian intel pattern validate [--json] FILE     one STIX pattern a line: ok or invalid: <reason>
  tarian intel pattern match --pattern PATTERN OBSERVED.json   match / no_match / parse_error / eval_error

Run 'tarian help COMMAND' (or 'tarian COMMAND --help') for one command's flags.
Roles: provider-admin, provider-analyst, tenant-admin, tenant-analyst, tenant-viewer, ingest.
Times: RFC 3339, 'now' or relative (-1h, -7d).
`

// Run runs the command in args and returns the exit code.
func Run(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	// A command without flags of its own (version, or a group such as
	// alerts) answers --help with its usage lines.
	if len(rest) == 1 && isHelpArg(rest[0]) && isGroup(cmd) {
		fmt.Fprint(env.Stdout, commandUsage([]string{cmd}))
		return 0
	}
	var err error
	switch cmd {
	case "serve":
		err = runServe(ctx, rest, env, false)
	case "demo":
		err = runServe(ctx, rest, env, true)
	case "version", "--version":
		if len(rest) > 0 {
			err = usageError("usage: tarian version (it takes no flags or arguments)")
			break
		}
		fmt.Fprintln(env.Stdout, "tarian", buildinfo.String())
	case "completion":
		err = runCompletion(rest, env.Stdout)
	case "backup":
		err = runBackup(ctx, rest, env) // backup.go
	case "restore":
		err = runRestore(ctx, rest, env)
	case "tenant":
		switch {
		case len(rest) > 0 && rest[0] == "remove":
			err = runTenantRemove(ctx, rest[1:], env) // tenantremove.go
		case len(rest) > 0 && rest[0] == "verify-receipt":
			err = runVerifyReceipt(ctx, rest[1:], env)
		default:
			err = runTenant(ctx, rest, env)
		}
	case "token":
		err = runToken(ctx, rest, env)
	case "user":
		err = runUser(ctx, rest, env)
	case "login":
		err = runLogin(ctx, rest, env)
	case "logout":
		err = runLogout(ctx, rest, env)
	case "ingest":
		err = runIngest(ctx, rest, env)
	case "search":
		err = runSearch(ctx, rest, env)
	case "deadletters":
		err = runDeadLetters(ctx, rest, env)
	case "sources":
		err = runSources(ctx, rest, env) // sources.go
	case "scorecard":
		err = runScorecard(ctx, rest, env) // scorecard.go
	case "rules":
		if len(rest) > 0 {
			if (rest[0] == "validate" || rest[0] == "test") && len(rest) == 2 && isHelpArg(rest[1]) {
				// Their flag sets print the usage on the writer for errors.
				run := runRulesValidate
				if rest[0] == "test" {
					run = runRulesTest
				}
				run(rest[1:], env.Stdout, env.Stdout)
				return 0
			}
			switch rest[0] {
			case "validate":
				return runRulesValidate(rest[1:], env.Stdout, env.Stderr)
			case "test":
				return runRulesTest(rest[1:], env.Stdout, env.Stderr)
			case "import", "list", "enable", "disable", "delete", "placeholders":
				err = runRulesServer(ctx, rest[0], rest[1:], env)
			default:
				err = usageError(fmt.Sprintf("unknown rules command %q", rest[0]))
			}
		} else {
			err = usageError(strings.TrimSuffix(commandUsage([]string{"rules"}), "\n"))
		}
	case "parse":
		err = parseCmd(rest, env)
	case "cases":
		err = runCases(ctx, rest, env)
	case "alerts":
		err = runAlerts(ctx, rest, env)
	case "notify":
		err = runNotify(ctx, rest, env)
	case "metrics":
		err = runMetrics(ctx, rest, env)
	case "suppress":
		err = runSuppress(ctx, rest, env)
	case "searches":
		err = runSearches(ctx, rest, env) // searches.go
	case "audit":
		err = runAudit(ctx, rest, env)
	case "assets":
		err = runAssets(ctx, rest, env)
	case "campaigns":
		err = runCampaigns(ctx, rest, env)
	case "advisories":
		err = runAdvisories(ctx, rest, env)
	case "reports":
		err = runReports(ctx, rest, env) // reports.go
	case "intel":
		if len(rest) > 0 && rest[0] == "pattern" {
			return intelPattern(ctx, rest[1:], env) // offline; exit codes of its own
		}
		err = runIntel(ctx, rest, env)
	case "help", "-h", "--help":
		if len(rest) == 0 || rest[0] == "help" || isHelpArg(rest[0]) {
			fmt.Fprint(env.Stdout, usage)
			return 0
		}
		// "tarian help CMD [SUB]" is "tarian CMD [SUB] --help".
		return Run(ctx, append(slices.Clone(rest), "--help"), env)
	default:
		err = usageError(fmt.Sprintf("unknown command %q; run 'tarian help'", cmd))
	}
	if err == nil {
		return 0
	}
	var he helpError
	if errors.As(err, &he) {
		fmt.Fprint(env.Stdout, he.text)
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(env.Stderr, "tarian "+cmd+": "+err.Error())
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

type usageError string

func (e usageError) Error() string { return string(e) }

// helpError is a request for a command's help (--help); Run prints text
// on stdout and exits 0.
type helpError struct{ text string }

func (e helpError) Error() string { return "help requested" }
func (e helpError) Unwrap() error { return flag.ErrHelp }

// isGroup reports whether cmd has no flags of its own: a group of
// subcommands, or version.
func isGroup(cmd string) bool {
	switch cmd {
	case "tenant", "token", "user", "alerts", "cases", "suppress", "searches", "assets", "rules", "metrics", "notify", "audit", "intel", "advisories", "campaigns", "version", "completion", "sources", "reports":
		return true
	}
	return false
}

func isHelpArg(s string) bool {
	switch s {
	case "-h", "--h", "-help", "--help":
		return true
	}
	return false
}

// commandUsage returns the lines of the general usage that are about the
// command named by words ("alerts", "rules import"), under "usage:".
func commandUsage(words []string) string {
	var b strings.Builder
	for line := range strings.Lines(usage) {
		f := strings.Fields(line)
		if len(f) <= len(words) || f[0] != "tarian" {
			continue
		}
		match := true
		for i, w := range words {
			if !slices.Contains(strings.Split(f[i+1], "|"), w) {
				match = false
				break
			}
		}
		if match {
			b.WriteString("  " + strings.TrimSpace(line) + "\n")
		}
	}
	if b.Len() == 0 {
		return "usage: tarian " + strings.Join(words, " ") + "\n"
	}
	return "usage:\n" + b.String()
}

// flagsHelp is the help of the command whose flags fs holds: its usage
// lines and its flags.
func flagsHelp(fs *flag.FlagSet) string {
	var b bytes.Buffer
	b.WriteString(commandUsage(strings.Fields(fs.Name())))
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		b.WriteString("\nflags:\n")
		out := fs.Output()
		fs.SetOutput(&b)
		fs.PrintDefaults()
		fs.SetOutput(out)
	}
	return b.String()
}

// parse parses flags that may stand before, between or after positional
// arguments ("tenant add ID --name NAME") and returns the positionals. A
// bad flag is a usage error that ends with the command's help, once;
// --help is a helpError.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, helpError{flagsHelp(fs)}
			}
			return nil, usageError(err.Error() + "\n" + strings.TrimSuffix(flagsHelp(fs), "\n"))
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// newFlagSet returns an empty flag set for the command name ("alerts
// list"). It prints nothing itself: parse reports errors and help.
func newFlagSet(name string, _ Env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// writeJSONLines writes items as one JSON object per line (--json output).
func writeJSONLines[T any](w io.Writer, items []T) error {
	enc := json.NewEncoder(w)
	for _, it := range items {
		if err := enc.Encode(it); err != nil {
			return err
		}
	}
	return nil
}

// parseNoArgs parses the flags of a command that takes no argument, and
// refuses one with the command's help.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(fmt.Sprintf("unexpected argument %q\n%s", pos[0], strings.TrimSuffix(flagsHelp(fs), "\n")))
	}
	return nil
}

// table starts a table of n rows under header on stdout; with no rows it
// says none on stderr instead (a header alone reads as a fault, and
// scripts reading stdout see nothing) and returns nil.
func table(env Env, n int, none, header string) *tabwriter.Writer {
	if n == 0 {
		fmt.Fprintln(env.Stderr, none)
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	return tw
}

// listCommand is a list command that takes --json and no argument (and
// any flags the caller added to fs): it GETs path and returns the
// answer's key, or prints it as JSON lines under --json (printed).
func listCommand[T any](ctx context.Context, fs *flag.FlagSet, args []string, env Env, path, key string) (items []T, printed bool, err error) {
	asJSON := fs.Bool("json", false, "one JSON object per line")
	if err := parseNoArgs(fs, args); err != nil {
		return nil, false, err
	}
	c, err := newClient(env)
	if err != nil {
		return nil, false, err
	}
	var out map[string][]T
	if err := c.json(ctx, "GET", path, nil, &out); err != nil {
		return nil, false, err
	}
	if *asJSON {
		return nil, true, writeJSONLines(env.Stdout, out[key])
	}
	return out[key], false, nil
}
