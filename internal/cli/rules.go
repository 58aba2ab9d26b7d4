package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/detect"
	"github.com/tarian-soc/tarian/internal/event"
	logparse "github.com/tarian-soc/tarian/internal/parse"
	"github.com/tarian-soc/tarian/internal/sigma"
)

// runRulesValidate implements `tarian rules validate PATH...` (offline).
// It prints one line per failure, FILE:LINE: reason (unsupported ones say
// so), then "N rules: P parsed, F failed, U unsupported". Exit 1 if any
// rule failed, 2 on usage or I/O errors.
func runRulesValidate(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("tarian rules validate", flag.ContinueOnError)
	fset.SetOutput(stderr)
	verbose := fset.Bool("v", false, "also list the rules that parse but will not be evaluated (log source not in the mapping)")
	mappingFile := fset.String("mapping", "", "extend the default field and log-source mapping with this YAML file")
	fset.Usage = func() {
		fmt.Fprintln(stderr, "usage: tarian rules validate [-v] PATH...   (files or directories; *.yml and *.yaml, recursively)")
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		return 2
	}
	if fset.NArg() == 0 {
		fset.Usage()
		return 2
	}
	files, err := ruleFiles(fset.Args())
	if err != nil {
		fmt.Fprintf(stderr, "tarian rules validate: %v\n", err)
		return 2
	}
	var parsed, failed, unsupported, warned int
	var rules []*sigma.Rule
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(stderr, "tarian rules validate: %v\n", err)
			return 2
		}
		rs, perr := sigma.Parse(f, data)
		parsed += len(rs)
		rules = append(rules, rs...)
		for _, r := range rs {
			for _, w := range r.Warnings {
				warned++
				fmt.Fprintf(stdout, "%s:%d: warning: %s\n", f, w.Line, w.Reason)
			}
		}
		var errs sigma.Errors
		errors.As(perr, &errs)
		for _, e := range errs {
			if errors.Is(e, sigma.ErrUnsupported) {
				unsupported++
			} else {
				failed++
			}
			fmt.Fprintln(stdout, e.Error())
		}
	}
	// Rules that parse but that the engine will not run (for example an
	// unmapped log source) are noted, not counted as failures.
	mapping, err := detect.LoadMapping(*mappingFile)
	if err != nil {
		fmt.Fprintf(stderr, "tarian rules validate: mapping: %v\n", err)
		return 2
	}
	if e, err := detect.Compile(rules, detect.Options{Mapping: mapping}); err == nil && len(e.Skipped()) > 0 {
		if *verbose {
			for _, s := range e.Skipped() {
				fmt.Fprintf(stdout, "%s:%d: note: not evaluated: %s\n", s.Rule.File, s.Rule.Line, s.Reason)
			}
		} else {
			fmt.Fprintf(stderr, "note: %d parsed rules will not be evaluated (log source not in the mapping, or a correlation/filter problem); -v lists them\n", len(e.Skipped()))
		}
	}
	// The server refuses a rule without an id (it knows rules by id); the
	// specification allows one, so it is a note, not a failure.
	var noID []*sigma.Rule
	for _, r := range rules {
		if r.ID == "" {
			noID = append(noID, r)
		}
	}
	if len(noID) > 0 {
		if *verbose {
			for _, r := range noID {
				fmt.Fprintf(stdout, "%s:%d: note: no id: 'tarian rules import' refuses a rule without one\n", r.File, r.Line)
			}
		} else {
			fmt.Fprintf(stderr, "note: %s without an id, which 'tarian rules import' refuses; -v lists them\n", plural(len(noID), "rule"))
		}
	}
	total := parsed + failed + unsupported
	warnings := ""
	if warned > 0 {
		warnings = "; " + plural(warned, "warning")
	}
	fmt.Fprintf(stdout, "%s: %d parsed, %d failed, %d unsupported%s\n", plural(total, "rule"), parsed, failed, unsupported, warnings)
	if failed > 0 {
		return 1
	}
	return 0
}

// ruleFiles expands files and directories into *.yml/*.yaml files.
func ruleFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".yaml")) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("walk %s: %w", p, err)
		}
	}
	sort.Strings(out)
	return out, nil
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// testMatch is one line of `rules test` output.
// endOfInput is the file of a match judged when a window closed at the end
// of the event files.
const endOfInput = "(end of input)"

type testMatch struct {
	RuleID string `json:"rule_id"`
	Title  string `json:"title"`
	Level  string `json:"level"`
	File   string `json:"file"`
	Line   int    `json:"line"`
	Author string `json:"author,omitempty"`
}

func isRulePath(p string) bool {
	if strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml") {
		return true
	}
	info, err := os.Stat(p)
	return err == nil && info.IsDir()
}

// runRulesTest implements `tarian rules test --rules PATH... [--json] EVENTS.jsonl...` (offline).
// Every rule (and correlation) under the --rules paths is evaluated over
// the events, one JSON object per line; each match prints as a JSON line
// {"rule_id","title","level","file","line"} (file and line of the event;
// --json adds the rule author and matched fields are kept for the server).
// Counts and events/s go to stderr.
func runRulesTest(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("tarian rules test", flag.ContinueOnError)
	fset.SetOutput(stderr)
	var rulePaths stringList
	jsonOut := fset.Bool("json", false, "print matches as JSON lines (the default; kept for the stable interface)")
	mappingFile := fset.String("mapping", "", "extend the default field and log-source mapping with this YAML file")
	var placeholders stringList
	fset.Var(&placeholders, "placeholder", "NAME=V1,V2: values of %NAME% in |expand rules, as 'tarian rules placeholders' sets them for a tenant (repeatable)")
	var events, flagArgs []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--rules" || a == "-rules" {
			// The paths after --rules that are directories or rule files
			// (*.yml, *.yaml) are rule paths; the first other one ends them.
			j := i + 1
			for j < len(args) && !strings.HasPrefix(args[j], "-") && (j == i+1 || isRulePath(args[j])) {
				rulePaths = append(rulePaths, args[j])
				j++
			}
			i = j - 1
			continue
		}
		if v, ok := strings.CutPrefix(a, "--rules="); ok {
			rulePaths = append(rulePaths, v)
			continue
		}
		flagArgs = append(flagArgs, a)
	}
	if err := fset.Parse(flagArgs); err != nil {
		return 2
	}
	_ = jsonOut
	events = append(events, fset.Args()...)
	if len(rulePaths) == 0 || len(events) == 0 {
		fmt.Fprintln(stderr, "usage: tarian rules test --rules PATH... [--json] [--placeholder NAME=V1,V2]... EVENTS.jsonl...")
		return 2
	}
	values, err := placeholderValues(placeholders)
	if err != nil {
		fmt.Fprintf(stderr, "tarian rules test: %v\n", err)
		return 2
	}
	files, err := ruleFiles(rulePaths)
	if err != nil {
		fmt.Fprintf(stderr, "tarian rules test: %v\n", err)
		return 2
	}
	var rules []*sigma.Rule
	bad := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(stderr, "tarian rules test: %v\n", err)
			return 2
		}
		rs, perr := sigma.Parse(f, data)
		rules = append(rules, rs...)
		var errs sigma.Errors
		if errors.As(perr, &errs) {
			for _, e := range errs {
				fmt.Fprintf(stderr, "skipped: %v\n", e)
				bad++
			}
		}
	}
	mapping, err := detect.LoadMapping(*mappingFile)
	if err != nil {
		fmt.Fprintf(stderr, "tarian rules test: mapping: %v\n", err)
		return 2
	}
	eng, err := detect.Compile(rules, detect.Options{Mapping: mapping, Placeholders: values})
	if err != nil {
		fmt.Fprintf(stderr, "tarian rules test: %v\n", err)
		return 2
	}
	state := detect.NewState()
	// The events go through the server's parse stage, so a rule behaves
	// here as it does in production.
	pl, err := logparse.New(logparse.Config{})
	if err != nil {
		fmt.Fprintf(stderr, "tarian rules test: %v\n", err)
		return 2
	}
	parser := pl.NewParser()
	out := bufio.NewWriter(stdout)
	enc := json.NewEncoder(out)
	var nEvents, nMatches, nBad int
	start := time.Now()
	for _, path := range events {
		if err := testFile(eng, state, parser, path, enc, &nEvents, &nMatches, &nBad, stderr); err != nil {
			out.Flush()
			fmt.Fprintf(stderr, "tarian rules test: %v\n", err)
			return 2
		}
	}
	// No later event can join the windows still open: judge them now.
	var encErr error
	eng.CloseWindows(state, func(m detect.Match) {
		nMatches++
		if encErr == nil {
			encErr = enc.Encode(testMatch{RuleID: m.RuleID, Title: m.Title, Level: m.Level, File: endOfInput, Author: m.Author})
		}
	})
	if encErr != nil {
		out.Flush()
		fmt.Fprintf(stderr, "tarian rules test: %v\n", encErr)
		return 2
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(stderr, "tarian rules test: %v\n", err)
		return 2
	}
	el := time.Since(start)
	rate := 0.0
	if el > 0 {
		rate = float64(nEvents) / el.Seconds()
	}
	fmt.Fprintf(stderr, "%s loaded (%d not evaluated, %d failed to parse); %s, %s, %s; %.0f events/s\n",
		plural(eng.Rules(), "rule"), len(eng.Skipped()), bad, plural(nEvents, "event"), plural(nMatches, "match"), plural(nBad, "bad event"), rate)
	return 0
}

// placeholderValues reads --placeholder NAME=V1,V2 flags as the server
// keeps a tenant's values (tarian rules placeholders): a name given twice
// keeps its last values.
func placeholderValues(flags []string) (map[string][]string, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	out := map[string][]string{}
	for _, f := range flags {
		name, vals, ok := strings.Cut(f, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("--placeholder %q: want NAME=VALUE[,VALUE...]", f)
		}
		out[name] = strings.Split(vals, ",")
	}
	return out, nil
}

func testFile(eng *detect.Engine, state *detect.State, parser *logparse.Parser, path string, enc *json.Encoder, nEvents, nMatches, nBad *int, stderr io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	line := 0
	var evs []event.Event
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		*nEvents++
		var encErr error
		var err error
		evs, err = parser.ParseAs(logparse.Auto, event.Raw{Received: time.Now().UTC(), Source: envelopeOf(b), Data: b}, evs[:0])
		if err != nil {
			*nBad++
			fmt.Fprintf(stderr, "%s:%d: %v\n", path, line, err)
			continue
		}
		for _, ev := range evs {
			eng.EvaluateFields(state, ev.Fields, func(m detect.Match) {
				*nMatches++
				if encErr == nil {
					encErr = enc.Encode(testMatch{RuleID: m.RuleID, Title: m.Title, Level: m.Level, File: path, Line: line, Author: m.Author})
				}
			})
		}
		if encErr != nil {
			return encErr
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}
