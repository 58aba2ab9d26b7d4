package sqlstore

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// The query text of this package is SQLite's. On PostgreSQL a query is
// rewritten once (and the result cached) by pgRewrite: ? placeholders
// become $1..$n, SQLite's planner hints (INDEXED BY) go, and INSERT OR
// IGNORE becomes ON CONFLICT DO NOTHING. What no mechanical rewrite can do
// is a dialect fragment (the fields and methods of dialect), so that every
// query still has one text. Migrations are translated by pgDDL, or given a
// PostgreSQL text of their own (pgMigrations).

// dialect is what differs between the two engines in query text.
type dialect struct {
	postgres bool
	// greatest and least are the scalar max and min of two values.
	greatest, least string
	// strpos(haystack, needle) is the 1-based position of needle, 0 if
	// absent.
	strpos string
	// noIndex before a column in a condition keeps SQLite's planner (no
	// statistics) off that column's index; PostgreSQL's has statistics.
	noIndex string

	mu    sync.Mutex
	cache map[string]pgQuery // rewritten queries (PostgreSQL only)
}

func newDialect(postgres bool) *dialect {
	if postgres {
		return &dialect{postgres: true, greatest: "greatest", least: "least", strpos: "strpos", cache: map[string]pgQuery{}}
	}
	return &dialect{greatest: "max", least: "min", strpos: "instr", noIndex: "+"}
}

// jsonRows is a FROM item: the elements of the JSON array expr (JSON text),
// one row each, in a column named value; value->>0 (or value->>'key')
// reads an element's member as text.
func (x *dialect) jsonRows(expr string) string {
	if x.postgres {
		return "json_array_elements(CAST(" + expr + " AS json))"
	}
	return "json_each(" + expr + ")"
}

// jsonField is the JSON value of member key of the JSON object in column
// col (a text column).
func (x *dialect) jsonField(col, key string) string {
	if x.postgres {
		return "CAST(" + col + " AS json)->'" + key + "'"
	}
	return col + "->'" + key + "'"
}

// unhex decodes the hex text expr to bytes.
func (x *dialect) unhex(expr string) string {
	if x.postgres {
		return "decode(" + expr + ", 'hex')"
	}
	return "unhex(" + expr + ")"
}

// pgQuery is a query rewritten for PostgreSQL.
type pgQuery struct {
	text string
	// write is set when the statement may change the database (any DML or
	// DDL keyword outside quotes): it then runs under the writers' lock.
	write bool
}

// maxCached bounds the rewrite cache: a query built with values in its
// text would otherwise grow it forever.
const maxCached = 4096

// rewrite returns q as the engine runs it.
func (x *dialect) rewrite(q string) pgQuery {
	if !x.postgres {
		return pgQuery{text: q}
	}
	x.mu.Lock()
	r, ok := x.cache[q]
	x.mu.Unlock()
	if ok {
		return r
	}
	r = pgRewrite(q)
	x.mu.Lock()
	if len(x.cache) < maxCached {
		x.cache[q] = r
	}
	x.mu.Unlock()
	return r
}

// writeWords are the keywords that make a statement a write.
var writeWords = map[string]bool{
	"INSERT": true, "UPDATE": true, "DELETE": true, "CREATE": true, "ALTER": true, "DROP": true, "TRUNCATE": true,
}

// pgRewrite rewrites one SQLite query for PostgreSQL. Outside quoted
// strings, quoted identifiers and comments: each ? becomes $n in order;
// "INDEXED BY name" is dropped; "INSERT OR IGNORE" becomes "INSERT" with
// "ON CONFLICT DO NOTHING" appended unless the statement has its own ON
// CONFLICT clause.
func pgRewrite(q string) pgQuery {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	var r pgQuery
	var orIgnore, onConflict bool
	var prev string // the previous word outside quotes, upper-cased
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(q) {
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c { // doubled: escaped
						j += 2
						continue
					}
					break
				}
				j++
			}
			j = min(j+1, len(q))
			b.WriteString(q[i:j])
			i = j
		case c == '-' && strings.HasPrefix(q[i:], "--"):
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j
		case c == '/' && strings.HasPrefix(q[i:], "/*"):
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				j = len(q) - i
			} else {
				j += 4
			}
			b.WriteString(q[i : i+j])
			i += j
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			i++
		case isWordByte(c) && (i == 0 || !isWordByte(q[i-1])):
			j := i
			for j < len(q) && isWordByte(q[j]) {
				j++
			}
			w := strings.ToUpper(q[i:j])
			switch {
			case w == "INDEXED" && wordAt(q, j, "BY"):
				// Skip INDEXED BY and the index's name (and the space
				// before it).
				trimTrailingSpace(&b)
				k := skipSpace(q, j)
				k = skipSpace(q, k+2)
				for k < len(q) && isWordByte(q[k]) {
					k++
				}
				i = k
				continue
			case w == "OR" && prev == "INSERT" && wordAt(q, j, "IGNORE"):
				// INSERT OR IGNORE: drop "OR IGNORE" (and the space before it).
				k := skipSpace(q, j)
				i = k + len("IGNORE")
				orIgnore = true
				trimTrailingSpace(&b)
				continue
			case w == "CONFLICT" && prev == "ON":
				onConflict = true
			}
			if writeWords[w] {
				r.write = true
			}
			prev = w
			b.WriteString(q[i:j])
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	r.text = b.String()
	if orIgnore && !onConflict {
		r.text = strings.TrimRight(r.text, " \t\n;") + " ON CONFLICT DO NOTHING"
	}
	return r
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func skipSpace(q string, i int) int {
	for i < len(q) && (q[i] == ' ' || q[i] == '\t' || q[i] == '\n' || q[i] == '\r') {
		i++
	}
	return i
}

// wordAt reports whether, after spaces from i, q has the word w (upper
// case, matched case-insensitively).
func wordAt(q string, i int, w string) bool {
	i = skipSpace(q, i)
	return i+len(w) <= len(q) && strings.EqualFold(q[i:i+len(w)], w) && (i+len(w) == len(q) || !isWordByte(q[i+len(w)]))
}

func trimTrailingSpace(b *strings.Builder) {
	s := b.String()
	t := strings.TrimRight(s, " \t\n\r")
	if len(t) != len(s) {
		b.Reset()
		b.WriteString(t)
	}
}

// DDL translation. The migrations write types in upper case and names in
// lower case (a column may be named text), which the translation relies
// on.
var pgDDLRules = []struct {
	re   *regexp.Regexp
	repl string
}{
	// SQLite's AUTOINCREMENT never reuses an ID; nor does an identity.
	{regexp.MustCompile(`\bINTEGER PRIMARY KEY AUTOINCREMENT\b`), `BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY`},
	// SQLite's INTEGER holds 64 bits; times are Unix nanoseconds.
	{regexp.MustCompile(`\bINTEGER\b`), `BIGINT`},
	{regexp.MustCompile(`\bBLOB\b`), `BYTEA`},
	{regexp.MustCompile(`\bREAL\b`), `DOUBLE PRECISION`},
	// SQLite compares text byte by byte (BINARY); so does collation "C",
	// whatever the database's default: the same order and the same
	// results on both engines.
	{regexp.MustCompile(`\bTEXT\b`), `TEXT COLLATE "C"`},
	{regexp.MustCompile(`\s*\bWITHOUT ROWID\b`), ``},
}

// pgDDL translates a migration written for SQLite to PostgreSQL. A
// column INTEGER PRIMARY KEY without AUTOINCREMENT becomes a plain BIGINT
// key: the code must give its value, as it does.
func pgDDL(s string) string {
	for _, r := range pgDDLRules {
		s = r.re.ReplaceAllString(s, r.repl)
	}
	return s
}

// migration returns the text of migration v for the dialect.
func (x *dialect) migration(v int) string {
	if x.postgres {
		if s, ok := pgMigrations[v]; ok {
			return s
		}
		return pgDDL(migrations[v])
	}
	return migrations[v]
}
