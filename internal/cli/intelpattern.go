package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/tarian-soc/tarian/internal/intel/stixpattern"
)

// intelPattern implements `tarian intel pattern validate|match ...`
// (offline); args are the words after "pattern". Exit codes:
//
//	validate: 0 all valid, 1 some invalid, 2 usage or I/O error
//	match:    0 match, 1 no_match, 2 parse_error or usage/I/O error, 3 eval_error
func intelPattern(_ context.Context, args []string, env Env) int {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, commandUsage([]string{"intel", "pattern"}))
		return 2
	}
	var code int
	var err error
	switch args[0] {
	case "validate":
		code, err = intelPatternValidate(args[1:], env)
	case "match":
		code, err = intelPatternMatch(args[1:], env)
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, commandUsage([]string{"intel", "pattern"}))
		return 0
	default:
		err = usageError(fmt.Sprintf("unknown intel pattern command %q\n%s", args[0],
			strings.TrimSuffix(commandUsage([]string{"intel", "pattern"}), "\n")))
	}
	var he helpError
	if errors.As(err, &he) {
		fmt.Fprint(env.Stdout, he.text)
		return 0
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "tarian intel pattern: %v\n", err)
		return 2
	}
	return code
}

// stixVersionFlag reads --stix-version.
func stixVersionFlag(fs *flag.FlagSet) *string {
	return fs.String("stix-version", "2.1", "grammar of the patterns: 2.1, or 2.0 (START/STOP may then take string literals)")
}

func stixOptions(version string, strict bool) (stixpattern.Options, error) {
	opts := stixpattern.Options{Strict: strict}
	switch version {
	case "2.1":
	case "2.0":
		opts.Version = stixpattern.V20
	default:
		return opts, usageError(fmt.Sprintf("--stix-version %q: want 2.1 or 2.0", version))
	}
	return opts, nil
}

type patternResult struct {
	Line    int     `json:"line"`
	Pattern string  `json:"pattern"`
	Valid   bool    `json:"valid"`
	Error   *string `json:"error"`
}

// intelPatternValidate is `tarian intel pattern validate [--json] FILE`:
// one pattern a line (blank lines and lines starting with # skipped), one
// result a line in input order.
func intelPatternValidate(args []string, env Env) (int, error) {
	fs := newFlagSet("intel pattern validate", env)
	asJSON := fs.Bool("json", false, `print one JSON object a line: {"line":N,"pattern":...,"valid":bool,"error":...}`)
	strict := fs.Bool("strict", false, "also apply the naming rules for object types and properties, and one object type per AND-joined observation expression")
	version := stixVersionFlag(fs)
	files, err := parse(fs, args)
	if err != nil {
		return 0, err
	}
	if len(files) != 1 {
		return 0, usageError("want one FILE (- for stdin)\n" + strings.TrimSuffix(flagsHelp(fs), "\n"))
	}
	opts, err := stixOptions(*version, *strict)
	if err != nil {
		return 0, err
	}
	data, err := readInput(files[0], env.Stdin)
	if err != nil {
		return 0, err
	}
	out := bufio.NewWriter(env.Stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	code := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		res := patternResult{Line: n, Pattern: line, Valid: true}
		if _, err := stixpattern.Validate(line, opts); err != nil {
			msg := err.Error()
			res.Valid, res.Error = false, &msg
			code = 1
		}
		switch {
		case *asJSON:
			if err := enc.Encode(res); err != nil {
				return 0, err
			}
		case res.Valid:
			fmt.Fprintln(out, "ok")
		default:
			fmt.Fprintf(out, "invalid: %s\n", *res.Error)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read %s: %w", files[0], err)
	}
	if err := out.Flush(); err != nil {
		return 0, err
	}
	return code, nil
}

// intelPatternMatch is `tarian intel pattern match --pattern P OBSERVED.json`.
func intelPatternMatch(args []string, env Env) (int, error) {
	fs := newFlagSet("intel pattern match", env)
	pattern := fs.String("pattern", "", "the STIX pattern (required)")
	version := stixVersionFlag(fs)
	files, err := parse(fs, args)
	if err != nil {
		return 0, err
	}
	if *pattern == "" || len(files) != 1 {
		return 0, usageError("want --pattern PATTERN and one OBSERVED.json (- for stdin)\n" + strings.TrimSuffix(flagsHelp(fs), "\n"))
	}
	opts, err := stixOptions(*version, false)
	if err != nil {
		return 0, err
	}
	data, err := readInput(files[0], env.Stdin)
	if err != nil {
		return 0, err
	}
	obs, err := stixpattern.DecodeObservedData(data)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", files[0], err)
	}
	// Like the reference matcher, only the grammar is checked here: the
	// semantic rules are for `validate`, and WITHIN 0 is an eval_error.
	p, err := stixpattern.ParseOptions(*pattern, opts)
	if err != nil {
		fmt.Fprintf(env.Stdout, "parse_error: %v\n", err)
		return 2, nil
	}
	matched, err := p.Match(obs)
	switch {
	case err != nil:
		fmt.Fprintf(env.Stdout, "eval_error: %v\n", err)
		return 3, nil
	case matched:
		fmt.Fprintln(env.Stdout, "match")
		return 0, nil
	default:
		fmt.Fprintln(env.Stdout, "no_match")
		return 1, nil
	}
}
