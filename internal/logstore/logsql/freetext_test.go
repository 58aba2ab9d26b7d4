package logsql

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
)

// textQueryTests are LogsQL queries and what TextQuery makes of them with
// the one text field F; want "" means unchanged.
var textQueryTests = []struct{ in, want string }{
	{`mimikatz`, `(mimikatz or "F":mimikatz)`},
	{`"sekurlsa::logonpasswords"`, `("sekurlsa::logonpasswords" or "F":"sekurlsa::logonpasswords")`},
	{`'a b'`, `('a b' or "F":'a b')`},
	{`mimi*`, `(mimi* or "F":mimi*)`},
	{`*katz*`, `(*katz* or "F":*katz*)`},
	{`foo-bar.exe`, `(foo-bar.exe or "F":foo-bar.exe)`},
	{`-foo`, `-(foo or "F":foo)`},
	{`!foo`, `!(foo or "F":foo)`},
	{`NOT foo`, `NOT (foo or "F":foo)`},
	{`a AND b OR c`, `(a or "F":a) AND (b or "F":b) OR (c or "F":c)`},
	{`(a or b) -c`, `((a or "F":a) or (b or "F":b)) -(c or "F":c)`},
	{`i(mimikatz)`, `(i(mimikatz) or "F":i(mimikatz))`},
	{`i(mimi*)`, `(i(mimi*) or "F":i(mimi*))`},
	{`re("mimi.+katz")`, `(re("mimi.+katz") or "F":re("mimi.+katz"))`},
	{`~"mimi.+katz"`, `(~"mimi.+katz" or "F":~"mimi.+katz")`},
	{`!~"katz"`, `!(~"katz" or "F":~"katz")`},
	{`=mimikatz.exe`, `(=mimikatz.exe or "F":=mimikatz.exe)`},
	{`!=mimikatz.exe`, `!(=mimikatz.exe or "F":=mimikatz.exe)`},
	{`=mimi*`, `(=mimi* or "F":=mimi*)`},
	{`exact("a b")`, `(exact("a b") or "F":exact("a b"))`},
	{`seq("a", "b")`, `(seq("a", "b") or "F":seq("a", "b"))`},
	{`contains_any(a, b)`, `(contains_any(a, b) or "F":contains_any(a, b))`},
	{`contains_all(a, b)`, `(contains_all(a, b) or "F":contains_all(a, b))`},
	{`in(a, b)`, `(in(a, b) or "F":in(a, b))`},
	{`pattern_match("<N>.<N>")`, `(pattern_match("<N>.<N>") or "F":pattern_match("<N>.<N>"))`},
	{`contains_common_case("Foo")`, `(contains_common_case("Foo") or "F":contains_common_case("Foo"))`},
	// Words that are also filter names, without their "(".
	{`i re range in_x`, `(i or "F":i) (re or "F":re) (range or "F":range) (in_x or "F":in_x)`},
	{`_time _stream`, `(_time or "F":_time) (_stream or "F":_stream)`},
	// After a word LogsQL could read as a function name.
	{`x:i 0`, `x:i and (0 or "F":0)`},
	{`x:RANGE -y`, `x:RANGE -(y or "F":y)`},
	{`x:re !=y`, `x:re and !(=y or "F":=y)`},
	// A filter may follow a glue character or "!" unspaced, not ")".
	{`a-!b`, `(a- or "F":a-) !(b or "F":b)`},
	{`(a)`, `((a or "F":a))`},
	// Field-qualified filters keep their meaning.
	{`user.name:alice`, ``},
	{`user.name:alice mimikatz`, `user.name:alice (mimikatz or "F":mimikatz)`},
	{`user.name:(alice bob)`, ``},
	{`user.name:-alice`, ``},
	{`"process.command_line":mimikatz`, ``},
	{`_msg:mimikatz`, ``},
	{`*:mimikatz`, ``},
	{`process.*:mimikatz`, ``},
	{`EventID:=1`, ``},
	{`source.port:>1024 x`, `source.port:>1024 (x or "F":x)`},
	// message is _msg.
	{`message:error`, `_msg:error`},
	{`"message":(a b)`, `_msg:(a b)`},
	{`-message:error x`, `-_msg:error (x or "F":x)`},
	// Not text, or matching an empty message: as LogsQL says.
	{`*`, ``},
	{`""`, ``},
	{`~".*"`, ``},
	{`re("")`, ``},
	{`>5`, ``},
	{`range(1, 5]`, ``},
	{`len_range(1, 5)`, ``},
	{`ipv4_range(10.0.0.0/8)`, ``},
	{`string_range(a, b)`, ``},
	{`value_type(dict)`, ``},
	{`eq_field(a)`, ``},
	{`in(*)`, ``},
	{`in(x | fields y)`, ``},
	{`{host.name="fw01"}`, ``},
	// Time, stream and options around text.
	{`_time:5m mimikatz`, `_time:5m (mimikatz or "F":mimikatz)`},
	{`_time:[2026-01-01, 2026-02-01) x`, `_time:[2026-01-01, 2026-02-01) (x or "F":x)`},
	{`_time:(2026-01-01, 2026-02-01] x`, `_time:(2026-01-01, 2026-02-01] (x or "F":x)`},
	{`_time:1h offset 5m x`, `_time:1h offset 5m (x or "F":x)`},
	{`_time:day_range[08:00, 18:00) offset 2h x`, `_time:day_range[08:00, 18:00) offset 2h (x or "F":x)`},
	{`_time:>2026-01-01 x`, `_time:>2026-01-01 (x or "F":x)`},
	{`{host.name="fw01"} x`, `{host.name="fw01"} (x or "F":x)`},
	{`_stream:{host.name=~"fw.*"} x`, `_stream:{host.name=~"fw.*"} (x or "F":x)`},
	{`options(concurrency=2) x`, `options(concurrency=2) (x or "F":x)`},
	{`source.ip:in(x | fields source.ip) y`, `source.ip:in(x | fields source.ip) (y or "F":y)`},
	{`f:range[1, 5) x`, `f:range[1, 5) (x or "F":x)`},
	// Pipes: the filter before them and filter pipes.
	{`mimikatz | stats by (host.name) count()`, `(mimikatz or "F":mimikatz) | stats by (host.name) count()`},
	{`* | stats count() if (x) as n | filter n:>0 y`, `* | stats count() if (x) as n | filter n:>0 (y or "F":y)`},
	{`a | where b | sort by (_time) | fields _msg`, `(a or "F":a) | where (b or "F":b) | sort by (_time) | fields _msg`},
	{`a | join by (x) (b | fields x)`, `(a or "F":a) | join by (x) (b | fields x)`},
	{`a;`, `(a or "F":a);`},
	// Comments.
	{"a # a comment\n b", "(a or \"F\":a) # a comment\n (b or \"F\":b)"},
	// Not LogsQL: left to the engine to say so.
	{`a:(`, ``},
	{`(a`, ``},
}

// storedAs is a store that keeps alias.X as X.
func storedAs(name string) (string, bool) {
	if rest, ok := strings.CutPrefix(name, "alias."); ok && rest != "" {
		return rest, true
	}
	return "", false
}

// TestTextQueryAliases: a filter on a name the store keeps under another
// is renamed, wherever a filter names its field (and only there), and
// then matches the event as stored as the original matches it with the
// alias.
func TestTextQueryAliases(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`alias.EventID:4624`, `"EventID":4624`},
		{`"alias.EventID":=4624`, `"EventID":=4624`},
		{`alias.Image:*mimikatz* and not alias.User:admin`, `"Image":*mimikatz* and not "User":admin`},
		{`x | filter alias.EventID:4688`, `(x or "F":x) | filter "EventID":4688`},
		{`alias.EventID:in(1, 2) mimikatz`, `"EventID":in(1, 2) (mimikatz or "F":mimikatz)`},
		{`alias.CommandLine:i(whoami)`, `"CommandLine":i(whoami)`},
		{`EventID:4624 alias.:x`, `EventID:4624 alias.:x`},
		{`alias.EventID`, `(alias.EventID or "F":alias.EventID)`},
		// Other pipes name fields too: grouping, counting if, keeping,
		// sorting by an alias means the stored field, not a missing one.
		{`* | stats by (alias.IpAddress) count()`, `* | stats by ("IpAddress") count()`},
		{`* | stats count() if (alias.EventID:4625) as fails`, `* | stats count() if ("EventID":4625) as fails`},
		{`* | fields alias.User, _time | sort by (alias.User desc)`, `* | fields "User", _time | sort by ("User" desc)`},
		{`* | uniq by (alias.Computer, host.name) | limit 5`, `* | uniq by ("Computer", host.name) | limit 5`},
		{`* | stats by (x) count() as alias.EventID`, `* | stats by (x) count() as alias.EventID`},
		{`* | rename alias.EventID as id`, `* | rename "EventID" as id`},
		// A subquery's filter and pipes, but not a function's arguments.
		{`alias.EventID:in(* | filter alias.EventID:4625 | fields alias.EventID)`, `"EventID":in(* | filter "EventID":4625 | fields "EventID")`},
		{`* | join by (alias.IpAddress) (alias.EventID:4624 | fields alias.IpAddress)`, `* | join by ("IpAddress") ("EventID":4624 | fields "IpAddress")`},
		{`contains_any(alias.EventID, x)`, `(contains_any(alias.EventID, x) or "F":contains_any(alias.EventID, x))`},
		{`{host.name="alias.EventID"} x`, `{host.name="alias.EventID"} (x or "F":x)`},
	} {
		got, _ := TextQuery(tt.in, []string{"F"}, storedAs)
		if got != tt.want {
			t.Errorf("TextQuery(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
		if _, err := logstorage.ParseQuery(got); err != nil {
			t.Errorf("TextQuery(%q) = %q does not parse: %v", tt.in, got, err)
		}
	}
	// The meaning: the renamed filter matches the stored event.
	for _, q := range []string{`alias.EventID:4624`, `alias.Image:*katz*`, `-alias.EventID:4625`, `alias.EventID:>4000`} {
		rq, _ := TextQuery(q, []string{"F"}, storedAs)
		of, err := logstorage.ParseFilter(q)
		if err != nil {
			t.Fatal(err)
		}
		rf, err := logstorage.ParseFilter(rq)
		if err != nil {
			t.Fatalf("%q: %v", rq, err)
		}
		for _, ev := range [][2]string{{"EventID", "4624"}, {"EventID", "4625"}, {"Image", `C:\\mimikatz.exe`}, {"Image", "calc.exe"}} {
			with := []logstorage.Field{{Name: "alias." + ev[0], Value: ev[1]}}
			stored := []logstorage.Field{{Name: ev[0], Value: ev[1]}}
			if of.MatchRow(with) != rf.MatchRow(stored) {
				t.Errorf("%q on %v and %q on %v disagree", q, with, rq, stored)
			}
		}
	}
}

func TestTextQuery(t *testing.T) {
	for _, tt := range textQueryTests {
		got, changed := TextQuery(tt.in, []string{"F"}, nil)
		want := tt.want
		if want == "" {
			want = tt.in
		}
		if got != want || changed != (tt.want != "") {
			t.Errorf("TextQuery(%q)\n got %q (changed %v)\nwant %q", tt.in, got, changed, want)
		}
		if _, err := logstorage.ParseQuery(tt.in); err == nil {
			checkRewrite(t, tt.in)
		}
	}
}

// checkRewrite checks the rewrites of q, a query the engine parses: the
// rewrite parses; with no text field (only message renamed) it is the same
// query to the engine; and with text fields it matches an event without
// them exactly when q does.
func checkRewrite(t *testing.T, q string) {
	t.Helper()
	const at = 1_700_000_000_000_000_000
	orig, err := logstorage.ParseQueryAtTimestamp(q, at)
	if err != nil {
		return
	}
	rq, _ := TextQuery(q, []string{"F", "G"}, nil)
	if _, err := logstorage.ParseQueryAtTimestamp(rq, at); err != nil {
		t.Fatalf("rewrite of %q does not parse: %v\n%s", q, err, rq)
	}
	if strings.Contains(q, "message") {
		return // renamed: not the same query
	}
	same, _ := TextQuery(q, nil, nil)
	sq, err := logstorage.ParseQueryAtTimestamp(same, at)
	if err != nil || sq.String() != orig.String() {
		t.Fatalf("rewrite of %q with no field is another query: %v\n%s\n%s", q, err, orig, sq)
	}
	of, err := logstorage.ParseFilterAtTimestamp(q, at)
	if err != nil {
		return // pipes: no MatchRow
	}
	rf, err := logstorage.ParseFilterAtTimestamp(rq, at)
	if err != nil {
		t.Fatalf("rewrite of %q: %v", q, err)
	}
	for _, row := range probeRows(q) {
		if of.MatchRow(row) != rf.MatchRow(row) {
			t.Fatalf("%q and its rewrite disagree on %v\n%s", q, row, rq)
		}
	}
}

// probeRows are events without the text fields F and G, with messages
// made of q's words.
func probeRows(q string) [][]logstorage.Field {
	words := strings.FieldsFunc(q, func(r rune) bool { return !isTokenRune(r) })
	rows := [][]logstorage.Field{nil, {{Name: "_msg", Value: q}}}
	for i, w := range words {
		rows = append(rows,
			[]logstorage.Field{{Name: "_msg", Value: w}},
			[]logstorage.Field{{Name: "_msg", Value: "x " + w + " y"}, {Name: "user.name", Value: w}},
			[]logstorage.Field{{Name: "a", Value: w}, {Name: "_msg", Value: strings.Join(words[i:], " ")}})
	}
	return rows
}

func FuzzTextQuery(f *testing.F) {
	for _, tt := range textQueryTests {
		f.Add(tt.in)
	}
	f.Add(`alias.A:in(* | filter alias.B:1 | fields alias.A) x | stats by (alias.C) count() if (alias.D:2) as alias.E`)
	f.Add(`* | join by (alias.A) (alias.B:x | fields alias.A) | sort by (alias.A desc)`)
	f.Fuzz(func(t *testing.T, q string) {
		rq, changed := TextQuery(q, []string{"F"}, nil)
		if !changed && rq != q {
			t.Fatalf("unchanged query %q returned as %q", q, rq)
		}
		if _, err := logstorage.ParseQuery(q); err != nil {
			return
		}
		checkRewrite(t, q)
		// Renamed fields (in filters, pipes and subqueries) still parse.
		if aq, _ := TextQuery(q, []string{"F"}, storedAs); aq != q {
			if _, err := logstorage.ParseQuery(aq); err != nil {
				t.Fatalf("%q renamed to %q, which does not parse: %v", q, aq, err)
			}
		}
	})
}

// TestTextQueryGenerated checks on random queries over words, phrases,
// prefixes, negation, grouping and named fields that the rewrite finds
// every text filter on the message: an event whose text is in F matches
// the rewrite as the same event with the text in the message matches the
// query.
func TestTextQueryGenerated(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 17))
	words := []string{"alpha", "beta", "gamma", "delta"}
	var gen func(depth int) string
	gen = func(depth int) string {
		w := words[r.IntN(len(words))]
		switch n := r.IntN(14); {
		case n < 3 || depth > 3:
			return w
		case n == 3:
			return `"` + w + ` ` + words[r.IntN(len(words))] + `"`
		case n == 4:
			return w[:3] + "*"
		case n == 5:
			return "*" + w[1:4] + "*"
		case n == 6:
			return "i(" + strings.ToUpper(w) + ")"
		case n == 7:
			return "=" + w
		case n == 8:
			return `~"` + w[:2] + `.+"`
		case n == 9:
			return []string{"-", "!", "not "}[r.IntN(3)] + gen(depth+1)
		case n == 10:
			return "a:" + w
		case n == 11:
			return "(" + gen(depth+1) + " or " + gen(depth+1) + ")"
		case n == 12:
			return "!=" + w
		default:
			return gen(depth+1) + []string{" ", " and ", " AND "}[r.IntN(3)] + gen(depth+1)
		}
	}
	values := []string{"", "alpha", "beta gamma", "alpha beta", "delta", "gamma delta alpha", "alphabet"}
	for range 3000 {
		q := gen(0)
		of, err := logstorage.ParseFilter(q)
		if err != nil {
			t.Fatalf("generated %q: %v", q, err)
		}
		rq, _ := TextQuery(q, []string{"F"}, nil)
		rf, err := logstorage.ParseFilter(rq)
		if err != nil {
			t.Fatalf("rewrite of %q: %v\n%s", q, err, rq)
		}
		for _, v := range values {
			for _, a := range values {
				asMessage := []logstorage.Field{{Name: "_msg", Value: v}, {Name: "a", Value: a}}
				asField := []logstorage.Field{{Name: "F", Value: v}, {Name: "a", Value: a}}
				if of.MatchRow(asMessage) != rf.MatchRow(asField) {
					t.Fatalf("%q on message %q: %v; rewrite on F %q: %v\n%s", q, v, of.MatchRow(asMessage), v, rf.MatchRow(asField), rq)
				}
			}
		}
	}
}
