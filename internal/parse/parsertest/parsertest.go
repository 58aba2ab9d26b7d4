// Package parsertest holds what the format parsers' tests share: the
// field-level agreement between a parsed event and an expected document
// (Elastic's pipeline fixtures, raw → expected ECS), and reading
// $TARIAN_CORPUS. Only tests import it.
//
// Agreement counts, over every leaf field of the expected document, the
// share that the event holds with an equal value. Values compare as text:
// numbers and booleans by their JSON text, RFC 3339 times as instants,
// arrays as sets of their
// elements' text (an event holds arrays as compact JSON text, or a single
// element as plain text when the expected array has one element).
package parsertest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/event"
)

// Corpus returns the path of $TARIAN_CORPUS joined with elem, skipping the
// test visibly when the variable is unset.
func Corpus(t testing.TB, elem ...string) string {
	t.Helper()
	root := os.Getenv("TARIAN_CORPUS")
	if root == "" {
		t.Skip("TARIAN_CORPUS is not set: skipping the corpus test (.ci/run sets it)")
	}
	return filepath.Join(append([]string{root}, elem...)...)
}

// Flatten turns a JSON object into dotted leaf names and their text. Arrays
// of scalars are leaves; arrays of objects are leaves holding their JSON.
func Flatten(doc []byte) (map[string]string, error) {
	var v map[string]any
	if err := json.Unmarshal(doc, &v); err != nil {
		return nil, err
	}
	out := map[string]string{}
	flatten("", v, out)
	return out, nil
}

func flatten(prefix string, v map[string]any, out map[string]string) {
	for k, val := range v {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		switch x := val.(type) {
		case map[string]any:
			flatten(name, x, out)
		case nil:
		default:
			out[name] = text(x)
		}
	}
}

// text is a JSON value's comparable text: strings bare, others as JSON.
func text(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Fields returns an event's fields by name; a later field of the same name
// wins, as in the stored event.
func Fields(ev *event.Event) map[string]string {
	m := make(map[string]string, len(ev.Fields))
	for _, f := range ev.Fields {
		m[f.Name] = f.Value
	}
	return m
}

// Score is the agreement of one event with one expected document.
type Score struct {
	Matched, Total int
	// Missing lists expected fields the event lacks; Wrong those it holds
	// with another value, as "name: got X, want Y".
	Missing, Wrong []string
}

// Add accumulates o into s.
func (s *Score) Add(o Score) {
	s.Matched += o.Matched
	s.Total += o.Total
	s.Missing = append(s.Missing, o.Missing...)
	s.Wrong = append(s.Wrong, o.Wrong...)
}

// Share is Matched/Total (1 when nothing was expected).
func (s Score) Share() float64 {
	if s.Total == 0 {
		return 1
	}
	return float64(s.Matched) / float64(s.Total)
}

// String reports the share and the first differences.
func (s Score) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d fields (%.1f%%)", s.Matched, s.Total, 100*s.Share())
	for i, m := range s.Missing {
		if i == 20 {
			fmt.Fprintf(&b, "\n  ... %d more missing", len(s.Missing)-i)
			break
		}
		fmt.Fprintf(&b, "\n  missing %s", m)
	}
	for i, w := range s.Wrong {
		if i == 20 {
			fmt.Fprintf(&b, "\n  ... %d more wrong", len(s.Wrong)-i)
			break
		}
		fmt.Fprintf(&b, "\n  wrong %s", w)
	}
	return b.String()
}

// Agreement compares got with the flattened expected document. Names in
// ignore (exact, or prefixes ending in ".") are left out of the count.
func Agreement(expected map[string]string, got map[string]string, ignore ...string) Score {
	names := make([]string, 0, len(expected))
	for n := range expected {
		if !ignored(n, ignore) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var s Score
	for _, n := range names {
		s.Total++
		want := expected[n]
		g, ok := got[n]
		switch {
		case !ok:
			s.Missing = append(s.Missing, n)
		case Equal(g, want):
			s.Matched++
		default:
			s.Wrong = append(s.Wrong, fmt.Sprintf("%s: got %q, want %q", n, g, want))
		}
	}
	return s
}

func ignored(name string, ignore []string) bool {
	for _, p := range ignore {
		if name == p || strings.HasSuffix(p, ".") && strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// Equal compares two values as text, arrays as sets of elements; a
// one-element array equals its element.
func Equal(got, want string) bool {
	if got == want {
		return true
	}
	// Times compare as instants: Elastic keeps a device's zone
	// ("...T17:31:09.000-07:00") where an event may hold UTC.
	if gt, err := time.Parse(time.RFC3339Nano, got); err == nil {
		if wt, err := time.Parse(time.RFC3339Nano, want); err == nil {
			return gt.Equal(wt)
		}
	}
	g, w := elements(got), elements(want)
	if g == nil || w == nil {
		return false
	}
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(slices.Compact(g), slices.Compact(w))
}

// elements returns the text of a JSON array's elements, or the value alone.
func elements(s string) []string {
	if !strings.HasPrefix(s, "[") {
		return []string{s}
	}
	var arr []any
	if err := json.Unmarshal([]byte(s), &arr); err != nil {
		return []string{s}
	}
	out := make([]string, len(arr))
	for i, v := range arr {
		out[i] = text(v)
	}
	return out
}
