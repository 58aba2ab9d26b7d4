package sniff

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestStrings(t *testing.T) {
	j := Of([]byte(`{"Event":{"System":{"EventID":4624}},"msg":"say \"winlog\" and \\","AdvancedHunting-DeviceEvents":1,"tail":"NonInteractiveUserSignInLogs"}`))
	for _, c := range []struct {
		what, s string
		f       func(string) bool
		want    bool
	}{
		{"key", "Event", j.Has, true},
		{"nested key", "EventID", j.Has, true},
		{"a number is not a string", "4624", j.Has, false},
		// Only whole strings: "winlog" inside a value with escaped
		// quotes is not a string of the record.
		{"quoted inside a value", "winlog", j.Has, false},
		{"value ending in an escaped backslash", `say \"winlog\" and \\`, j.Has, true},
		{"after that value", "AdvancedHunting-DeviceEvents", j.Has, true},
		{"part of a string", "Even", j.Has, false},
		{"empty", "", j.Has, false},
		{"prefix", "AdvancedHunting-", j.HasPrefix, true},
		{"not a prefix", "Hunting", j.HasPrefix, false},
		{"suffix", "SignInLogs", j.HasSuffix, true},
		{"not a suffix", "NonInteractive", j.HasSuffix, false},
	} {
		if got := c.f(c.s); got != c.want {
			t.Errorf("%s: %q = %v, want %v", c.what, c.s, got, c.want)
		}
	}
	// Text that is not JSON is read as far as it goes.
	if j := Of([]byte(`x "open`)); !j.Has("open") || j.Has("x") {
		t.Error(`unterminated string: want "open" only`)
	}
}

// TestStringsOfGeneratedJSON: in JSON written by encoding/json from random
// keys and values (quotes, backslashes, control characters, Unicode), a
// string is found exactly when the document holds it, as written.
func TestStringsOfGeneratedJSON(t *testing.T) {
	alphabet := []rune(`ab"\/{}[]:, ` + "\t\n\x01é€")
	word := func(r *rand.Rand) string {
		var b strings.Builder
		for range r.IntN(6) {
			b.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	written := func(s string) string { // s as JSON writes it, without its quotes
		b, _ := json.Marshal(s)
		return string(b[1 : len(b)-1])
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		doc := map[string]any{}
		held := map[string]bool{}
		for range r.IntN(5) {
			k := word(r)
			doc[k] = word(r)
		}
		for k, v := range doc {
			held[written(k)] = true
			held[written(v.(string))] = true
		}
		nested := map[string]any{"n": doc, "list": []any{word(r), 1, nil}}
		held["n"], held["list"] = true, true
		held[written(nested["list"].([]any)[0].(string))] = true
		data, err := json.Marshal(nested)
		if err != nil {
			t.Fatal(err)
		}
		j := Of(data)
		for s := range held {
			if s != "" && !j.Has(s) {
				t.Fatalf("%s: %q not found", data, s)
			}
		}
		for range 20 {
			s := written(word(r))
			if s != "" && j.Has(s) != held[s] {
				t.Fatalf("%s: Has(%q) = %v, want %v", data, s, j.Has(s), held[s])
			}
		}
	}
}

func TestNoAllocation(t *testing.T) {
	data := []byte(`{"EventID":4624,"Channel":"Security","TargetUserName":"alice"}`)
	var j JSON
	if n := testing.AllocsPerRun(100, func() { j.Reset(data); j.Has("Channel") }); n != 0 {
		t.Errorf("Reset and Has allocate %v times", n)
	}
}
