package sigma

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// txtarFile is one "-- name --" section of a txtar archive.
type txtarFile struct {
	name string
	data []byte
}

// parseTxtar reads the txtar format (golang.org/x/tools/txtar): a comment,
// then files each introduced by a "-- name --" line.
func parseTxtar(data []byte) (comment []byte, files []txtarFile) {
	lines := bytes.SplitAfter(data, []byte("\n"))
	cur := -1
	for _, l := range lines {
		t := bytes.TrimRight(l, "\r\n")
		if bytes.HasPrefix(t, []byte("-- ")) && bytes.HasSuffix(t, []byte(" --")) && len(t) >= 6 {
			files = append(files, txtarFile{name: string(t[3 : len(t)-3])})
			cur = len(files) - 1
			continue
		}
		if cur < 0 {
			comment = append(comment, l...)
		} else {
			files[cur].data = append(files[cur].data, l...)
		}
	}
	return comment, files
}

func formatTxtar(comment []byte, files []txtarFile) []byte {
	var b bytes.Buffer
	b.Write(comment)
	for _, f := range files {
		fmt.Fprintf(&b, "-- %s --\n", f.name)
		b.Write(f.data)
		if len(f.data) > 0 && f.data[len(f.data)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// TestGolden parses the rule.yml of each testdata/parse/*.txtar and
// compares a dump of the result with its "want" section. Run with -update
// to rewrite the "want" sections.
func TestGolden(t *testing.T) {
	paths, err := filepath.Glob("testdata/parse/*.txtar")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			comment, files := parseTxtar(data)
			var src []byte
			wantIdx := -1
			for i, f := range files {
				switch f.name {
				case "rule.yml":
					src = f.data
				case "want":
					wantIdx = i
				}
			}
			got := dumpParse("rule.yml", src)
			if *update {
				if wantIdx < 0 {
					files = append(files, txtarFile{name: "want"})
					wantIdx = len(files) - 1
				}
				files[wantIdx].data = []byte(got)
				if err := os.WriteFile(path, formatTxtar(comment, files), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if wantIdx < 0 {
				t.Fatalf("%s has no want section (run with -update)", path)
			}
			if want := string(files[wantIdx].data); got != want {
				t.Errorf("%s: dump differs (run with -update to accept)\n--- got ---\n%s--- want ---\n%s", path, got, want)
			}
		})
	}
}

// dumpParse renders everything Parse returns in a stable text form.
func dumpParse(name string, src []byte) string {
	rules, err := Parse(name, src)
	var b strings.Builder
	for _, r := range rules {
		dumpRule(&b, r)
	}
	var es Errors
	if errors.As(err, &es) {
		for _, e := range es {
			kind := "invalid"
			if errors.Is(e, ErrUnsupported) {
				kind = "unsupported"
			}
			fmt.Fprintf(&b, "error (%s) %s\n", kind, e)
		}
	}
	return b.String()
}

func dumpRule(b *strings.Builder, r *Rule) {
	fmt.Fprintf(b, "rule line %d: title=%q id=%q name=%q status=%q level=%q author=%q\n", r.Line, r.Title, r.ID, r.Name, r.Status, r.Level, r.Author)
	if len(r.Tags) > 0 {
		fmt.Fprintf(b, "  tags %q\n", r.Tags)
	}
	if r.LogSource != (LogSource{}) {
		fmt.Fprintf(b, "  logsource product=%q category=%q service=%q\n", r.LogSource.Product, r.LogSource.Category, r.LogSource.Service)
	}
	if r.Detection != nil {
		dumpDetection(b, r.Detection, "  ")
	}
	if c := r.Correlation; c != nil {
		fmt.Fprintf(b, "  correlation %s rules=%q group-by=%q timespan=%s condition=%s", c.Type, c.Rules, c.GroupBy, c.Timespan, strings.Join(c.Condition.Fields, ","))
		for _, x := range c.Condition.Comparisons {
			fmt.Fprintf(b, " %s %g", x.Op, x.Value)
		}
		if c.Condition.Percentile != 0 {
			fmt.Fprintf(b, " percentile=%g", c.Condition.Percentile)
		}
		fmt.Fprintf(b, " generate=%v aliases=%v\n", c.Generate, c.Aliases)
	}
	if f := r.Filter; f != nil {
		fmt.Fprintf(b, "  filter rules=%q\n", f.Rules)
		dumpDetection(b, f.Detection, "    ")
	}
}

func dumpDetection(b *strings.Builder, d *Detection, indent string) {
	for _, name := range d.Order {
		s := d.Searches[name]
		fmt.Fprintf(b, "%ssearch %s (line %d)\n", indent, name, s.Line)
		for i, alt := range s.Alternatives {
			fmt.Fprintf(b, "%s  alternative %d\n", indent, i)
			for _, m := range alt {
				field := m.Field
				if field == "" {
					field = "<keywords>"
				}
				var flags []string
				for _, f := range []struct {
					on   bool
					name string
				}{{m.All, "all"}, {m.Cased, "cased"}, {m.Negate, "neq"}, {m.Expand, "expand"}} {
					if f.on {
						flags = append(flags, f.name)
					}
				}
				if m.TimePart != "" {
					flags = append(flags, "time="+m.TimePart)
				}
				if m.FieldRefKind != "" {
					flags = append(flags, "fieldref="+m.FieldRefKind)
				}
				fmt.Fprintf(b, "%s    %s op=%s mods=%q flags=%q (line %d)\n", indent, field, m.Op, m.Modifiers, flags, m.Line)
				for _, v := range m.Values {
					fmt.Fprintf(b, "%s      [%d] %s\n", indent, v.Group, dumpValue(v))
				}
			}
		}
	}
	for i, c := range d.Conditions {
		fmt.Fprintf(b, "%scondition %q => %s\n", indent, d.ConditionText[i], FormatExpr(c))
	}
}

func dumpValue(v Value) string {
	switch {
	case v.Regex != nil:
		return "re " + strconv.Quote(v.Regex.String())
	case v.Net != nil:
		return "cidr " + v.Net.Text
	}
	switch v.Kind {
	case KindNull:
		return "null"
	case KindBool:
		return "bool " + strconv.FormatBool(v.Bool)
	case KindNumber:
		return "number " + v.Text
	}
	return "pattern " + strconv.Quote(v.Pattern.String())
}
