package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// runIntelPattern calls intelPattern with stdin and returns the exit code,
// stdout and stderr.
func runIntelPattern(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	code := intelPattern(context.Background(), args, env)
	return code, out.String(), errb.String()
}

func TestIntelPatternValidate(t *testing.T) {
	input := strings.Join([]string{
		"# comment",
		"[ipv4-addr:value = '198.51.100.1']",
		"",
		"[file:size = ]",
		"[file:hashes.MD5 = 'abc']",
		"  # indented comment",
		"[a:b = 1] WITHIN 5 SECONDS",
	}, "\n")
	code, out, errs := runIntelPattern(t, input, "validate", "-")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (stderr %q)", code, errs)
	}
	want := "ok\n" +
		"invalid: line 1:13: mismatched input ']' expecting a literal\n" +
		"invalid: line 1:1: 'abc' is not a valid MD5 hash\n" +
		"ok\n"
	if d := cmp.Diff(want, out); d != "" {
		t.Errorf("output (-want +got):\n%s", d)
	}

	code, out, _ = runIntelPattern(t, input, "validate", "--json", "-")
	if code != 1 {
		t.Fatalf("--json: exit %d, want 1", code)
	}
	var got []patternResult
	for line := range strings.Lines(out) {
		var r patternResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		got = append(got, r)
	}
	if len(got) != 4 || got[0].Line != 2 || !got[0].Valid || got[0].Error != nil ||
		got[1].Line != 4 || got[1].Valid || got[1].Error == nil || got[1].Pattern != "[file:size = ]" ||
		got[3].Line != 7 || !got[3].Valid {
		t.Errorf("--json results: %+v", got)
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "ok.txt")
	if err := os.WriteFile(file, []byte("[a:b = 1]\r\n[c:d = 'x'] OR [e:f > 2]\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runIntelPattern(t, "", "validate", file); code != 0 || out != "ok\nok\n" {
		t.Errorf("all valid: exit %d, output %q", code, out)
	}
	if code, _, errs := runIntelPattern(t, "", "validate", filepath.Join(dir, "missing.txt")); code != 2 || errs == "" {
		t.Errorf("missing file: exit %d, stderr %q", code, errs)
	}
	if code, _, _ := runIntelPattern(t, "", "validate"); code != 2 {
		t.Errorf("no FILE: exit %d, want 2", code)
	}
	if code, _, _ := runIntelPattern(t, "[x:y = 1]", "validate", "--strict", "-"); code != 1 {
		t.Errorf("--strict: exit %d, want 1", code)
	}
}

const testObserved = `{"type":"bundle","id":"bundle--1","objects":[
 {"type":"observed-data","id":"observed-data--1","first_observed":"2020-01-01T00:00:00Z","last_observed":"2020-01-01T00:00:00Z","number_observed":1,"object_refs":["ipv4-addr--1"]},
 {"type":"ipv4-addr","id":"ipv4-addr--1","value":"198.51.100.1","when":"not a time"}]}`

func TestIntelPatternMatch(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "observed.json")
	if err := os.WriteFile(file, []byte(testObserved), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pattern  string
		code     int
		outStart string
	}{
		{`[ipv4-addr:value = '198.51.100.1']`, 0, "match\n"},
		{`[ipv4-addr:value ISSUBSET '198.51.100.0/24'] WITHIN 5 SECONDS`, 0, "match\n"},
		{`[ipv4-addr:value = '198.51.100.2']`, 1, "no_match\n"},
		{`[ipv4-addr:value = ]`, 2, "parse_error: line 1:19: mismatched input ']'"},
		{`[ipv4-addr:when > t'2020-01-01T00:00:00Z']`, 3, "eval_error: invalid timestamp in data"},
		{`[ipv4-addr:value = '198.51.100.1'] WITHIN 0 SECONDS`, 3, "eval_error: "},
	} {
		code, out, errs := runIntelPattern(t, "", "match", "--pattern", tc.pattern, file)
		if code != tc.code || !strings.HasPrefix(out, tc.outStart) {
			t.Errorf("match %s: exit %d, output %q (stderr %q); want %d, %q", tc.pattern, code, out, errs, tc.code, tc.outStart)
		}
	}
	// stdin, and the flag after the file
	if code, out, _ := runIntelPattern(t, testObserved, "match", "-", "--pattern", `[ipv4-addr:value = '198.51.100.1']`); code != 0 || out != "match\n" {
		t.Errorf("stdin: exit %d, output %q", code, out)
	}
	// STIX 2.0 START/STOP with strings
	obs20 := `[{"type":"observed-data","first_observed":"2020-01-01T00:00:00Z","last_observed":"2020-01-01T00:00:00Z","number_observed":1,"objects":{"0":{"type":"file","name":"a"}}}]`
	p20 := `[file:name = 'a'] START '2019-12-31T00:00:00Z' STOP '2020-01-02T00:00:00Z'`
	if code, out, _ := runIntelPattern(t, obs20, "match", "--stix-version", "2.0", "--pattern", p20, "-"); code != 0 {
		t.Errorf("2.0: exit %d, output %q", code, out)
	}
	if code, _, _ := runIntelPattern(t, obs20, "match", "--pattern", p20, "-"); code != 2 {
		t.Errorf("2.0 syntax under 2.1: exit %d, want 2", code)
	}
	for _, args := range [][]string{
		{"match", file},
		{"match", "--pattern", "[a:b = 1]"},
		{"match", "--pattern", "[a:b = 1]", "--stix-version", "3", file},
		{"match", "--pattern", "[a:b = 1]", filepath.Join(dir, "missing.json")},
		{"frobnicate"},
		{},
	} {
		if code, _, errs := runIntelPattern(t, "", args...); code != 2 || errs == "" {
			t.Errorf("%q: exit %d, stderr %q; want 2 and a message", args, code, errs)
		}
	}
	if code, _, errs := runIntelPattern(t, "not json", "match", "--pattern", "[a:b = 1]", "-"); code != 2 || !strings.Contains(errs, "decode observed-data") {
		t.Errorf("bad JSON: exit %d, stderr %q", code, errs)
	}
}

// TestIntelPatternCorpus runs the validate command over the corpus files:
// every valid pattern is ok, every invalid one is reported.
func TestIntelPatternCorpus(t *testing.T) {
	root := os.Getenv("TARIAN_CORPUS")
	if root == "" {
		t.Skip("TARIAN_CORPUS is not set: skipping the STIX pattern corpus CLI test")
	}
	dir := filepath.Join(root, "intel", "stix-patterns")
	count := func(name string) int {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		n := 0
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
				n++
			}
		}
		return n
	}
	code, out, errs := runIntelPattern(t, "", "validate", filepath.Join(dir, "valid.txt"))
	if code != 0 || strings.Count(out, "ok\n") != count("valid.txt") {
		t.Errorf("valid.txt: exit %d, stderr %q, output:\n%s", code, errs, out)
	}
	code, out, _ = runIntelPattern(t, "", "validate", filepath.Join(dir, "invalid.txt"))
	if code != 1 || strings.Count(out, "invalid: ") != count("invalid.txt") || strings.Contains(out, "ok\n") {
		t.Errorf("invalid.txt: exit %d, output:\n%s", code, out)
	}
}
