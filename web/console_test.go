package console

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

func catalogue(t *testing.T, lang string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("src", "i18n", lang+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s.json: %v", lang, err)
	}
	return m
}

// TestCatalogues fails on a message key missing from English or Welsh, on
// an empty message, on placeholders that differ between the two, and on a
// key the sources use ('queue.title', or `level.${l}`) that neither has.
func TestCatalogues(t *testing.T) {
	en, cy := catalogue(t, "en"), catalogue(t, "cy")
	placeholders := regexp.MustCompile(`\{\w+\}`)
	for k, v := range en {
		w, ok := cy[k]
		switch {
		case !ok:
			t.Errorf("cy.json lacks %q", k)
		case v == "" || w == "":
			t.Errorf("%q is empty in a catalogue", k)
		default:
			a, b := placeholders.FindAllString(v, -1), placeholders.FindAllString(w, -1)
			sort.Strings(a)
			sort.Strings(b)
			if strings.Join(a, ",") != strings.Join(b, ",") {
				t.Errorf("%q: placeholders %v in English, %v in Welsh", k, a, b)
			}
		}
	}
	for k := range cy {
		if _, ok := en[k]; !ok {
			t.Errorf("en.json lacks %q", k)
		}
	}

	// A key is a quoted string in one of the catalogues' namespaces
	// ('queue.title'), or a template building one (`level.${l}`).
	spaces := map[string]bool{}
	for k := range en {
		ns, _, _ := strings.Cut(k, ".")
		spaces[ns] = true
	}
	var names []string
	for ns := range spaces {
		names = append(names, ns)
	}
	alt := strings.Join(names, "|")
	literal := regexp.MustCompile(`'((?:` + alt + `)\.[A-Za-z.-]+)'`)
	prefix := regexp.MustCompile("`((?:" + alt + `)\.(?:[a-z]+\.)*)\$\{`)
	used := 0
	err := fs.WalkDir(os.DirFS("src"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".svelte") || strings.HasSuffix(p, ".ts")) {
			return err
		}
		b, err := os.ReadFile(filepath.Join("src", p))
		if err != nil {
			return err
		}
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			used++
			if _, ok := en[m[1]]; !ok {
				t.Errorf("%s uses the message %q, in no catalogue", p, m[1])
			}
		}
		for _, m := range prefix.FindAllStringSubmatch(string(b), -1) {
			found := false
			for k := range en {
				found = found || strings.HasPrefix(k, m[1])
			}
			if !found {
				t.Errorf("%s builds messages %q..., none in the catalogues", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if used < 50 {
		t.Errorf("found only %d message keys in src: is the pattern stale?", used)
	}
}

// TestDistEmbedded checks the committed build is in the binary.
func TestDistEmbedded(t *testing.T) {
	b, err := fs.ReadFile(Dist, "dist/index.html")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `<script type="module"`) {
		t.Errorf("dist/index.html loads no module script:\n%s", b)
	}
}
