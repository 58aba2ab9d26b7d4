package stixpattern

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// bundle builds a STIX 2.1 bundle with one observed-data per SCO; each
// entry is "first_observed|number_observed|SCO JSON".
func bundle(entries ...string) string {
	var objs []string
	for i, e := range entries {
		parts := strings.SplitN(e, "|", 3)
		id := fmt.Sprintf("x--%d", i)
		sco := strings.Replace(parts[2], "{", fmt.Sprintf(`{"id":%q,`, id), 1)
		objs = append(objs, fmt.Sprintf(`{"type":"observed-data","id":"observed-data--%d","first_observed":%q,"last_observed":%q,"number_observed":%s,"object_refs":[%q]}`,
			i, parts[0], parts[0], parts[1], id), sco)
	}
	return `{"type":"bundle","id":"bundle--1","objects":[` + strings.Join(objs, ",") + `]}`
}

func TestPatternMatch(t *testing.T) {
	data := bundle(
		`2020-01-01T00:00:00Z|1|{"type":"ipv4-addr","value":"198.51.100.7"}`,
		`2020-01-01T00:00:10Z|1|{"type":"domain-name","value":"evil.example","resolves_to_refs":["x--0"]}`,
		`2020-01-01T00:00:20Z|3|{"type":"file","name":"a.exe","size":2048,"hashes":{"MD5":"cead3f77f6cda6ec00f57d76c9a6879f"},"tags":["x","y"],"payload_bin":"AQID","magic_hex":"ffd8"}`,
		`2020-01-01T00:01:00Z|1|{"type":"process","command_line":"cmd.exe /c whoami","pid":4,"created":"2020-01-01T00:01:00Z"}`,
	)
	obs, err := DecodeObservedData([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(obs) != 4 {
		t.Fatalf("decoded %d observed-data, want 4", len(obs))
	}
	for _, tc := range []struct {
		pattern string
		want    bool
	}{
		{`[ipv4-addr:value = '198.51.100.7']`, true},
		{`[ipv4-addr:value = '198.51.100.8']`, false},
		{`[ipv4-addr:value ISSUBSET '198.51.100.0/24']`, true},
		{`[ipv4-addr:value ISSUBSET '198.51.101.0/24']`, false},
		{`[ipv4-addr:value NOT ISSUBSET '10.0.0.0/8']`, true},
		// References resolve only among the objects of the same
		// observed-data (its object_refs); see TestMatchRefs.
		{`[domain-name:resolves_to_refs[*].value = '198.51.100.7']`, false},
		{`[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f']`, true},
		{`[file:hashes.'MD5' = 'cead3f77f6cda6ec00f57d76c9a6879f' AND file:size > 1024]`, true},
		{`[file:name = 'a.exe' AND file:size < 1024]`, false},
		{`[file:name = 'a.exe' AND process:pid = 4]`, false}, // different observed-data
		{`[file:size IN (1024, 2048.0)]`, true},
		{`[file:size = 2048.0]`, true},
		{`[file:size = '2048']`, false},
		{`[file:tags[*] = 'y']`, true},
		{`[file:tags[-1] = 'y']`, true},
		{`[file:tags[*] NOT = 'y']`, true}, // "x" is not "y"
		{`[file:payload_bin = b'AQID']`, true},
		{`[file:payload_bin = h'010203']`, true},
		{`[file:magic_hex = h'FFD8']`, true},
		{`[file:name LIKE '_.e%']`, true},
		{`[file:name LIKE 'A%']`, false},
		{`[file:name MATCHES '^[a-z]\\.exe$']`, true},
		{`[file:name NOT MATCHES 'exe']`, false},
		{`[process:command_line MATCHES 'who(ami)?']`, true},
		{`[process:created = t'2020-01-01T00:01:00Z']`, true},
		{`[process:created > t'2020-01-01T00:00:59.999Z']`, true},
		{`[file:missing = 1]`, false},
		{`[file:missing != 1]`, false},
		{`[file:name != 'b.exe']`, true},
		{`[file:name > 'a']`, true},
		{`[file:size > 'abc']`, false}, // no order between number and string
		{`[file:size NOT > 'abc']`, true},
		{`[file:name = 'a.exe' AND EXISTS file:hashes.MD5]`, true},
		{`[NOT EXISTS file:hashes.MD5]`, false},
		{`[NOT EXISTS file:hashes.SHA1]`, true},
		// observation operators and qualifiers
		{`[ipv4-addr:value = '198.51.100.7'] AND [domain-name:value = 'evil.example']`, true},
		{`[ipv4-addr:value = '198.51.100.7'] FOLLOWEDBY [domain-name:value = 'evil.example']`, true},
		{`[domain-name:value = 'evil.example'] FOLLOWEDBY [ipv4-addr:value = '198.51.100.7']`, false},
		{`[ipv4-addr:value = '198.51.100.7'] AND [ipv4-addr:value = '198.51.100.7']`, false}, // one observation
		{`([ipv4-addr:value = '198.51.100.7'] AND [domain-name:value = 'evil.example']) WITHIN 10 SECONDS`, true},
		{`([ipv4-addr:value = '198.51.100.7'] AND [domain-name:value = 'evil.example']) WITHIN 9.5 SECONDS`, false},
		{`[ipv4-addr:value = '0.0.0.0'] OR [process:pid = 4]`, true},
		{`[file:name = 'a.exe'] REPEATS 3 TIMES`, true}, // number_observed 3
		{`[file:name = 'a.exe'] REPEATS 4 TIMES`, false},
		{`[file:name = 'a.exe'] AND [file:size = 2048]`, true}, // two of the three observations
		{`[file:name = 'a.exe'] START t'2020-01-01T00:00:20Z' STOP t'2020-01-01T00:00:21Z'`, true},
		{`[file:name = 'a.exe'] START t'2020-01-01T00:00:00Z' STOP t'2020-01-01T00:00:20Z'`, false},
		{`[file:name = 'a.exe'] START t'2020-01-02T00:00:00Z' STOP t'2020-01-01T00:00:00Z'`, false},
	} {
		p, err := Parse(tc.pattern)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.pattern, err)
		}
		got, err := p.Match(obs)
		if err != nil {
			t.Errorf("Match(%q): %v", tc.pattern, err)
			continue
		}
		if got != tc.want {
			t.Errorf("Match(%q) = %v, want %v", tc.pattern, got, tc.want)
		}
	}
}

func TestPatternMatchRefs(t *testing.T) {
	const data = `[{"type":"observed-data","id":"observed-data--1","first_observed":"2020-01-01T00:00:00Z","last_observed":"2020-01-01T00:00:00Z","number_observed":1,
	  "object_refs":["network-traffic--1","ipv4-addr--1","ipv4-addr--2"]},
	 {"type":"network-traffic","id":"network-traffic--1","src_ref":"ipv4-addr--1","dst_ref":"ipv4-addr--2","protocols":["tcp"]},
	 {"type":"ipv4-addr","id":"ipv4-addr--1","value":"10.0.0.1"},
	 {"type":"ipv4-addr","id":"ipv4-addr--2","value":"203.0.113.5"},
	 {"type":"ipv4-addr","id":"ipv4-addr--3","value":"192.0.2.1"}]`
	obs, err := DecodeObservedData([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pattern string
		want    bool
	}{
		{`[network-traffic:dst_ref.value = '203.0.113.5']`, true},
		{`[network-traffic:src_ref.value ISSUBSET '10.0.0.0/8' AND network-traffic:dst_ref.value = '203.0.113.5']`, true},
		{`[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:protocols[*] = 'tcp']`, true},
		{`[network-traffic:src_ref.value = '203.0.113.5']`, false},
		{`[ipv4-addr:value = '192.0.2.1']`, false}, // not in object_refs
		{`[network-traffic:protocols[0] = 'tcp' AND ipv4-addr:value = '10.0.0.1']`, true},
	} {
		p, err := Parse(tc.pattern)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.pattern, err)
		}
		got, err := p.Match(obs)
		if err != nil || got != tc.want {
			t.Errorf("Match(%q) = %v, %v; want %v", tc.pattern, got, err, tc.want)
		}
	}
}

func TestPatternMatchEvalErrors(t *testing.T) {
	obs, err := DecodeObservedData([]byte(bundle(
		`2020-01-01T00:00:00Z|1|{"type":"x-thing","when":"yesterday","name":"n","ref_ref":5,"bad_hex":"zz"}`,
	)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ pattern, want string }{
		{`[x-thing:when = t'2020-01-01T00:00:00Z']`, "invalid timestamp in data"},
		{`[x-thing:name IN (1, 'a')]`, "set literal of mixed types"},
		{`[x-thing:name MATCHES '(?=x)']`, "unsupported or invalid regular expression"},
		{`[x-thing:name MATCHES '(a)\\1']`, "unsupported or invalid regular expression"},
		{`[x-thing:name ISSUBSET 'not-a-net']`, "not an IP address or CIDR block"},
		{`[x-thing:ref_ref.name = 'n']`, "is not a string"},
		{`[x-thing:bad_hex = h'00']`, "is not hex"},
		{`[x-thing:name = 'n'] WITHIN 0 SECONDS`, "WITHIN"},
	} {
		p, err := Parse(tc.pattern)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.pattern, err)
		}
		_, err = p.Match(obs)
		var ee *EvalError
		if !errors.As(err, &ee) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Match(%q): got %v, want an EvalError containing %q", tc.pattern, err, tc.want)
		}
	}
}

func TestPatternMatchBudget(t *testing.T) {
	var entries []string
	for i := range 40 {
		entries = append(entries, fmt.Sprintf(`2020-01-01T00:00:%02dZ|1|{"type":"a","n":%d}`, i, i))
	}
	obs, err := DecodeObservedData([]byte(bundle(entries...)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(`[a:n >= 0] REPEATS 20 TIMES WITHIN 5 SECONDS`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.MatchOptions(obs, MatchOptions{MaxSteps: 10_000})
	var ee *EvalError
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "too expensive") {
		t.Fatalf("got %v, want the budget EvalError", err)
	}
}

func TestPatternDecodeObservedData(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		n          int
		wantErr    string
	}{
		{"single 2.0", `{"type":"observed-data","first_observed":"2020-01-01T00:00:00Z","last_observed":"2020-01-01T00:00:00Z","number_observed":2,"objects":{"0":{"type":"file","name":"a"}}}`, 1, ""},
		{"array of bundles", `[` + bundle(`2020-01-01T00:00:00Z|1|{"type":"a"}`) + `,` + bundle(`2020-01-01T00:00:00Z|1|{"type":"b"}`) + `]`, 2, ""},
		{"missing first_observed", `{"type":"observed-data","last_observed":"2020-01-01T00:00:00Z","number_observed":1}`, 0, "missing first_observed"},
		{"bad number_observed", `{"type":"observed-data","first_observed":"2020-01-01T00:00:00Z","last_observed":"2020-01-01T00:00:00Z","number_observed":0}`, 0, "number_observed"},
		{"bad timestamp", `{"type":"observed-data","first_observed":"2020-01-01","last_observed":"2020-01-01T00:00:00Z","number_observed":1}`, 0, "invalid timestamp"},
		{"not json", `[`, 0, "decode observed-data"},
	} {
		obs, err := DecodeObservedData([]byte(tc.json))
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: got %v, want error %q", tc.name, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case len(obs) != tc.n:
			t.Errorf("%s: %d observed-data, want %d", tc.name, len(obs), tc.n)
		}
	}
}

func TestPatternMatchConcurrent(t *testing.T) {
	obs, err := DecodeObservedData([]byte(bundle(`2020-01-01T00:00:00Z|1|{"type":"url","value":"http://evil.example/x"}`)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(`[url:value MATCHES '^https?://evil\\.example/']`)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			ok, err := p.Match(obs)
			if err == nil && !ok {
				err = fmt.Errorf("no match")
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
