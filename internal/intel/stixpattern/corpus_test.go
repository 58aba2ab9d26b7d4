package stixpattern

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// corpusDir returns the STIX pattern corpus, or skips the test when
// TARIAN_CORPUS is not set.
func corpusDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("TARIAN_CORPUS")
	if root == "" {
		t.Skip("TARIAN_CORPUS is not set: skipping the STIX pattern corpus tests (set it to the shared corpus directory)")
	}
	return filepath.Join(root, "intel", "stix-patterns")
}

// patternLines reads a one-pattern-a-line file, skipping blanks and # comments.
func patternLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no patterns", path)
	}
	return out
}

func jsonLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for i, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%s:%d: %v", path, i+1, err)
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no cases", path)
	}
	return out
}

func TestPatternCorpusValid(t *testing.T) {
	dir := corpusDir(t)
	pats := patternLines(t, filepath.Join(dir, "valid.txt"))
	pass := 0
	for _, p := range pats {
		if _, err := Validate(p, Options{}); err != nil {
			t.Errorf("valid pattern rejected: %s\n  %v", p, err)
			continue
		}
		pass++
	}
	t.Logf("valid.txt: %d/%d pass", pass, len(pats))
}

func TestPatternCorpusInvalid(t *testing.T) {
	dir := corpusDir(t)
	pats := patternLines(t, filepath.Join(dir, "invalid.txt"))
	pass := 0
	for _, p := range pats {
		_, err := Validate(p, Options{})
		if err == nil {
			t.Errorf("invalid pattern accepted: %s", p)
			continue
		}
		t.Logf("%s\n  -> %v", p, err)
		pass++
	}
	t.Logf("invalid.txt: %d/%d pass", pass, len(pats))
}

var refPos = regexp.MustCompile(`line (\d+):(\d*)`)

// TestCorpusInvalidReason checks the reason: the position the reference
// validator reports, or the semantic rule it names.
func TestPatternCorpusInvalidReason(t *testing.T) {
	dir := corpusDir(t)
	cases := jsonLines(t, filepath.Join(dir, "invalid-with-reason.jsonl"))
	pass := 0
	for _, c := range cases {
		p, want := c["pattern"].(string), c["validator_error_prefix"].(string)
		_, err := Validate(p, Options{})
		if err == nil {
			t.Errorf("invalid pattern accepted: %s", p)
			continue
		}
		got := err.Error()
		ok := true
		if m := refPos.FindStringSubmatch(want); m != nil {
			wantPos := fmt.Sprintf("line %s:", m[1])
			if m[2] != "" {
				wantPos = "line " + m[1] + ":" + m[2] + ":"
			}
			ok = strings.HasPrefix(got, wantPos)
		} else {
			// A semantic failure: the message names the same thing.
			want = strings.TrimPrefix(want, "FAIL: ")
			ok = strings.Contains(got, want)
		}
		if !ok {
			t.Errorf("%s\n  got:  %s\n  want: %s", p, got, c["validator_error_prefix"])
			continue
		}
		pass++
	}
	t.Logf("invalid-with-reason.jsonl: %d/%d pass", pass, len(cases))
}

func TestPatternCorpusInspect(t *testing.T) {
	dir := corpusDir(t)
	cases := jsonLines(t, filepath.Join(dir, "inspect-cases.jsonl"))
	pass := 0
	for _, c := range cases {
		src := c["pattern"].(string)
		p, err := Validate(src, Options{})
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		in := p.Inspect()
		var got any
		switch c["check"] {
		case "qualifiers":
			got = in.Qualifiers
		case "observation_ops":
			got = in.ObservationOps
		case "comparisons":
			m := map[string]any{}
			for typ, tuples := range in.Comparisons {
				var l []any
				for _, tu := range tuples {
					l = append(l, []any{tu.Path, tu.Op, tu.Literal})
				}
				m[typ] = l
			}
			got = m
		default:
			t.Fatalf("unknown check %v", c["check"])
		}
		// Compare through JSON so both sides have the same types.
		gotJSON, _ := json.Marshal(got)
		var gotAny any
		_ = json.Unmarshal(gotJSON, &gotAny)
		if d := cmp.Diff(c["expected"], gotAny); d != "" {
			t.Errorf("%s %s (-want +got):\n%s", c["check"], src, d)
			continue
		}
		pass++
	}
	t.Logf("inspect-cases.jsonl: %d/%d pass", pass, len(cases))
}

func TestPatternCorpusMatcher(t *testing.T) {
	dir := filepath.Join(corpusDir(t), "matcher")
	cases := jsonLines(t, filepath.Join(dir, "cases.jsonl"))
	obsCache := map[string][]ObservedData{}
	pass := 0
	counts := map[string][2]int{}
	for _, c := range cases {
		id, src, want := c["id"].(string), c["pattern"].(string), c["expect"].(string)
		file := c["observations"].(string)
		obs, ok := obsCache[file]
		if !ok {
			data, err := os.ReadFile(filepath.Join(dir, "observations", file+".json"))
			if err != nil {
				t.Fatal(err)
			}
			obs, err = DecodeObservedData(data)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			obsCache[file] = obs
		}
		opts := Options{}
		if c["stix_version"] == "2.0" {
			opts.Version = V20
		}
		got := ""
		p, err := ParseOptions(src, opts)
		if err != nil {
			got = "parse_error"
		} else {
			matched, err := p.Match(obs)
			var ee *EvalError
			switch {
			case errors.As(err, &ee):
				got = "eval_error"
			case err != nil:
				t.Fatalf("%s: unexpected error type %T: %v", id, err, err)
			case matched:
				got = "match"
			default:
				got = "no_match"
			}
		}
		n := counts[want]
		n[1]++
		if got != want {
			t.Errorf("%s: %s: got %s, want %s (err %v)", id, src, got, want, err)
		} else {
			pass++
			n[0]++
		}
		counts[want] = n
	}
	t.Logf("matcher/cases.jsonl: %d/%d pass (by expected result: %v)", pass, len(cases), counts)
}
