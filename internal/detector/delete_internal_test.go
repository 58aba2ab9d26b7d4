package detector

import (
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/sigma"
)

func TestWithoutRule(t *testing.T) {
	doc := func(id string) string {
		return "title: r " + id + "\nid: " + id + "\nlogsource: {product: windows}\ndetection:\n  s: {a: 1}\n  condition: s\n"
	}
	tests := []struct {
		name, data string
		left       []string // ids left; nil: the file goes
		changed    bool
	}{
		{"only rule", doc("a"), nil, true},
		{"not there", doc("b"), []string{"b"}, false},
		{"first of three", doc("a") + "---\n" + doc("b") + "--- # comment\n" + doc("c"), []string{"b", "c"}, true},
		{"middle, CRLF", strings.ReplaceAll("# head\n"+doc("b")+"---\n"+doc("a")+"---\n"+doc("c"), "\n", "\r\n"), []string{"b", "c"}, true},
		{"last, after a document end", doc("b") + "...\n---\n" + doc("a"), []string{"b"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, left, changed, err := withoutRule("f.yml", []byte(tt.data), "a")
			if err != nil || changed != tt.changed || left != len(tt.left) {
				t.Fatalf("withoutRule = %d rules left, changed %v, err %v", left, changed, err)
			}
			if out == nil {
				return
			}
			before, _ := sigma.Parse("f.yml", []byte(tt.data))
			rules, err := sigma.Parse("f.yml", out)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for i, r := range rules {
				ids = append(ids, r.ID)
				// The rules left keep their lines.
				for _, b := range before {
					if b.ID == r.ID && b.Line != rules[i].Line {
						t.Errorf("rule %s moved from line %d to %d", r.ID, b.Line, r.Line)
					}
				}
			}
			if strings.Join(ids, ",") != strings.Join(tt.left, ",") {
				t.Errorf("left %v, want %v", ids, tt.left)
			}
		})
	}
}
